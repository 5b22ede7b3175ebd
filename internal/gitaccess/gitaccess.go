// Package gitaccess decides a project's git mode — off, fetch-only or
// full — from the per-workspace choices in config.json (the original's
// git.allowedWorkspaces and git.fetchOnlyWorkspaces keys, so that both
// programs read each other's choices), and changes them.
//
// A saved mode applies to the folder and everything under it; the most
// specific folder wins, and fetch-only wins over full for the same one.
package gitaccess

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// Mode is how much of the user's git credentials a sandbox may use.
type Mode string

const (
	// Off: no git credentials of any kind; git works on the local repository.
	Off Mode = "off"
	// FetchOnly: fetch, pull and clone through the relay; push is refused.
	FetchOnly Mode = "fetch-only"
	// Full: fetch and push through the relay.
	Full Mode = "full"
)

// Parse reads a mode's name (enable/disable are the original's words).
func Parse(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "off", "disable", "disabled", "no", "none":
		return Off, nil
	case "fetch-only", "fetch", "fetchonly", "read-only":
		return FetchOnly, nil
	case "full", "enable", "enabled", "yes", "on":
		return Full, nil
	}
	return "", fmt.Errorf("%q is not a git mode: off, fetch-only or full", s)
}

// Decision is a folder's mode and where it comes from.
type Decision struct {
	Mode Mode
	// Folder is the saved folder the mode comes from ("" when none is).
	Folder string
}

// Source says where the mode comes from, for messages.
func (d Decision) Source() string {
	if d.Folder == "" {
		return "the default"
	}
	return "saved for " + d.Folder
}

// For decides dir's mode (dir canonical).
func For(c *config.Config, dir string) Decision {
	best := Decision{Mode: Off}
	consider := func(list []string, m Mode) {
		for _, w := range list {
			w = canonical(w)
			if w != dir && !workspace.Within(dir, w) {
				continue
			}
			if len(w) > len(best.Folder) || (len(w) == len(best.Folder) && m == FetchOnly) {
				best = Decision{Mode: m, Folder: w}
			}
		}
	}
	consider(c.Git.AllowedWorkspaces, Full)
	consider(c.Git.FetchOnlyWorkspaces, FetchOnly)
	return best
}

// canonical resolves a saved folder's links (files written by hand or by
// the original may hold them).
func canonical(w string) string {
	if r, err := filepath.EvalSymlinks(w); err == nil {
		return r
	}
	return filepath.Clean(w)
}

// Set saves dir's mode: it is put in the list of its mode (and taken out
// of the other); off removes it from both, so that the default applies.
// Any mode set again takes writable hooks away (SetWritableHooks gives
// them).
func Set(c *config.Config, dir string, m Mode) {
	drop := func(list []string) []string {
		return slices.DeleteFunc(list, func(w string) bool { return canonical(w) == dir })
	}
	c.Git.AllowedWorkspaces = drop(c.Git.AllowedWorkspaces)
	c.Git.FetchOnlyWorkspaces = drop(c.Git.FetchOnlyWorkspaces)
	c.Git.WritableHooksWorkspaces = drop(c.Git.WritableHooksWorkspaces)
	switch m {
	case Full:
		c.Git.AllowedWorkspaces = append(c.Git.AllowedWorkspaces, dir)
	case FetchOnly:
		c.Git.FetchOnlyWorkspaces = append(c.Git.FetchOnlyWorkspaces, dir)
	}
}

// Saved lists every saved folder with its mode, sorted by folder.
func Saved(c *config.Config) []Decision {
	var out []Decision
	for _, w := range c.Git.AllowedWorkspaces {
		out = append(out, Decision{Mode: Full, Folder: w})
	}
	for _, w := range c.Git.FetchOnlyWorkspaces {
		out = append(out, Decision{Mode: FetchOnly, Folder: w})
	}
	slices.SortStableFunc(out, func(a, b Decision) int { return strings.Compare(a.Folder, b.Folder) })
	return out
}

// Choice is an answer of the launch's question (the original's five).
type Choice struct {
	Label string
	Mode  Mode
	Save  bool // for the workspace, from now on
}

// Choices are the question's answers, in the original's order; the third
// (no) is the default.
func Choices() []Choice {
	return []Choice{
		{"Yes, allow once", Full, false},
		{"Yes, always allow for this workspace", Full, true},
		{"No, keep git credentials out (secure default)", Off, false},
		{"Fetch only, allow once (no push)", FetchOnly, false},
		{"Fetch only, always for this workspace (no push)", FetchOnly, true},
	}
}

// SetWritableHooks lets full-mode sandboxes under dir write the project's
// .git/hooks (the user opts in: the host's git runs those hooks).
func SetWritableHooks(c *config.Config, dir string) {
	if !slices.ContainsFunc(c.Git.WritableHooksWorkspaces, func(w string) bool { return canonical(w) == dir }) {
		c.Git.WritableHooksWorkspaces = append(c.Git.WritableHooksWorkspaces, dir)
	}
}

// WritableHooks reports whether a sandbox of dir may write its project's
// .git/hooks: only in full mode, and only when the folder the full mode
// comes from (or one below it, above dir) was saved with writable hooks.
func WritableHooks(c *config.Config, dir string) bool {
	d := For(c, dir)
	if d.Mode != Full {
		return false
	}
	for _, w := range c.Git.WritableHooksWorkspaces {
		w = canonical(w)
		if (w == dir || workspace.Within(dir, w)) && (w == d.Folder || workspace.Within(w, d.Folder)) {
			return true
		}
	}
	return false
}
