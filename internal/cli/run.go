package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
	"github.com/ai-sandbox/ai-sandbox/internal/gitaccess"
	"github.com/ai-sandbox/ai-sandbox/internal/hostexec"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/logins"
	"github.com/ai-sandbox/ai-sandbox/internal/nanobrain"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/skills"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

const runLong = `Run an agent, or any command, in the project's sandbox.

  ai-sandbox run [wrapper flags] [TOOL [tool args...]]

Before the tool every wrapper flag below is the wrapper's. After a known
agent's name (see 'ai-sandbox tools') only these long flags are, and only
where the agent has no flag of that name (checked against its --help):
  --expose --network --password --password-env --allow-unsecured
  --git-fetch --shell
so the original's forms work through an alias (opencode = 'ai-sandbox run
opencode'): opencode --expose 3000, opencode web --password-env PW. Short
forms after the tool are the tool's (claude -p "x", opencode -s abc, gemini -s
reach the tool), "--" ends the search (ai-sandbox run -- --weird-command), and
a command that is not a known agent keeps all its arguments. --print shows
which arguments went where. The AI_SANDBOX_* variables work through an alias
too: AI_SANDBOX_EXPOSE=3000 opencode.

With no TOOL (or with --shell) it opens a shell in the sandbox. A known agent
runs in its own sandbox ai-<tool>-<project> with its own home for the project
(~/.ai-sandbox/projects/<key>/homes/<tool> at /home/agent) and only the API
keys it declares, plus those listed for it in config.json (tools.env), taken
from ~/.ai-sandbox/env (or your environment) and passed by name. Any other
command runs in the project's shell sandbox, with no agent's keys.

The current folder must be inside a whitelisted workspace. The sandbox mounts
only the project: the git top-level of the current folder when it lies in the
workspace, else the current folder, at the same path. Root is read-only, the
user is yours (uid:gid), capabilities are dropped, privileges cannot be
raised, and processes and memory are limited.

One container per tool and project; every terminal is a 'docker exec' into it,
so quitting one never ends another. The container stops once its last
session has ended and the idle timeout has passed.

Ports: published on 127.0.0.1 (--port-bind all: every interface), checked
before anything starts (a port in use names its process or container).
opencode web/serve and kilo web/serve publish their --port (default 4096) and
get --hostname 0.0.0.0; their password: --password, --password-env VAR,
OPENCODE_SERVER_PASSWORD (env file or environment), --allow-unsecured, else a
menu on a terminal or a warning. Networks: --network NAME, or with no name on
a terminal a picker; saved ones ('ai-sandbox network') apply without it.

Egress (--egress, AI_SANDBOX_EGRESS, per workspace, settings.egress):
  allowlist (default)  the sandbox sits on an internal network of its own and
                       reaches only its agent's hosts, the package registries
                       and what you allowed ('ai-sandbox network allow HOST'),
                       through your egress proxy; never the host, the cloud
                       metadata service, private addresses or other sandboxes.
                       Ports are published by a small forwarder container.
                       What was refused is listed after the session.
  open                 the engine's default bridge: everything (a warning at
                       each launch). Joining a network (--network, saved
                       ones) opens the sandbox the same way: where nobody chose
                       the allowlist, such a launch is open, with a warning.
  none                 no network at all.

Package caches (--shared-caches, AI_SANDBOX_SHARED_CACHES=1,
settings.sharedCaches): by default each project's agent home keeps its own
(Go modules and builds, npm, pnpm, uv, bun), so a project downloads its
packages once for itself. Shared, they live in ~/.ai-sandbox/cache/shared and
are mounted at /cache/<kind> in every project's sandbox: a second project does
not download again, but what a compromised sandbox writes there (a Go module,
a build-cache entry, npm metadata) is trusted later in another project's
sandbox, with that project's keys and files.

Environment:
  AI_SANDBOX_IMAGE, AI_SANDBOX_IDLE_TIMEOUT, AI_SANDBOX_PIDS_LIMIT,
  AI_SANDBOX_MEMORY, AI_SANDBOX_CPUS, AI_SANDBOX_PORT_BIND (or PORT_BIND),
  AI_SANDBOX_TMP_SIZE, AI_SANDBOX_CPU_SHARES, AI_SANDBOX_SECCOMP,
  AI_SANDBOX_SHARED_CACHES
                       the settings below (flag > variable > config.json)
  AI_SANDBOX_EXPOSE    ports to publish, comma-separated (PORT: the original's,
                       deprecated)
  AI_SANDBOX_NETWORK   docker networks to join, comma-separated
  AI_SANDBOX_EGRESS    allowlist, open or none
  AI_RUN_DEBUG=1       print every docker command line on stderr
  AI_SANDBOX_DOCKER    the docker CLI to use (e.g. podman)`

