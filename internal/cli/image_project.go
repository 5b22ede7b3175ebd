package cli

import (
	"fmt"
	"path/filepath"

	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/toolchain"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// The current project's toolchain (internal/toolchain), for image build
// --for-project and doctor.

// currentProjectDir is the folder of the current project as run picks
// it: inside a workspace, the git top-level when it lies in the
// workspace, else the current folder; outside every workspace, the git
// top-level, else the current folder.
func currentProjectDir(deps *Deps) (string, error) {
	wd, err := deps.Getwd()
	if err != nil {
		return "", fmt.Errorf("current folder: %w", err)
	}
	cwd, err := filepath.EvalSymlinks(wd)
	if err != nil {
		cwd = wd
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		return "", err
	}
	if ws, _ := workspace.Match(canonicalWorkspaces(cfg.Workspaces), cwd); ws != "" {
		return findProject(deps, cwd, ws).Dir, nil
	}
	if top := project.Find(cwd, nil).TopLevel; top != "" {
		return top, nil
	}
	return cwd, nil
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
