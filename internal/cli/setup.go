package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/logins"
	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// ImageOps is all that setup needs from the image command (issue 4): the
// registry's tags, a pull, a build. newImageOps picks the implementation.
type ImageOps interface {
	ListTags(ctx context.Context) ([]string, error)
	Pull(ctx context.Context, tag string) error
	Build(ctx context.Context, tools, addons []string, preset string) error
}

// newImageOps is the one seam between setup and the image command. It
// runs that command through its cobra constructor, exactly as a user
// would type it; rewire it to call the image package's functions once
// they are exported.
func newImageOps(deps *Deps) ImageOps { return cobraImageOps{deps: deps} }

type cobraImageOps struct{ deps *Deps }

func (o cobraImageOps) run(ctx context.Context, out io.Writer, args ...string) error {
	d := *o.deps
	if out != nil {
		d.Streams.Out = out
	}
	cmd := NewCmdImage(&d)
	cmd.SetArgs(args)
	cmd.SetIn(d.Streams.In)
	cmd.SetOut(d.Streams.Out)
	cmd.SetErr(d.Streams.Err)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(ctx)
}

func (o cobraImageOps) ListTags(ctx context.Context) ([]string, error) {
	var buf bytes.Buffer
	if err := o.run(ctx, &buf, "pull", "--list-tags", "--json"); err != nil {
		return nil, err
	}
	var list []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("image pull --list-tags --json: %w", err)
	}
	var tags []string
	for _, t := range list {
		if t.Name != "" {
			tags = append(tags, t.Name)
		}
	}
	if len(tags) == 0 {
		return nil, errors.New("the registry listed no tags")
	}
	return tags, nil
}

func (o cobraImageOps) Pull(ctx context.Context, tag string) error {
	return o.run(ctx, nil, "pull", "--tag", tag)
}

func (o cobraImageOps) Build(ctx context.Context, tools, addons []string, preset string) error {
	list := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, ",")
	}
	args := []string{"build", "--tools", list(tools), "--addons", list(addons)}
	if preset != "" {
		args = append(args, "--preset", preset)
	}
	return o.run(ctx, nil, args...)
}

// setupOptions are setup's flags.
type setupOptions struct {
	yes           bool
	workspaces    []string
	replaceWS     bool
	imageSource   string
	tag           string
	tools         []string
	addons        []string
	preset        string
	shareHost     []string
	copyLogin     []string
	shells        []string
	noAliases     bool
	removeAliases bool
	keysFromEnv   bool
	// changed records which flags were given.
	changed map[string]bool
}

const setupLong = `Set up ai-sandbox, step by step:

  1. docker       the Docker engine must answer ('docker info')
  2. workspaces   the folders sandboxes may work in: keep, add to or replace
                  the whitelist (each folder goes through the 'workspace add'
                  rules; a refused one is explained and asked again)
  3. image        pull a prebuilt sandbox image, build one here (agents,
                  add-ons, preset), or skip; and the agents you use
  4. API keys     each agent's keys, typed hidden, written to
                  ~/.ai-sandbox/env (mode 0600, comments and other keys kept);
                  an empty answer keeps the value already there
  5. host config  per agent: off (default: it keeps its own sandbox home),
                  read-only or read-write sharing of its config folders on
                  this machine; and, when off, an optional one-time copy of
                  its login file into its sandbox home (never overwriting)
  6. aliases      one managed block in the rc file of each shell (~/.bashrc,
                  ~/.zshrc, ~/.config/fish/config.fish): an alias per agent
                  running 'ai-sandbox run <agent>', and ai-run for
                  'ai-sandbox run'; your own aliases of the same names are
                  reported
  7. summary      what was written where, and how to load the aliases

On a terminal every step is a question. Without one (scripts, CI) every
question is answered by its flag, or by --yes, which takes the defaults: keep
the workspaces, skip the image, the agents set up before (else opencode),
host config unchanged (off when never set), no login copied, aliases for the
detected shells. A question with no answer is an error that names its flag.
API keys are never taken from the command line: on a terminal they are asked;
otherwise add them to ~/.ai-sandbox/env, or pass --keys-from-env.

Running setup again is safe: the alias block is replaced, never duplicated; a
workspace already whitelisted is not added twice; files that need no change
are not rewritten. A ~/.ai-sandbox written by the original ai-sandbox-wrapper
(config version 2, the workspaces file, tools/<tool>/home, opencode-dbs/) is
used as it is.`

const setupExample = `  ai-sandbox setup
  ai-sandbox setup --yes
  ai-sandbox setup --yes --workspace ~/projects --tools claude,opencode --shell zsh
  ai-sandbox setup --yes --image-source build --tools opencode,aider --addons rtk --preset base
  ai-sandbox setup --yes --share-host-config claude=ro --no-aliases
  ai-sandbox setup --remove-aliases`

// NewCmdSetup builds 'ai-sandbox setup'.
func NewCmdSetup(deps *Deps) *cobra.Command {
	return newCmdSetup(deps, func() ImageOps { return newImageOps(deps) }, nil)
}

func newCmdSetup(deps *Deps, ops func() ImageOps, ask asker) *cobra.Command {
	o := &setupOptions{}
	cmd := &cobra.Command{
		Use:     "setup",
		Short:   "Set up ai-sandbox: workspaces, image, API keys, shell aliases",
		Long:    setupLong,
		Example: setupExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.changed = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { o.changed[f.Name] = true })
			s := &setup{deps: deps, o: o, ops: ops(), ask: ask}
			return s.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.SortFlags = false // in the order of the questions
	f.BoolVarP(&o.yes, "yes", "y", false, "answer every question not answered by another flag with its default")
	f.StringArrayVar(&o.workspaces, "workspace", nil, "whitelist this folder (repeatable); refused folders are an error")
	f.BoolVar(&o.replaceWS, "replace-workspaces", false, "the --workspace folders replace the whitelist instead of adding to it")
	f.StringVar(&o.imageSource, "image-source", "", "pull (a prebuilt image), build (here), or none (skip; the default with --yes)")
	f.StringVar(&o.tag, "tag", "", "the prebuilt image tag to pull (implies --image-source pull; default with --yes: "+defaultTag+")")
	f.StringSliceVar(&o.tools, "tools", nil, "the agents you use, comma-separated (or none): their keys, host config and aliases; with build, the agents in the image")
	f.StringSliceVar(&o.addons, "addons", nil, "add-ons to build into the image, comma-separated or none (implies --image-source build): "+strings.Join(imagebuild.AddonNames(), ", "))
	f.StringVar(&o.preset, "preset", "", "the image preset to build (implies --image-source build): "+strings.Join(imagebuild.PresetNames(), ", "))
	f.BoolVar(&o.keysFromEnv, "keys-from-env", false, "write the agents' keys that are set in this environment to ~/.ai-sandbox/env")
	f.StringArrayVar(&o.shareHost, "share-host-config", nil, "TOOL=off|ro|rw: share that agent's host config folders read-only or read-write, or not (repeatable)")
	f.StringSliceVar(&o.copyLogin, "copy-login", nil, "copy these agents' host login files (e.g. ~/.codex/auth.json) once into their sandbox homes, never overwriting (comma-separated; none for no copy, the default without a terminal)")
	f.StringSliceVar(&o.shells, "shell", nil, "write the aliases for this shell: bash, zsh or fish (repeatable; default with --yes: the detected shells)")
	f.BoolVar(&o.noAliases, "no-aliases", false, "write no shell aliases (existing alias blocks are left alone)")
	f.BoolVar(&o.removeAliases, "remove-aliases", false, "remove the alias blocks from the rc files (of --shell, else of every shell) and do nothing else")
	return cmd
}