type runOptions struct {
	// moved are the wrapper flags found after the tool's name; shadowed
	// the tool's arguments that look like the wrapper's.
	moved, shadowed []string
	password        string
	passwordEnv     string
	allowUnsecured  bool
	gitFetch        bool
	noNanoRepair    bool
	noSharedCaches  bool
	shell           bool
	print           bool
	quiet           bool
	expose          []string
	networks        []string
	allow           []string
	mounts          []string
	envNames        []string
	flags           *pflag.FlagSet
	toolArgs        []string
	helpWanted      bool

	// Set by other commands, not by flags: sandbox names a sandbox of
	// no agent (doctor's), run instead of the shell sandbox; command
	// replaces an agent's command (the probe standing in for it).
	sandbox string
	command []string
}

func newRunFlags(o *runOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetInterspersed(false) // the first non-flag argument is the tool; the rest is its own
	fs.SetOutput(io.Discard)
	fs.BoolVarP(&o.shell, "shell", "s", false, "open a shell in the sandbox (of TOOL, when given)")
	fs.BoolVar(&o.print, "print", false, "print the docker command lines that would run, and run nothing")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no notes or warnings about the launch")
	fs.BoolVar(&o.gitFetch, "git-fetch", false, "git access fetch-only for this run (fetch, pull and clone; never push)")
	fs.BoolVar(&o.noNanoRepair, strings.TrimPrefix(nanobrain.Flag, "--"), false, "no nano-brain auto-repair for this run (also accepted after the command; AI_RUN_DISABLE_NANO_BRAIN_AUTO_REPAIR=1 for every run)")
	fs.StringVar(&o.password, "password", "", "the web server's password (opencode/kilo web or serve); shown in your process list: prefer --password-env")
	fs.StringVar(&o.passwordEnv, "password-env", "", "take the web server's password from this variable (`VAR`)")
	fs.BoolVar(&o.allowUnsecured, "allow-unsecured", false, "run a web server without a password, and without the warning")
	fs.StringSliceVarP(&o.expose, "expose", "e", nil, "publish container ports on the host (`PORT[,PORT]`; 127.0.0.1 unless --port-bind all)")
	fs.StringSliceVarP(&o.networks, "network", "n", nil, "join docker networks (`NAME[,NAME]`; no name on a terminal: pick, and maybe save)")
	fs.StringSliceVar(&o.allow, "allow", nil, "allow one more host for this run under the allowlist policy (`HOST[:PORT]`, *.domain for its subdomains)")
	fs.String("egress", string(egress.PolicyAllowlist), "what the sandbox may reach: allowlist (its agent's hosts and the registries, through a proxy), open (everything) or none")
	fs.StringArrayVar(&o.mounts, "mount", nil, "mount a host path too: `SRC[:DST][:ro|rw]`, read-only unless :rw")
	fs.StringSliceVar(&o.envNames, "env", nil, "pass one more env-file key (`NAME`) to this run")
	fs.String("image", config.DefaultImage, "the sandbox image")
	fs.String("idle-timeout", config.DefaultIdleTimeout.String(), "stop the container this long after its last session (0 = at once)")
	fs.Int64("pids-limit", config.DefaultPidsLimit, "most processes in the sandbox (-1 = no limit)")
	fs.String("memory", config.DefaultMemory, "memory limit (e.g. 8g; none = no limit)")
	fs.String("cpus", "", "CPU limit (e.g. 2)")
	fs.String("port-bind", config.DefaultPortBind, "where published ports listen: localhost or all")
	fs.String("tmp-size", "", "size of /tmp and of /var/tmp each (default: a quarter of --memory)")
	fs.Int64("cpu-shares", config.DefaultCPUShares, "CPU weight against other containers and the host (docker's default is 1024)")
	fs.Bool("shared-caches", false, "share the package caches (Go, npm, pnpm, uv, bun) with your other projects' sandboxes: faster, but a compromised sandbox can plant code that runs in another project's")
	fs.BoolVar(&o.noSharedCaches, "no-shared-caches", false, "keep this project's package caches in its agent home (the default), over AI_SANDBOX_SHARED_CACHES and config.json")
	fs.String("seccomp", config.DefaultSeccomp, "seccomp profile: ai-sandbox (docker's default without ptrace) or docker (the engine's, for debugging)")
	fs.BoolVarP(&o.helpWanted, "help", "h", false, "help for run")
	o.flags = fs
	return fs
}

