// Package workspace decides which folders may be given to a sandbox: it
// makes paths canonical, refuses dangerous ones, and matches a folder to
// the whitelist by whole path segments.
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// RefusedError says why a path may not be whitelisted or mounted.
type RefusedError struct {
	Path   string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refusing %s: %s", e.Path, e.Reason)
}

// Expand turns ~ and relative paths into an absolute, cleaned path
// without touching the file system.
func Expand(path, home, cwd string) (string, error) {
	if path == "" {
		return "", errors.New("empty path")
	}
	switch {
	case path == "~":
		path = home
	case strings.HasPrefix(path, "~/"):
		path = filepath.Join(home, path[2:])
	case strings.HasPrefix(path, "~"):
		return "", fmt.Errorf("%s: ~user paths are not supported; write the full path", path)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(cwd, path)
	}
	return filepath.Clean(path), nil
}

// Canonical returns the absolute, symlink-free form of an existing
// directory. A missing path or a file is an error.
func Canonical(path, home, cwd string) (string, error) {
	abs, err := Expand(path, home, cwd)
	if err != nil {
		return "", err
	}
	if err := checkChars(abs); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s does not exist", abs)
	}
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", abs, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", real, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s is not a directory", real)
	}
	return real, nil
}

// checkChars refuses control characters: a newline or tab in a path
// cannot be shown or stored unambiguously.
func checkChars(p string) error {
	for _, r := range p {
		if unicode.IsControl(r) {
			return &RefusedError{Path: fmt.Sprintf("%q", p), Reason: "the path contains a control character (newline, tab, …)"}
		}
	}
	return nil
}

// credentialDirs are folders under the home that hold secrets or the
// configuration of tools that do; none of them, nor anything inside
// them, may be whitelisted.
var credentialDirs = []string{
	".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gh",
	".config/gcloud", ".config/op", ".password-store", ".local/share/keyrings",
	".pki", ".terraform.d", ".ai-sandbox", ".netrc", ".git-credentials",
	".npmrc", ".pypirc", ".vault-token", ".config/hub",
	// Agents' own config and credentials.
	".claude", ".codex", ".gemini", ".qwen", ".factory", ".copilot", ".cursor",
	".config/opencode", ".local/share/opencode", ".config/kilo", ".local/share/kilo",
	".config/amp", ".local/share/amp", ".config/goose", ".config/crush", ".aider",
	".config/cursor", ".mozilla", ".config/google-chrome", ".config/chromium",
}

// systemDirs may not be whitelisted, nor anything inside them.
var systemDirs = []string{"/proc", "/sys", "/dev", "/boot", "/etc", "/run", "/var/run", "/var/lib/docker"}

// Check refuses a canonical path that must never be handed to a sandbox:
// the root, the home or any folder above it, credential folders and
// anything inside them, and system folders. stateRoot is the ai-sandbox
// state folder (refused wherever it lives).
func Check(path, home, stateRoot string) error {
	if err := checkChars(path); err != nil {
		return err
	}
	p := filepath.Clean(path)
	if p == "/" {
		return &RefusedError{Path: p, Reason: "it is the root of the file system"}
	}
	if home != "" {
		h := canonicalOrClean(home)
		if p == h {
			return &RefusedError{Path: p, Reason: "it is your home folder, which holds your keys and tokens; whitelist a project folder inside it"}
		}
		if Within(h, p) {
			return &RefusedError{Path: p, Reason: "it contains your home folder"}
		}
		for _, d := range credentialDirs {
			cd := filepath.Join(h, d)
			if p == cd || Within(p, cd) {
				return &RefusedError{Path: p, Reason: fmt.Sprintf("~/%s holds credentials or agent configuration", d)}
			}
		}
	}
	if stateRoot != "" {
		sr := canonicalOrClean(stateRoot)
		if p == sr || Within(p, sr) || Within(sr, p) {
			return &RefusedError{Path: p, Reason: "it holds the ai-sandbox state folder (keys and sandbox homes)"}
		}
	}
	for _, d := range systemDirs {
		sd := canonicalOrClean(d)
		if p == sd || Within(p, sd) || p == d || Within(p, d) {
			return &RefusedError{Path: p, Reason: "it is a system folder"}
		}
		if Within(sd, p) {
			return &RefusedError{Path: p, Reason: fmt.Sprintf("it contains the system folder %s", d)}
		}
	}
	return nil
}

func canonicalOrClean(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// Within reports whether path lies strictly inside dir, comparing whole
// path segments: /home/u/app2 is not within /home/u/app.
func Within(path, dir string) bool {
	path, dir = filepath.Clean(path), filepath.Clean(dir)
	if dir == "/" {
		return path != "/"
	}
	return strings.HasPrefix(path, dir+"/")
}

// Match returns the whitelisted workspace that contains dir (or is dir),
// choosing the deepest one when several do. Entries are compared after
// cleaning; they are expected to be canonical already.
func Match(workspaces []string, dir string) (string, bool) {
	best := ""
	for _, w := range workspaces {
		w = filepath.Clean(w)
		if dir == w || Within(dir, w) {
			if len(w) > len(best) {
				best = w
			}
		}
	}
	return best, best != ""
}