const defaultTag = "base"

// setup is one run of the command.
type setup struct {
	deps *Deps
	o    *setupOptions
	ops  ImageOps
	ask  asker

	paths config.Paths
	cfg   *config.Config
	env   *envfile.File

	// answers
	toolNames   []string
	source      string // pull, build, none
	tag         string
	addons      []string
	preset      string
	hostConfig  map[string]string // tool → off|ro|rw
	copyLogin   map[string]bool
	newKeys     map[string]string
	shells      []shellrc.Shell
	rcChanged   []shellrc.Shell // the shells whose rc file was written
	failed      []error         // rc files that could not be written
	interactive bool

	summary []summaryLine
}

type summaryLine struct{ what, text string }

func (s *setup) note(what, format string, a ...any) {
	s.summary = append(s.summary, summaryLine{what, fmt.Sprintf(format, a...)})
}

func (s *setup) run(ctx context.Context) error {
	if err := s.validate(); err != nil {
		return err
	}
	p, err := s.deps.Paths()
	if err != nil {
		return err
	}
	s.paths = p
	if s.o.removeAliases {
		return s.removeAliases()
	}
	// Both files must parse before any question: neither is ever
	// overwritten when it does not.
	if s.cfg, err = s.deps.LoadConfig(); err != nil {
		return err
	}
	if s.env, err = envfile.Load(p.EnvFile()); err != nil {
		return ui.WithHint(err, "fix that line of "+s.tilde(p.EnvFile())+", then run setup again")
	}
	st := s.deps.Streams
	// --yes answers every question a flag does not: nothing is asked.
	s.interactive = st.Interactive() && st.InFile != nil && st.OutFile != nil && !s.o.yes
	if s.interactive && s.ask == nil {
		s.ask = surveyAsker{in: st.InFile, out: st.OutFile, err: st.ErrFile}
	}
	if !s.interactive {
		if err := s.checkAnswers(); err != nil {
			return err
		}
	}
	s.reportFound()

	err = s.steps(ctx)
	if errors.Is(err, terminal.InterruptErr) {
		st.Infof("setup interrupted; what was written before stays")
		return &ui.ExitError{Code: 130}
	}
	return err
}

func (s *setup) steps(ctx context.Context) error {
	if err := s.checkDocker(ctx); err != nil {
		return err
	}
	if err := s.stepWorkspaces(); err != nil {
		return err
	}
	if err := s.stepImage(ctx); err != nil {
		return err
	}
	if err := s.stepKeys(); err != nil {
		return err
	}
	if err := s.stepHostConfig(); err != nil {
		return err
	}
	if err := s.stepShells(); err != nil {
		return err
	}
	// Questions are over: write, then the long part (the image), then
	// say what happened.
	if err := s.writeConfig(); err != nil {
		return err
	}
	if err := s.writeEnv(); err != nil {
		return err
	}
	if err := s.copyLogins(); err != nil {
		return err
	}
	if err := s.writeAliases(); err != nil {
		return err
	}
	imgErr := s.doImage(ctx)
	s.printSummary()
	var exit *ui.ExitError
	if errors.As(imgErr, &exit) {
		// The image command has said what failed (docker's own exit
		// code comes back unchanged); say how to retry.
		for _, h := range ui.HintsOf(imgErr) {
			s.deps.Streams.Hintf("%s", h)
		}
	}
	if imgErr == nil && len(s.failed) > 0 {
		for _, err := range s.failed[1:] {
			s.deps.Streams.Errorf("%v", err)
			for _, h := range ui.HintsOf(err) {
				s.deps.Streams.Hintf("%s", h)
			}
		}
		return s.failed[0]
	}
	return imgErr
}

// ---- flags ---------------------------------------------------------------

func usagef(format string, a ...any) error { return ui.Usagef(format, a...) }

