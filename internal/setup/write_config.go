package setup

import (
	"errors"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

// writeConfig records the host-config choices in config.json
// (tools.hostConfig). With nothing to change, the state folder is not
// even locked. Workspaces are recorded by their own step; the image's
// choices by the build.
func (s *wizard) writeConfig() error {
	var changes []string
	apply := func(c *config.Config) error {
		changes = nil
		for _, name := range slices.Sorted(maps.Keys(s.hostConfig)) {
			mode := s.hostConfig[name]
			cur, ok := parseShareMode(c.Tools.HostConfig[name])
			if !ok {
				cur = "off"
			}
			if cur == mode {
				continue
			}
			if c.Tools.HostConfig == nil {
				c.Tools.HostConfig = map[string]string{}
			}
			c.Tools.HostConfig[name] = mode
			changes = append(changes, name+"="+mode)
		}
		if len(changes) == 0 {
			return config.ErrNoChange
		}
		return nil
	}
	// A dry pass on a copy first.
	probe := *s.cfg
	probe.Tools.HostConfig = maps.Clone(s.cfg.Tools.HostConfig)
	if probe.Tools.HostConfig == nil {
		probe.Tools.HostConfig = map[string]string{}
	}
	p := s.deps.Paths
	if !errors.Is(apply(&probe), config.ErrNoChange) {
		if err := config.Update(p, apply); err != nil {
			return err
		}
	}
	var shared []string
	for _, name := range s.toolNames {
		if m := s.hostConfig[name]; m != "off" {
			shared = append(shared, name+" "+m)
		}
	}
	what := "host config shared: " + joinOrNone(shared)
	_, statErr := os.Stat(p.ConfigFile())
	switch {
	case len(changes) > 0:
		s.note("config", "%s (%s; set %s)", s.tilde(p.ConfigFile()), what, strings.Join(changes, ", "))
	case statErr != nil:
		s.note("config", "nothing to record yet (%s)", what)
	default:
		s.note("config", "%s (%s)", s.tilde(p.ConfigFile()), what)
	}
	for _, name := range s.toolNames {
		if s.hostConfig[name] == "rw" {
			s.deps.Streams.Warnf("%s shares your host config read-write: the agent can change what runs when you use %s outside the sandbox", name, name)
		}
	}
	return nil
}