// NewCmdRun builds the run command; runF does the work (nil = runRun), so
// tests can see the parsed options without starting anything.
func NewCmdRun(deps *Deps, runF func(context.Context, *Deps, *runOptions) error) *cobra.Command {
	if runF == nil {
		runF = runRun
	}
	cmd := &cobra.Command{
		Use:                   "run [wrapper flags] [TOOL [tool args...]]",
		Short:                 "Run an agent or a command in the project's sandbox",
		Long:                  runLong,
		DisableFlagParsing:    true, // our own parser stops at the tool
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var o runOptions
			fs := newRunFlags(&o)
			if err := parseRunArgs(fs, &o, deps.Tools, args); err != nil {
				return err
			}
			if o.helpWanted {
				return cmd.Help()
			}
			return runF(cmd.Context(), deps, &o)
		},
	}
	// Shown in --help only; parsing is done by newRunFlags.
	var shown runOptions
	cmd.Flags().AddFlagSet(newRunFlags(&shown))
	return cmd
}

// runRun gathers the facts, decides the plan (host changes, container,
// session), applies the host changes, launches the session, and after it
// syncs the login back and reports host-executed files that changed.
func runRun(ctx context.Context, deps *Deps, o *runOptions) error {
	s := deps.Streams
	rf, err := gatherRun(ctx, deps, o)
	if err != nil {
		return err
	}
	stdio := proc.Stdio{In: s.In, Out: s.Out, Err: s.Err}
	if s.InFile != nil {
		stdio.In = s.InFile
	}
	if s.OutFile != nil {
		stdio.Out = s.OutFile
	}
	if s.ErrFile != nil {
		stdio.Err = s.ErrFile
	}
	code, err := launch(ctx, deps, o, rf, stdio)
	if err != nil {
		return err
	}
	shadowedHints(deps, rf, o, code)
	if code != 0 {
		return &ui.ExitError{Code: code}
	}
	return nil
}

