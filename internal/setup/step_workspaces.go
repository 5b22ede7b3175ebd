package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/whitelist"
)

// ---- 2. workspaces --------------------------------------------------------

// notCreated is a folder that does not exist and that the user did not
// have created.
type notCreated struct{ m whitelist.Missing }

func (e *notCreated) Error() string { return e.m.Path + " does not exist" }

// askError is a question that could not be asked or was interrupted: it
// ends the step, whatever folder it was about.
type askError struct{ err error }

func (e *askError) Error() string { return e.err.Error() }
func (e *askError) Unwrap() error { return e.err }

// addWorkspace whitelists w through the 'workspace add' rules. A folder
// that does not exist yet (and that the rules would let in) is created
// with --create-workspace, or when the user says so on a terminal.
func (s *wizard) addWorkspace(w string, created map[string]bool) (string, bool, error) {
	d := s.deps
	m, isMissing, err := whitelist.FindMissing(d.Paths, d.Home, w, d.Getwd)
	if err != nil {
		return "", false, err
	}
	if isMissing {
		create := s.o.createWS
		if !create && s.interactive {
			if create, err = s.ask.Confirm(m.Path+" does not exist. Create it?", true); err != nil {
				return "", false, &askError{err}
			}
		}
		if !create {
			return "", false, &notCreated{m}
		}
		if err := m.Create(); err != nil {
			return "", false, err
		}
		d.Streams.Infof("created %s", m.Path)
	}
	canon, existed, err := whitelist.Add(d.Paths, d.Home, w, d.Getwd)
	if err == nil && isMissing {
		created[canon] = true
	}
	return canon, existed, err
}

func (s *wizard) stepWorkspaces(context.Context) error {
	st := s.deps.Streams
	existing := append([]string(nil), s.cfg.Workspaces...)
	var added []string
	created := map[string]bool{}
	if !s.interactive || s.o.changed("workspace") {
		if !s.o.changed("workspace") {
			s.note("workspaces", "%s", describeWorkspaces(existing, nil, nil, "none whitelisted yet; add one with 'ai-sandbox workspace add PATH'"))
			return nil
		}
		for _, w := range s.o.workspaces {
			canon, existed, err := s.addWorkspace(w, created)
			var nc *notCreated
			var ae *askError
			switch {
			case errors.As(err, &ae):
				return ae.err
			case errors.As(err, &nc):
				return ui.WithHint(fmt.Errorf("--workspace %s: %w", w, err),
					"pass --create-workspace to have setup create it, or create it first: mkdir -p "+shellrc.ShQuote(nc.m.Path))
			case err != nil:
				return ui.WithHint(fmt.Errorf("--workspace %s: %w", w, err), "see 'ai-sandbox workspace --help' for the rules")
			}
			if !existed {
				st.Infof("whitelisted %s", canon)
			}
			if !slices.Contains(added, canon) {
				added = append(added, canon)
			}
		}
		if s.o.replaceWS {
			if err := s.keepOnlyWorkspaces(added); err != nil {
				return err
			}
			existing = kept(existing, added)
		}
		s.note("workspaces", "%s", describeWorkspaces(existing, added, created, "none"))
		return nil
	}

	mode := "add"
	if len(existing) > 0 {
		fmt.Fprintln(st.Err, "Whitelisted workspaces:")
		for _, w := range existing {
			mark := ""
			if _, err := os.Stat(w); err != nil {
				mark = "  (missing)"
			}
			fmt.Fprintf(st.Err, "  %s%s\n", w, mark)
		}
		var err error
		mode, err = s.ask.Select("Workspaces:", []string{"keep", "add", "replace"}, "keep", func(v string, _ int) string {
			return map[string]string{"keep": "keep this list", "add": "add folders to it", "replace": "replace it with new folders"}[v]
		})
		if err != nil {
			return err
		}
	}
	if mode != "keep" {
		msg := "Folders to whitelist (comma-separated, empty for none):"
		for {
			answer, err := s.ask.Input(msg, "", "e.g. ~/projects, ~/code. A sandbox starts only inside a whitelisted folder; one that does not exist yet can be created. Refused: /, your home, credential and system folders.")
			if err != nil {
				return err
			}
			var refused []string
			for _, w := range splitComma(answer) {
				canon, _, err := s.addWorkspace(w, created)
				var nc *notCreated
				var ae *askError
				switch {
				case errors.As(err, &ae):
					return ae.err
				case errors.As(err, &nc):
					// Said no to creating it: ask again, without a warning.
					refused = append(refused, w)
					continue
				case err != nil:
					st.Warnf("%v", err)
					refused = append(refused, w)
					continue
				}
				st.Infof("whitelisted %s", canon)
				if !slices.Contains(added, canon) {
					added = append(added, canon)
				}
			}
			if len(refused) == 0 {
				break
			}
			msg = "Other folders instead of " + strings.Join(refused, ", ") + " (empty for none):"
		}
		if mode == "replace" {
			if err := s.keepOnlyWorkspaces(added); err != nil {
				return err
			}
			existing = kept(existing, added)
		}
	}
	s.note("workspaces", "%s", describeWorkspaces(existing, added, created, "none whitelisted; add one with 'ai-sandbox workspace add PATH'"))
	return nil
}

// keepOnlyWorkspaces drops every whitelisted folder not in keep, then
// reads the configuration again.
func (s *wizard) keepOnlyWorkspaces(keep []string) error {
	if err := whitelist.KeepOnly(s.deps.Paths, keep); err != nil {
		return err
	}
	var err error
	s.cfg, err = s.loadConfig()
	return err
}

// kept is the part of old that is in keep.
func kept(old, keep []string) []string {
	var out []string
	for _, w := range old {
		if slices.Contains(keep, w) {
			out = append(out, w)
		}
	}
	return out
}

func describeWorkspaces(existing, added []string, created map[string]bool, none string) string {
	var parts []string
	for _, w := range existing {
		if !slices.Contains(added, w) {
			parts = append(parts, w)
		}
	}
	for _, w := range added {
		switch {
		case slices.Contains(existing, w):
			parts = append(parts, w)
		case created[w]:
			parts = append(parts, w+" (created, added)")
		default:
			parts = append(parts, w+" (added)")
		}
	}
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, ", ")
}

// splitComma splits a comma-separated answer, dropping empty entries.
func splitComma(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
