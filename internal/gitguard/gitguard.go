// Package gitguard keeps a project's git metadata from being turned
// against the host. The sandbox writes the project, and the user's own
// git later reads its .git on the host: a planted hook, a config with
// core.fsmonitor, a commondir that sends git to another git dir, or a
// .git replaced by the agent's own all run as the user. So, for the
// project and for every repository directly inside it:
//
//   - .git is mounted onto itself, so the sandbox cannot rename, remove
//     or replace it (a mount point cannot be moved);
//   - .git/hooks, .git/config (and config.worktree, and the config and
//     hooks of submodules under .git/modules) are mounted read-only;
//   - .git/commondir, which only a linked worktree's git dir has, is
//     created holding "." (git reads it as "this folder") and mounted
//     read-only, so the sandbox cannot create one that points elsewhere;
//   - a .git file (a worktree or a submodule) is mounted read-only, so its
//     gitdir line cannot be changed.
//
// At each launch a .git that was tampered with — a symbolic link, a
// commondir other than ours, a gitdir that points into the project,
// hooks or config that are links — is refused with an explanation and
// the command to inspect it. Nothing here follows a symbolic link.
package gitguard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"golang.org/x/sys/unix"
)

// CommonDir is what ai-sandbox puts in .git/commondir: git resolves it
// to the git dir itself, as if there were no commondir.
const CommonDir = ".\n"

// maxModules bounds how many submodule git dirs are protected.
const maxModules = 64

// Guard is what a sandbox of one folder must do to protect the git
// metadata in it.
type Guard struct {
	// Ops create what must exist before the mounts (commondir, an empty
	// hooks folder) and check every mount source.
	Ops []hostfs.Op
	// Mounts are the sandbox's extra mounts, in order.
	Mounts []docker.Mount
	// Repos are the repositories found: "." for the folder itself, then
	// the subfolders that are repositories.
	Repos []string
	// GitInode is the inode of the folder's own .git (0 when none).
	GitInode uint64
	// Protected are the git dirs (relative to the folder) whose config and
	// hooks the sandbox gets read-only: what changes there is the user's.
	Protected []string

	state string
}

// TamperedError is a .git that must not be trusted.
type TamperedError struct {
	Path string // the suspicious path
	What string // what is wrong with it
}

func (e *TamperedError) Error() string {
	return fmt.Sprintf("%s %s; an agent may have planted it, and your own git would follow it on the host", e.Path, e.What)
}

// Hint is the command that shows the suspicious path.
func (e *TamperedError) Hint() string {
	return "inspect it with 'ls -la " + shellQuote(e.Path) + "' (and 'cat' the file), remove what you did not create, then run again"
}

// Protect inspects dir (the folder a sandbox mounts, trusted as given)
// and the folders directly inside it, and says what the sandbox must
// mount. state is ai-sandbox's state folder, which holds the agents'
// homes: a .git file may point into neither. A tampered .git is a
// *TamperedError.
func Protect(dir, state string) (Guard, error) {
	g := Guard{state: state}
	root := hostfs.New(dir)
	ino, err := g.repo(root, ".")
	if err != nil {
		return g, err
	}
	g.GitInode = ino
	entries, err := root.ReadDir(".")
	if err != nil {
		return g, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == ".git" {
			continue
		}
		if _, err := g.repo(root, e.Name()); err != nil {
			return g, err
		}
	}
	return g, nil
}

// repo protects the .git of sub (relative to root), when there is one.
func (g *Guard) repo(root hostfs.Root, sub string) (uint64, error) {
	rel := filepath.Join(sub, ".git")
	path := root.Join(rel)
	fi, err := root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	}
	g.Repos = append(g.Repos, sub)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return 0, &TamperedError{Path: path, What: "is a symbolic link (to " + target + "), not git's own folder"}
	case fi.Mode().IsRegular():
		return inode(fi), g.gitFile(root, sub, rel)
	case !fi.IsDir():
		return 0, &TamperedError{Path: path, What: "is neither a folder nor a file"}
	}
	if err := g.gitDir(root, rel); err != nil {
		return 0, err
	}
	return inode(fi), nil
}

// gitFile protects a .git file ("gitdir: <path>" of a worktree or a
// submodule): read-only, and never pointing into the folder itself.
func (g *Guard) gitFile(root hostfs.Root, sub, rel string) error {
	path := root.Join(rel)
	data, err := root.ReadFile(rel, 4096)
	if err != nil {
		return err
	}
	line := strings.TrimSpace(string(data))
	target, ok := strings.CutPrefix(line, "gitdir:")
	if !ok {
		return &TamperedError{Path: path, What: "is a file that does not start with 'gitdir:'"}
	}
	target = strings.TrimSpace(target)
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	target = filepath.Clean(target)
	work := root.Join(sub)
	// A submodule's .git points into the superproject's .git/modules,
	// which lies inside the folder when the folder is the superproject.
	modules := filepath.Join(root.Path(), ".git", "modules") + string(filepath.Separator)
	if within(target, work) || (within(target, root.Path()) && !strings.HasPrefix(target+string(filepath.Separator), modules)) ||
		(g.state != "" && within(target, g.state)) {
		return &TamperedError{Path: path, What: "sends git to " + target + ", a folder the sandbox can write"}
	}
	g.Ops = append(g.Ops, hostfs.Op{Kind: hostfs.CheckFile, Root: root.Path(), Rel: rel})
	g.Mounts = append(g.Mounts, docker.Mount{Source: path, Target: path, ReadOnly: true})
	return nil
}

