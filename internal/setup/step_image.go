package setup

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/imageops"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/registry"
	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/toolchain"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// ---- 3. image and agents --------------------------------------------------

// defaultTools are the agents set up before: those of the alias blocks,
// of tools.installed and of the recorded build; else opencode.
func (s *wizard) defaultTools() []string {
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

// imageName is the image run starts, as the image operations tag it.
func (s *wizard) imageName() string {
	if name, err := imageops.LocalImage(s.cfg, s.deps.Getenv); err == nil {
		return name
	}
	if v := s.deps.Getenv("AI_SANDBOX_IMAGE"); v != "" {
		return v
	}
	if s.cfg.Settings.Image != "" {
		return s.cfg.Settings.Image
	}
	return config.DefaultImage
}

func (s *wizard) imageExists(ctx context.Context) bool {
	res, err := s.deps.Runner.Output(ctx, []string{s.deps.Docker, "image", "inspect", "--format", "{{.Id}}", s.imageName()})
	return err == nil && res.ExitCode == 0
}

// startTagList asks the registry for its tags in the background, so that
// the answer is there when the image question comes.
func (s *wizard) startTagList(ctx context.Context) {
	s.tags = &tagList{done: make(chan struct{})}
	go func() {
		defer close(s.tags.done)
		s.tags.list, s.tags.err = s.deps.Images.ListTags(ctx, "")
	}()
}

// registryTags waits for the tags startTagList asked for (or asks now).
func (s *wizard) registryTags() ([]registry.Tag, error) {
	if s.tags == nil {
		s.startTagList(context.Background())
	}
	<-s.tags.done
	return s.tags.list, s.tags.err
}

// registryName is the repository a pull uses.
func (s *wizard) registryName() string {
	if r, err := s.deps.Images.Registry(""); err == nil {
		return r
	}
	return registry.Default
}

// shortReason is what the registry said, for one line: why nothing is
// listed.
func shortReason(err error) string {
	switch registry.KindOf(err) {
	case registry.Unreachable:
		return "it cannot be reached"
	case registry.NeedsLogin:
		return "nothing published there, or it wants a login"
	case registry.NoRepository:
		return "no release has published there yet"
	}
	if err == nil {
		return "no tags"
	}
	return "it did not list its tags"
}

func (s *wizard) stepImage(ctx context.Context) error {
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
		if !o.changed("tools") {
			s.toolNames = s.defaultTools()
		}
		s.addons = o.addons
		if !o.changed("addons") {
			s.addons = s.cfg.Image.Addons
		}
		s.preset = o.preset
		if s.preset == "" {
			s.preset = s.cfg.Image.Preset
		}
		if s.preset == "" {
			s.preset = imagebuild.DefaultPreset
		}
		if s.source == "build" {
			if err := s.askProjectAddons(); err != nil {
				return err
			}
		}
		if s.source == "build" && s.caCerts == nil {
			// The recorded CA files must still be there: better said now
			// than after everything else is written.
			if err := imageops.CheckCACerts(s.cfg.Image.CACerts); err != nil {
				return fmt.Errorf("config.json image.caCerts: %w", err)
			}
		}
		return nil
	}

	var err error
	if s.source == "" {
		tags, listErr := s.registryTags()
		published := len(tags) > 0
		def := "pull"
		if !published {
			def = "build"
		}
		if s.imageExists(ctx) {
			def = "none"
		}
		pullHelp := "pull a prebuilt image from " + s.registryName() + " (a few minutes)"
		if !published {
			pullHelp = "no prebuilt image found at " + s.registryName() + " (" + shortReason(listErr) + "): build instead, or set image.registry"
		}
		s.source, err = s.ask.Select("Sandbox image ("+s.imageName()+"):", []string{"pull", "build", "none"}, def, func(v string, _ int) string {
			return map[string]string{
				"pull":  pullHelp,
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
			var tags []string
			list, err := s.registryTags()
			for _, t := range list {
				if t.Name != "" {
					tags = append(tags, t.Name)
				}
			}
			if err != nil || len(tags) == 0 {
				if err == nil {
					err = fmt.Errorf("the registry listed no tags")
				}
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
	if !o.changed("tools") {
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
		return s.askBuild()
	}
	return nil
}

// askBuild asks what only a build needs: add-ons, preset, base image and
// CA certificates. The defaults are the recorded choices.
func (s *wizard) askBuild() error {
	o := s.o
	var err error
	s.addons = o.addons
	if !o.changed("addons") {
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
		if s.preset, err = s.ask.Select("Image preset:", imagebuild.PresetNames(), def, func(v string, _ int) string {
			return imagebuild.PresetSummary(v)
		}); err != nil {
			return err
		}
	}
	if err := s.askProjectAddons(); err != nil {
		return err
	}
	if s.baseImage == nil {
		if err := s.askBaseImage(); err != nil {
			return err
		}
	}
	if s.caCerts == nil {
		return s.askCACerts()
	}
	return nil
}

// projectDir is the current project: the git top-level of the current
// folder, else the folder.
func (s *wizard) projectDir() (string, error) {
	wd, err := s.deps.Getwd()
	if err != nil {
		return "", fmt.Errorf("current folder: %w", err)
	}
	if c, err := filepath.EvalSymlinks(wd); err == nil {
		wd = c
	}
	if top := project.Find(wd, nil).TopLevel; top != "" {
		return top, nil
	}
	return wd, nil
}

// askProjectAddons offers the add-ons the current project's toolchain
// needs (as 'image build --for-project' adds them) that the build would
// lack: one yes/no question, answered by --for-project, else yes with
// --yes; not asked when --addons gives the add-ons.
func (s *wizard) askProjectAddons() error {
	o := s.o
	if (o.changed("for-project") && !o.forProject) || (!o.changed("for-project") && o.changed("addons")) {
		return nil
	}
	dir, err := s.projectDir()
	if err != nil {
		return err
	}
	rep, err := toolchain.Detect(dir)
	if err != nil {
		return nil // a folder that cannot be listed has no toolchain to offer
	}
	preset, _ := imagebuild.LoadPreset(s.preset)
	have := imagebuild.Spec{Preset: preset, Addons: s.addons}.EffectiveAddons()
	var add, languages []string
	for _, f := range rep.Findings {
		for _, a := range f.Addons {
			if _, ok := imagebuild.LookupAddon(a); !ok {
				s.deps.Streams.Warnf("this project uses %s (%s), but there is no add-on for %s in this ai-sandbox", f.Language, f.Evidence, a)
				continue
			}
			if slices.Contains(have, a) || slices.Contains(add, a) {
				continue
			}
			add = append(add, a)
			if !slices.Contains(languages, f.Language) {
				languages = append(languages, f.Language)
			}
		}
	}
	if len(add) == 0 {
		return nil
	}
	yes := true // --for-project, or --yes
	if s.interactive && !o.changed("for-project") {
		q := fmt.Sprintf("This project (%s) uses %s: add the add-ons %s to the image?", s.tilde(dir), strings.Join(languages, ", "), strings.Join(add, ", "))
		if yes, err = s.ask.Confirm(q, true); err != nil {
			return err
		}
	}
	if yes {
		s.addons = append(slices.Clone(s.addons), add...)
	}
	return nil
}

func (s *wizard) askBaseImage() error {
	rec := s.cfg.Image.BaseImage
	def := rec
	if def == "" {
		def = imagebuild.DefaultBaseImage
	}
	for {
		ans, err := s.ask.Input("Base image to build FROM:", def,
			"The Debian-based image the sandbox image starts from. Where Docker Hub cannot be reached, give the same image from a mirror or your own registry, e.g. registry.example.com/library/"+imagebuild.DefaultBaseImage+". 'default' is "+imagebuild.DefaultBaseImage+".")
		if err != nil {
			return err
		}
		img, err := imageops.ParseBaseImage(ans)
		if err != nil {
			s.deps.Streams.Warnf("%q is not an image reference (e.g. debian:bookworm-slim)", ans)
			continue
		}
		if img == imagebuild.DefaultBaseImage && rec == "" {
			img = "" // the built-in default, as it was: nothing to record
		}
		if img == "" {
			img = "default"
		}
		s.baseImage = &img
		return nil
	}
}

func (s *wizard) askCACerts() error {
	def := "none"
	if rec := s.cfg.Image.CACerts; len(rec) > 0 {
		shown := make([]string, len(rec))
		for i, f := range rec {
			shown[i] = s.tilde(f)
		}
		def = strings.Join(shown, ", ")
	}
	for {
		ans, err := s.ask.Input("CA certificates to trust (PEM files, comma-separated; none for none):", def,
			"Behind a TLS-inspecting proxy, your organisation's CA certificate: trusted while building (apt, npm, pip, git, curl) and by the agents at run time.")
		if err != nil {
			return err
		}
		files, err := imageops.ResolveCACerts(splitComma(ans), s.deps.Home, s.deps.Getwd)
		if err != nil {
			return err
		}
		if err := imageops.CheckCACerts(files); err != nil {
			s.deps.Streams.Warnf("%v", err)
			continue
		}
		s.caCerts = files
		return nil
	}
}

// nonNil is l as a given list: empty means none, never "the recorded".
func nonNil(l []string) []string { return append([]string{}, l...) }

func (s *wizard) doImage(ctx context.Context) error {
	st := s.deps.Streams
	switch s.source {
	case "pull":
		st.Infof("pulling the %s image", s.tag)
		if err := s.deps.Images.Pull(ctx, imageops.PullOptions{Tag: s.tag}); err != nil {
			s.note("image", "pulling %s failed", s.tag)
			return ui.WithHint(fmt.Errorf("image pull: %w", err), "the rest of setup is done; retry with 'ai-sandbox image pull --tag "+s.tag+"'")
		}
		s.note("image", "pulled %s as %s", s.tag, s.imageName())
	case "build":
		st.Infof("building the image with %s", strings.Join(s.toolNames, ", "))
		preset := s.preset
		err := s.deps.Images.Build(ctx, imageops.BuildOptions{
			Tools:     nonNil(s.toolNames),
			Addons:    nonNil(s.addons),
			Preset:    &preset,
			BaseImage: s.baseImage,
			CACerts:   s.caCerts,
		})
		if err != nil {
			s.note("image", "the build failed")
			return ui.WithHint(fmt.Errorf("image build: %w", err), "the rest of setup is done; retry with 'ai-sandbox image build'")
		}
		s.note("image", "built %s (agents: %s; preset %s; add-ons: %s%s)", s.imageName(), strings.Join(s.toolNames, ", "), s.preset, joinOrNone(s.addons), s.buildExtras())
	default:
		if s.imageExists(ctx) {
			s.note("image", "%s is there (not changed)", s.imageName())
		} else {
			s.note("image", "%s does not exist yet: run 'ai-sandbox image pull' or 'ai-sandbox image build'", s.imageName())
		}
	}
	return nil
}

// buildExtras names, for the summary, a base image and CA certificates
// that are not the defaults.
func (s *wizard) buildExtras() string {
	base := s.cfg.Image.BaseImage
	if s.baseImage != nil {
		base, _ = imageops.ParseBaseImage(*s.baseImage)
	}
	cas := s.cfg.Image.CACerts
	if s.caCerts != nil {
		cas = s.caCerts
	}
	out := ""
	if base != "" {
		out += "; from " + base
	}
	if len(cas) > 0 {
		shown := make([]string, len(cas))
		for i, f := range cas {
			shown[i] = s.tilde(f)
		}
		out += "; CA certificates: " + strings.Join(shown, ", ")
	}
	return out
}

func joinOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
