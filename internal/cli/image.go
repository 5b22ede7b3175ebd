package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/imageops"
	"github.com/ai-sandbox/ai-sandbox/internal/registry"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// The image commands are cobra wiring over internal/imageops, which does
// the work (and which setup calls directly).

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

// imageEnv is what the image operations need, from deps.
func imageEnv(deps *Deps) (imageops.Env, error) {
	p, err := deps.Paths()
	if err != nil {
		return imageops.Env{}, err
	}
	e := registryEnv(deps)
	e.Paths = p
	return e, nil
}

// registryEnv is imageEnv without the state folder, which listing a
// registry's tags does not need.
func registryEnv(deps *Deps) imageops.Env {
	return imageops.Env{
		Docker:     deps.Docker(),
		Runner:     deps.Runner,
		Streams:    deps.Streams,
		Tools:      deps.Tools,
		Getenv:     deps.Getenv,
		Home:       deps.Home,
		Getwd:      deps.Getwd,
		LoadConfig: deps.LoadConfig,
		Version:    version(),
	}
}

// configuredImage is the image run uses, read from the configuration.
func configuredImage(deps *Deps) (string, error) {
	cfg, err := deps.LoadConfig()
	if err != nil {
		return "", err
	}
	return imageops.LocalImage(cfg, deps.Getenv)
}

// imageLabels reads an image's labels; ok is false when it is missing.
func imageLabels(ctx context.Context, deps *Deps, image string) (map[string]string, bool) {
	return registryEnv(deps).Labels(ctx, image)
}

type imageBuildFlags struct {
	tools, addons      []string
	preset, baseImage  string
	caCerts, buildArgs []string
	tag, writeContext  string
	noCache, print     bool
	forProject         bool
}

func newCmdImageBuild(deps *Deps) *cobra.Command {
	o := &imageBuildFlags{}
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
  lean   the base layer and the agents: git, ssh, ripgrep, fd, jq, python3 with
         pipx, tmux, sqlite3, less, vim, node and npm; no add-on (~640 MB)
  base   what the original's base image holds: lean + build-tools, doc-tools,
         gh, go (with sqlc, goose, golangci-lint, gopls), uv, bun, pnpm, lsp,
         spec-kit, openspec, uipro, rtk, acli, pup
  full   base + od-helpers, playwright, chrome-devtools-mcp and playwright-mcp
         (with the container's Chromium)
  ruby and rust are in no preset: add them with --addons.

Add-ons (--addons, on top of the preset; 'none' for none):
` + addonHelp() + `

--ca-cert FILE (repeatable; 'none' clears the recorded ones) adds a CA
certificate, for TLS-inspecting proxies: trusted while building (apt, npm,
pip, git, curl) and, at run time, mounted read-only with NODE_EXTRA_CA_CERTS,
SSL_CERT_FILE, REQUESTS_CA_BUNDLE and GIT_SSL_CAINFO set.

--build-arg NAME=VALUE overrides a pinned version (OPENCODE_VERSION=…) or
gives the SHA-256 of a release download that has none pinned
(GOOSE_SHA256_AMD64=…). Build arguments are recorded with the other choices,
so a bare 'ai-sandbox image build' passes them again; give NAME= to drop one.

--for-project adds the add-ons the current project needs (its git top-level,
or the current folder, as 'ai-sandbox run' picks it) to the chosen ones
(--addons, else the recorded ones), and records them with them. It looks at
the project's top-level files and says what each one asks for:
  go.mod                                      go
  pnpm-lock.yaml, packageManager pnpm@…       pnpm
  bun.lockb, bun.lock, packageManager bun@…   bun
  tsconfig.json, a typescript dependency      lsp
  uv.lock, [tool.uv] in pyproject.toml        uv
  ext_modules in setup.py                     build-tools
  Cargo.toml                                  rust and build-tools
  Gemfile                                     ruby
Node.js (npm, and yarn through corepack) and Python (pip, pipx) are in every
image. A link is never followed, nor a file over 256 KiB read: the project is
the agent's to write. With nothing detected, the build is the one without
the flag.

--write-context DIR writes the Dockerfile and its helper files to DIR instead
of building, for another builder: the release workflow builds the published
multi-platform images from it with docker buildx. A download with no SHA-256
for amd64 or arm64 is refused there, as the build would refuse it.`,
		Example: `  ai-sandbox image build --tools opencode,claude
  ai-sandbox image build --preset lean --addons go,pnpm
  ai-sandbox image build --base-image debian:bookworm-slim --ca-cert ~/corp-root.pem
  ai-sandbox image build --print > Dockerfile
  ai-sandbox image build --for-project
  ai-sandbox image build --preset full --write-context ctx && docker buildx build --platform linux/amd64,linux/arm64 ctx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := imageEnv(deps)
			if err != nil {
				return err
			}
			opts := o.options(cmd)
			if o.forProject {
				if opts.ProjectAddons, err = forProjectAddons(deps); err != nil {
					return err
				}
			}
			return env.Build(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.tools, "tools", nil, "agents to install, comma-separated ('none' for none; see 'ai-sandbox tools')")
	f.StringSliceVar(&o.addons, "addons", nil, "add-ons on top of the preset, comma-separated ('none' for none)")
	f.StringVar(&o.preset, "preset", "", "lean, base or full (default: the recorded one, else base)")
	f.StringVar(&o.baseImage, "base-image", "", "image to build FROM (default "+imagebuild.DefaultBaseImage+"; 'default' resets)")
	f.StringArrayVar(&o.caCerts, "ca-cert", nil, "extra CA certificate (PEM) to trust; repeatable")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "NAME=VALUE passed to docker build; repeatable, recorded (NAME= drops it)")
	f.StringVar(&o.tag, "tag", "", "image name to build (default: the image run uses, ai-sandbox:latest)")
	f.BoolVar(&o.forProject, "for-project", false, "add the add-ons the current project needs (go.mod: go, pnpm-lock.yaml: pnpm, …), recorded with the others")
	f.BoolVar(&o.noCache, "no-cache", false, "rebuild every layer")
	f.BoolVar(&o.print, "print", false, "print the generated Dockerfile and exit, building and recording nothing")
	f.StringVar(&o.writeContext, "write-context", "", "write the whole build context to DIR (new or empty) for another builder, e.g. docker buildx for several platforms; builds and records nothing")
	return cmd
}