// launch carries out a gathered launch: ports, the server's password, the
// plan (printed with --print), the host changes, the relay, the session,
// and what follows the session. It returns the session's exit code.
func launch(ctx context.Context, deps *Deps, o *runOptions, rf *runFacts, stdio proc.Stdio) (int, error) {
	s := deps.Streams
	m := &sandbox.Manager{Docker: deps.Docker(), Runner: deps.Runner, Streams: s, Debug: deps.Getenv("AI_RUN_DEBUG") == "1"}
	if !o.print {
		url, err := checkPorts(ctx, deps, m, rf, sandbox.ContainerName(rf.facts.Tool, rf.facts.Key))
		if err != nil {
			return 0, err
		}
		if url != "" {
			s.Infof("%s %s runs already in this project's sandbox: %s", rf.web.tool, rf.web.sub, url)
			s.Hintf("open that URL; 'ai-sandbox stop %s' ends it (and the sandbox's other sessions)", rf.web.tool)
			return 0, nil
		}
	}
	if err := serverAuth(deps, o, rf); err != nil {
		return 0, err
	}
	plan := sandbox.NewPlan(rf.facts)
	if o.print {
		printRouting(s.Out, o)
		printPlan(s.Out, deps.Docker(), plan)
		if rf.db != nil {
			fmt.Fprintln(s.Out, "# before the sandbox starts")
			fmt.Fprintln(s.Out, "#   "+rf.db.String())
		}
		return 0, nil
	}
	if !o.quiet {
		portNotes(s, &rf.facts, rf.web)
	}
	if err := hostfs.Apply(plan.Host); err != nil {
		return 0, ui.WithHint(fmt.Errorf("prepare the sandbox on the host: %w", err),
			"a symbolic link where a folder or file of the sandbox should be may have been planted by an agent: inspect it and remove it")
	}
	if err := ensureRelay(deps, rf.git, rf.facts.Project, plan.Name); err != nil {
		return 0, err
	}
	if rf.db != nil {
		rf.db.do(ctx, s, o.quiet)
	}
	if len(rf.skills) > 0 && !o.quiet {
		s.Infof("installed the bundled skills %s for %s", strings.Join(rf.skills, ", "), rf.facts.Tool)
	}
	if rf.agent != nil && !o.quiet {
		if old, err := skills.Outdated(rf.facts.Home, rf.agent.Name); err == nil && len(old) > 0 {
			dir := filepath.Join(rf.facts.Home, filepath.FromSlash(skills.Dir(rf.agent.Name)))
			s.Hintf("newer bundled skills are available for %s (%s): remove them from %s and run again to get them", rf.agent.Name, strings.Join(old, ", "), dir)
		}
	}
	tracker := hostexec.Tracker{Dir: rf.paths.ProjectState(rf.facts.Key), Project: rf.facts.Project}
	begin := time.Now()
	if err := tracker.Begin(rf.facts.SessionID, os.Getpid(), begin); err != nil {
		s.Warnf("the report of host-executed files is off for this session: %v", err)
	}
	watch := newGitlinkWatch(rf.facts.Project, begin, rf.protected)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { watch.run(watchCtx); close(watched) }()

	code, err := m.Launch(ctx, plan, rf.facts.Tool, stdio, rf.secretEnv, retrySafe(s))
	stopWatch()
	<-watched
	afterSession(deps, rf, tracker, watch.disarmed)
	if plan.Egress != nil {
		reportBlocked(s, "", plan.Egress.Store.Blocked(plan.Name, begin))
	}
	return code, err
}

// afterSession copies a login made in the session back to the tool's
// store, and, when this was the project's last session, disarms the
// repositories the agent made or changed in the project and reports the
// host-executed files that changed. disarmed are what the session's
// watch set aside already.
func afterSession(deps *Deps, rf *runFacts, tracker hostexec.Tracker, disarmed []string) {
	s := deps.Streams
	if rf.agent != nil && len(rf.agent.LoginFiles) > 0 {
		if _, err := logins.Collect(rf.facts.Home, rf.paths.LoginStore(rf.agent.Name), loginFiles(*rf.agent), false); err != nil {
			s.Warnf("keep the login of %s for other projects: %v", rf.agent.Name, err)
		}
	}
	rep, err := tracker.End(rf.facts.SessionID, time.Now())
	if err != nil {
		s.Warnf("the report of host-executed files: %v", err)
		return
	}
	if rep == nil {
		if len(disarmed) > 0 {
			s.Warnf("the agent made repositories that your git status in %s enters; their hooks and command settings were set aside: %s",
				rf.facts.Project, strings.Join(disarmed, ", "))
		}
		return
	}
	disarmChanges(rf.facts.Project, rep.Changes, rf.protected)
	if err := saveReport(rf.paths, rf.facts.Key, rep); err != nil {
		s.Warnf("save the report of host-executed files: %v", err)
	}
	if len(rep.Changes) > 0 {
		printReportWarning(s, rep)
	}
}

// printRouting shows which of the arguments after the tool's name the
// wrapper took (a password's value masked), and which it left to the tool.
func printRouting(w io.Writer, o *runOptions) {
	if len(o.toolArgs) == 0 || len(o.moved)+len(o.shadowed) == 0 {
		return
	}
	moved := append([]string(nil), o.moved...)
	for i, a := range moved {
		switch {
		case strings.HasPrefix(a, "--password="):
			moved[i] = "--password=***"
		case a == "--password" && i+1 < len(moved):
			moved[i+1] = "***"
		}
	}
	if len(moved) > 0 {
		fmt.Fprintf(w, "# taken by ai-sandbox after %s: %s\n", o.toolArgs[0], docker.Quote(moved))
	}
	if len(o.shadowed) > 0 {
		fmt.Fprintf(w, "# left to %s (its own, though ai-sandbox has flags of these names): %s\n", o.toolArgs[0], docker.Quote(o.shadowed))
	}
}

