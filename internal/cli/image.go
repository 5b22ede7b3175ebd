package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/registry"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

func NewCmdImage(deps *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build, pull and list sandbox images",
		Long: `The sandbox image holds the agents and the tools they use. Build it locally
('image build', a few minutes) or pull a prebuilt one ('image pull'). Either
way it is tagged as the image 'ai-sandbox run' starts (ai-sandbox:latest unless
settings.image or AI_SANDBOX_IMAGE says otherwise).`,
	}
	cmd.AddCommand(newCmdImageBuild(deps), newCmdImagePull(deps), newCmdImageList(deps))
	return cmd
}

// localImage is the image name run uses: flag/env/config/default.
func localImage(deps *Deps, cfg *config.Config) (string, error) {
	r, err := config.Resolve(cfg.Settings, deps.Getenv, nil)
	if err != nil {
		return "", err
	}
	return r.Image, nil
}

// configuredImage is the image run uses, read from the configuration.
func configuredImage(deps *Deps) (string, error) {
	cfg, err := deps.LoadConfig()
	if err != nil {
		return "", err
	}
	return localImage(deps, cfg)
}

type imageBuildOptions struct {
	tools, addons      []string
	preset, baseImage  string
	caCerts, buildArgs []string
	tag                string
	noCache, print     bool
}

func newCmdImageBuild(deps *Deps) *cobra.Command {
	o := &imageBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the sandbox image with the chosen agents, preset and add-ons",
		Long: `Build the sandbox image from a generated Dockerfile and tag it (ai-sandbox:latest
by default). Docker's own build progress is shown.

The choices are recorded in config.json (image.* and tools.installed), and a
flag left out keeps its recorded value, so 'ai-sandbox image build' with no
flags rebuilds the same image (with the Debian packages of the day). With
nothing recorded it builds the base preset with opencode.

Presets (dockerfiles/presets/*.env):
  base   the base layer and the agents: git, ssh, ripgrep, fd, jq, python3 with
         pipx, tmux, sqlite3, less, vim, node and npm; no compiler, OCR or PDF
  full   base + build-tools, doc-tools, spec-kit, openspec, playwright,
         chrome-devtools-mcp and playwright-mcp (with the container's Chromium)

Add-ons (--addons, on top of the preset; 'none' for none):
` + addonHelp() + `

--ca-cert FILE (repeatable; 'none' clears the recorded ones) adds a CA
certificate, for TLS-inspecting proxies: trusted while building (apt, npm,
pip, git, curl) and, at run time, mounted read-only with NODE_EXTRA_CA_CERTS,
SSL_CERT_FILE, REQUESTS_CA_BUNDLE and GIT_SSL_CAINFO set.

--build-arg NAME=VALUE overrides a pinned version (OPENCODE_VERSION=…) or
gives the SHA-256 of a release download that has none pinned
(GOOSE_SHA256_AMD64=…). Build arguments are recorded with the other choices,
so a bare 'ai-sandbox image build' passes them again; give NAME= to drop one.`,
		Example: `  ai-sandbox image build --tools opencode,claude
  ai-sandbox image build --preset full --addons rtk --build-arg RTK_SHA256_AMD64=<sha256>
  ai-sandbox image build --base-image debian:bookworm-slim --ca-cert ~/corp-root.pem
  ai-sandbox image build --print > Dockerfile`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImageBuild(cmd.Context(), deps, cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.tools, "tools", nil, "agents to install, comma-separated ('none' for none; see 'ai-sandbox tools')")
	f.StringSliceVar(&o.addons, "addons", nil, "add-ons on top of the preset, comma-separated ('none' for none)")
	f.StringVar(&o.preset, "preset", "", "base or full")
	f.StringVar(&o.baseImage, "base-image", "", "image to build FROM (default "+imagebuild.DefaultBaseImage+"; 'default' resets)")
	f.StringArrayVar(&o.caCerts, "ca-cert", nil, "extra CA certificate (PEM) to trust; repeatable")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "NAME=VALUE passed to docker build; repeatable, recorded (NAME= drops it)")
	f.StringVar(&o.tag, "tag", "", "image name to build (default: the image run uses, ai-sandbox:latest)")
	f.BoolVar(&o.noCache, "no-cache", false, "rebuild every layer")
	f.BoolVar(&o.print, "print", false, "print the generated Dockerfile and exit, building and recording nothing")
	return cmd
}

