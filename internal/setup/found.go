package setup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

// reportFound says what an earlier setup (this one's or the original's)
// left in the state folder; all of it is used as it is.
func (s *wizard) reportFound() {
	p := s.deps.Paths
	if _, err := os.Stat(p.Root); err != nil {
		return
	}
	var facts []string
	if _, err := os.Stat(p.ConfigFile()); err == nil {
		facts = append(facts, fmt.Sprintf("config.json (version %d, %s)", s.cfg.Version, plural(len(s.cfg.Workspaces), "workspace")))
	}
	if legacy, err := config.ReadLegacyWorkspaces(p.LegacyWorkspaces()); err == nil && legacy != nil {
		facts = append(facts, fmt.Sprintf("the original's workspaces file (%s)", plural(len(legacy), "path")))
	}
	if _, err := os.Stat(p.EnvFile()); err == nil {
		facts = append(facts, fmt.Sprintf("an env file (%s)", plural(len(s.env.Keys()), "key")))
	}
	var homes []string
	if entries, err := os.ReadDir(p.ToolsDir()); err == nil {
		for _, e := range entries {
			if st, err := os.Stat(p.LegacyToolHome(e.Name())); err == nil && st.IsDir() {
				homes = append(homes, e.Name())
			}
		}
	}
	if len(homes) > 0 {
		facts = append(facts, "shared sandbox homes for "+strings.Join(homes, ", ")+" (their logins are taken over; each project now gets its own home)")
	}
	if st, err := os.Stat(filepath.Join(p.Root, "home")); err == nil && st.IsDir() {
		facts = append(facts, "the original's shared home/ (not used: each agent has its own home per project)")
	}
	if entries, err := os.ReadDir(p.OpencodeDBs()); err == nil {
		n := 0
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				n++
			}
		}
		if n > 0 {
			facts = append(facts, fmt.Sprintf("per-project OpenCode databases (%s)", plural(n, "project")))
		}
	}
	if len(facts) == 0 {
		return
	}
	st := s.deps.Streams
	st.Infof("found %s: %s", s.tilde(p.Root), strings.Join(facts, "; "))
	st.Infof("all of it is used as it is; setup changes only what you choose")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