// printPlan shows what a launch would do, and does nothing.
func printPlan(w io.Writer, dockerCLI string, plan sandbox.Plan) {
	fmt.Fprintln(w, "# on the host, without following symbolic links")
	for _, op := range plan.Host {
		fmt.Fprintln(w, "#   "+op.String())
	}
	if e := plan.Egress; e != nil {
		fmt.Fprintf(w, "# egress allowlist: the sandbox's own network (unless it exists; the first free /%d of %s from this one) and the user's proxy (unless it runs), joined to it\n", egress.SubnetBits, egress.SubnetPool)
		fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, sandbox.EgressNetworkArgs(e.Network, egress.SubnetCandidates(e.Network, nil, 1)[0].String(), e.Proxy.Labels)...)))
		fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.RunArgs(e.Proxy)...)))
		fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.NetworkConnectArgs(e.Network, e.Proxy.Name, egress.ProxyAlias)...)))
		fmt.Fprintf(w, "#   allowed: %s\n", strings.Join(e.Entry.Allow, ", "))
	}
	fmt.Fprintln(w, "# the sandbox container (skipped when it already runs with this spec)")
	fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.RunArgs(plan.Run)...)))
	for _, n := range plan.ExtraNetworks {
		fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.NetworkConnectArgs(n, plan.Name)...)))
	}
	if e := plan.Egress; e != nil && e.Forwarder != nil {
		fmt.Fprintln(w, "# its ports, published by a forwarder on the bridge (the sandbox's network publishes nothing)")
		fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.RunArgs(*e.Forwarder)...)))
		fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.NetworkConnectArgs(e.Network, e.Forwarder.Name)...)))
	}
	fmt.Fprintln(w, "# the session")
	fmt.Fprintln(w, docker.Quote(append([]string{dockerCLI}, docker.ExecArgs(plan.Exec)...)))
}

// chooseCommand decides which sandbox and which command: a known agent
// in its own sandbox, anything else in the project's shell sandbox, a
// shell when there is no command or with --shell.
func chooseCommand(deps *Deps, o *runOptions) (tool string, agent *tools.Tool, cmd []string, err error) {
	tool = sandbox.ShellTool
	if o.sandbox != "" {
		return o.sandbox, nil, o.command, nil
	}
	if len(o.toolArgs) > 0 {
		if t, ok := deps.Tools.Lookup(o.toolArgs[0]); ok {
			agent = &t
			tool = t.Name
			cmd = append([]string{t.Binary}, o.toolArgs[1:]...)
		} else {
			if o.shell {
				return "", nil, nil, &ui.UsageError{Err: fmt.Errorf("--shell takes a known agent's name, not %q (see 'ai-sandbox tools')", o.toolArgs[0])}
			}
			cmd = o.toolArgs
		}
	}
	if len(cmd) == 0 || o.shell {
		cmd = sandbox.ShellCmd()
	}
	if agent != nil && len(o.command) > 0 {
		cmd = o.command
	}
	return tool, agent, cmd, nil
}

// nanoBrainRepair runs a nano-brain command (nano-brain, npx nano-brain,
// sh -c '… nano-brain …') under the auto-repair wrapper, and gives a
// shell session the functions that wrap nano-brain typed at its prompt,
// unless --no-nano-brain-auto-repair (before the command or among its
// arguments, where it is taken out) or AI_RUN_DISABLE_NANO_BRAIN_AUTO_REPAIR=1
// says not to. An agent's command is left alone.
func nanoBrainRepair(deps *Deps, o *runOptions, agent *tools.Tool, cmd []string) []string {
	off := o.noNanoRepair || deps.Getenv(nanobrain.EnvOff) == "1"
	debug := deps.Getenv("AI_RUN_DEBUG") == "1"
	if slices.Equal(cmd, sandbox.ShellCmd()) {
		// A shell session: nano-brain typed at its prompt is wrapped.
		if off {
			return cmd
		}
		return nanobrain.Shell(debug)
	}
	if agent != nil || len(o.toolArgs) == 0 || !nanobrain.Is(cmd) {
		return cmd
	}
	cmd, flag := nanobrain.Strip(cmd)
	if flag || off {
		return cmd
	}
	return nanobrain.Wrap(cmd, debug)
}

