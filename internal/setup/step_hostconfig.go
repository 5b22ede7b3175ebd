package setup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/logins"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
)

// ---- 5. host config and logins ---------------------------------------------

// loginFiles are a tool's login files, with the keys shared of each.
func loginFiles(t tools.Tool) []logins.File {
	var out []logins.File
	for _, rel := range t.LoginFiles {
		out = append(out, logins.File{Rel: rel, Keys: t.LoginKeys[rel]})
	}
	return out
}

// loginsToCopy lists the login files of tool that exist on the host and
// not yet in its login store.
func (s *wizard) loginsToCopy(tool string) []string {
	t, _ := s.deps.Tools.Lookup(tool)
	var out []string
	for _, f := range loginFiles(t) {
		src := filepath.Join(s.deps.Home, f.Rel)
		if st, err := os.Stat(src); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if logins.Has(s.deps.Paths.LoginStore(tool), f) {
			continue
		}
		out = append(out, f.Rel)
	}
	return out
}

func (s *wizard) currentShare(tool string) string {
	if m, ok := parseShareMode(s.cfg.Tools.HostConfig[tool]); ok {
		return m
	}
	return "off"
}

// stepHostConfig asks, per agent, whether to share its host config, each
// choice with its risk; and, when it is not shared, whether to copy its
// login for its sandboxes.
func (s *wizard) stepHostConfig(context.Context) error {
	for _, name := range s.toolNames {
		t, _ := s.deps.Tools.Lookup(name)
		if _, ok := s.hostConfig[name]; !ok {
			if !s.interactive {
				s.hostConfig[name] = s.currentShare(name)
			} else {
				var shown []string
				for _, rel := range t.HostConfig {
					mark := ""
					if _, err := os.Stat(filepath.Join(s.deps.Home, rel)); err != nil {
						mark = " (absent)"
					}
					shown = append(shown, "~/"+rel+mark)
				}
				desc := map[string]string{
					"off":        "its own home in each project (" + s.tilde(s.deps.Paths.ProjectsDir()) + "/<project>/homes/" + name + "); nothing of yours is shared (safest)",
					"read-only":  "the agent can read every credential and token kept in these files",
					"read-write": "the agent can also plant hooks or plugins that run on your machine the next time you use " + name + " outside the sandbox",
				}
				cur := map[string]string{"off": "off", "ro": "read-only", "rw": "read-write"}[s.currentShare(name)]
				ans, err := s.ask.Select(fmt.Sprintf("Share your %s config (%s) with its sandbox?", name, strings.Join(shown, ", ")),
					[]string{"off", "read-only", "read-write"}, cur, func(v string, _ int) string { return desc[v] })
				if err != nil {
					return err
				}
				s.hostConfig[name], _ = parseShareMode(ans)
			}
		}
		if s.hostConfig[name] != "off" || s.copyLogin[name] {
			continue
		}
		files := s.loginsToCopy(name)
		if len(files) == 0 || !s.interactive || s.o.changed("copy-login") {
			continue
		}
		var shown []string
		for _, f := range files {
			shown = append(shown, "~/"+f)
		}
		yes, err := s.ask.Confirm(fmt.Sprintf("Copy your %s login (%s) for its sandboxes (every project), so you need not log in again?", name, strings.Join(shown, ", ")), false)
		if err != nil {
			return err
		}
		s.copyLogin[name] = yes
	}
	return nil
}
