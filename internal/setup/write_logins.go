package setup

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/logins"
)

// copyLogins copies the chosen login files into the tools' login stores
// (which every project's home of the tool is synced from): mode 0600,
// never over a file that is there; of a keyed file only its login keys.
func (s *wizard) copyLogins() error {
	p := s.deps.Paths
	for _, name := range slices.Sorted(maps.Keys(s.copyLogin)) {
		if !s.copyLogin[name] {
			continue
		}
		if s.hostConfig[name] != "" && s.hostConfig[name] != "off" {
			s.deps.Streams.Infof("%s shares its host config, so its login is there already; nothing copied", name)
			continue
		}
		files := s.loginsToCopy(name)
		if len(files) == 0 {
			s.note("logins", "%s: nothing to copy (no login file on this machine, or one is in the sandbox home already)", name)
			continue
		}
		t, _ := s.deps.Tools.Lookup(name)
		store := p.LoginStore(name)
		storeRel, _ := filepath.Rel(p.Root, store)
		if err := hostfs.New(p.Root).MkdirAll(storeRel, 0o700); err != nil {
			return err
		}
		for _, f := range loginFiles(t) {
			if !slices.Contains(files, f.Rel) {
				continue
			}
			src := filepath.Join(s.deps.Home, f.Rel)
			data, err := os.ReadFile(src)
			if err != nil {
				return fmt.Errorf("read %s: %w", src, err)
			}
			wrote, err := logins.Import(store, f, data)
			if err != nil {
				return err
			}
			if !wrote {
				continue
			}
			s.note("logins", "copied ~/%s to %s, shared by %s in every project", f.Rel, s.tilde(filepath.Join(store, f.Rel)), name)
		}
	}
	return nil
}
