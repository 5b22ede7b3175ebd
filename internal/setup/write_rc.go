package setup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// executable is the path the aliases call: the running binary, by the
// name under which it is on $PATH when it is (so that a package manager's
// symlink survives upgrades), else its absolute path.
func (s *wizard) executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the running ai-sandbox binary: %w", err)
	}
	self, err := os.Stat(exe)
	if err != nil {
		return exe, nil
	}
	for _, dir := range filepath.SplitList(s.deps.Getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		cand := filepath.Join(dir, "ai-sandbox")
		if st, err := os.Stat(cand); err == nil && os.SameFile(self, st) {
			return cand, nil
		}
	}
	return exe, nil
}

// writeAliases puts the managed alias block into each chosen shell's rc
// file, replacing the one there (never a second one). A file that cannot
// be edited (a marker line missing, a read-only dotfile) does not stop
// the others: it is reported at the end.
func (s *wizard) writeAliases() error {
	st := s.deps.Streams
	if len(s.shells) == 0 {
		if s.o.noAliases {
			s.note("aliases", "none written (--no-aliases)")
		} else {
			s.note("aliases", "none written")
		}
		return nil
	}
	exe, err := s.executable()
	if err != nil {
		return err
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		st.Warnf("the aliases call %s, which looks temporary (go run?); install ai-sandbox and run setup again", exe)
	}
	aliases := s.aliases()
	names := s.aliasNames()
	for _, sh := range s.shells {
		rc := shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv)
		block, err := shellrc.Block(sh, exe, s.toolNames, aliases)
		if err != nil {
			return err
		}
		fail := func(err error, hint string) {
			s.note("aliases", "%s: not written (%v)", s.tilde(rc), err)
			s.failed = append(s.failed, ui.WithHint(fmt.Errorf("%s: %w", s.tilde(rc), err), hint))
		}
		content, existed, err := shellrc.ReadFile(rc)
		if err != nil {
			fail(err, "make it readable, or pass --shell for the other shells only")
			continue
		}
		out, changed, err := shellrc.Apply(content, block)
		if err != nil {
			fail(err, "fix or delete the ai-sandbox marker lines by hand, then run setup again")
			continue
		}
		s.reportConflicts(sh, rc, content, names)
		if changed {
			if err := shellrc.WriteFile(rc, out); err != nil {
				fail(err, "make it writable, or add the aliases yourself: see 'ai-sandbox setup --help'")
				continue
			}
			s.rcChanged = append(s.rcChanged, sh)
		}
		state := "unchanged"
		switch {
		case !existed:
			state = "created"
		case changed:
			state = "written"
		}
		s.note("aliases", "%s: %s (%s)", s.tilde(rc), strings.Join(names, ", "), state)
	}
	return nil
}

// reportConflicts warns about the user's own definitions of the names
// the block defines.
func (s *wizard) reportConflicts(sh shellrc.Shell, rc, content string, names []string) {
	st := s.deps.Streams
	for _, c := range shellrc.Conflicts(sh, content, names) {
		effect := "the ai-sandbox one, defined later, replaces it"
		if c.AfterBlock {
			effect = "it comes after the ai-sandbox block and replaces the ai-sandbox one"
		}
		st.Warnf("%s:%d already defines the %s %s; %s", s.tilde(rc), c.Line, c.Kind, c.Name, effect)
	}
	switch sh {
	case shellrc.Bash:
		// Debian's and Ubuntu's ~/.bashrc read ~/.bash_aliases early on.
		extra := filepath.Join(s.deps.Home, ".bash_aliases")
		if text, ok, _ := shellrc.ReadFile(extra); ok {
			for _, c := range shellrc.Conflicts(sh, text, names) {
				st.Warnf("%s:%d already defines the %s %s; the ai-sandbox one replaces it if %s reads that file before its block",
					s.tilde(extra), c.Line, c.Kind, c.Name, s.tilde(rc))
			}
		}
	case shellrc.Fish:
		dir := filepath.Join(filepath.Dir(rc), "functions")
		for _, n := range names {
			f := filepath.Join(dir, n+".fish")
			if _, err := os.Stat(f); err == nil {
				st.Warnf("%s defines the function %s; the ai-sandbox one in %s replaces it", s.tilde(f), n, s.tilde(rc))
			}
		}
	}
}

// removeAliases takes the managed block out of the rc files (of --shell,
// else of every shell) and does nothing else.
func (s *wizard) removeAliases() error {
	st := s.deps.Streams
	shells := parseShells(s.o.shells)
	if len(shells) == 0 {
		shells = shellrc.All()
	}
	removed := 0
	for _, sh := range shells {
		rc := shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv)
		content, existed, err := shellrc.ReadFile(rc)
		if err != nil {
			return fmt.Errorf("read %s: %w", rc, err)
		}
		if !existed {
			continue
		}
		out, changed, err := shellrc.Remove(content)
		if err != nil {
			return ui.WithHint(fmt.Errorf("%s: %w", s.tilde(rc), err), "fix or delete the ai-sandbox marker lines by hand")
		}
		if !changed {
			continue
		}
		if err := shellrc.WriteFile(rc, out); err != nil {
			return err
		}
		removed++
		fmt.Fprintf(st.Out, "removed the ai-sandbox aliases from %s\n", s.tilde(rc))
		st.Hintf("open a new %s, or run 'unalias' / 'functions -e' for them, to drop them from this one", sh)
	}
	if removed == 0 {
		st.Infof("no ai-sandbox alias block found; nothing removed")
	}
	return nil
}
