package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
)

// ---- 6. aliases -----------------------------------------------------------

// stepShells chooses the shells whose rc file gets the alias block: the
// --shell ones, else the detected ones (asked on a terminal).
func (s *wizard) stepShells(context.Context) error {
	o := s.o
	if o.noAliases {
		return nil
	}
	if o.changed("shell") {
		s.shells = parseShells(o.shells)
		return nil
	}
	detected := shellrc.Detect(s.deps.Home, s.deps.Getenv)
	if !s.interactive {
		s.shells = detected
		if len(s.shells) == 0 {
			s.deps.Streams.Warnf("no shell detected ($SHELL is not bash, zsh or fish, and none of their rc files exists); no aliases written")
			s.deps.Streams.Hintf("pass --shell bash|zsh|fish")
		}
		return nil
	}
	var names []string
	for _, sh := range shellrc.All() {
		names = append(names, string(sh))
	}
	var def []string
	for _, sh := range detected {
		def = append(def, string(sh))
	}
	chosen, err := s.ask.MultiSelect(fmt.Sprintf("Write the aliases (%s) for:", strings.Join(s.aliasNames(), ", ")), names, def, func(v string, _ int) string {
		return s.tilde(shellrc.RCFile(shellrc.Shell(v), s.deps.Home, s.deps.Getenv))
	})
	if err != nil {
		return err
	}
	s.shells = parseShells(chosen)
	return nil
}

func parseShells(in []string) []shellrc.Shell {
	var out []shellrc.Shell
	for _, n := range in {
		if sh, ok := shellrc.Parse(n); ok && !slices.Contains(out, sh) {
			out = append(out, sh)
		}
	}
	return out
}

// aliases are one per agent (its name, and its binary when that differs),
// plus ai-run.
func (s *wizard) aliases() []shellrc.Alias {
	var out []shellrc.Alias
	seen := map[string]bool{}
	for _, name := range s.toolNames {
		t, _ := s.deps.Tools.Lookup(name)
		for _, n := range []string{t.Name, t.Binary} {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, shellrc.Alias{Name: n, Args: []string{"run", t.Name}})
			}
		}
	}
	return append(out, shellrc.Alias{Name: "ai-run", Args: []string{"run"}})
}

func (s *wizard) aliasNames() []string {
	var out []string
	for _, a := range s.aliases() {
		out = append(out, a.Name)
	}
	return out
}
