package setup

import (
	"os"
	"sort"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
)

// writeEnv edits ~/.ai-sandbox/env in place (mode 0600): the new keys
// replace their lines or are appended; comments and other keys stay. It
// creates the file, empty, when there is none. No value is ever printed.
func (s *wizard) writeEnv() error {
	path := s.deps.Paths.EnvFile()
	_, statErr := os.Stat(path)
	if err := envfile.Set(path, s.newKeys); err != nil {
		return err
	}
	var set []string
	for k, v := range s.newKeys {
		if old, ok := s.env.Lookup(k); !ok || old != v {
			set = append(set, k)
		}
	}
	sort.Strings(set)
	switch {
	case len(set) > 0:
		s.note("API keys", "%s (set %s)", s.tilde(path), strings.Join(set, ", "))
	case statErr != nil:
		s.note("API keys", "%s (created, empty: add KEY=value lines, or run setup again)", s.tilde(path))
	default:
		s.note("API keys", "%s (unchanged, %s)", s.tilde(path), plural(len(s.env.Keys()), "key"))
	}
	return nil
}
