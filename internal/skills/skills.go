// Package skills holds the skills bundled with ai-sandbox (SKILL.md
// folders written for it) and copies them into an agent's sandbox home on
// first run. An installed skill is never overwritten: a newer bundled one is
// only reported (Outdated), so a user's own edits survive.
package skills

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

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

// Install copies the bundled skills that are missing into the tool's
// sandbox home (home is the folder mounted at /home/agent), each as
// <skills dir>/<name>/SKILL.md with a version marker. A skill folder that
// exists already is left alone, whatever it holds. It returns the names
// it installed; a tool without a skills folder gets none.
func Install(home, tool string) (installed []string, err error) {
	dir := Dir(tool)
	if dir == "" {
		return nil, nil
	}
	for _, name := range Names() {
		target := filepath.Join(home, filepath.FromSlash(dir), name)
		if _, err := os.Lstat(target); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return installed, fmt.Errorf("skill %s: %w", name, err)
		}
		body, err := Content(name)
		if err != nil {
			return installed, err
		}
		if err := writeSkill(target, body); err != nil {
			return installed, fmt.Errorf("skill %s: %w", name, err)
		}
		installed = append(installed, name)
	}
	return installed, nil
}

// writeSkill writes into a temporary folder first and renames it into
// place, so that a crash never leaves a half-written skill that would
// then be "present" and never completed.
func writeSkill(target string, body []byte) error {
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".skill-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "SKILL.md"), body, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, Marker), []byte("version="+strconv.Itoa(Version)+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		if _, statErr := os.Lstat(target); statErr == nil {
			return nil // another run installed it meanwhile
		}
		return err
	}
	return nil
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
		data, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(dir), name, Marker))
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
