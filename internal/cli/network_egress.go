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
	var ws, tool string
	var global bool
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
package registries are allowed already: 'ai-sandbox network list' shows them.

For all workspaces and agents (--global, the default), for one workspace
(--workspace PATH) or for one agent's sandboxes (--tool NAME; 'shell' is the
sandbox of plain commands).`,
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
			n := 0
			for _, set := range []bool{global, ws != "", tool != ""} {
				if set {
					n++
				}
			}
			if n > 1 {
				return ui.Usagef("--global, --workspace and --tool exclude each other: give one")
			}
			if tool != "" {
				if tool != "shell" {
					t, ok := deps.Tools.Lookup(tool)
					if !ok {
						return ui.Usagef("%q is not an agent ai-sandbox knows ('ai-sandbox tools' lists them; 'shell' is the sandbox of plain commands)", tool)
					}
					tool = t.Name
				}
				return changeAllowlist(deps, allow, "", tool, dedupe(rules))
			}
			key := ""
			if ws != "" {
				k, err := workspaceKey(deps, ws)
				if err != nil {
					return err
				}
				key = k
			}
			return changeAllowlist(deps, allow, key, "", dedupe(rules))
		},
	}
	cmd.Flags().StringVar(&ws, "workspace", "", "for the workspace (or project) at `PATH` only")
	cmd.Flags().StringVar(&tool, "tool", "", "for one agent's sandboxes only (`NAME`; shell: plain commands)")
	cmd.Flags().BoolVar(&global, "global", false, "for all workspaces and agents (the default)")
	return cmd
}

func changeAllowlist(deps *Deps, allow bool, ws, tool string, rules []string) error {
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	where := "all workspaces"
	switch {
	case ws != "":
		where = ws
	case tool != "":
		where = "the " + tool + " sandboxes"
	}
	var missing []string
	err = config.Update(p, func(c *config.Config) error {
		list := c.Egress.Allow
		switch {
		case ws != "":
			list = c.Egress.AllowIn[ws]
		case tool != "":
			list = c.Egress.AllowTools[tool]
		}
		list, missing = changeList(list, rules, allow)
		if len(missing) > 0 {
			return config.ErrNoChange
		}
		if tool != "" {
			if c.Egress.AllowTools == nil {
				c.Egress.AllowTools = map[string][]string{}
			}
			c.Egress.AllowTools[tool] = list
			if len(list) == 0 {
				delete(c.Egress.AllowTools, tool)
			}
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
				if ws != "" && !insideWorkspace(s.Workspace, ws) || tool != "" && s.Tool != tool {
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
	AllowTools map[string][]string `json:"allowTools"`
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
	l.AllowTools = cfg.Egress.AllowTools
	if l.AllowTools == nil {
		l.AllowTools = map[string][]string{}
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
	for _, t := range slices.Sorted(maps.Keys(l.AllowTools)) {
		fmt.Fprintf(w, "  allowed for %s: %s\n", t, strings.Join(l.AllowTools[t], ", "))
	}
	if len(l.Allow) == 0 && len(l.AllowIn) == 0 && len(l.AllowTools) == 0 {
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

// changeList adds items to a saved list or takes them off, on a copy;
// missing are those to take off that are not on it (then the caller
// changes nothing).
func changeList(list, items []string, add bool) (out, missing []string) {
	out = slices.Clone(list)
	for _, it := range items {
		has := slices.Contains(out, it)
		switch {
		case add && !has:
			out = append(out, it)
		case !add && has:
			out = slices.DeleteFunc(out, func(x string) bool { return x == it })
		case !add:
			missing = append(missing, it)
		}
	}
	return out, missing
}
