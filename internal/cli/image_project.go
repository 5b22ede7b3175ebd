package cli

import (
	"path/filepath"

	"github.com/ai-sandbox/ai-sandbox/internal/doctor"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/toolchain"
)

// The current project's toolchain (internal/toolchain), for image build
// --for-project and doctor.

// currentProjectDir is the folder of the current project as run picks
// it: inside a workspace, the git top-level when it lies in the
// workspace, else the current folder; outside every workspace, the git
// top-level, else the current folder.
func currentProjectDir(deps *Deps) (string, error) {
	proj, err := currentProject(deps)
	if err != nil {
		return "", err
	}
	if proj.Workspace != "" {
		return proj.Dir, nil
	}
	if top := project.Find(proj.Dir, nil).TopLevel; top != "" {
		return top, nil
	}
	return proj.Dir, nil
}

// forProjectAddons detects the current project's toolchain, says what
// it found, one line per finding, and returns the add-ons to add: those
// this ai-sandbox has.
func forProjectAddons(deps *Deps) ([]string, error) {
	s := deps.Streams
	dir, err := currentProjectDir(deps)
	if err != nil {
		return nil, err
	}
	rep, err := toolchain.Detect(dir)
	if err != nil {
		return nil, err
	}
	for _, ig := range rep.Ignored {
		s.Warnf("%s: ignored (%s)", filepath.Join(dir, ig.File), ig.Why)
	}
	if rep.Empty() {
		s.Infof("--for-project: no toolchain detected in %s (go.mod, package.json, pyproject.toml, Cargo.toml, Gemfile, …); building as without it", dir)
		return nil, nil
	}
	s.Infof("--for-project: %s uses:", dir)
	for _, f := range rep.Findings {
		s.Infof("  %s", f)
	}
	var out []string
	for _, a := range rep.Addons() {
		if _, ok := imagebuild.LookupAddon(a); !ok {
			s.Warnf("no add-on for %s in this ai-sandbox; building without it", a)
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// toolchainFacts detects the toolchain of the project in dir, for doctor,
// and reads the add-ons of the image run uses from its labels (im, as
// doctor inspected it).
func toolchainFacts(dir string, im doctor.ImageFacts) doctor.ToolchainFacts {
	t := doctor.ToolchainFacts{Image: im.Name, Known: imagebuild.AddonNames()}
	rep, err := toolchain.Detect(dir)
	if err != nil {
		return t // a folder that cannot be listed has nothing to say
	}
	for _, ig := range rep.Ignored {
		t.Ignored = append(t.Ignored, ig.File+" ("+ig.Why+")")
	}
	for _, f := range rep.Findings {
		if len(f.Addons) > 0 {
			t.Needs = append(t.Needs, doctor.Need{Language: f.Language, Evidence: f.Evidence, Addons: f.Addons})
		}
	}
	switch {
	case im.Err != "":
		t.ImageNote = "it could not be inspected (" + im.Err + ")"
	case !im.Present:
		t.ImageNote = "it is not there"
	case im.Labels[imagebuild.LabelImage] != "1":
		t.ImageNote = "it has no ai-sandbox labels"
	default:
		t.ImageKnown = true
		t.ImageAddons = splitComma(im.Labels[imagebuild.LabelAddons])
	}
	return t
}