// validate checks flag values (bad ones are usage errors, exit 2).
func (s *setup) validate() error {
	o := s.o
	if o.removeAliases {
		for _, name := range slices.Sorted(maps.Keys(o.changed)) {
			if name != "remove-aliases" && name != "shell" && name != "yes" {
				return usagef("--remove-aliases cannot be combined with --%s", name)
			}
		}
	}
	if o.replaceWS && !o.changed["workspace"] {
		return usagef("--replace-workspaces needs the new list: --workspace PATH (repeatable)")
	}
	if o.noAliases && len(o.shells) > 0 {
		return usagef("--no-aliases and --shell contradict each other")
	}
	for _, sh := range o.shells {
		if _, ok := shellrc.Parse(sh); !ok || strings.Contains(sh, "/") {
			return usagef("--shell %q: expected bash, zsh or fish", sh)
		}
	}
	switch o.imageSource {
	case "", "pull", "build", "none":
	case "skip":
		o.imageSource = "none"
	default:
		return usagef("--image-source %q: expected pull, build or none", o.imageSource)
	}
	buildOnly := o.changed["addons"] || o.changed["preset"]
	if o.changed["tag"] && buildOnly {
		return usagef("--tag (a pull) and --addons/--preset (a build) contradict each other")
	}
	if o.changed["tag"] && o.imageSource != "" && o.imageSource != "pull" {
		return usagef("--tag is for --image-source pull, not %s", o.imageSource)
	}
	if buildOnly && o.imageSource != "" && o.imageSource != "build" {
		return usagef("--addons and --preset are for --image-source build, not %s", o.imageSource)
	}
	if o.changed["tag"] && !tagPattern.MatchString(o.tag) {
		return usagef("--tag %q: not an image tag (e.g. base, full, base-v1.2.0)", o.tag)
	}
	o.tools, o.addons = dropNone(o.tools), dropNone(o.addons)
	names, err := s.toolList(o.tools, "--tools")
	if err != nil {
		return err
	}
	o.tools = names
	known := map[string]bool{}
	for _, a := range imagebuild.AddonNames() {
		known[a] = true
	}
	for _, a := range o.addons {
		if !known[a] {
			return usagef("--addons: unknown add-on %q (known: %s)", a, strings.Join(imagebuild.AddonNames(), ", "))
		}
	}
	if o.preset != "" && !slices.Contains(imagebuild.PresetNames(), o.preset) {
		return usagef("--preset: unknown preset %q (known: %s)", o.preset, strings.Join(imagebuild.PresetNames(), ", "))
	}
	s.hostConfig = map[string]string{}
	for _, kv := range o.shareHost {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--share-host-config %q: expected TOOL=off|ro|rw", kv)
		}
		t, ok := s.deps.Tools.Lookup(strings.TrimSpace(k))
		if !ok {
			return usagef("--share-host-config %q: unknown agent %q (see 'ai-sandbox tools')", kv, k)
		}
		mode, ok := parseShareMode(v)
		if !ok {
			return usagef("--share-host-config %q: expected off, ro or rw after =", kv)
		}
		s.hostConfig[t.Name] = mode
	}
	s.copyLogin = map[string]bool{}
	for _, name := range o.copyLogin {
		name = strings.TrimSpace(name)
		if name == "none" || name == "" {
			continue
		}
		t, ok := s.deps.Tools.Lookup(name)
		if !ok {
			return usagef("--copy-login: unknown agent %q", name)
		}
		if len(t.LoginFiles) == 0 {
			return usagef("--copy-login: %s keeps no login file that can be copied", t.Name)
		}
		s.copyLogin[t.Name] = true
	}
	return nil
}

// dropNone turns a list flag given as "none" into an empty list.
func dropNone(l []string) []string {
	if len(l) == 1 && strings.EqualFold(strings.TrimSpace(l[0]), "none") {
		return []string{}
	}
	return l
}

func parseShareMode(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "no", "none":
		return "off", true
	case "ro", "read-only", "readonly":
		return "ro", true
	case "rw", "read-write", "readwrite":
		return "rw", true
	}
	return "", false
}

// toolList checks agent names (or their binaries) and returns them as
// table names, without duplicates.
func (s *setup) toolList(in []string, flag string) ([]string, error) {
	var out []string
	for _, n := range in {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		t, ok := s.deps.Tools.Lookup(n)
		if !ok {
			return nil, usagef("%s: unknown agent %q (known: %s)", flag, n, strings.Join(s.deps.Tools.Names(), ", "))
		}
		if !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	// In the table's order, whatever the order given.
	var sorted []string
	for _, n := range s.deps.Tools.Names() {
		if slices.Contains(out, n) {
			sorted = append(sorted, n)
		}
	}
	return sorted, nil
}

// missing is the error for a question that has no answer and no
// terminal to ask it on.
func missing(question string, hints ...string) error {
	return ui.WithHint(fmt.Errorf("no terminal to ask %s", question),
		append(hints, "or pass --yes to take the defaults for every question not answered by a flag")...)
}

// checkAnswers fails, without a terminal, on the first question (in the
// wizard's order) that no flag answers.
func (s *setup) checkAnswers() error {
	o := s.o
	if o.yes {
		return nil
	}
	if !o.changed["workspace"] {
		return missing("which folders to whitelist", "answer with --workspace PATH (repeatable)")
	}
	source := s.impliedSource()
	if source == "" {
		return missing("where the image comes from", "answer with --image-source pull|build|none")
	}
	if source == "pull" && !o.changed["tag"] {
		return missing("which image tag to pull", "answer with --tag TAG (base, full, …)")
	}
	if !o.changed["tools"] {
		return missing("which agents you use", "answer with --tools NAME,… (see 'ai-sandbox tools')")
	}
	if source == "build" && !o.changed["addons"] {
		return missing("which add-ons to build into the image", "answer with --addons NAME,… (or --addons none)")
	}
	if source == "build" && !o.changed["preset"] {
		return missing("which image preset to build", "answer with --preset "+strings.Join(imagebuild.PresetNames(), "|"))
	}
	for _, t := range o.tools {
		if _, ok := s.hostConfig[t]; !ok {
			return missing(fmt.Sprintf("whether to share %s's host config", t), fmt.Sprintf("answer with --share-host-config %s=off|ro|rw", t))
		}
	}
	if !o.changed["shell"] && !o.noAliases {
		return missing("which shells get the aliases", "answer with --shell bash|zsh|fish (repeatable), or --no-aliases")
	}
	return nil
}

func (s *setup) impliedSource() string {
	switch {
	case s.o.imageSource != "":
		return s.o.imageSource
	case s.o.changed["tag"]:
		return "pull"
	case s.o.changed["addons"] || s.o.changed["preset"]:
		return "build"
	}
	return ""
}

// ---- what is there already ----------------------------------------------

func (s *setup) tilde(path string) string { return shellrc.Tilde(path, s.deps.Home) }

// reportFound says what an earlier setup (this one's or the original's)
// left in the state folder; all of it is used as it is.
func (s *setup) reportFound() {
	p := s.paths
	if _, err := os.Stat(p.Root); err != nil {
		return
	}
	var facts []string
	if _, err := os.Stat(p.ConfigFile()); err == nil {
		facts = append(facts, fmt.Sprintf("config.json (version %d, %s)", s.cfg.Version, plural(len(s.cfg.Workspaces), "workspace")))
	}
	if legacy, err := config.ReadLegacyWorkspaces(p.LegacyWorkspaces()); err == nil && legacy != nil {
		facts = append(facts, fmt.Sprintf("the original's workspaces file (%s)", plural(len(legacy), "path")))
	}
	if _, err := os.Stat(p.EnvFile()); err == nil {
		facts = append(facts, fmt.Sprintf("an env file (%s)", plural(len(s.env.Keys()), "key")))
	}
	var homes []string
	if entries, err := os.ReadDir(p.ToolsDir()); err == nil {
		for _, e := range entries {
			if st, err := os.Stat(p.LegacyToolHome(e.Name())); err == nil && st.IsDir() {
				homes = append(homes, e.Name())
			}
		}
	}
	if len(homes) > 0 {
		facts = append(facts, "shared sandbox homes for "+strings.Join(homes, ", ")+" (their logins are taken over; each project now gets its own home)")
	}
	if st, err := os.Stat(filepath.Join(p.Root, "home")); err == nil && st.IsDir() {
		facts = append(facts, "the original's shared home/ (not used: each agent has its own home per project)")
	}
	if entries, err := os.ReadDir(p.OpencodeDBs()); err == nil {
		n := 0
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				n++
			}
		}
		if n > 0 {
			facts = append(facts, fmt.Sprintf("per-project OpenCode databases (%s)", plural(n, "project")))
		}
	}
	if len(facts) == 0 {
		return
	}
	st := s.deps.Streams
	st.Infof("found %s: %s", s.tilde(p.Root), strings.Join(facts, "; "))
	st.Infof("all of it is used as it is; setup changes only what you choose")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ---- 1. docker ------------------------------------------------------------