// agentFacts are an agent's own: its per-project database, the host
// config shared with it, its login and its bundled skills.
func agentFacts(deps *Deps, p config.Paths, cfg *config.Config, o *runOptions, agent *tools.Tool, proj projectAt, rf *runFacts, f *sandbox.Facts) error {
	if agent.DB != nil {
		if err := dbFacts(deps, p, cfg, o, agent, proj, rf, f); err != nil {
			return err
		}
	}
	mounts, ops, err := hostConfigFacts(deps, cfg, agent, f.Home)
	if err != nil {
		return err
	}
	f.HostConfig = mounts
	f.HostOps = append(f.HostOps, ops...)
	if o.print {
		return nil // nothing is copied or installed for a print
	}
	ops, err = loginOps(p, agent, f.Home)
	if err != nil {
		return err
	}
	f.HostOps = append(f.HostOps, ops...)
	ops, names, err := skillsOps(f.Home, agent.Name)
	if err != nil {
		deps.Streams.Warnf("%v", err)
	}
	f.HostOps = append(f.HostOps, ops...)
	rf.skills = names
	return nil
}

// runFacts are the gathered facts of a launch, and what the launch needs
// besides the plan.
type runFacts struct {
	protected []string // git dirs the sandbox cannot change (gitguard)
	git       gitRun
	facts     sandbox.Facts
	paths     config.Paths
	agent     *tools.Tool
	web       *webRun       // the agent's web command, when it runs one
	env       *envfile.File // ~/.ai-sandbox/env
	secretEnv []string      // NAME=value for docker's own environment
	skills    []string      // bundled skills the plan installs
	db        *dbRun        // a database step before the sandbox starts
}