// options are the flags as build options: a flag not given keeps the
// recorded choice.
func (o *imageBuildFlags) options(cmd *cobra.Command) imageops.BuildOptions {
	f := cmd.Flags()
	given := func(l []string) []string { return append([]string{}, l...) }
	opts := imageops.BuildOptions{BuildArgs: o.buildArgs, Tag: o.tag, NoCache: o.noCache, Print: o.print, WriteContext: o.writeContext}
	if f.Changed("tools") {
		opts.Tools = given(o.tools)
	}
	if f.Changed("addons") {
		opts.Addons = given(o.addons)
	}
	if f.Changed("preset") {
		opts.Preset = &o.preset
	}
	if f.Changed("base-image") {
		opts.BaseImage = &o.baseImage
	}
	if f.Changed("ca-cert") {
		opts.CACerts = given(o.caCerts)
	}
	return opts
}

func addonHelp() string {
	var b strings.Builder
	for _, a := range imagebuild.Addons() {
		fmt.Fprintf(&b, "  %-20s %s\n", a.Name, a.Description)
	}
	return strings.TrimRight(b.String(), "\n")
}

func newCmdImagePull(deps *Deps) *cobra.Command {
	var tag, repo string
	var listTags, asJSON bool
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull a prebuilt sandbox image and tag it as the image run uses",
		Long: `Pull a prebuilt image and tag it as the image 'ai-sandbox run' starts
(ai-sandbox:latest by default).

The repository is --registry, else AI_SANDBOX_REGISTRY, else image.registry
in config.json, else ` + registry.Default + ` (see 'ai-sandbox config show').
A registry on this machine (localhost, 127.0.0.1) is asked over plain HTTP
when it does not speak HTTPS, as docker does.

Tags (published by each release; see the README's Images section):
  base, full                          rolling: the latest release of each preset
  base-v<version>, full-v<version>    pinned to a release
  base-sha-<short>, full-sha-<short>  pinned to the commit of a release

--list-tags lists the registry's tags. On ghcr.io with a GitHub token (gh auth
login; gh auth refresh --scopes read:packages, or GH_TOKEN) they come with
their push dates. A registry that wants a login is asked with the one
'docker login HOST' keeps.

When a pull fails, the registry is asked why: it cannot be reached, it wants
a login, it has no such repository, or no such tag (its tags are named).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := registryEnv(deps)
			r, err := env.Registry(repo)
			if err != nil {
				return err
			}
			if listTags {
				tags, err := env.ListTags(cmd.Context(), r)
				if err != nil {
					return ui.WithHint(fmt.Errorf("cannot list the tags of %s: %w", r, err), imageops.TagsHint(r, err))
				}
				return imageops.WriteTags(deps.Streams.Out, tags, asJSON)
			}
			if asJSON {
				return ui.Usagef("--json goes with --list-tags")
			}
			if !imageops.ValidTag(tag) {
				return ui.Usagef("--tag %q: not an image tag (e.g. base, full, base-v1.2.0)", tag)
			}
			if env, err = imageEnv(deps); err != nil {
				return err
			}
			return env.Pull(cmd.Context(), imageops.PullOptions{Registry: r, Tag: tag})
		},
	}
	cmd.Flags().StringVar(&tag, "tag", "base", "tag to pull: base, full, base-sha-<short>, full-v<version>, …")
	cmd.Flags().StringVar(&repo, "registry", "", "image repository HOST/PATH (default $AI_SANDBOX_REGISTRY, image.registry, or "+registry.Default+")")
	cmd.Flags().BoolVar(&listTags, "list-tags", false, "list the registry's tags (with push dates on ghcr.io) instead of pulling")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --list-tags: print JSON")
	return cmd
}

func newCmdImageList(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the local sandbox images: size, agents, add-ons, creation date",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := deps.Streams
			env, err := imageEnv(deps)
			if err != nil {
				return err
			}
			local, err := env.LocalImage()
			if err != nil {
				return err
			}
			entries, err := env.List(cmd.Context(), local)
			if err != nil {
				return err
			}
			if len(entries) == 0 && !asJSON {
				s.Infof("no sandbox images here")
				s.Hintf("build one with 'ai-sandbox image build' or pull one with 'ai-sandbox image pull'")
				return nil
			}
			if err := imageops.WriteList(s.Out, entries, asJSON); err != nil || asJSON {
				return err
			}
			s.Infof("* is the image 'ai-sandbox run' starts (%s)", local)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// splitComma splits a comma-separated list, dropping empty entries.
func splitComma(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