func (s *setup) checkDocker(ctx context.Context) error {
	dk := s.deps.Docker()
	// {{json .}} works with docker and podman alike (their fields differ).
	res, err := s.deps.Runner.Output(ctx, []string{dk, "info", "--format", "{{json .}}"})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "executable file not found") {
			return ui.WithHint(fmt.Errorf("the docker CLI %q was not found", dk),
				"install Docker Engine (Linux) or Docker Desktop (macOS, Windows), then run setup again",
				"with Podman, set AI_SANDBOX_DOCKER=podman")
		}
		return fmt.Errorf("docker info: %w", err)
	}
	if res.ExitCode != 0 {
		msg := ui.FirstLine(strings.TrimSpace(string(res.Stderr)))
		if msg == "" {
			msg = fmt.Sprintf("docker info exited with code %d", res.ExitCode)
		}
		hints := []string{"start the Docker engine: Docker Desktop (macOS, Windows), 'sudo systemctl start docker' (Linux) or 'colima start'; 'docker info' must work"}
		if strings.Contains(msg, "permission denied") {
			hints = append(hints, "your user may not use the engine: add it to the docker group ('sudo usermod -aG docker $USER') and log in again")
		}
		return ui.WithHint(fmt.Errorf("the Docker engine does not answer: %s", msg), hints...)
	}
	s.note("docker", "engine %s answers", engineVersion(res.Stdout))
	return nil
}

// engineVersion finds the server version in 'docker info' JSON (docker:
// ServerVersion; podman: version.Version).
func engineVersion(out []byte) string {
	var info map[string]any
	if json.Unmarshal(out, &info) == nil {
		if v, ok := info["ServerVersion"].(string); ok && v != "" {
			return v
		}
		if m, ok := info["version"].(map[string]any); ok {
			if v, ok := m["Version"].(string); ok && v != "" {
				return v
			}
		}
	}
	return "(version unknown)"
}

// ---- 2. workspaces --------------------------------------------------------

func (s *setup) stepWorkspaces() error {
	st := s.deps.Streams
	existing := append([]string(nil), s.cfg.Workspaces...)
	var added []string
	if !s.interactive || s.o.changed["workspace"] {
		if !s.o.changed["workspace"] {
			s.note("workspaces", "%s", describeWorkspaces(existing, nil, "none whitelisted yet; add one with 'ai-sandbox workspace add PATH'"))
			return nil
		}
		for _, w := range s.o.workspaces {
			canon, existed, err := AddWorkspace(s.deps, w)
			if err != nil {
				return ui.WithHint(fmt.Errorf("--workspace %s: %w", w, err), "see 'ai-sandbox workspace --help' for the rules")
			}
			if !existed {
				st.Infof("whitelisted %s", canon)
			}
			if !slices.Contains(added, canon) {
				added = append(added, canon)
			}
		}
		if s.o.replaceWS {
			if err := s.keepOnlyWorkspaces(added); err != nil {
				return err
			}
			existing = kept(existing, added)
		}
		s.note("workspaces", "%s", describeWorkspaces(existing, added, "none"))
		return nil
	}

	mode := "add"
	if len(existing) > 0 {
		fmt.Fprintln(st.Err, "Whitelisted workspaces:")
		for _, w := range existing {
			mark := ""
			if _, err := os.Stat(w); err != nil {
				mark = "  (missing)"
			}
			fmt.Fprintf(st.Err, "  %s%s\n", w, mark)
		}
		var err error
		mode, err = s.ask.Select("Workspaces:", []string{"keep", "add", "replace"}, "keep", func(v string, _ int) string {
			return map[string]string{"keep": "keep this list", "add": "add folders to it", "replace": "replace it with new folders"}[v]
		})
		if err != nil {
			return err
		}
	}
	if mode != "keep" {
		msg := "Folders to whitelist (comma-separated, empty for none):"
		for {
			answer, err := s.ask.Input(msg, "", "e.g. ~/projects, ~/code. A sandbox starts only inside a whitelisted folder. Refused: /, your home, credential and system folders.")
			if err != nil {
				return err
			}
			var refused []string
			for _, w := range splitComma(answer) {
				canon, _, err := AddWorkspace(s.deps, w)
				if err != nil {
					st.Warnf("%v", err)
					refused = append(refused, w)
					continue
				}
				st.Infof("whitelisted %s", canon)
				if !slices.Contains(added, canon) {
					added = append(added, canon)
				}
			}
			if len(refused) == 0 {
				break
			}
			msg = "Other folders instead of " + strings.Join(refused, ", ") + " (empty for none):"
		}
		if mode == "replace" {
			if err := s.keepOnlyWorkspaces(added); err != nil {
				return err
			}
			existing = kept(existing, added)
		}
	}
	s.note("workspaces", "%s", describeWorkspaces(existing, added, "none whitelisted; add one with 'ai-sandbox workspace add PATH'"))
	return nil
}

// kept is the part of old that is in keep.
func kept(old, keep []string) []string {
	var out []string
	for _, w := range old {
		if slices.Contains(keep, w) {
			out = append(out, w)
		}
	}
	return out
}

func describeWorkspaces(existing, added []string, none string) string {
	var parts []string
	for _, w := range existing {
		if !slices.Contains(added, w) {
			parts = append(parts, w)
		}
	}
	for _, w := range added {
		if slices.Contains(existing, w) {
			parts = append(parts, w)
		} else {
			parts = append(parts, w+" (added)")
		}
	}
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, ", ")
}

