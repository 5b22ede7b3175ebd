package imageops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// BuildOptions are the choices of one build. A choice left nil keeps
// the one recorded in config.json by the last build (else the default);
// a given one replaces it and is recorded once the build succeeds.
type BuildOptions struct {
	// Tools are the agents to install, by name or binary; a non-nil
	// empty list or "none" installs none.
	Tools []string
	// Addons are add-ons on top of the preset; non-nil empty or "none"
	// for none.
	Addons []string
	// ProjectAddons are what a project needs (image build --for-project):
	// added to the add-ons above (given or recorded) unless the preset or
	// they hold them already, and recorded with them.
	ProjectAddons []string
	// Preset is lean, base or full.
	Preset *string
	// BaseImage is the image to build FROM; "default" resets it.
	BaseImage *string
	// CACerts are PEM files to trust (~/ and relative paths are
	// resolved); non-nil empty or "none" forgets the recorded ones.
	CACerts []string
	// BuildArgs are NAME=VALUE pairs merged into the recorded ones
	// (NAME= drops one).
	BuildArgs []string
	// Tag is the image name to build; "" is the image run uses.
	Tag     string
	NoCache bool
	// Print writes the Dockerfile to stdout and builds and records nothing.
	Print bool
	// WriteContext, when set, is a folder (new or empty) to write the
	// whole build context into, for another builder (docker buildx for
	// several platforms); nothing is built or recorded.
	WriteContext string
}

// choice is what a build will hold, after options over recorded choices
// over defaults.
type choice struct {
	preset    string
	tools     []tools.Tool
	addons    []string // explicit, on top of the preset
	baseImage string   // "" = the Dockerfile's default
	caCerts   []string // absolute host paths
}

// ParseBaseImage checks a base image given by the user: "default" is
// the built-in one (returned as ""); an empty name or one with spaces is
// a usage error.
func ParseBaseImage(v string) (string, error) {
	img := strings.TrimSpace(v)
	if img == "" || strings.ContainsAny(img, " \t\n") {
		return "", ui.Usagef("--base-image %q: expected an image reference such as debian:bookworm-slim", v)
	}
	if img == "default" {
		return "", nil
	}
	return img, nil
}

// ResolveCACerts turns CA file arguments into absolute, cleaned paths
// (~/ is the home, a relative path is relative to the current folder).
// "none" (or no file) gives an empty, non-nil list.
func ResolveCACerts(files []string, home string, getwd func() (string, error)) ([]string, error) {
	out := []string{}
	if isNone(files) {
		return out, nil
	}
	cwd := ""
	for _, f := range cleanList(files) {
		if strings.HasPrefix(f, "~/") {
			f = filepath.Join(home, f[2:])
		}
		if !filepath.IsAbs(f) {
			if cwd == "" {
				var err error
				if cwd, err = getwd(); err != nil {
					return nil, fmt.Errorf("current folder: %w", err)
				}
			}
			f = filepath.Join(cwd, f)
		}
		out = append(out, filepath.Clean(f))
	}
	return out, nil
}

// CheckCACerts reads every CA file: each must hold PEM certificates and
// nothing else. The error names the file.
func CheckCACerts(files []string) error {
	for _, f := range files {
		if _, err := imagebuild.ReadCACert(f); err != nil {
			return ui.WithHint(err, "pass the CA certificate as a PEM file, or '--ca-cert none' to forget the recorded ones")
		}
	}
	return nil
}

