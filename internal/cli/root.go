// Package cli wires the command tree: one file per command, each built by
// a NewCmdX constructor from the shared Deps.
package cli

import (
	"context"
	"errors"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// Version is set at build time with -ldflags "-X …/cli.Version=…"; see
// version for a binary built without it.
var Version = "dev"

// version is Version, else the module version the go command recorded
// ('go install github.com/ai-sandbox/ai-sandbox/cmd/ai-sandbox@v1.2.3'),
// else "dev".
func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

// Runner is what commands need to start processes: the sandbox
// lifecycle's interface. proc.Runner is the real one; tests pass a fake
// that records argv.
type Runner = sandbox.Runner

// Deps are the facts and services every command may use.
type Deps struct {
	Getenv  func(string) string
	Streams ui.Streams
	Runner  Runner
	Tools   *tools.Table
	// Home is the user's home folder; Getwd the current folder.
	Home  string
	Getwd func() (string, error)
	UID   int
	GID   int

	paths *config.Paths
	// started is set once a command's own code runs: an error before
	// that is cobra's (unknown command, bad arguments), so a usage error.
	started bool
}

// Paths resolves the state folder once.
func (d *Deps) Paths() (config.Paths, error) {
	if d.paths != nil {
		return *d.paths, nil
	}
	p, err := config.ResolvePaths(d.Getenv, d.Home)
	if err != nil {
		return config.Paths{}, err
	}
	d.paths = &p
	return p, nil
}

// Docker is the docker CLI to call: $AI_SANDBOX_DOCKER (e.g. podman) or docker.
func (d *Deps) Docker() string {
	if v := d.Getenv("AI_SANDBOX_DOCKER"); v != "" {
		return v
	}
	return "docker"
}

// LoadConfig reads config.json and the legacy workspaces file. Keys this
// version does not know are kept, and noted once.
func (d *Deps) LoadConfig() (*config.Config, error) {
	p, err := d.Paths()
	if err != nil {
		return nil, err
	}
	c, err := config.Load(p)
	if err != nil {
		return nil, err
	}
	d.noteUnknownKeys(p, c.UnknownKeys())
	return c, nil
}

// notedFile records what was noted once already.
const notedFile = ".noted"

// noteUnknownKeys says once which keys of config.json this version does
// not know (a newer ai-sandbox, or the original, wrote them).
func (d *Deps) noteUnknownKeys(p config.Paths, keys []string) {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = "unknown-key " + k
	}
	var fresh []string
	for _, n := range firstTimes(p, names) {
		fresh = append(fresh, strings.TrimPrefix(n, "unknown-key "))
	}
	if len(fresh) > 0 {
		d.Streams.Infof("note: %s has keys this version does not know (%s); they are kept as they are", p.ConfigFile(), strings.Join(fresh, ", "))
	}
}

// firstTimes returns the names not recorded in the notes file yet, and
// records them: what is said once per user.
func firstTimes(p config.Paths, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	r := hostfs.New(p.Root)
	data, _ := r.ReadFile(notedFile, 1<<20)
	seen := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		seen[l] = true
	}
	var fresh []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			fresh = append(fresh, n)
			data = append(data, []byte(n+"\n")...)
		}
	}
	if len(fresh) > 0 {
		_ = r.WriteFile(notedFile, data, 0o600)
	}
	return fresh
}

// Main runs the program and returns its exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, streams ui.Streams) int {
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	deps := &Deps{
		Getenv:  getenv,
		Streams: streams,
		Runner:  proc.New(os.Environ()),
		Tools:   tools.New(),
		Home:    home,
		Getwd:   os.Getwd,
		UID:     os.Getuid(),
		GID:     os.Getgid(),
	}
	return Execute(ctx, deps, args)
}

// Execute runs args against deps and maps errors to exit codes:
// 2 for bad usage, docker's code when passed through, 1 otherwise.
func Execute(ctx context.Context, deps *Deps, args []string) int {
	root := NewCmdRoot(deps)
	root.SetArgs(args)
	root.SetIn(deps.Streams.In)
	root.SetOut(deps.Streams.Out)
	root.SetErr(deps.Streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *ui.ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	s := deps.Streams
	var usage *ui.UsageError
	if errors.As(err, &usage) || !deps.started {
		s.Errorf("%s", err)
		hints := ui.HintsOf(err)
		for _, h := range hints {
			s.Hintf("%s", h)
		}
		if len(hints) == 0 {
			s.Hintf("see '%s --help'", commandPath(root, args))
		}
		return 2
	}
	s.Errorf("%s", err)
	for _, h := range ui.HintsOf(err) {
		s.Hintf("%s", h)
	}
	return 1
}

func commandPath(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return root.Name()
	}
	return cmd.CommandPath()
}

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(deps *Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "ai-sandbox",
		Short: "Run AI coding agents in hardened Docker containers",
		Long: `ai-sandbox runs AI coding agents (OpenCode, Claude Code, Codex, Gemini CLI, Aider, …)
or any command inside a hardened Docker container that sees only the project you
are working on, gets only the API keys that agent needs, and runs as your own
user with no capabilities and a read-only root file system.

Start with 'ai-sandbox setup', or whitelist a project and run a shell:
  ai-sandbox workspace add ~/projects/my-app
  cd ~/projects/my-app && ai-sandbox run`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.PersistentPreRun = func(*cobra.Command, []string) { deps.started = true }
	root.SetVersionTemplate("ai-sandbox {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &ui.UsageError{Err: err} })

	root.AddGroup(&cobra.Group{ID: "main", Title: "Running agents:"},
		&cobra.Group{ID: "manage", Title: "Managing the sandbox:"},
		&cobra.Group{ID: "other", Title: "Other commands:"})

	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("main", NewCmdRun(deps, nil), NewCmdSetup(deps))
	add("manage", NewCmdWorkspace(deps), NewCmdGit(deps), NewCmdNetwork(deps), NewCmdImage(deps), NewCmdTools(deps),
		NewCmdPs(deps), NewCmdStop(deps), NewCmdReport(deps), NewCmdProject(deps), NewCmdClean(deps), NewCmdMigrateOpencodeDB(deps), NewCmdConfig(deps), NewCmdUpdate(deps))
	add("other", NewCmdDoctor(deps), NewCmdCompletion(deps), NewCmdVersion(deps))
	root.AddCommand(NewCmdGitRelay(deps), NewCmdProbe(deps), NewCmdEgressProxy(deps), NewCmdPortForward(deps))
	root.SetHelpCommandGroupID("other")
	return root
}