// keepOnlyWorkspaces drops every whitelisted folder not in keep, from
// config.json and from the original's workspaces file.
func (s *setup) keepOnlyWorkspaces(keep []string) error {
	err := config.Update(s.paths, func(c *config.Config) error {
		changed := false
		kept := []string{}
		for _, w := range c.Workspaces {
			if slices.Contains(keep, w) {
				kept = append(kept, w)
			} else {
				changed = true
			}
		}
		legacy, err := config.ReadLegacyWorkspaces(s.paths.LegacyWorkspaces())
		if err != nil {
			return err
		}
		for _, w := range legacy {
			if !slices.Contains(keep, w) {
				if _, err := config.RemoveLegacyWorkspace(s.paths, w); err != nil {
					return err
				}
			}
		}
		if !changed {
			return config.ErrNoChange
		}
		c.Workspaces = kept
		return nil
	})
	if err != nil {
		return err
	}
	s.cfg, err = s.deps.LoadConfig()
	return err
}

// ---- 3. image and agents --------------------------------------------------

func (s *setup) defaultTools() []string {
	want := map[string]bool{}
	for _, sh := range shellrc.All() {
		content, _, _ := shellrc.ReadFile(shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv))
		for _, t := range shellrc.Tools(content) {
			want[t] = true
		}
	}
	for _, t := range append(append([]string{}, s.cfg.Tools.Installed...), s.cfg.Image.Tools...) {
		want[t] = true
	}
	var out []string
	for _, n := range s.deps.Tools.Names() {
		if want[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = imagebuild.DefaultTools()
	}
	return out
}

func (s *setup) imageName() string {
	if v := s.deps.Getenv("AI_SANDBOX_IMAGE"); v != "" {
		return v
	}
	if s.cfg.Settings.Image != "" {
		return s.cfg.Settings.Image
	}
	return config.DefaultImage
}

func (s *setup) imageExists(ctx context.Context) bool {
	res, err := s.deps.Runner.Output(ctx, []string{s.deps.Docker(), "image", "inspect", "--format", "{{.Id}}", s.imageName()})
	return err == nil && res.ExitCode == 0
}