func (e Env) resolveChoice(cfg *config.Config, o BuildOptions) (choice, error) {
	rec := cfg.Image
	c := choice{preset: rec.Preset, addons: rec.Addons, baseImage: rec.BaseImage, caCerts: rec.CACerts}
	if c.preset == "" {
		c.preset = imagebuild.DefaultPreset
	}
	if o.Preset != nil {
		c.preset = strings.TrimSpace(*o.Preset)
	}
	preset, err := imagebuild.LoadPreset(c.preset)
	if err != nil {
		return c, ui.Usagef("--preset: %v", err)
	}

	names := rec.Tools
	if names == nil && len(cfg.Tools.Installed) > 0 {
		names = cfg.Tools.Installed // a config written by the original
	}
	if names == nil && rec.Preset == "" {
		names = imagebuild.DefaultTools()
	}
	given := o.Tools != nil
	if given {
		names = nil
		if !isNone(o.Tools) {
			names = cleanList(o.Tools)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		t, ok := e.Tools.Lookup(n)
		if !ok && !given {
			// Recorded by an older version or by the original (openclaw, …).
			e.Streams.Warnf("config.json lists the agent %q, which this ai-sandbox does not know; leaving it out", n)
			continue
		}
		if !ok {
			return c, ui.Usagef("--tools: unknown agent %q (known: %s)", n, strings.Join(e.Tools.Names(), ", "))
		}
		if !seen[t.Name] {
			seen[t.Name] = true
			c.tools = append(c.tools, t)
		}
	}
	sort.Slice(c.tools, func(i, j int) bool { return c.tools[i].Name < c.tools[j].Name })

	if o.Addons != nil {
		c.addons = nil
		if !isNone(o.Addons) {
			c.addons = cleanList(o.Addons)
		}
	}
	for _, a := range cleanList(o.ProjectAddons) {
		if !slices.Contains(preset.Addons, a) && !slices.Contains(c.addons, a) {
			c.addons = append(slices.Clone(c.addons), a)
		}
	}
	for _, a := range c.addons {
		if _, ok := imagebuild.LookupAddon(a); !ok {
			return c, ui.Usagef("--addons: unknown add-on %q (known: %s)", a, strings.Join(imagebuild.AddonNames(), ", "))
		}
	}

	if o.BaseImage != nil {
		img, err := ParseBaseImage(*o.BaseImage)
		if err != nil {
			return c, err
		}
		c.baseImage = img
	}

	if o.CACerts != nil {
		files, err := ResolveCACerts(o.CACerts, e.Home, e.Getwd)
		if err != nil {
			return c, err
		}
		c.caCerts = nil
		if len(files) > 0 {
			c.caCerts = files
		}
	}
	return c, CheckCACerts(c.caCerts)
}

var buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseBuildArgs(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range list {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !buildArgName.MatchString(k) {
			return nil, ui.Usagef("--build-arg %q: expected NAME=VALUE", a)
		}
		if k == "BASE_IMAGE" {
			return nil, ui.Usagef("--build-arg BASE_IMAGE: use --base-image, which is recorded")
		}
		out[k] = v
	}
	return out, nil
}

// engineArch is the GOARCH the image is built for: the engine's, which
// is the host's unless DOCKER_HOST points elsewhere.
func (e Env) engineArch(ctx context.Context) string {
	res, err := e.Runner.Output(ctx, e.docker("version", "--format", "{{.Server.Arch}}"))
	if err == nil && res.ExitCode == 0 {
		if a := strings.TrimSpace(string(res.Stdout)); a == "amd64" || a == "arm64" {
			return a
		}
	}
	return runtime.GOARCH
}

// checkDigests refuses, before any build starts, a release download with
// no pinned SHA-256 for the engine's architecture and none given.
func checkDigests(arch string, c choice, preset imagebuild.Preset, args map[string]string) error {
	upper := strings.ToUpper(arch)
	var missing []string
	for _, t := range c.tools {
		if t.Install.Method != tools.Binary || t.Install.SHA256[arch] != "" {
			continue
		}
		if arg := t.Install.SHA256Arg() + "_" + upper; args[arg] == "" {
			missing = append(missing, fmt.Sprintf("%s (--build-arg %s=<sha256>)", t.Name, arg))
		}
	}
	spec := imagebuild.Spec{Preset: preset, Addons: c.addons}
	for _, n := range spec.EffectiveAddons() {
		a, _ := imagebuild.LookupAddon(n)
		if a.SHA256Arg == "" || a.Pinned {
			continue
		}
		if arg := a.SHA256Arg + "_" + upper; args[arg] == "" {
			missing = append(missing, fmt.Sprintf("add-on %s (--build-arg %s=<sha256>)", n, arg))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return ui.WithHint(fmt.Errorf("no SHA-256 is pinned for the %s download of: %s", arch, strings.Join(missing, ", ")),
		"ai-sandbox never installs an unverified download: give the digest of the release file with --build-arg, or leave the agent out")
}

// writeContext writes the build context into dir for another builder. A
// download with no SHA-256 for amd64 or arm64 is refused as a build would
// refuse it, since such a context is built for both.
func (e Env) writeContext(dir string, spec imagebuild.Spec, c choice, preset imagebuild.Preset, args map[string]string) error {
	for _, arch := range []string{"amd64", "arm64"} {
		if err := checkDigests(arch, c, preset, args); err != nil {
			return err
		}
	}
	if e.Getwd != nil && !filepath.IsAbs(dir) {
		wd, err := e.Getwd()
		if err != nil {
			return err
		}
		dir = filepath.Join(wd, dir)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return ui.WithHint(fmt.Errorf("--write-context %s: the folder is not empty", dir), "give a new or empty folder")
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--write-context %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--write-context: %w", err)
	}
	if err := imagebuild.WriteContext(dir, spec, c.caCerts); err != nil {
		return fmt.Errorf("--write-context %s: %w", dir, err)
	}
	if c.baseImage != "" {
		args["BASE_IMAGE"] = c.baseImage
	}
	var flags []string
	for _, k := range slices.Sorted(maps.Keys(args)) {
		flags = append(flags, "--build-arg "+k+"="+args[k])
	}
	e.Streams.Infof("wrote the build context of preset %s (agents %s, add-ons %s) to %s; nothing was built or recorded", c.preset,
		noneIfEmpty(spec.ToolNames()), noneIfEmpty(spec.EffectiveAddons()), dir)
	e.Streams.Hintf("build it with: docker buildx build --platform linux/amd64,linux/arm64 %s%s", strings.Join(append(flags, ""), " "), dir)
	return nil
}

// warnOldBase says so when the recorded preset "base" meant what is now
// "lean": the image being replaced says preset base, and its add-ons are
// only the ones chosen on top (the old base preset added none). The build
// then makes the much larger base image, which the user may not want.
func (e Env) warnOldBase(ctx context.Context, tag string, extra []string) {
	labels, ok := e.Labels(ctx, tag)
	if !ok || labels[imagebuild.LabelPreset] != "base" {
		return
	}
	if labels[imagebuild.LabelAddons] != strings.Join(imagebuild.Spec{Preset: imagebuild.Preset{Name: "lean"}, Addons: extra}.EffectiveAddons(), ",") {
		return
	}
	e.Streams.Warnf("%s was built from the old base preset, which is now called lean; base now holds the original's base image (Go, uv, Bun, pnpm, a C toolchain, language servers, …) and is about twice the size", tag)
	e.Streams.Hintf("to keep the small image, stop this build and run 'ai-sandbox image build --preset lean'")
}

// Build generates the build context, runs docker build with docker's own
// progress on stderr, and records the choices in config.json once it
// succeeded. A docker failure comes back as a ui.ExitError with docker's
// code, said on stderr already.
func (e Env) Build(ctx context.Context, o BuildOptions) error {
	s := e.Streams
	cfg, err := e.config()
	if err != nil {
		return err
	}
	c, err := e.resolveChoice(cfg, o)
	if err != nil {
		return err
	}
	given, err := parseBuildArgs(o.BuildArgs)
	if err != nil {
		return err
	}
	// The recorded arguments, updated by the ones given now.
	args := map[string]string{}
	for k, v := range cfg.Image.BuildArgs {
		args[k] = v
	}
	for k, v := range given {
		if v == "" {
			delete(args, k)
		} else {
			args[k] = v
		}
	}
	recorded := map[string]string{}
	for k, v := range args {
		recorded[k] = v
	}
	preset, err := imagebuild.LoadPreset(c.preset)
	if err != nil {
		return err
	}
	spec := imagebuild.Spec{Preset: preset, Addons: c.addons, Tools: c.tools,
		CACerts: imagebuild.CAContextNames(c.caCerts), Builder: e.Version}
	if o.Print {
		text, err := imagebuild.Dockerfile(spec)
		if err != nil {
			return err
		}
		fmt.Fprint(s.Out, text)
		return nil
	}
	if o.WriteContext != "" {
		return e.writeContext(o.WriteContext, spec, c, preset, args)
	}
	if err := checkDigests(e.engineArch(ctx), c, preset, args); err != nil {
		return err
	}
	tag := strings.TrimSpace(o.Tag)
	if tag == "" {
		if tag, err = LocalImage(cfg, e.Getenv); err != nil {
			return err
		}
	}

	if o.Preset == nil && c.preset == "base" {
		e.warnOldBase(ctx, tag, c.addons)
	}

	dir, err := os.MkdirTemp("", "ai-sandbox-build-")
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := imagebuild.WriteContext(dir, spec, c.caCerts); err != nil {
		return err
	}
	if c.baseImage != "" {
		args["BASE_IMAGE"] = c.baseImage
	}
	argv := e.docker(docker.BuildArgs(docker.BuildSpec{Context: dir, Tags: []string{tag}, BuildArgs: args, NoCache: o.NoCache})...)
	base := c.baseImage
	if base == "" {
		base = imagebuild.DefaultBaseImage
	}
	s.Infof("building %s: preset %s, agents %s, add-ons %s, from %s", tag, c.preset,
		noneIfEmpty(spec.ToolNames()), noneIfEmpty(spec.EffectiveAddons()), base)
	if imagebuild.GooseRenamed(spec) {
		s.Infof("the goose agent and pressly/goose (the go add-on's database migrations) are both the command goose: the agent keeps it, pressly/goose is %s", imagebuild.GooseMigrate)
	}
	// Docker's progress is not data: it goes to stderr with our messages.
	code, err := e.Runner.Interactive(ctx, argv, proc.Stdio{Out: s.Err, Err: s.Err}, nil, nil)
	if err != nil {
		return ui.WithHint(err, dockerHint)
	}
	if code != 0 {
		s.Errorf("docker build failed (exit %d); the recorded image choices are unchanged", code)
		return &ui.ExitError{Code: code}
	}

	names := spec.ToolNames()
	if names == nil {
		names = []string{}
	}
	err = config.Update(e.Paths, func(cf *config.Config) error {
		cf.Image.Preset = c.preset
		cf.Image.Tools = names
		cf.Image.Addons = c.addons
		cf.Image.BaseImage = c.baseImage
		cf.Image.CACerts = c.caCerts
		cf.Image.BuildArgs = recorded
		if len(recorded) == 0 {
			cf.Image.BuildArgs = nil
		}
		cf.Tools.Installed = append([]string{}, names...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("built %s, but could not record the choices: %w", tag, err)
	}
	s.Infof("built %s; recorded preset, agents and add-ons in %s", tag, e.Paths.ConfigFile())
	return nil
}