// gatherRun reads everything a launch depends on: flags, settings, the
// project, the keys, the host state. It writes nothing (a whitelist
// answered yes on a terminal excepted).
func gatherRun(ctx context.Context, deps *Deps, o *runOptions) (*runFacts, error) {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return nil, err
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		return nil, err
	}
	settings, err := config.Resolve(cfg.Settings, deps.Getenv, o.flags)
	if err != nil {
		return nil, &ui.UsageError{Err: err}
	}

	sandboxTool, agent, cmdArgs, err := chooseCommand(deps, o)
	if err != nil {
		return nil, err
	}
	cmdArgs = nanoBrainRepair(deps, o, agent, cmdArgs)

	// Where.
	wd, err := deps.Getwd()
	if err != nil {
		return nil, fmt.Errorf("current folder: %w", err)
	}
	cwd, err := filepath.EvalSymlinks(wd)
	if err != nil {
		return nil, fmt.Errorf("current folder %s: %w", wd, err)
	}
	ws, ok := workspace.Match(canonicalWorkspaces(cfg.Workspaces), cwd)
	if !ok {
		ws, err = askWhitelist(deps, cwd)
		if err != nil {
			return nil, err
		}
	}
	proj := findProject(deps, cwd, ws)
	if err := workspace.Check(proj.Dir, deps.Home, p.Root); err != nil {
		return nil, ui.WithHint(err, "cd into a project folder inside the workspace")
	}
	if deps.UID == 0 && !o.quiet {
		s.Warnf("you are root, so the sandbox user is root too (without capabilities); run ai-sandbox as your own user")
	}

	// Secrets: only the keys this tool declares plus the user's extras.
	env, err := envfile.Load(p.EnvFile())
	if err != nil {
		return nil, err
	}
	var wanted []string
	if agent != nil {
		wanted = append(wanted, agent.EnvKeys...)
	}
	wanted = append(wanted, cfg.Tools.Env[sandboxTool]...)
	wanted = append(wanted, o.envNames...)
	secretNames, secretEnv := selectSecrets(wanted, env, deps.Getenv)

	web, cmdArgs, err := webFacts(agent, o, cmdArgs)
	if err != nil {
		return nil, err
	}
	ports, err := portFacts(deps, o, web)
	if err != nil {
		return nil, err
	}
	networks, err := networkFacts(ctx, deps, cfg, o, ws, cwd, proj.Dir)
	if err != nil {
		return nil, err
	}
	extraMounts, err := parseMounts(deps, o.mounts, p.Root)
	if err != nil {
		return nil, err
	}

	rf := &runFacts{paths: p, agent: agent, secretEnv: secretEnv, web: web, env: env}
	f := sandbox.Facts{
		Tool: sandboxTool, ProjectID: proj.ID, Key: proj.Key, Project: proj.Dir, Workspace: ws, Cwd: cwd,
		UID: deps.UID, GID: deps.GID, Image: settings.Image,
		State:       p.Root,
		Home:        p.ProjectHome(proj.Key, sandboxTool),
		IdleTimeout: settings.IdleTimeout, PidsLimit: settings.PidsLimit, Memory: settings.Memory,
		CPUs: settings.CPUs, CPUShares: settings.CPUShares, TmpSize: settings.TmpSize,
		PortBind: settings.PortBind, Ports: ports, Networks: networks,
		ExtraMounts: extraMounts,
		Cmd:         cmdArgs,
		TTY:         s.InTTY && s.OutTTY,
		Interactive: stdinOpen(s),
		TermEnv:     termEnv(deps.Getenv),
		SecretNames: secretNames,
		SessionID:   newSessionID(),
	}
	if f.TTY {
		f.Rows, f.Cols = terminalSize(s)
	}
	if err := egressFacts(deps, cfg, settings, o, ws, agent, &f); err != nil {
		return nil, err
	}
	f.Passwd, f.Group = passwdPaths(p, f.UID, f.GID)
	seccompFacts(p, settings.Seccomp, &f)
	if settings.SharedCaches {
		f.SharedCaches = p.SharedCaches()
	}

	// The project's git metadata, protected and checked.
	guard, rec, err := gitFacts(p, proj)
	if err != nil {
		return nil, err
	}
	f.Protect = guard.Mounts
	f.HostOps = append(f.HostOps, guard.Ops...)
	rf.protected = guard.Protected
	if !o.quiet && !o.print {
		projectNotes(s, &rec, guard, proj, agent == nil && f.TTY)
	}
	rec.Path, rec.GitInode = proj.Dir, guard.GitInode
	f.HostOps = append(f.HostOps, recordOps(p, proj.Key, rec)...)

	// Git access to remotes: through the host's relay, or none.
	mode, err := decideGit(deps, cfg, o, proj)
	if err != nil {
		return nil, err
	}
	rf.git = gitAccessFacts(deps, p, mode, !o.gitFetch && gitaccess.WritableHooks(cfg, proj.Dir), proj, &f)

	if agent != nil {
		if err := agentFacts(deps, p, cfg, o, agent, proj, rf, &f); err != nil {
			return nil, err
		}
	} else if len(o.toolArgs) > 0 && !o.quiet && s.ErrTTY {
		s.Infof("%s is not a known agent: it runs in the project's shell sandbox, with no agent's keys", o.toolArgs[0])
	}
	if err := caFacts(p, cfg, &f, o.print); err != nil {
		return nil, err
	}
	rf.facts = f
	return rf, nil
}

// canonicalWorkspaces resolves symlinks in entries (files written by the
// original or by hand may hold them); missing folders are kept as written.
func canonicalWorkspaces(list []string) []string {
	out := make([]string, 0, len(list))
	for _, w := range list {
		if r, err := filepath.EvalSymlinks(w); err == nil {
			out = append(out, r)
		} else {
			out = append(out, filepath.Clean(w))
		}
	}
	return out
}

func askWhitelist(deps *Deps, cwd string) (string, error) {
	s := deps.Streams
	notInside := fmt.Errorf("%s is not inside a whitelisted workspace", cwd)
	hint := "ai-sandbox workspace add " + docker.Quote([]string{cwd})
	if err := workspace.Check(cwd, deps.Home, mustRoot(deps)); err != nil {
		// Home, a folder above it, a credential or system folder: suggest
		// what does work, a project folder.
		return "", ui.WithHint(fmt.Errorf("%w, and it cannot be one: %v", notInside, err),
			"a sandbox works in one project: cd into a project folder (for example ~/projects/my-app) and whitelist it, or the folder that holds your projects: ai-sandbox workspace add ~/projects")
	}
	if !s.Interactive() {
		return "", ui.WithHint(notInside, "to allow it, run: "+hint)
	}
	yes, err := s.Confirm(fmt.Sprintf("Whitelist %s?", cwd))
	if err != nil {
		return "", fmt.Errorf("whitelist question: %w", err)
	}
	if !yes {
		return "", ui.WithHint(notInside, "to allow it later, run: "+hint)
	}
	canon, _, err := AddWorkspace(deps, cwd)
	if err != nil {
		return "", err
	}
	s.Infof("whitelisted %s", canon)
	return canon, nil
}

