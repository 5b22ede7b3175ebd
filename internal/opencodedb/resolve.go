package opencodedb

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

// NoDirectory is the database that takes the sessions OpenCode recorded
// without a folder.
const NoDirectory = "no-directory"

// Placement is where a session's folder belongs: the project database
// ID (a folder under opencode-dbs), the project folder that owns it
// ("" when unknown) and why, when the folder itself could not be used.
type Placement struct {
	ID    string
	Owner string
	Why   string
}

// Resolver places folders: the id `ai-sandbox run` computes in a folder
// (DESIGN.md §4, so subfolders and worktrees of one repository share
// one), with rules for folders that are gone.
type Resolver struct {
	// Find is project.Find (with the host's git asked for includes).
	Find func(dir string) project.Info
	// EvalSymlinks resolves a folder that exists (filepath.EvalSymlinks).
	EvalSymlinks func(string) (string, error)
}

// NewResolver places folders as `ai-sandbox run` names them on this host.
func NewResolver(ask project.AskGit) Resolver {
	return Resolver{
		Find:         func(dir string) project.Info { return project.Find(dir, ask) },
		EvalSymlinks: evalDir,
	}
}

// evalDir resolves a path that exists and is a folder.
func evalDir(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", os.ErrNotExist
	}
	return real, nil
}

// Place says where a session belongs from its folder and the work tree
// OpenCode recorded for its project ("/" or "" when none):
//
//  1. no folder: the no-directory database;
//  2. a folder that exists: the id `ai-sandbox run` computes there;
//  3. a folder that is gone, inside the work tree OpenCode recorded: that
//     work tree's id when it still exists, else the id a repository there
//     without an origin had ("gitroot:<work tree>");
//  4. any other folder that is gone: the id of a folder without git at
//     that path ("path:<folder>").
func (r Resolver) Place(directory, worktree string) Placement {
	if strings.TrimSpace(directory) == "" {
		return Placement{ID: NoDirectory, Why: "no folder recorded"}
	}
	if real, err := r.EvalSymlinks(directory); err == nil {
		return r.live(real)
	}
	wt := filepath.Clean(worktree)
	if worktree != "" && wt != "/" && filepath.IsAbs(wt) && within(filepath.Clean(directory), wt) {
		if real, err := r.EvalSymlinks(wt); err == nil {
			p := r.live(real)
			p.Why = "folder gone; its repository is still there"
			return p
		}
		return Placement{ID: project.ID(filepath.Base(wt), "gitroot:"+wt), Why: "folder and repository gone: by the repository's path"}
	}
	d := directory
	if filepath.IsAbs(d) {
		d = filepath.Clean(d)
	}
	return Placement{ID: project.ID(filepath.Base(d), "path:"+d), Why: "folder gone: by its path"}
}

// live places a folder that exists: its project id, owned by its git
// top-level (or itself).
func (r Resolver) live(dir string) Placement {
	in := r.Find(dir)
	owner := in.TopLevel
	if owner == "" {
		owner = dir
	}
	return Placement{ID: in.ID, Owner: owner}
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
