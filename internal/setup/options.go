package setup

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/imageops"
	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// Short, Long and Example are the command's help.
const (
	Short = "Set up ai-sandbox: workspaces, image, API keys, shell aliases"

	Long = `Set up ai-sandbox, step by step:

  1. docker       the Docker engine must answer ('docker info')
  2. workspaces   the folders sandboxes may work in: keep, add to or replace
                  the whitelist (each folder goes through the 'workspace add'
                  rules; a refused one is explained and asked again; one
                  that does not exist yet is created if you say so)
  3. image        pull a prebuilt sandbox image (from image.registry,
                  AI_SANDBOX_REGISTRY or the published one; when it has no
                  tags, the question says so and the build is the default),
                  build one here (agents, add-ons, preset, the base image to
                  build FROM and CA certificates for a TLS-inspecting proxy),
                  or skip; and the agents you use
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
detected shells. A build takes the recorded base image and CA certificates,
else ` + imagebuild.DefaultBaseImage + ` and none, unless --base-image or --ca-cert
says otherwise. In a project whose toolchain needs add-ons the build lacks
(go.mod: go, pnpm-lock.yaml: pnpm, …; see 'image build --for-project'), a
build asks whether to add them, unless --addons gives the add-ons;
--for-project answers yes (--for-project=false no), and so does --yes. A
question with no answer is an error that names its flag.
A --workspace folder that does not exist is created only with
--create-workspace or a yes on a terminal. API keys are never taken from the
command line: on a terminal they are asked; otherwise add them to
~/.ai-sandbox/env, or pass --keys-from-env.

Running setup again is safe: the alias block is replaced, never duplicated; a
workspace already whitelisted is not added twice; files that need no change
are not rewritten. A ~/.ai-sandbox written by the original ai-sandbox-wrapper
(config version 2, the workspaces file, tools/<tool>/home, opencode-dbs/) is
used as it is.`

	Example = `  ai-sandbox setup
  ai-sandbox setup --yes
  ai-sandbox setup --yes --workspace ~/projects --tools claude,opencode --shell zsh
  ai-sandbox setup --yes --workspace ~/projects/new-app --create-workspace
  ai-sandbox setup --yes --image-source build --tools opencode,aider --addons rtk --preset base
  ai-sandbox setup --yes --image-source build --base-image mirror.example.com/library/node:22-bookworm-slim --ca-cert ~/corp-root.pem
  ai-sandbox setup --yes --share-host-config claude=ro --no-aliases
  ai-sandbox setup --remove-aliases`
)

// defaultTag is the tag pulled when none is chosen.
const defaultTag = "base"

// Options are setup's flags: the answers given on the command line.
// A flag that was not given leaves its question open.
type Options struct {
	yes           bool
	workspaces    []string
	replaceWS     bool
	createWS      bool
	imageSource   string
	tag           string
	tools         []string
	addons        []string
	preset        string
	baseImage     string
	caCerts       []string
	forProject    bool
	shareHost     []string
	copyLogin     []string
	shells        []string
	noAliases     bool
	removeAliases bool
	keysFromEnv   bool

	flags *pflag.FlagSet
}

// AddFlags defines setup's flags on f, in the order of the questions;
// Run reads which ones were given from f.
func (o *Options) AddFlags(f *pflag.FlagSet) {
	o.flags = f
	f.SortFlags = false
	f.BoolVarP(&o.yes, "yes", "y", false, "answer every question not answered by another flag with its default")
	f.StringArrayVar(&o.workspaces, "workspace", nil, "whitelist this folder (repeatable); refused folders are an error")
	f.BoolVar(&o.replaceWS, "replace-workspaces", false, "the --workspace folders replace the whitelist instead of adding to it")
	f.BoolVar(&o.createWS, "create-workspace", false, "create the --workspace folders that do not exist yet (mode 0755); --yes alone does not")
	f.StringVar(&o.imageSource, "image-source", "", "pull (a prebuilt image), build (here), or none (skip; the default with --yes)")
	f.StringVar(&o.tag, "tag", "", "the prebuilt image tag to pull (implies --image-source pull; default with --yes: "+defaultTag+")")
	f.StringSliceVar(&o.tools, "tools", nil, "the agents you use, comma-separated (or none): their keys, host config and aliases; with build, the agents in the image")
	f.StringSliceVar(&o.addons, "addons", nil, "add-ons to build into the image, comma-separated or none (implies --image-source build): "+strings.Join(imagebuild.AddonNames(), ", "))
	f.StringVar(&o.preset, "preset", "", "the image preset to build (implies --image-source build): "+strings.Join(imagebuild.PresetNames(), ", "))
	f.StringVar(&o.baseImage, "base-image", "", "the image to build FROM, e.g. a mirror's (implies --image-source build; default: the recorded one, else "+imagebuild.DefaultBaseImage+"; 'default' resets)")
	f.StringArrayVar(&o.caCerts, "ca-cert", nil, "a CA certificate (PEM) to trust, for a TLS-inspecting proxy (repeatable; implies --image-source build; default: the recorded ones; 'none' forgets them)")
	f.BoolVar(&o.forProject, "for-project", false, "add the add-ons the current project needs to the build, as 'image build --for-project' (implies --image-source build; default: asked on a terminal, yes with --yes unless --addons is given; --for-project=false for no)")
	f.BoolVar(&o.keysFromEnv, "keys-from-env", false, "write the agents' keys that are set in this environment to ~/.ai-sandbox/env")
	f.StringArrayVar(&o.shareHost, "share-host-config", nil, "TOOL=off|ro|rw: share that agent's host config folders read-only or read-write, or not (repeatable)")
	f.StringSliceVar(&o.copyLogin, "copy-login", nil, "copy these agents' host login files (e.g. ~/.codex/auth.json) once into their sandbox homes, never overwriting (comma-separated; none for no copy, the default without a terminal)")
	f.StringSliceVar(&o.shells, "shell", nil, "write the aliases for this shell: bash, zsh or fish (repeatable; default with --yes: the detected shells)")
	f.BoolVar(&o.noAliases, "no-aliases", false, "write no shell aliases (existing alias blocks are left alone)")
	f.BoolVar(&o.removeAliases, "remove-aliases", false, "remove the alias blocks from the rc files (of --shell, else of every shell) and do nothing else")
}