func (s *setup) stepImage(ctx context.Context) error {
	o := s.o
	s.source = s.impliedSource()
	if !s.interactive {
		if s.source == "" {
			s.source = "none"
		}
		s.tag = o.tag
		if s.source == "pull" && s.tag == "" {
			s.tag = defaultTag
		}
		s.toolNames = o.tools
		if !o.changed["tools"] {
			s.toolNames = s.defaultTools()
		}
		s.addons = o.addons
		if !o.changed["addons"] {
			s.addons = s.cfg.Image.Addons
		}
		s.preset = o.preset
		if s.preset == "" {
			s.preset = s.cfg.Image.Preset
		}
		if s.preset == "" {
			s.preset = imagebuild.DefaultPreset
		}
		return nil
	}

	var err error
	if s.source == "" {
		def := "pull"
		if s.imageExists(ctx) {
			def = "none"
		}
		s.source, err = s.ask.Select("Sandbox image ("+s.imageName()+"):", []string{"pull", "build", "none"}, def, func(v string, _ int) string {
			return map[string]string{
				"pull":  "pull a prebuilt image (a few minutes)",
				"build": "build it here from the Dockerfiles (10-20 minutes)",
				"none":  "skip: it is there already, or I will pull or build it myself",
			}[v]
		})
		if err != nil {
			return err
		}
	}
	if s.source == "pull" {
		s.tag = o.tag
		if s.tag == "" {
			tags, err := s.ops.ListTags(ctx)
			if err != nil || len(tags) == 0 {
				s.deps.Streams.Warnf("cannot list the registry's tags (%v); offering base and full", err)
				tags = []string{"base", "full"}
			}
			def := tags[0]
			if slices.Contains(tags, defaultTag) {
				def = defaultTag
			}
			if s.tag, err = s.ask.Select("Image tag to pull:", tags, def, nil); err != nil {
				return err
			}
		}
	}

	// The agents: those to build into the image, or those the user runs.
	s.toolNames = o.tools
	if !o.changed["tools"] {
		msg := "Agents you use (for their API keys, host config and aliases):"
		if s.source == "build" {
			msg = "Agents to install in the image:"
		}
		all := s.deps.Tools.All()
		names := make([]string, len(all))
		for i, t := range all {
			names[i] = t.Name
		}
		if s.toolNames, err = s.ask.MultiSelect(msg, names, s.defaultTools(), func(_ string, i int) string {
			return all[i].Description
		}); err != nil {
			return err
		}
	}
	if s.source == "build" {
		s.addons = o.addons
		if !o.changed["addons"] {
			all := imagebuild.Addons()
			names := make([]string, len(all))
			for i, a := range all {
				names[i] = a.Name
			}
			if s.addons, err = s.ask.MultiSelect("Add-ons to build into the image:", names, s.cfg.Image.Addons, func(_ string, i int) string {
				return all[i].Description
			}); err != nil {
				return err
			}
		}
		s.preset = o.preset
		if s.preset == "" {
			def := s.cfg.Image.Preset
			if def == "" {
				def = imagebuild.DefaultPreset
			}
			presets := imagebuild.PresetNames()
			if s.preset, err = s.ask.Select("Image preset:", presets, def, func(v string, _ int) string {
				p, err := imagebuild.LoadPreset(v)
				if err != nil || len(p.Addons) == 0 {
					return "no add-ons"
				}
				return "with " + strings.Join(p.Addons, ", ")
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *setup) doImage(ctx context.Context) error {
	st := s.deps.Streams
	switch s.source {
	case "pull":
		st.Infof("pulling the %s image", s.tag)
		if err := s.ops.Pull(ctx, s.tag); err != nil {
			s.note("image", "pulling %s failed", s.tag)
			return ui.WithHint(fmt.Errorf("image pull: %w", err), "the rest of setup is done; retry with 'ai-sandbox image pull --tag "+s.tag+"'")
		}
		s.note("image", "pulled %s as %s", s.tag, s.imageName())
	case "build":
		st.Infof("building the image with %s", strings.Join(s.toolNames, ", "))
		if err := s.ops.Build(ctx, s.toolNames, s.addons, s.preset); err != nil {
			s.note("image", "the build failed")
			return ui.WithHint(fmt.Errorf("image build: %w", err), "the rest of setup is done; retry with 'ai-sandbox image build'")
		}
		s.note("image", "built %s (agents: %s; preset %s; add-ons: %s)", s.imageName(), strings.Join(s.toolNames, ", "), s.preset, joinOrNone(s.addons))
	default:
		if s.imageExists(ctx) {
			s.note("image", "%s is there (not changed)", s.imageName())
		} else {
			s.note("image", "%s does not exist yet: run 'ai-sandbox image pull' or 'ai-sandbox image build'", s.imageName())
		}
	}
	return nil
}

func joinOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// ---- 4. API keys ----------------------------------------------------------

// secretName tells keys whose values are secrets (asked hidden) from
// settings such as a base URL or a model name.
func secretName(k string) bool {
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH", "CREDENTIAL"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func (s *setup) toolKeys(name string) []string {
	t, _ := s.deps.Tools.Lookup(name)
	keys := append([]string{}, t.EnvKeys...)
	for _, k := range s.cfg.Tools.Env[name] {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (s *setup) stepKeys() error {
	s.newKeys = map[string]string{}
	if s.o.keysFromEnv {
		for _, name := range s.toolNames {
			for _, k := range s.toolKeys(name) {
				if v := s.deps.Getenv(k); v != "" {
					s.newKeys[k] = v
				}
			}
		}
	}
	if !s.interactive {
		return nil
	}
	asked := map[string]bool{}
	for _, name := range s.toolNames {
		var keys []string
		for _, k := range s.toolKeys(name) {
			if !asked[k] {
				keys = append(keys, k)
				asked[k] = true
			}
		}
		if len(keys) == 0 {
			continue
		}
		chosen, err := s.ask.MultiSelect(fmt.Sprintf("Keys for %s to set now (none: keep what is there):", name), keys, nil, func(k string, _ int) string {
			if _, ok := s.env.Lookup(k); ok {
				return "set in the env file"
			}
			if _, ok := s.newKeys[k]; ok {
				return "from this environment"
			}
			return ""
		})
		if err != nil {
			return err
		}
		for _, k := range chosen {
			var v string
			if secretName(k) {
				v, err = s.ask.Password(k+" (hidden; empty keeps the current value):", "")
			} else {
				cur, _ := s.env.Lookup(k)
				v, err = s.ask.Input(k+":", cur, "")
			}
			if err != nil {
				return err
			}
			if v = strings.TrimSpace(v); v != "" {
				s.newKeys[k] = v
			}
		}
	}
	return nil
}

func (s *setup) writeEnv() error {
	path := s.paths.EnvFile()
	_, statErr := os.Stat(path)
	if err := envfile.Set(path, s.newKeys); err != nil {
		return err
	}
	var set []string
	for k, v := range s.newKeys {
		if old, ok := s.env.Lookup(k); !ok || old != v {
			set = append(set, k)
		}
	}
	sort.Strings(set)
	switch {
	case len(set) > 0:
		s.note("API keys", "%s (set %s)", s.tilde(path), strings.Join(set, ", "))
	case statErr != nil:
		s.note("API keys", "%s (created, empty: add KEY=value lines, or run setup again)", s.tilde(path))
	default:
		s.note("API keys", "%s (unchanged, %s)", s.tilde(path), plural(len(s.env.Keys()), "key"))
	}
	return nil
}

// ---- 5. host config and logins ---------------------------------------------

// loginsToCopy lists the login files of tool that exist on the host and
// not yet in its login store.
func (s *setup) loginsToCopy(tool string) []string {
	t, _ := s.deps.Tools.Lookup(tool)
	var out []string
	for _, f := range loginFiles(t) {
		src := filepath.Join(s.deps.Home, f.Rel)
		if st, err := os.Stat(src); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if logins.Has(s.paths.LoginStore(tool), f) {
			continue
		}
		out = append(out, f.Rel)
	}
	return out
}

func (s *setup) currentShare(tool string) string {
	if m, ok := parseShareMode(s.cfg.Tools.HostConfig[tool]); ok {
		return m
	}
	return "off"
}

func (s *setup) stepHostConfig() error {
	for _, name := range s.toolNames {
		t, _ := s.deps.Tools.Lookup(name)
		if _, ok := s.hostConfig[name]; !ok {
			if !s.interactive {
				s.hostConfig[name] = s.currentShare(name)
			} else {
				var shown []string
				for _, rel := range t.HostConfig {
					mark := ""
					if _, err := os.Stat(filepath.Join(s.deps.Home, rel)); err != nil {
						mark = " (absent)"
					}
					shown = append(shown, "~/"+rel+mark)
				}
				desc := map[string]string{
					"off":        "its own home in each project (" + s.tilde(s.paths.ProjectsDir()) + "/<project>/homes/" + name + "); nothing of yours is shared (safest)",
					"read-only":  "the agent can read every credential and token kept in these files",
					"read-write": "the agent can also plant hooks or plugins that run on your machine the next time you use " + name + " outside the sandbox",
				}
				cur := map[string]string{"off": "off", "ro": "read-only", "rw": "read-write"}[s.currentShare(name)]
				ans, err := s.ask.Select(fmt.Sprintf("Share your %s config (%s) with its sandbox?", name, strings.Join(shown, ", ")),
					[]string{"off", "read-only", "read-write"}, cur, func(v string, _ int) string { return desc[v] })
				if err != nil {
					return err
				}
				s.hostConfig[name], _ = parseShareMode(ans)
			}
		}
		if s.hostConfig[name] != "off" || s.copyLogin[name] {
			continue
		}
		files := s.loginsToCopy(name)
		if len(files) == 0 || !s.interactive || s.o.changed["copy-login"] {
			continue
		}
		var shown []string
		for _, f := range files {
			shown = append(shown, "~/"+f)
		}
		yes, err := s.ask.Confirm(fmt.Sprintf("Copy your %s login (%s) for its sandboxes (every project), so you need not log in again?", name, strings.Join(shown, ", ")), false)
		if err != nil {
			return err
		}
		s.copyLogin[name] = yes
	}
	return nil
}

func (s *setup) writeConfig() error {
	var changes []string
	apply := func(c *config.Config) error {
		changes = nil
		for _, name := range slices.Sorted(maps.Keys(s.hostConfig)) {
			mode := s.hostConfig[name]
			cur, ok := parseShareMode(c.Tools.HostConfig[name])
			if !ok {
				cur = "off"
			}
			if cur == mode {
				continue
			}
			if c.Tools.HostConfig == nil {
				c.Tools.HostConfig = map[string]string{}
			}
			c.Tools.HostConfig[name] = mode
			changes = append(changes, name+"="+mode)
		}
		if len(changes) == 0 {
			return config.ErrNoChange
		}
		return nil
	}
	// A dry pass on a copy first: with nothing to change, the state
	// folder is not even locked.
	probe := *s.cfg
	probe.Tools.HostConfig = map[string]string{}
	for k, v := range s.cfg.Tools.HostConfig {
		probe.Tools.HostConfig[k] = v
	}
	if !errors.Is(apply(&probe), config.ErrNoChange) {
		if err := config.Update(s.paths, apply); err != nil {
			return err
		}
	}
	var shared []string
	for _, name := range s.toolNames {
		if m := s.hostConfig[name]; m != "off" {
			shared = append(shared, name+" "+m)
		}
	}
	what := "host config shared: " + joinOrNone(shared)
	_, statErr := os.Stat(s.paths.ConfigFile())
	switch {
	case len(changes) > 0:
		s.note("config", "%s (%s; set %s)", s.tilde(s.paths.ConfigFile()), what, strings.Join(changes, ", "))
	case statErr != nil:
		s.note("config", "nothing to record yet (%s)", what)
	default:
		s.note("config", "%s (%s)", s.tilde(s.paths.ConfigFile()), what)
	}
	for _, name := range s.toolNames {
		if s.hostConfig[name] == "rw" {
			s.deps.Streams.Warnf("%s shares your host config read-write: the agent can change what runs when you use %s outside the sandbox", name, name)
		}
	}
	return nil
}

// copyLogins copies the chosen login files into the sandbox homes: mode
// 0600, never over a file that is there.
func (s *setup) copyLogins() error {
	for _, name := range slices.Sorted(maps.Keys(s.copyLogin)) {
		if !s.copyLogin[name] {
			continue
		}
		if s.hostConfig[name] != "" && s.hostConfig[name] != "off" {
			s.deps.Streams.Infof("%s shares its host config, so its login is there already; nothing copied", name)
			continue
		}
		files := s.loginsToCopy(name)
		if len(files) == 0 {
			s.note("logins", "%s: nothing to copy (no login file on this machine, or one is in the sandbox home already)", name)
			continue
		}
		t, _ := s.deps.Tools.Lookup(name)
		store := s.paths.LoginStore(name)
		storeRel, _ := filepath.Rel(s.paths.Root, store)
		if err := hostfs.New(s.paths.Root).MkdirAll(storeRel, 0o700); err != nil {
			return err
		}
		for _, f := range loginFiles(t) {
			if !slices.Contains(files, f.Rel) {
				continue
			}
			src := filepath.Join(s.deps.Home, f.Rel)
			data, err := os.ReadFile(src)
			if err != nil {
				return fmt.Errorf("read %s: %w", src, err)
			}
			wrote, err := logins.Import(store, f, data)
			if err != nil {
				return err
			}
			if !wrote {
				continue
			}
			s.note("logins", "copied ~/%s to %s, shared by %s in every project", f.Rel, s.tilde(filepath.Join(store, f.Rel)), name)
		}
	}
	return nil
}

// ---- 6. aliases -----------------------------------------------------------

func (s *setup) stepShells() error {
	o := s.o
	if o.noAliases {
		return nil
	}
	if o.changed["shell"] {
		s.shells = parseShells(o.shells)
		return nil
	}
	detected := shellrc.Detect(s.deps.Home, s.deps.Getenv)
	if !s.interactive {
		s.shells = detected
		if len(s.shells) == 0 {
			s.deps.Streams.Warnf("no shell detected ($SHELL is not bash, zsh or fish, and none of their rc files exists); no aliases written")
			s.deps.Streams.Hintf("pass --shell bash|zsh|fish")
		}
		return nil
	}
	var names []string
	for _, sh := range shellrc.All() {
		names = append(names, string(sh))
	}
	var def []string
	for _, sh := range detected {
		def = append(def, string(sh))
	}
	chosen, err := s.ask.MultiSelect(fmt.Sprintf("Write the aliases (%s) for:", strings.Join(s.aliasNames(), ", ")), names, def, func(v string, _ int) string {
		return s.tilde(shellrc.RCFile(shellrc.Shell(v), s.deps.Home, s.deps.Getenv))
	})
	if err != nil {
		return err
	}
	s.shells = parseShells(chosen)
	return nil
}

func parseShells(in []string) []shellrc.Shell {
	var out []shellrc.Shell
	for _, n := range in {
		if sh, ok := shellrc.Parse(n); ok && !slices.Contains(out, sh) {
			out = append(out, sh)
		}
	}
	return out
}

// aliases are one per agent (its name, and its binary when that differs),
// plus ai-run.
func (s *setup) aliases() []shellrc.Alias {
	var out []shellrc.Alias
	seen := map[string]bool{}
	for _, name := range s.toolNames {
		t, _ := s.deps.Tools.Lookup(name)
		for _, n := range []string{t.Name, t.Binary} {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, shellrc.Alias{Name: n, Args: []string{"run", t.Name}})
			}
		}
	}
	return append(out, shellrc.Alias{Name: "ai-run", Args: []string{"run"}})
}

func (s *setup) aliasNames() []string {
	var out []string
	for _, a := range s.aliases() {
		out = append(out, a.Name)
	}
	return out
}

// executable is the path the aliases call: the running binary, by the
// name under which it is on $PATH when it is (so that a package manager's
// symlink survives upgrades), else its absolute path.
func (s *setup) executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the running ai-sandbox binary: %w", err)
	}
	self, err := os.Stat(exe)
	if err != nil {
		return exe, nil
	}
	for _, dir := range filepath.SplitList(s.deps.Getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		cand := filepath.Join(dir, "ai-sandbox")
		if st, err := os.Stat(cand); err == nil && os.SameFile(self, st) {
			return cand, nil
		}
	}
	return exe, nil
}

func (s *setup) writeAliases() error {
	st := s.deps.Streams
	if len(s.shells) == 0 {
		if s.o.noAliases {
			s.note("aliases", "none written (--no-aliases)")
		} else {
			s.note("aliases", "none written")
		}
		return nil
	}
	exe, err := s.executable()
	if err != nil {
		return err
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		st.Warnf("the aliases call %s, which looks temporary (go run?); install ai-sandbox and run setup again", exe)
	}
	aliases := s.aliases()
	names := s.aliasNames()
	for _, sh := range s.shells {
		rc := shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv)
		block, err := shellrc.Block(sh, exe, s.toolNames, aliases)
		if err != nil {
			return err
		}
		// A file that cannot be edited (a marker line missing, a read-only
		// dotfile) does not stop the rest: it is reported at the end.
		fail := func(err error, hint string) {
			s.note("aliases", "%s: not written (%v)", s.tilde(rc), err)
			s.failed = append(s.failed, ui.WithHint(fmt.Errorf("%s: %w", s.tilde(rc), err), hint))
		}
		content, existed, err := shellrc.ReadFile(rc)
		if err != nil {
			fail(err, "make it readable, or pass --shell for the other shells only")
			continue
		}
		out, changed, err := shellrc.Apply(content, block)
		if err != nil {
			fail(err, "fix or delete the ai-sandbox marker lines by hand, then run setup again")
			continue
		}
		s.reportConflicts(sh, rc, content, names)
		if changed {
			if err := shellrc.WriteFile(rc, out); err != nil {
				fail(err, "make it writable, or add the aliases yourself: see 'ai-sandbox setup --help'")
				continue
			}
			s.rcChanged = append(s.rcChanged, sh)
		}
		state := "unchanged"
		switch {
		case !existed:
			state = "created"
		case changed:
			state = "written"
		}
		s.note("aliases", "%s: %s (%s)", s.tilde(rc), strings.Join(names, ", "), state)
	}
	return nil
}

// reportConflicts warns about the user's own definitions of the names
// the block defines.
func (s *setup) reportConflicts(sh shellrc.Shell, rc, content string, names []string) {
	st := s.deps.Streams
	for _, c := range shellrc.Conflicts(sh, content, names) {
		effect := "the ai-sandbox one, defined later, replaces it"
		if c.AfterBlock {
			effect = "it comes after the ai-sandbox block and replaces the ai-sandbox one"
		}
		st.Warnf("%s:%d already defines the %s %s; %s", s.tilde(rc), c.Line, c.Kind, c.Name, effect)
	}
	switch sh {
	case shellrc.Bash:
		// Debian's and Ubuntu's ~/.bashrc read ~/.bash_aliases early on.
		extra := filepath.Join(s.deps.Home, ".bash_aliases")
		if text, ok, _ := shellrc.ReadFile(extra); ok {
			for _, c := range shellrc.Conflicts(sh, text, names) {
				st.Warnf("%s:%d already defines the %s %s; the ai-sandbox one replaces it if %s reads that file before its block",
					s.tilde(extra), c.Line, c.Kind, c.Name, s.tilde(rc))
			}
		}
	case shellrc.Fish:
		dir := filepath.Join(filepath.Dir(rc), "functions")
		for _, n := range names {
			f := filepath.Join(dir, n+".fish")
			if _, err := os.Stat(f); err == nil {
				st.Warnf("%s defines the function %s; the ai-sandbox one in %s replaces it", s.tilde(f), n, s.tilde(rc))
			}
		}
	}
}

// removeAliases takes the managed block out of the rc files.
func (s *setup) removeAliases() error {
	st := s.deps.Streams
	shells := parseShells(s.o.shells)
	if len(shells) == 0 {
		shells = shellrc.All()
	}
	removed := 0
	for _, sh := range shells {
		rc := shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv)
		content, existed, err := shellrc.ReadFile(rc)
		if err != nil {
			return fmt.Errorf("read %s: %w", rc, err)
		}
		if !existed {
			continue
		}
		out, changed, err := shellrc.Remove(content)
		if err != nil {
			return ui.WithHint(fmt.Errorf("%s: %w", s.tilde(rc), err), "fix or delete the ai-sandbox marker lines by hand")
		}
		if !changed {
			continue
		}
		if err := shellrc.WriteFile(rc, out); err != nil {
			return err
		}
		removed++
		fmt.Fprintf(st.Out, "removed the ai-sandbox aliases from %s\n", s.tilde(rc))
		st.Hintf("open a new %s, or run 'unalias' / 'functions -e' for them, to drop them from this one", sh)
	}
	if removed == 0 {
		st.Infof("no ai-sandbox alias block found; nothing removed")
	}
	return nil
}

