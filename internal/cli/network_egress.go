package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// newCmdNetworkAllow adds hosts to (allow) or takes them off (deny) the
// user's allowlist, for all workspaces or one; the running sandboxes'
// proxies take the change at once.
func newCmdNetworkAllow(deps *Deps, allow bool) *cobra.Command {
	var ws string
	use, short := "allow HOST[:PORT]...", "Let sandboxes reach more hosts under the allowlist policy (at once, running ones too)"
	if !allow {
		use, short = "deny HOST[:PORT]...", "Take hosts off your allowlist (at once, running sandboxes too)"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

A host is a name (api.example.com), *.domain for every name under a domain,
or an address; without :PORT it is allowed on 443 and 80. A private, loopback
or link-local address (a local model server, a service on your host) is
reached only when HOST:PORT names it exactly. Each agent's own hosts and the
package registries are allowed already: 'ai-sandbox network list' shows them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rules []string
			for _, a := range args {
				for _, h := range splitComma(a) {
					r, err := egress.ParseRule(h)
					if err != nil {
						return &ui.UsageError{Err: err}
					}
					rules = append(rules, r.String())
				}
			}
			key := ""
			if ws != "" {
				k, err := workspaceKey(deps, ws)
				if err != nil {
					return err
				}
				key = k
			}
			return changeAllowlist(deps, allow, key, dedupe(rules))
		},
	}
	cmd.Flags().StringVar(&ws, "workspace", "", "for the workspace (or project) at `PATH` only")
	return cmd
}

func changeAllowlist(deps *Deps, allow bool, ws string, rules []string) error {
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	where := "all workspaces"
	if ws != "" {
		where = ws
	}
	var missing []string
	err = config.Update(p, func(c *config.Config) error {
		list := c.Egress.Allow
		if ws != "" {
			list = c.Egress.AllowIn[ws]
		}
		for _, r := range rules {
			has := slices.Contains(list, r)
			switch {
			case allow && !has:
				list = append(list, r)
			case !allow && has:
				list = slices.DeleteFunc(list, func(x string) bool { return x == r })
			case !allow:
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return nil
		}
		if ws == "" {
			c.Egress.Allow = list
			return nil
		}
		if c.Egress.AllowIn == nil {
			c.Egress.AllowIn = map[string][]string{}
		}
		c.Egress.AllowIn[ws] = list
		if len(list) == 0 {
			delete(c.Egress.AllowIn, ws)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return ui.WithHint(fmt.Errorf("not on your allowlist for %s: %s", where, strings.Join(missing, ", ")),
			"'ai-sandbox network list' shows what is allowed where (an agent's own hosts and the registries cannot be taken off; --egress none cuts a sandbox off)")
	}
	// The running sandboxes of that scope, through their proxy.
	store := sandbox.EgressStore(p.Root)
	if _, err := store.Root.Lstat(egress.ConfDir); err == nil {
		if err := store.Update(func(c *egress.Config) {
			for i := range c.Sandboxes {
				s := &c.Sandboxes[i]
				if ws != "" && !insideWorkspace(s.Workspace, ws) {
					continue
				}
				for _, r := range rules {
					if allow && !slices.Contains(s.Allow, r) {
						s.Allow = append(s.Allow, r)
					} else if !allow {
						s.Allow = slices.DeleteFunc(s.Allow, func(x string) bool { return x == r })
					}
				}
			}
		}); err != nil {
			return err
		}
	}
	verb := "allowed"
	if !allow {
		verb = "no longer allowed"
	}
	deps.Streams.Infof("%s for %s: %s (running sandboxes too)", verb, where, strings.Join(rules, ", "))
	return nil
}

// insideWorkspace reports whether a sandbox's workspace is ws or lies in it.
func insideWorkspace(sandboxWS, ws string) bool {
	return sandboxWS == ws || strings.HasPrefix(sandboxWS, strings.TrimSuffix(ws, "/")+"/")
}

// egressList is what 'network list' shows of the egress policy.
type egressList struct {
	Policy     string              `json:"policy"`
	Workspaces map[string]string   `json:"workspaces"`
	Allow      []string            `json:"allow"`
	AllowIn    map[string][]string `json:"allowWorkspaces"`
	Common     []string            `json:"common"`
	Agents     map[string][]string `json:"agents"`
}

func egressListing(deps *Deps, cfg *config.Config) (egressList, error) {
	r, err := config.Resolve(cfg.Settings, deps.Getenv, nil)
	if err != nil {
		return egressList{}, err
	}
	l := egressList{Policy: string(r.Egress), Workspaces: cfg.Egress.Workspaces, Allow: cfg.Egress.Allow, AllowIn: cfg.Egress.AllowIn,
		Common: tools.CommonHosts, Agents: map[string][]string{}}
	if l.Workspaces == nil {
		l.Workspaces = map[string]string{}
	}
	if l.Allow == nil {
		l.Allow = []string{}
	}
	if l.AllowIn == nil {
		l.AllowIn = map[string][]string{}
	}
	for _, t := range deps.Tools.All() {
		l.Agents[t.Name] = t.EgressHosts()
	}
	return l, nil
}

func printEgress(deps *Deps, l egressList) {
	w := deps.Streams.Out
	fmt.Fprintf(w, "egress: %s", l.Policy)
	for _, ws := range slices.Sorted(maps.Keys(l.Workspaces)) {
		fmt.Fprintf(w, "; %s: %s", ws, l.Workspaces[ws])
	}
	fmt.Fprintln(w)
	if len(l.Allow) > 0 {
		fmt.Fprintf(w, "  allowed for all workspaces: %s\n", strings.Join(l.Allow, ", "))
	}
	for _, ws := range slices.Sorted(maps.Keys(l.AllowIn)) {
		fmt.Fprintf(w, "  allowed in %s: %s\n", ws, strings.Join(l.AllowIn[ws], ", "))
	}
	if len(l.Allow) == 0 && len(l.AllowIn) == 0 {
		fmt.Fprintln(w, "  allowed by you: nothing yet ('ai-sandbox network allow HOST[:PORT]')")
	}
	fmt.Fprintf(w, "  allowed for every sandbox: %s\n", strings.Join(l.Common, ", "))
	fmt.Fprintln(w, "  and each agent's own hosts ('ai-sandbox network list --json' lists them)")
}

// shownBlocked bounds the hosts listed per sandbox after a session and in
// ps.
const shownBlocked = 5

// reportBlocked prints the hosts the proxy refused, the most frequent
// first, each with the one command that allows it.
func reportBlocked(s ui.Streams, prefix string, list []egress.Blocked) {
	for i, b := range list {
		if i == shownBlocked {
			s.Infof("%sblocked: %d more hosts ('ai-sandbox ps --json' lists them all)", prefix, len(list)-shownBlocked)
			return
		}
		s.Infof("%sblocked: %s — allow with '%s'", prefix, b, b.Hint())
	}
}
