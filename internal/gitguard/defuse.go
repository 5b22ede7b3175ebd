package gitguard

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// A repository the agent creates inside the project (a nested .git, a new
// submodule's git dir under .git/modules) is the agent's own: the user's
// git obeys its config and runs its hooks when it works in it — and when
// the project records it as a submodule, every git status of the project
// does. Such git dirs are disarmed: the config lines that make git run a
// command are commented out (the file as it was is kept next to it), hooks
// are renamed aside, a commondir is renamed aside.

// Quarantined is the suffix of what Defuse sets aside.
const Quarantined = ".ai-sandbox-quarantined"

// disarmed begins a config line that Defuse commented out.
const disarmed = "# ai-sandbox disarmed: "

// Defuse disarms the git dir gitRel (below project, never followed
// through a link); a link named .git, or a .git file pointing out of the
// project, is set aside. It returns what it changed, relative to the
// project. The project's own .git (which the sandbox cannot write) is
// refused.
func Defuse(project, gitRel string) ([]string, error) {
	gitRel = filepath.Clean(gitRel)
	if gitRel == ".git" {
		return nil, errors.New("the project's own .git is not the agent's: it is never disarmed")
	}
	root := hostfs.New(project)
	var changed []string
	fi, err := root.Lstat(gitRel)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		// A link named .git, or a .git file whose gitdir leaves the project
		// (one inside it is disarmed as a git dir of its own): set aside.
		if fi.Mode().IsRegular() && gitFileInside(root, gitRel) {
			return nil, nil
		}
		if err := root.Rename(gitRel, gitRel+Quarantined); err != nil {
			return nil, err
		}
		return []string{gitRel}, nil
	}

	cfg := filepath.Join(gitRel, "config")
	switch fi, err := root.Lstat(cfg); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return changed, err
	case !fi.Mode().IsRegular():
		if err := root.Rename(cfg, cfg+Quarantined); err != nil {
			return changed, err
		}
		changed = append(changed, cfg)
	default:
		data, err := root.ReadFile(cfg, 1<<20)
		if err != nil {
			return changed, err
		}
		if out, ok := disarmConfig(string(data)); ok {
			if _, err := root.CreateExclusive(cfg+".ai-sandbox-original", data, 0o600); err != nil {
				return changed, err
			}
			if err := root.WriteFile(cfg, []byte(out), fi.Mode().Perm()); err != nil {
				return changed, err
			}
			changed = append(changed, cfg)
		}
	}

	hooks := filepath.Join(gitRel, "hooks")
	switch fi, err := root.Lstat(hooks); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return changed, err
	case !fi.IsDir():
		if err := root.Rename(hooks, hooks+Quarantined); err != nil {
			return changed, err
		}
		changed = append(changed, hooks)
	default:
		entries, err := root.ReadDir(hooks)
		if err != nil {
			return changed, err
		}
		for _, e := range entries {
			n := e.Name()
			if strings.HasSuffix(n, ".sample") || strings.HasSuffix(n, Quarantined) {
				continue
			}
			rel := filepath.Join(hooks, n)
			if err := root.Rename(rel, rel+Quarantined); err != nil {
				return changed, err
			}
			changed = append(changed, rel)
		}
	}

	for _, name := range []string{"commondir", "config.worktree"} {
		rel := filepath.Join(gitRel, name)
		if _, err := root.Lstat(rel); err == nil {
			if err := root.Rename(rel, rel+Quarantined); err != nil {
				return changed, err
			}
			changed = append(changed, rel)
		}
	}
	return changed, nil
}

// gitFileInside reports whether a .git file's gitdir lies inside the
// project (root).
func gitFileInside(root hostfs.Root, rel string) bool {
	data, err := root.ReadFile(rel, 4096)
	if err != nil {
		return false
	}
	target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
	if !ok {
		return false
	}
	target = strings.TrimSpace(target)
	if !filepath.IsAbs(target) {
		target = filepath.Join(root.Path(), filepath.Dir(rel), target)
	}
	return within(filepath.Clean(target), root.Path())
}

// disarmConfig comments out the lines of a git config that make git run a
// command (or read another file). ok is false when there is none.
func disarmConfig(text string) (string, bool) {
	lines := strings.SplitAfter(text, "\n")
	section, sub := "", ""
	changed, cont := false, false
	for i, line := range lines {
		body := strings.TrimSpace(line)
		if cont { // the continuation of a value commented out above
			cont = strings.HasSuffix(body, `\`)
			lines[i] = disarmed + line
			continue
		}
		if strings.HasPrefix(body, "[") {
			end := strings.IndexByte(body, ']')
			if end < 0 {
				continue
			}
			section, sub = parseSection(body[1:end])
			body = strings.TrimSpace(body[end+1:])
		}
		if body == "" || body[0] == '#' || body[0] == ';' {
			continue
		}
		key, value, _ := strings.Cut(body, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if runsCommand(section, sub, key, strings.TrimSpace(value)) {
			lines[i] = disarmed + line
			changed = true
			cont = strings.HasSuffix(body, `\`)
		}
	}
	return strings.Join(lines, ""), changed
}

// parseSection reads "name", `name "sub"` or the old "name.sub".
func parseSection(s string) (section, sub string) {
	s = strings.TrimSpace(s)
	if name, rest, ok := strings.Cut(s, " "); ok {
		return strings.ToLower(name), strings.Trim(strings.TrimSpace(rest), `"`)
	}
	name, rest, _ := strings.Cut(s, ".")
	return strings.ToLower(name), strings.ToLower(rest)
}

// runsCommand reports whether a config key makes git run a command, read
// another file, or enable a transport that does.
func runsCommand(section, sub, key, value string) bool {
	in := func(keys ...string) bool {
		for _, k := range keys {
			if k == key {
				return true
			}
		}
		return false
	}
	switch section {
	case "core":
		return in("fsmonitor", "hookspath", "sshcommand", "pager", "editor", "askpass", "gitproxy", "worktree")
	case "credential":
		return in("helper")
	case "diff":
		return in("external", "textconv", "command")
	case "difftool", "mergetool", "browser":
		return in("cmd", "path")
	case "merge":
		return in("driver")
	case "filter":
		return in("clean", "smudge", "process")
	case "gpg":
		return in("program")
	case "sequence":
		return in("editor")
	case "interactive":
		return in("difffilter")
	case "pager", "include", "includeif":
		return true
	case "alias":
		return strings.HasPrefix(strings.Trim(value, `"`), "!")
	case "uploadpack":
		return in("packobjectshook")
	case "remote":
		return in("uploadpack", "receivepack", "vcs")
	case "protocol":
		return in("allow")
	case "submodule":
		return in("update") && strings.HasPrefix(strings.Trim(value, `"`), "!")
	case "trailer":
		return in("command", "cmd")
	case "web":
		return in("browser")
	}
	return false
}