// changed reports whether the flag was given.
func (o *Options) changed(name string) bool {
	return o.flags != nil && o.flags.Changed(name)
}

// given lists the flags that were given, sorted.
func (o *Options) given() []string {
	set := map[string]bool{}
	if o.flags != nil {
		o.flags.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	}
	return slices.Sorted(maps.Keys(set))
}

func usagef(format string, a ...any) error { return ui.Usagef(format, a...) }

// validate checks flag values (bad ones are usage errors, exit 2) and
// turns them into answers.
func (s *wizard) validate() error {
	o := s.o
	if o.removeAliases {
		for _, name := range o.given() {
			if name != "remove-aliases" && name != "shell" && name != "yes" {
				return usagef("--remove-aliases cannot be combined with --%s", name)
			}
		}
	}
	if o.replaceWS && !o.changed("workspace") {
		return usagef("--replace-workspaces needs the new list: --workspace PATH (repeatable)")
	}
	if o.createWS && !o.changed("workspace") {
		return usagef("--create-workspace needs the folders: --workspace PATH (repeatable)")
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
	oldBuild := o.changed("addons") || o.changed("preset")
	newBuild := o.changed("base-image") || o.changed("ca-cert")
	if o.changed("tag") && (oldBuild || newBuild || o.forProject) {
		return usagef("--tag (a pull) and --addons/--preset/--base-image/--ca-cert/--for-project (a build) contradict each other")
	}
	if o.changed("tag") && o.imageSource != "" && o.imageSource != "pull" {
		return usagef("--tag is for --image-source pull, not %s", o.imageSource)
	}
	if o.imageSource != "" && o.imageSource != "build" {
		if oldBuild {
			return usagef("--addons and --preset are for --image-source build, not %s", o.imageSource)
		}
		if newBuild {
			return usagef("--base-image and --ca-cert are for --image-source build, not %s", o.imageSource)
		}
		if o.forProject {
			return usagef("--for-project is for --image-source build, not %s", o.imageSource)
		}
	}
	if o.changed("tag") && !imageops.ValidTag(o.tag) {
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
	if o.changed("base-image") {
		if _, err := imageops.ParseBaseImage(o.baseImage); err != nil {
			return err
		}
		s.baseImage = &o.baseImage
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
	// Last, as it reads files: a CA file that is not there or holds
	// something other than certificates is an error naming it (exit 1).
	if o.changed("ca-cert") {
		files, err := imageops.ResolveCACerts(o.caCerts, s.deps.Home, s.deps.Getwd)
		if err != nil {
			return err
		}
		if err := imageops.CheckCACerts(files); err != nil {
			return err
		}
		s.caCerts = files
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
// table names, without duplicates, in the table's order.
func (s *wizard) toolList(in []string, flag string) ([]string, error) {
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
// wizard's order) that no flag answers. The base image and the CA
// certificates are never missing: the recorded ones, or the defaults,
// answer them.
func (s *wizard) checkAnswers() error {
	o := s.o
	if o.yes {
		return nil
	}
	if !o.changed("workspace") {
		return missing("which folders to whitelist", "answer with --workspace PATH (repeatable)")
	}
	source := s.impliedSource()
	if source == "" {
		return missing("where the image comes from", "answer with --image-source pull|build|none")
	}
	if source == "pull" && !o.changed("tag") {
		return missing("which image tag to pull", "answer with --tag TAG (base, full, …)")
	}
	if !o.changed("tools") {
		return missing("which agents you use", "answer with --tools NAME,… (see 'ai-sandbox tools')")
	}
	if source == "build" && !o.changed("addons") {
		return missing("which add-ons to build into the image", "answer with --addons NAME,… (or --addons none)")
	}
	if source == "build" && !o.changed("preset") {
		return missing("which image preset to build", "answer with --preset "+strings.Join(imagebuild.PresetNames(), "|"))
	}
	for _, t := range o.tools {
		if _, ok := s.hostConfig[t]; !ok {
			return missing(fmt.Sprintf("whether to share %s's host config", t), fmt.Sprintf("answer with --share-host-config %s=off|ro|rw", t))
		}
	}
	if !o.changed("shell") && !o.noAliases {
		return missing("which shells get the aliases", "answer with --shell bash|zsh|fish (repeatable), or --no-aliases")
	}
	return nil
}

// impliedSource is the image source the flags give: --image-source, else
// pull for --tag, else build for a build-only flag; "" when none says.
func (s *wizard) impliedSource() string {
	switch {
	case s.o.imageSource != "":
		return s.o.imageSource
	case s.o.changed("tag"):
		return "pull"
	}
	for _, f := range []string{"addons", "preset", "base-image", "ca-cert"} {
		if s.o.changed(f) {
			return "build"
		}
	}
	if s.o.forProject {
		return "build"
	}
	return ""
}
