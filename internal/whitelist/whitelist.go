// Package whitelist changes the list of workspaces in config.json (and
// the original's workspaces file, kept in step): a folder enters it only
// through the refusal rules of internal/workspace. 'workspace add', run's
// prompt and setup all add folders through Add.
package whitelist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// Add whitelists path through the refusal rules. A relative path is
// relative to the current folder (getwd); ~/ is home. It reports the
// canonical path and whether it was whitelisted already.
func Add(p config.Paths, home, path string, getwd func() (string, error)) (string, bool, error) {
	cwd := ""
	if !filepath.IsAbs(path) && !strings.HasPrefix(path, "~") {
		// Only a relative path needs the current folder (which may be gone).
		var err error
		if cwd, err = getwd(); err != nil {
			return "", false, fmt.Errorf("current folder: %w", err)
		}
	}
	canon, err := workspace.Canonical(path, home, cwd)
	if err != nil {
		return "", false, err
	}
	if err := workspace.Check(canon, home, p.Root); err != nil {
		return "", false, err
	}
	existed := false
	err = config.Update(p, func(c *config.Config) error {
		legacy, err := config.ReadLegacyWorkspaces(p.LegacyWorkspaces())
		if err != nil {
			return err
		}
		for _, w := range append(append([]string{}, c.Workspaces...), legacy...) {
			if w == canon {
				existed = true
				return config.ErrNoChange
			}
		}
		c.Workspaces = append(c.Workspaces, canon)
		// The original mounts from its own file: keep it in step.
		return config.AppendLegacyWorkspace(p, canon)
	})
	return canon, existed, err
}

// KeepOnly drops every whitelisted folder not in keep, from config.json
// and from the original's workspaces file.
func KeepOnly(p config.Paths, keep []string) error {
	return config.Update(p, func(c *config.Config) error {
		changed := false
		kept := []string{}
		for _, w := range c.Workspaces {
			if slices.Contains(keep, w) {
				kept = append(kept, w)
			} else {
				changed = true
			}
		}
		legacy, err := config.ReadLegacyWorkspaces(p.LegacyWorkspaces())
		if err != nil {
			return err
		}
		for _, w := range legacy {
			if !slices.Contains(keep, w) {
				if _, err := config.RemoveLegacyWorkspace(p, w); err != nil {
					return err
				}
			}
		}
		if !changed {
			return config.ErrNoChange
		}
		c.Workspaces = kept
		return nil
	})
}

// Missing is a folder that does not exist yet and that the rules would
// let in once it does.
type Missing struct {
	// Path is the folder as given, expanded (~ and relative paths).
	Path string
	// Target is where it will be: Path below its nearest existing folder,
	// with that folder's symbolic links resolved.
	Target string
}

// FindMissing tells whether path is a folder that does not exist yet.
// ok is false when something is there (a folder, a file, a dangling
// link: Add then says what is wrong with it). A folder that the rules
// refuse, or that could not be made because a file is in its way, is an
// error, so that nothing is created only to be refused.
func FindMissing(p config.Paths, home, path string, getwd func() (string, error)) (Missing, bool, error) {
	cwd := ""
	if !filepath.IsAbs(path) && !strings.HasPrefix(path, "~") {
		var err error
		if cwd, err = getwd(); err != nil {
			return Missing{}, false, fmt.Errorf("current folder: %w", err)
		}
	}
	abs, err := workspace.Expand(path, home, cwd)
	if err != nil {
		return Missing{}, false, err
	}
	// The nearest part of the path that is there (as a link, too).
	dir, rest := abs, []string{}
	for {
		_, err := os.Lstat(dir)
		if err == nil {
			break
		}
		// ENOTDIR: a file is on the way; it is found further up.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return Missing{}, false, fmt.Errorf("stat %s: %w", dir, err)
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
		dir = filepath.Dir(dir)
	}
	if len(rest) == 0 {
		return Missing{}, false, nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return Missing{}, false, fmt.Errorf("cannot create %s: resolve %s: %w", abs, dir, err)
	}
	if st, err := os.Stat(real); err != nil || !st.IsDir() {
		return Missing{}, false, fmt.Errorf("cannot create %s: %s is not a directory", abs, dir)
	}
	target := filepath.Join(append([]string{real}, rest...)...)
	if err := workspace.Check(target, home, p.Root); err != nil {
		return Missing{}, false, err
	}
	return Missing{Path: abs, Target: target}, true, nil
}

// Create makes the missing folder and its missing parents, mode 0755
// (less the umask), as the user running ai-sandbox.
func (m Missing) Create() error {
	if err := os.MkdirAll(m.Target, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", m.Path, err)
	}
	return nil
}