// gitDir protects a .git folder.
func (g *Guard) gitDir(root hostfs.Root, rel string) error {
	dir := root.Join(rel)
	r := root.Path()
	g.Ops = append(g.Ops, hostfs.Op{Kind: hostfs.CheckDir, Root: r, Rel: rel})
	g.Mounts = append(g.Mounts, docker.Mount{Source: dir, Target: dir})

	// commondir: ours ("."), or none yet (made now), or refused.
	cd := filepath.Join(rel, "commondir")
	switch fi, err := root.Lstat(cd); {
	case errors.Is(err, fs.ErrNotExist):
		g.Ops = append(g.Ops, hostfs.Op{Kind: hostfs.Create, Root: r, Rel: cd, Data: []byte(CommonDir), Perm: 0o644})
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return &TamperedError{Path: root.Join(cd), What: "is not a plain file (git follows it to another git dir)"}
	default:
		data, err := root.ReadFile(cd, 4096)
		if err != nil {
			return err
		}
		if v := strings.TrimSpace(string(data)); v != "." {
			return &TamperedError{Path: root.Join(cd), What: fmt.Sprintf("sends git to %q; only a linked worktree's git dir has a commondir, never a project's own .git", v)}
		}
	}
	g.Ops = append(g.Ops, hostfs.Op{Kind: hostfs.CheckFile, Root: r, Rel: cd})
	g.Mounts = append(g.Mounts, docker.Mount{Source: root.Join(cd), Target: root.Join(cd), ReadOnly: true})

	// hooks and config: read-only; made first when missing, so that the
	// sandbox cannot create them.
	if err := g.readOnly(root, filepath.Join(rel, "hooks"), true, true); err != nil {
		return err
	}
	if err := g.readOnly(root, filepath.Join(rel, "config"), false, true); err != nil {
		return err
	}
	if err := g.readOnly(root, filepath.Join(rel, "config.worktree"), false, worktreeConfig(root, rel)); err != nil {
		return err
	}
	g.Protected = append(g.Protected, rel)
	return g.modules(root, filepath.Join(rel, "modules"), 0)
}

// readOnly mounts rel read-only. A missing one is created first when
// create is set (an empty folder or file), else left alone.
func (g *Guard) readOnly(root hostfs.Root, rel string, isDir, create bool) error {
	r := root.Path()
	fi, err := root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return nil
		}
		if isDir {
			g.Ops = append(g.Ops, hostfs.Op{Kind: hostfs.MkdirAll, Root: r, Rel: rel, Perm: 0o755})
		} else {
			g.Ops = append(g.Ops, hostfs.Op{Kind: hostfs.Create, Root: r, Rel: rel, Perm: 0o644})
		}
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(root.Join(rel))
		return &TamperedError{Path: root.Join(rel), What: "is a symbolic link (to " + target + "); git would run or read what it points to"}
	case isDir && !fi.IsDir():
		return &TamperedError{Path: root.Join(rel), What: "is not a folder"}
	case !isDir && !fi.Mode().IsRegular():
		return &TamperedError{Path: root.Join(rel), What: "is not a plain file"}
	}
	kind := hostfs.CheckFile
	if isDir {
		kind = hostfs.CheckDir
	}
	g.Ops = append(g.Ops, hostfs.Op{Kind: kind, Root: r, Rel: rel})
	g.Mounts = append(g.Mounts, docker.Mount{Source: root.Join(rel), Target: root.Join(rel), ReadOnly: true})
	return nil
}

// modules protects the config and hooks of submodule git dirs under
// .git/modules (nested ones too), which a superproject's git status runs.
func (g *Guard) modules(root hostfs.Root, rel string, depth int) error {
	entries, err := root.ReadDir(rel)
	if errors.Is(err, fs.ErrNotExist) || depth > 3 {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		sub := filepath.Join(rel, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := root.Lstat(filepath.Join(sub, "HEAD")); err != nil {
			// Not a git dir: submodule names may contain slashes.
			if err := g.modules(root, sub, depth+1); err != nil {
				return err
			}
			continue
		}
		if len(g.Mounts) > 4*maxModules {
			return nil
		}
		for _, name := range []string{"config", "hooks"} {
			if err := g.readOnly(root, filepath.Join(sub, name), name == "hooks", false); err != nil {
				return err
			}
		}
		g.Protected = append(g.Protected, sub)
		if err := g.modules(root, filepath.Join(sub, "modules"), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// HashLen is the object id length of the folder's repository: 32 bytes
// with extensions.objectFormat = sha256, else 20.
func HashLen(dir string) int {
	data, err := hostfs.New(dir).ReadFile(filepath.Join(".git", "config"), 1<<20)
	if err == nil && strings.Contains(strings.ToLower(strings.ReplaceAll(string(data), " ", "")), "objectformat=sha256") {
		return 32
	}
	return 20
}

// worktreeConfig reports whether the repository's config turns on
// extensions.worktreeConfig, which makes git read config.worktree too.
func worktreeConfig(root hostfs.Root, gitRel string) bool {
	data, err := root.ReadFile(filepath.Join(gitRel, "config"), 1<<20)
	if err != nil {
		return false
	}
	return strings.Contains(strings.ToLower(strings.ReplaceAll(string(data), " ", "")), "worktreeconfig=true")
}

func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*unix.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\!*?[]{}()<>|&;#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