// ---- 7. summary -----------------------------------------------------------

func (s *setup) printSummary() {
	st := s.deps.Streams
	out := st.Out
	fmt.Fprintln(out, "ai-sandbox setup:")
	width := 0
	for _, l := range s.summary {
		if len(l.what) > width {
			width = len(l.what)
		}
	}
	for _, l := range s.summary {
		fmt.Fprintf(out, "  %-*s  %s\n", width+1, l.what+":", l.text)
	}
	// The hint for the user's own shell first, then the others.
	var written []shellrc.Shell
	if own, ok := shellrc.Parse(s.deps.Getenv("SHELL")); ok && slices.Contains(s.rcChanged, own) {
		written = append(written, own)
	}
	for _, sh := range s.rcChanged {
		if !slices.Contains(written, sh) {
			written = append(written, sh)
		}
	}
	for _, sh := range written {
		rc := shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv)
		st.Hintf("to use the aliases in this %s, run: %s", sh, shellrc.SourceHint(rc, s.deps.Home))
	}
	if len(s.toolNames) > 0 && len(written) > 0 {
		t, _ := s.deps.Tools.Lookup(s.toolNames[0])
		st.Hintf("then, in a whitelisted project: %s", t.Name)
	}
}

// ---- questions ------------------------------------------------------------

