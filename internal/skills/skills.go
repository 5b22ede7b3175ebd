// Package skills holds the skills bundled with ai-sandbox (SKILL.md
// folders written for it) and installs them into an agent's sandbox home
// on its first run in a project. An installed skill is never overwritten: a newer bundled one is
// only reported (Outdated), so a user's own edits survive.
package skills

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
)

//go:embed bundled
var bundled embed.FS

// Version is the version of the bundled skills; raise it whenever a
// SKILL.md under bundled/ changes, so installed copies are reported as
// outdated.
const Version = 1

// Marker is the file, next to an installed SKILL.md, that records which
// bundled version was copied there.
const Marker = ".ai-sandbox-skill"

// Names lists the bundled skills.
func Names() []string {
	entries, _ := fs.ReadDir(bundled, "bundled")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Content returns a bundled skill's SKILL.md.
func Content(name string) ([]byte, error) {
	return fs.ReadFile(bundled, path.Join("bundled", name, "SKILL.md"))
}

// Dir is where tool reads skills, relative to its home ("" when it has
// no skills folder or is not a known agent).
func Dir(tool string) string {
	t, ok := tools.New().Lookup(tool)
	if !ok {
		return ""
	}
	return t.SkillsDir
}

// Plan decides which bundled skills to install into the tool's sandbox
// home (the folder mounted at /home/agent): each one whose SKILL.md is not
// there yet, as <skills dir>/<name>/SKILL.md with a version marker. An
// installed skill is left alone, whatever it holds; nothing is followed
// through a symbolic link (the home is the agent's to write). It reads
// only; the returned ops write. A tool without a skills folder gets none.
func Plan(home, tool string) (ops []hostfs.Op, names []string, err error) {
	dir := Dir(tool)
	if dir == "" {
		return nil, nil, nil
	}
	root := hostfs.New(home)
	for _, name := range Names() {
		rel := filepath.Join(filepath.FromSlash(dir), name)
		if _, err := root.Lstat(filepath.Join(rel, "SKILL.md")); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("skill %s: %w", name, err)
		}
		body, err := Content(name)
		if err != nil {
			return nil, nil, err
		}
		ops = append(ops,
			hostfs.Op{Kind: hostfs.MkdirAll, Root: home, Rel: rel, Perm: 0o755},
			hostfs.Op{Kind: hostfs.Create, Root: home, Rel: filepath.Join(rel, "SKILL.md"), Data: body, Perm: 0o644},
			hostfs.Op{Kind: hostfs.Create, Root: home, Rel: filepath.Join(rel, Marker), Data: []byte("version=" + strconv.Itoa(Version) + "\n"), Perm: 0o644})
		names = append(names, name)
	}
	return ops, names, nil
}

// Install plans and applies the installation at once.
func Install(home, tool string) ([]string, error) {
	ops, names, err := Plan(home, tool)
	if err != nil {
		return nil, err
	}
	return names, hostfs.Apply(ops)
}

// Outdated lists installed bundled skills whose marker records an older
// version than the bundled one: a newer skill can be offered. Skills
// without a marker (the user's own, or ones the user replaced) are never
// reported.
func Outdated(home, tool string) ([]string, error) {
	dir := Dir(tool)
	if dir == "" {
		return nil, nil
	}
	var out []string
	for _, name := range Names() {
		data, err := hostfs.New(home).ReadFile(filepath.Join(filepath.FromSlash(dir), name, Marker), 4096)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		v := 0
		for _, line := range strings.Split(string(data), "\n") {
			if s, ok := strings.CutPrefix(strings.TrimSpace(line), "version="); ok {
				v, _ = strconv.Atoi(s)
			}
		}
		if v < Version {
			out = append(out, name)
		}
	}
	return out, nil
}