func addonHelp() string {
	var b strings.Builder
	for _, a := range imagebuild.Addons() {
		fmt.Fprintf(&b, "  %-20s %s\n", a.Name, a.Description)
	}
	return strings.TrimRight(b.String(), "\n")
}

var buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// isNone reports a list flag given as 'none' (or empty): choose nothing.
func isNone(list []string) bool {
	return len(list) == 0 || (len(list) == 1 && strings.EqualFold(strings.TrimSpace(list[0]), "none"))
}

func cleanList(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range list {
		v = strings.TrimSpace(v)
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// imageChoice is what an image build will hold, after flags over
// recorded choices over defaults.
type imageChoice struct {
	preset    string
	tools     []tools.Tool
	addons    []string // explicit, on top of the preset
	baseImage string   // "" = the Dockerfile's default
	caCerts   []string // absolute host paths
}

func resolveImageChoice(deps *Deps, cmd *cobra.Command, cfg *config.Config, o *imageBuildOptions) (imageChoice, error) {
	flags := cmd.Flags()
	rec := cfg.Image
	c := imageChoice{preset: rec.Preset, addons: rec.Addons, baseImage: rec.BaseImage, caCerts: rec.CACerts}
	if c.preset == "" {
		c.preset = imagebuild.DefaultPreset
	}
	if flags.Changed("preset") {
		c.preset = strings.TrimSpace(o.preset)
	}
	if _, err := imagebuild.LoadPreset(c.preset); err != nil {
		return c, ui.Usagef("--preset: %v", err)
	}

	names := rec.Tools
	if names == nil && len(cfg.Tools.Installed) > 0 {
		names = cfg.Tools.Installed // a config written by the original
	}
	if names == nil && rec.Preset == "" {
		names = imagebuild.DefaultTools()
	}
	if flags.Changed("tools") {
		names = nil
		if !isNone(o.tools) {
			names = cleanList(o.tools)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		t, ok := deps.Tools.Lookup(n)
		if !ok && !flags.Changed("tools") {
			// Recorded by an older version or by the original (openclaw, …).
			deps.Streams.Warnf("config.json lists the agent %q, which this ai-sandbox does not know; leaving it out", n)
			continue
		}
		if !ok {
			return c, ui.Usagef("--tools: unknown agent %q (known: %s)", n, strings.Join(deps.Tools.Names(), ", "))
		}
		if !seen[t.Name] {
			seen[t.Name] = true
			c.tools = append(c.tools, t)
		}
	}
	sort.Slice(c.tools, func(i, j int) bool { return c.tools[i].Name < c.tools[j].Name })

	if flags.Changed("addons") {
		c.addons = nil
		if !isNone(o.addons) {
			c.addons = cleanList(o.addons)
		}
	}
	for _, a := range c.addons {
		if _, ok := imagebuild.LookupAddon(a); !ok {
			return c, ui.Usagef("--addons: unknown add-on %q (known: %s)", a, strings.Join(imagebuild.AddonNames(), ", "))
		}
	}

	if flags.Changed("base-image") {
		c.baseImage = strings.TrimSpace(o.baseImage)
		if c.baseImage == "default" {
			c.baseImage = ""
		}
		if o.baseImage == "" || strings.ContainsAny(c.baseImage, " \t\n") {
			return c, ui.Usagef("--base-image %q: expected an image reference such as debian:bookworm-slim", o.baseImage)
		}
	}

	if flags.Changed("ca-cert") {
		c.caCerts = nil
		if !isNone(o.caCerts) {
			cwd, err := deps.Getwd()
			if err != nil {
				return c, err
			}
			for _, f := range cleanList(o.caCerts) {
				if strings.HasPrefix(f, "~/") {
					f = filepath.Join(deps.Home, f[2:])
				}
				if !filepath.IsAbs(f) {
					f = filepath.Join(cwd, f)
				}
				c.caCerts = append(c.caCerts, filepath.Clean(f))
			}
		}
	}
	for _, f := range c.caCerts {
		if _, err := imagebuild.ReadCACert(f); err != nil {
			return c, ui.WithHint(err, "pass the CA certificate as a PEM file, or '--ca-cert none' to forget the recorded ones")
		}
	}
	return c, nil
}

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
func engineArch(ctx context.Context, deps *Deps) string {
	res, err := deps.Runner.Output(ctx, []string{deps.Docker(), "version", "--format", "{{.Server.Arch}}"})
	if err == nil && res.ExitCode == 0 {
		if a := strings.TrimSpace(string(res.Stdout)); a == "amd64" || a == "arm64" {
			return a
		}
	}
	return runtime.GOARCH
}

// checkDigests refuses, before any build starts, a release download with
// no pinned SHA-256 for the engine's architecture and none given.
func checkDigests(arch string, c imageChoice, preset imagebuild.Preset, args map[string]string) error {
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

func runImageBuild(ctx context.Context, deps *Deps, cmd *cobra.Command, o *imageBuildOptions) error {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		return err
	}
	c, err := resolveImageChoice(deps, cmd, cfg, o)
	if err != nil {
		return err
	}
	given, err := parseBuildArgs(o.buildArgs)
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
		CACerts: imagebuild.CAContextNames(c.caCerts), Builder: Version}
	if o.print {
		text, err := imagebuild.Dockerfile(spec)
		if err != nil {
			return err
		}
		fmt.Fprint(s.Out, text)
		return nil
	}
	if err := checkDigests(engineArch(ctx, deps), c, preset, args); err != nil {
		return err
	}
	tag := strings.TrimSpace(o.tag)
	if tag == "" {
		if tag, err = localImage(deps, cfg); err != nil {
			return err
		}
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
	argv := append([]string{deps.Docker()}, docker.BuildArgs(docker.BuildSpec{Context: dir, Tags: []string{tag}, BuildArgs: args, NoCache: o.noCache})...)
	base := c.baseImage
	if base == "" {
		base = imagebuild.DefaultBaseImage
	}
	s.Infof("building %s: preset %s, agents %s, add-ons %s, from %s", tag, c.preset,
		noneIfEmpty(spec.ToolNames()), noneIfEmpty(spec.EffectiveAddons()), base)
	// Docker's progress is not data: it goes to stderr with our messages.
	code, err := deps.Runner.Interactive(ctx, argv, proc.Stdio{Out: s.Err, Err: s.Err}, nil, nil)
	if err != nil {
		return ui.WithHint(err, "is docker installed? set AI_SANDBOX_DOCKER to use another CLI, e.g. podman")
	}
	if code != 0 {
		s.Errorf("docker build failed (exit %d); the recorded image choices are unchanged", code)
		return &ui.ExitError{Code: code}
	}

	names := spec.ToolNames()
	if names == nil {
		names = []string{}
	}
	err = config.Update(p, func(cf *config.Config) error {
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
	s.Infof("built %s; recorded preset, agents and add-ons in %s", tag, p.ConfigFile())
	return nil
}

func noneIfEmpty(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ",")
}

// ---- pull

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func registryRepo(deps *Deps, flag string) (string, error) {
	repo := strings.TrimSpace(flag)
	if repo == "" {
		repo = strings.TrimSpace(deps.Getenv("AI_SANDBOX_REGISTRY"))
	}
	if repo == "" {
		repo = registry.Default
	}
	if _, _, err := registry.Split(repo); err != nil {
		return "", ui.Usagef("%v", err)
	}
	return repo, nil
}

func newCmdImagePull(deps *Deps) *cobra.Command {
	var tag, repo string
	var listTags, asJSON bool
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull a prebuilt sandbox image and tag it as the image run uses",
		Long: `Pull a prebuilt image from the registry (default ` + registry.Default + `;
--registry or AI_SANDBOX_REGISTRY to change it) and tag it as the image
'ai-sandbox run' starts (ai-sandbox:latest by default).

Tags:
  base, full                      rolling: the latest build of each preset
  base-sha-<short>, full-sha-<short>  pinned to a commit
  base-v<version>, full-v<version>    pinned to a release

--list-tags lists the registry's tags with their push dates. Dates come from
the GitHub API and need a token (gh auth login; gh auth refresh --scopes
read:packages, or GH_TOKEN); without one the tags are listed anonymously,
and when the registry cannot be reached the rolling tags are shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := registryRepo(deps, repo)
			if err != nil {
				return err
			}
			if listTags {
				return runListTags(cmd.Context(), deps, r, asJSON)
			}
			if asJSON {
				return ui.Usagef("--json goes with --list-tags")
			}
			if !tagPattern.MatchString(tag) {
				return ui.Usagef("--tag %q: not an image tag (e.g. base, full, base-v1.2.0)", tag)
			}
			return runImagePull(cmd.Context(), deps, r, tag)
		},
	}
	cmd.Flags().StringVar(&tag, "tag", "base", "tag to pull: base, full, base-sha-<short>, full-v<version>, …")
	cmd.Flags().StringVar(&repo, "registry", "", "image repository (default $AI_SANDBOX_REGISTRY or "+registry.Default+")")
	cmd.Flags().BoolVar(&listTags, "list-tags", false, "list the registry's tags with push dates instead of pulling")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --list-tags: print JSON")
	return cmd
}

func runImagePull(ctx context.Context, deps *Deps, repo, tag string) error {
	s := deps.Streams
	local, err := configuredImage(deps)
	if err != nil {
		return err
	}
	ref := docker.ImageRef(repo, tag)
	code, err := deps.Runner.Interactive(ctx, append([]string{deps.Docker()}, docker.PullArgs(ref)...), proc.Stdio{Out: s.Err, Err: s.Err}, nil, nil)
	if err != nil {
		return ui.WithHint(err, "is docker installed? set AI_SANDBOX_DOCKER to use another CLI, e.g. podman")
	}
	if code != 0 {
		s.Errorf("docker pull %s failed (exit %d)", ref, code)
		s.Hintf("see the tags with 'ai-sandbox image pull --list-tags', or build locally with 'ai-sandbox image build'")
		return &ui.ExitError{Code: code}
	}
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, docker.TagArgs(ref, local)...))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("docker tag %s %s: %s", ref, local, strings.TrimSpace(string(res.Stderr)))
	}
	if labels, ok := imageLabels(ctx, deps, local); ok {
		if names := splitComma(labels[imagebuild.LabelTools]); labels[imagebuild.LabelImage] == "1" {
			p, err := deps.Paths()
			if err != nil {
				return err
			}
			if err := config.Update(p, func(c *config.Config) error {
				c.Tools.Installed = append([]string{}, names...)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	s.Infof("pulled %s and tagged it %s", ref, local)
	return nil
}

func runListTags(ctx context.Context, deps *Deps, repo string, asJSON bool) error {
	s := deps.Streams
	token := ""
	if host, _, _ := registry.Split(repo); host == "ghcr.io" {
		token = githubToken(ctx, deps)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	l := registry.Lister{Client: &http.Client{Timeout: 15 * time.Second}}
	tags, err := l.List(ctx, repo, token)
	if err != nil || len(tags) == 0 {
		if err == nil {
			err = errors.New("the registry listed no tags")
		}
		s.Warnf("cannot list the tags of %s: %v", repo, err)
		s.Hintf("showing the rolling tags; pinned ones are <preset>-sha-<short> and <preset>-v<version>")
		tags = nil
		for _, t := range registry.FallbackTags {
			tags = append(tags, registry.Tag{Name: t})
		}
	}
	if asJSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(tags)
	}
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tPUSHED")
	for _, t := range tags {
		when := "-"
		if !t.Pushed.IsZero() {
			when = t.Pushed.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(tw, "%s\t%s\n", t.Name, when)
	}
	return tw.Flush()
}

// githubToken finds a GitHub token for the packages API: GH_TOKEN,
// GITHUB_TOKEN, else `gh auth token`; "" lists anonymously.
func githubToken(ctx context.Context, deps *Deps) string {
	for _, k := range []string{"GH_TOKEN", "GITHUB_TOKEN"} {
		if v := strings.TrimSpace(deps.Getenv(k)); v != "" {
			return v
		}
	}
	res, err := deps.Runner.Output(ctx, []string{"gh", "auth", "token"})
	if err != nil || res.ExitCode != 0 {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

// ---- list

type imageEntry struct {
	ID        string            `json:"id"`
	Names     []string          `json:"names"`
	Size      int64             `json:"size"`
	Created   string            `json:"created"`
	Preset    string            `json:"preset"`
	Tools     []string          `json:"tools"`
	Addons    []string          `json:"addons"`
	BaseImage string            `json:"baseImage,omitempty"`
	Versions  map[string]string `json:"versions,omitempty"`
	InUse     bool              `json:"inUse"`
}

func newCmdImageList(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the local sandbox images: size, agents, add-ons, creation date",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s := deps.Streams
			local, err := configuredImage(deps)
			if err != nil {
				return err
			}
			entries, err := listImages(ctx, deps, local)
			if err != nil {
				return err
			}
			if asJSON {
				if entries == nil {
					entries = []imageEntry{}
				}
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			if len(entries) == 0 {
				s.Infof("no sandbox images here")
				s.Hintf("build one with 'ai-sandbox image build' or pull one with 'ai-sandbox image pull'")
				return nil
			}
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tSIZE\tCREATED\tPRESET\tAGENTS\tADD-ONS")
			for _, e := range entries {
				name := strings.Join(e.Names, ",")
				if e.InUse {
					name += " *"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, humanSize(e.Size), shortDate(e.Created),
					orDash(e.Preset), orDash(strings.Join(e.Tools, ",")), orDash(strings.Join(e.Addons, ",")))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			s.Infof("* is the image 'ai-sandbox run' starts (%s)", local)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

const inspectFormat = "{{.Id}}\t{{.Size}}\t{{.Created}}\t{{json .Config.Labels}}"

func listImages(ctx context.Context, deps *Deps, local string) ([]imageEntry, error) {
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, docker.ImageListArgs(imagebuild.LabelImage)...))
	if err != nil {
		return nil, ui.WithHint(err, "is docker installed? set AI_SANDBOX_DOCKER to use another CLI, e.g. podman")
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("docker image ls: %s", strings.TrimSpace(string(res.Stderr)))
	}
	names := map[string][]string{}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[0] == "" {
			continue
		}
		if _, ok := names[f[0]]; !ok {
			ids = append(ids, f[0])
			names[f[0]] = nil
		}
		if f[1] != "<none>" && f[2] != "<none>" {
			names[f[0]] = append(names[f[0]], f[1]+":"+f[2])
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	res, err = deps.Runner.Output(ctx, append([]string{deps.Docker()}, docker.ImagesInspectArgs(inspectFormat, ids...)...))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("docker image inspect: %s", strings.TrimSpace(string(res.Stderr)))
	}
	var out []imageEntry
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(f[1], 10, 64)
		var labels map[string]string
		_ = json.Unmarshal([]byte(f[3]), &labels)
		e := imageEntry{ID: f[0], Names: names[f[0]], Size: size, Created: f[2],
			Preset: labels[imagebuild.LabelPreset], Tools: splitComma(labels[imagebuild.LabelTools]),
			Addons: splitComma(labels[imagebuild.LabelAddons]), BaseImage: labels[imagebuild.LabelBaseImage]}
		if e.Names == nil {
			e.Names = []string{}
		}
		for k, v := range labels {
			if n, ok := strings.CutPrefix(k, imagebuild.LabelVersionPrefix); ok {
				if e.Versions == nil {
					e.Versions = map[string]string{}
				}
				e.Versions[n] = v
			}
		}
		for _, n := range e.Names {
			if n == local || (!strings.Contains(local, ":") && n == local+":latest") {
				e.InUse = true
			}
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, nil
}

// imageLabels reads an image's labels; ok is false when it is missing.
func imageLabels(ctx context.Context, deps *Deps, image string) (map[string]string, bool) {
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, docker.ImageInspectArgs(image, "{{json .Config.Labels}}")...))
	if err != nil || res.ExitCode != 0 {
		return nil, false
	}
	labels := map[string]string{}
	_ = json.Unmarshal([]byte(strings.TrimSpace(string(res.Stdout))), &labels)
	return labels, true
}

func splitComma(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func humanSize(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(b)/1e6)
	default:
		return fmt.Sprintf("%d B", b)
	}
}

func shortDate(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Local().Format("2006-01-02 15:04")
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