// asker asks the wizard's questions; surveyAsker asks them on the
// terminal, tests answer them from a script.
type asker interface {
	Select(msg string, options []string, def string, desc func(string, int) string) (string, error)
	MultiSelect(msg string, options []string, def []string, desc func(string, int) string) ([]string, error)
	Input(msg, def, help string) (string, error)
	Password(msg, help string) (string, error)
	Confirm(msg string, def bool) (bool, error)
}

type surveyAsker struct{ in, out, err *os.File }

func (a surveyAsker) opts() []survey.AskOpt {
	return []survey.AskOpt{survey.WithStdio(a.in, a.out, a.err), survey.WithShowCursor(true)}
}

func (a surveyAsker) Select(msg string, options []string, def string, desc func(string, int) string) (string, error) {
	q := &survey.Select{Message: msg, Options: options, Description: desc, PageSize: 20}
	if slices.Contains(options, def) {
		q.Default = def
	}
	var ans string
	err := survey.AskOne(q, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) MultiSelect(msg string, options []string, def []string, desc func(string, int) string) ([]string, error) {
	q := &survey.MultiSelect{Message: msg, Options: options, Description: desc, PageSize: 20}
	var d []string
	for _, v := range def {
		if slices.Contains(options, v) {
			d = append(d, v)
		}
	}
	if len(d) > 0 {
		q.Default = d
	}
	var ans []string
	err := survey.AskOne(q, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) Input(msg, def, help string) (string, error) {
	var ans string
	err := survey.AskOne(&survey.Input{Message: msg, Default: def, Help: help}, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) Password(msg, help string) (string, error) {
	var ans string
	err := survey.AskOne(&survey.Password{Message: msg, Help: help}, &ans, a.opts()...)
	return ans, err
}

func (a surveyAsker) Confirm(msg string, def bool) (bool, error) {
	ans := def
	err := survey.AskOne(&survey.Confirm{Message: msg, Default: def}, &ans, a.opts()...)
	return ans, err
}
