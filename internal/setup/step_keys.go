package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ---- 4. API keys ----------------------------------------------------------

// secretName tells keys whose values are secrets (asked hidden) from
// settings such as a base URL or a model name.
func secretName(k string) bool {
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH", "CREDENTIAL"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// toolKeys are the env-file keys of an agent: those it declares and
// those the user added for it in config.json.
func (s *wizard) toolKeys(name string) []string {
	t, _ := s.deps.Tools.Lookup(name)
	keys := append([]string{}, t.EnvKeys...)
	for _, k := range s.cfg.Tools.Env[name] {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// stepKeys takes the agents' keys from the environment (--keys-from-env)
// and, on a terminal, asks which to set and their values; each key is
// asked once, however many agents use it.
func (s *wizard) stepKeys(context.Context) error {
	s.newKeys = map[string]string{}
	if s.o.keysFromEnv {
		for _, name := range s.toolNames {
			for _, k := range s.toolKeys(name) {
				if v := s.deps.Getenv(k); v != "" {
					s.newKeys[k] = v
				}
			}
		}
	}
	if !s.interactive {
		return nil
	}
	asked := map[string]bool{}
	for _, name := range s.toolNames {
		var keys []string
		for _, k := range s.toolKeys(name) {
			if !asked[k] {
				keys = append(keys, k)
				asked[k] = true
			}
		}
		if len(keys) == 0 {
			continue
		}
		chosen, err := s.ask.MultiSelect(fmt.Sprintf("Keys for %s to set now (none: keep what is there):", name), keys, nil, func(k string, _ int) string {
			if _, ok := s.env.Lookup(k); ok {
				return "set in the env file"
			}
			if _, ok := s.newKeys[k]; ok {
				return "from this environment"
			}
			return ""
		})
		if err != nil {
			return err
		}
		for _, k := range chosen {
			var v string
			if secretName(k) {
				v, err = s.ask.Password(k+" (hidden; empty keeps the current value):", "")
			} else {
				cur, _ := s.env.Lookup(k)
				v, err = s.ask.Input(k+":", cur, "")
			}
			if err != nil {
				return err
			}
			if v = strings.TrimSpace(v); v != "" {
				s.newKeys[k] = v
			}
		}
	}
	return nil
}
