// Package hostexec watches the files of a project that run on the host:
// the user's git runs hooks and obeys config (core.fsmonitor, a hooks
// path) of every repository in the project, direnv runs .envrc, an editor
// runs .vscode tasks, make runs the Makefile, npm runs package.json
// scripts, CI runs the workflows. A sandboxed agent can write all of them.
// The launches of a project register their sessions; when the last one
// ends, the files of that kind that changed while sessions ran (by their
// ctime, which no one can set back) are reported. It is a warning, never
// a block.
package hostexec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sys/unix"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Change is one host-executed file that changed.
type Change struct {
	Path string `json:"path"` // relative to the project
	Why  string `json:"why"`  // what runs it on the host
	// GitDir is the git dir (or .git file) the change belongs to, for the
	// files of a repository.
	GitDir string `json:"gitDir,omitempty"`
	// Disarmed says that ai-sandbox set its commands aside (see
	// gitguard.Defuse).
	Disarmed bool `json:"disarmed,omitempty"`
}

// Report is what changed in a project while its sandboxes had sessions.
type Report struct {
	Project string    `json:"project"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Changes []Change  `json:"changes"`
}

// baseline is taken when the first session of a quiet project starts.
type baseline struct {
	Since          time.Time `json:"since"`
	PackageScripts string    `json:"packageScripts,omitempty"`
}

// Tracker keeps one project's session registry in Dir (the project's state
// folder under ~/.ai-sandbox/projects, trusted).
type Tracker struct {
	Dir     string // state folder of the project
	Project string // the project folder
}

const (
	sessionsDir  = "sessions"
	baselineFile = "baseline.json"
	lockFile     = ".sessions.lock"
)

// Begin registers a session (its id, and the pid of the launch that
// waits for it) and takes the baseline when no other session runs.
func (t Tracker) Begin(sid string, pid int, now time.Time) error {
	unlock, err := t.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r := hostfs.New(t.Dir)
	if err := r.MkdirAll(sessionsDir, 0o700); err != nil {
		return err
	}
	if err := r.WriteFile(filepath.Join(sessionsDir, sid), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		return err
	}
	if _, err := r.Lstat(baselineFile); err == nil {
		return nil
	}
	b := baseline{Since: now, PackageScripts: packageScripts(t.Project)}
	data, _ := json.Marshal(b)
	return r.WriteFile(baselineFile, data, 0o600)
}

// End unregisters a session. When it was the last one (no other
// registered launch is alive), it scans the project and returns the
// report, which is empty when nothing changed; otherwise it returns nil.
func (t Tracker) End(sid string, now time.Time) (*Report, error) {
	unlock, err := t.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r := hostfs.New(t.Dir)
	_ = r.Remove(filepath.Join(sessionsDir, sid))
	entries, err := r.ReadDir(sessionsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		rel := filepath.Join(sessionsDir, e.Name())
		data, err := r.ReadFile(rel, 64)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && perr == nil && alive(pid) {
			return nil, nil // another session goes on
		}
		_ = r.Remove(rel) // its launch is gone
	}
	data, err := r.ReadFile(baselineFile, 1<<16)
	if err != nil {
		return nil, nil // no baseline: nothing to compare with
	}
	var b baseline
	if err := json.Unmarshal(data, &b); err != nil {
		_ = r.Remove(baselineFile)
		return nil, nil
	}
	_ = r.Remove(baselineFile)
	rep := &Report{Project: t.Project, Since: b.Since, Until: now, Changes: Scan(t.Project, b.Since, b.PackageScripts)}
	return rep, nil
}

func (t Tracker) lock() (func(), error) {
	if err := os.MkdirAll(t.Dir, 0o700); err != nil {
		return nil, err
	}
	l := flock.New(filepath.Join(t.Dir, lockFile))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.Path(), err)
	}
	return func() { _ = l.Unlock() }, nil
}

// alive reports whether a process exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// watch is a host-executed file or folder and what runs it.
type watch struct{ path, why string }

// watched are the host-executed files and folders at the project's top.
func watched() []watch {
	return []watch{
		{".envrc", "direnv runs it when you enter the folder"},
		{".husky", "git hooks that husky installs"},
		{".pre-commit-config.yaml", "pre-commit runs its hooks on git commit"},
		{".vscode/tasks.json", "your editor runs its tasks"},
		{".vscode/settings.json", "your editor follows it (terminal profiles, tool paths)"},
		{".github/workflows", "CI runs them with the repository's secrets"},
		{"Makefile", "make runs it"},
		{"GNUmakefile", "make runs it"},
		{"makefile", "make runs it"},
		{".gitattributes", "git applies its filters and diff drivers"},
		{".gitmodules", "git follows it on submodule update"},
	}
}

// gitFiles are the files of a git dir that make git run something.
func gitFiles() []watch {
	return []watch{
		{"config", "git obeys it (core.fsmonitor, core.hooksPath, aliases, filters)"},
		{"config.worktree", "git obeys it"},
		{"commondir", "git follows it to another git dir"},
		{"info/attributes", "git applies its filters and diff drivers"},
		{"hooks", "git runs these hooks"},
	}
}

// maxEntries bounds the walk of a project.
const maxEntries = 500000

// Scan lists the host-executed files of the project changed since the
// time given (scripts is the package.json scripts fingerprint then).
func Scan(project string, since time.Time, scripts string) []Change {
	var out []Change
	for _, w := range watched() {
		out = append(out, changedUnder(project, w.path, since, w.why)...)
	}
	if s := packageScripts(project); s != scripts {
		out = append(out, Change{Path: "package.json", Why: "npm runs its scripts (they changed)"})
	}
	n := 0
	_ = filepath.WalkDir(project, func(path string, d fs.DirEntry, err error) error {
		n++
		if err != nil || n > maxEntries {
			if n > maxEntries {
				return filepath.SkipAll
			}
			return nil
		}
		if d.Name() != ".git" {
			return nil
		}
		rel, _ := filepath.Rel(project, path)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			out = append(out, Change{Path: rel, Why: "a symbolic link named .git: git follows it", GitDir: rel})
		case d.Type().IsRegular():
			if changedSince(path, since) {
				out = append(out, Change{Path: rel, Why: "a .git file: git follows its gitdir line", GitDir: rel})
			}
			if target, ok := gitFileTarget(project, rel); ok {
				out = append(out, gitDirChanges(project, target, since, 0)...)
			}
		case d.IsDir():
			out = append(out, gitDirChanges(project, rel, since, 0)...)
			return filepath.SkipDir
		}
		return nil
	})
	if n > maxEntries {
		out = append(out, Change{Path: ".", Why: fmt.Sprintf("over %d entries: the rest was not checked for new git repositories", maxEntries)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// gitDirChanges checks a git dir's own host-executed files and those of
// its submodules.
func gitDirChanges(project, rel string, since time.Time, depth int) []Change {
	var out []Change
	for _, g := range gitFiles() {
		for _, c := range changedUnder(project, filepath.Join(rel, g.path), since, g.why) {
			c.GitDir = rel
			out = append(out, c)
		}
	}
	if depth > 3 {
		return out
	}
	mods := filepath.Join(project, rel, "modules")
	_ = filepath.WalkDir(mods, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == mods {
			return nil
		}
		if _, err := os.Lstat(filepath.Join(path, "HEAD")); err == nil {
			r, _ := filepath.Rel(project, path)
			out = append(out, gitDirChanges(project, r, since, depth+1)...)
			return filepath.SkipDir
		}
		return nil
	})
	return out
}

// gitFileTarget reads a .git file's gitdir line and returns its target
// relative to the project, when it lies inside it.
func gitFileTarget(project, rel string) (string, bool) {
	data, err := hostfs.New(project).ReadFile(rel, 4096)
	if err != nil {
		return "", false
	}
	target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
	if !ok {
		return "", false
	}
	target = strings.TrimSpace(target)
	if !filepath.IsAbs(target) {
		target = filepath.Join(project, filepath.Dir(rel), target)
	}
	r, err := filepath.Rel(project, filepath.Clean(target))
	if err != nil || r == "." || strings.HasPrefix(r, "..") {
		return "", false
	}
	return r, true
}

// Gitlinked lists the host-executed files of the git dirs that a
// project's git status enters — those of the given submodule paths (from
// the project's index, see gitguard.Gitlinks) and of .git/modules —
// changed since the time given.
func Gitlinked(project string, gitlinks []string, since time.Time) []Change {
	var out []Change
	for _, g := range gitlinks {
		rel := filepath.Join(g, ".git")
		fi, err := os.Lstat(filepath.Join(project, rel))
		switch {
		case err != nil:
		case fi.Mode()&fs.ModeSymlink != 0:
			out = append(out, Change{Path: rel, Why: "a symbolic link named .git: git follows it", GitDir: rel})
		case fi.Mode().IsRegular():
			if changedSince(filepath.Join(project, rel), since) {
				out = append(out, Change{Path: rel, Why: "a .git file: git follows its gitdir line", GitDir: rel})
			}
			if target, ok := gitFileTarget(project, rel); ok {
				out = append(out, gitDirChanges(project, target, since, 0)...)
			}
		case fi.IsDir():
			out = append(out, gitDirChanges(project, rel, since, 0)...)
		}
	}
	mods := filepath.Join(".git", "modules")
	entries, _ := os.ReadDir(filepath.Join(project, mods))
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, moduleChanges(project, filepath.Join(mods, e.Name()), since)...)
		}
	}
	return out
}

// moduleChanges checks a folder under .git/modules: a git dir, or a
// folder of one (submodule names may hold slashes).
func moduleChanges(project, rel string, since time.Time) []Change {
	if _, err := os.Lstat(filepath.Join(project, rel, "HEAD")); err == nil {
		return gitDirChanges(project, rel, since, 1)
	}
	var out []Change
	entries, _ := os.ReadDir(filepath.Join(project, rel))
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, moduleChanges(project, filepath.Join(rel, e.Name()), since)...)
		}
	}
	return out
}

// changedUnder reports rel (a file, or every file below a folder) when it
// changed since the time given.
func changedUnder(project, rel string, since time.Time, why string) []Change {
	path := filepath.Join(project, rel)
	fi, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if !fi.IsDir() {
		if changedSince(path, since) {
			return []Change{{Path: rel, Why: why}}
		}
		return nil
	}
	var out []Change
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".sample") {
			return nil // git's own examples, which never run
		}
		if err == nil && (p == path || !d.IsDir()) && changedSince(p, since) {
			r, _ := filepath.Rel(project, p)
			out = append(out, Change{Path: r, Why: why})
		}
		return nil
	})
	return out
}

// changedSince compares a path's ctime (set by the kernel on any change
// of content or metadata, and never settable by a process) with t.
func changedSince(path string, t time.Time) bool {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return false
	}
	return time.Unix(st.Ctim.Unix()).After(t)
}

// packageScripts fingerprints the scripts of the project's package.json
// ("" when there is none).
func packageScripts(project string) string {
	data, err := hostfs.New(project).ReadFile("package.json", 8<<20)
	if err != nil {
		return ""
	}
	var pkg struct {
		Scripts json.RawMessage `json:"scripts"`
	}
	if json.Unmarshal(data, &pkg) != nil || len(pkg.Scripts) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(pkg.Scripts, &m) != nil {
		return ""
	}
	canon, _ := json.Marshal(m)
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:8])
}

// Pending reports, without ending anything, whether sessions of the
// project run now (a registered launch is alive), and the host-executed
// files changed since they began.
func (t Tracker) Pending() (bool, []Change, error) {
	r := hostfs.New(t.Dir)
	entries, err := r.ReadDir(sessionsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	running := false
	for _, e := range entries {
		data, err := r.ReadFile(filepath.Join(sessionsDir, e.Name()), 64)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && perr == nil && alive(pid) {
			running = true
			break
		}
	}
	if !running {
		return false, nil, nil
	}
	data, err := r.ReadFile(baselineFile, 1<<16)
	if err != nil {
		return true, nil, nil
	}
	var b baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return true, nil, nil
	}
	return true, Scan(t.Project, b.Since, b.PackageScripts), nil
}