func mustRoot(deps *Deps) string {
	p, err := deps.Paths()
	if err != nil {
		return ""
	}
	return p.Root
}

// selectSecrets picks the wanted keys' values: the env file first, then
// the user's environment. It returns the names to pass and NAME=value
// pairs for docker's own environment.
func selectSecrets(wanted []string, env *envfile.File, getenv func(string) string) ([]string, []string) {
	var names, pairs []string
	for _, k := range dedupe(wanted) {
		v, ok := env.Lookup(k)
		if !ok {
			v = getenv(k)
			ok = v != ""
		}
		if !ok {
			continue
		}
		names = append(names, k)
		pairs = append(pairs, k+"="+v)
	}
	return names, pairs
}

// parseMounts reads --mount SRC[:DST][:ro|rw]. Sources go through the
// same refusal rules as workspaces.
func parseMounts(deps *Deps, specs []string, stateRoot string) ([]docker.Mount, error) {
	var out []docker.Mount
	cwd, err := deps.Getwd()
	if err != nil {
		return nil, err
	}
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		readOnly := true
		if n := len(parts); n > 1 && (parts[n-1] == "ro" || parts[n-1] == "rw") {
			readOnly = parts[n-1] == "ro"
			parts = parts[:n-1]
		}
		if len(parts) > 2 || parts[0] == "" {
			return nil, &ui.UsageError{Err: fmt.Errorf("--mount %q: expected SRC[:DST][:ro|rw]", spec)}
		}
		src, err := workspace.Expand(parts[0], deps.Home, cwd)
		if err != nil {
			return nil, &ui.UsageError{Err: fmt.Errorf("--mount %q: %w", spec, err)}
		}
		if r, err := filepath.EvalSymlinks(src); err == nil {
			src = r
		} else {
			return nil, fmt.Errorf("--mount %q: %s does not exist", spec, src)
		}
		if err := workspace.Check(src, deps.Home, stateRoot); err != nil {
			return nil, fmt.Errorf("--mount %q: %w", spec, err)
		}
		dst := src
		if len(parts) == 2 {
			dst = parts[1]
		}
		if !filepath.IsAbs(dst) {
			return nil, &ui.UsageError{Err: fmt.Errorf("--mount %q: the target must be an absolute path", spec)}
		}
		out = append(out, docker.Mount{Source: src, Target: filepath.Clean(dst), ReadOnly: readOnly})
	}
	return out, nil
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range list {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func stdinOpen(s ui.Streams) bool {
	if s.InFile == nil {
		return s.In != nil
	}
	_, err := s.InFile.Stat()
	return err == nil
}

// retrySafe reports whether a launch may try the session first and start
// again when the container is missing: stdin must hold no data that the
// first try could swallow (a terminal, /dev/null, or closed).
func retrySafe(s ui.Streams) bool {
	if s.InTTY || s.InFile == nil {
		return s.InTTY
	}
	st, err := s.InFile.Stat()
	if err != nil {
		return true
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(st, null)
}

// terminalSize reads the terminal's rows and columns (0, 0 when unknown).
func terminalSize(s ui.Streams) (int, int) {
	if s.OutFile == nil {
		return 0, 0
	}
	cols, rows, err := term.GetSize(int(s.OutFile.Fd()))
	if err != nil || rows <= 0 || cols <= 0 {
		return 0, 0
	}
	return rows, cols
}

func termEnv(getenv func(string) string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"TERM", "COLORTERM", "TERM_PROGRAM"} {
		if v := getenv(k); v != "" {
			out[k] = v
		}
	}
	return out
}

func newSessionID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}
