package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

func NewCmdNetwork(deps *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "network",
		Aliases: []string{"networks"},
		Short:   "What sandboxes may reach: the egress allowlist, and the docker networks they join",
		Long: `Sandboxes join the docker networks named with --network (or AI_SANDBOX_NETWORK)
for one run, or the saved ones when neither is given: those saved for the
current folder, the project or the workspace (networks.workspaces in
config.json), else those saved for all workspaces (networks.global).

Joining a network lets the agent reach its containers by name (a database,
an API, an MCP server) and them reach the sandbox. A sandbox's networks are
fixed when it starts.

  ai-sandbox network add mynet                      all workspaces
  ai-sandbox network add db --workspace ~/projects  one workspace
  ai-sandbox network remove mynet
  ai-sandbox run --network db,cache opencode        one run; opencode --network db too
  ai-sandbox run -n opencode                        pick on a terminal, and maybe save

Egress: under the allowlist policy (the default; --egress, AI_SANDBOX_EGRESS,
settings.egress or egress.workspaces in config.json), a sandbox sits on an
internal network of its own and reaches only its agent's hosts, the package
registries and the hosts you allow, through a proxy; a refused connection
names the command that allows it. Joining a docker network opens the
sandbox's egress: where nobody chose the allowlist the launch runs open, with
a warning; under an allowlist you chose it is refused.

  ai-sandbox network allow api.example.com          all workspaces, at once
  ai-sandbox network allow '*.example.com' --workspace ~/projects
  ai-sandbox network allow api.example.com --tool claude   one agent's sandboxes
  ai-sandbox network allow 192.168.1.20:11434       a local model server (exactly)
  ai-sandbox network deny api.example.com`,
	}
	cmd.AddCommand(newCmdNetworkList(deps), newCmdNetworkChange(deps, true), newCmdNetworkChange(deps, false),
		newCmdNetworkAllow(deps, true), newCmdNetworkAllow(deps, false))
	return cmd
}

type networkList struct {
	Global     []string            `json:"global"`
	Workspaces map[string][]string `json:"workspaces"`
	// Available are the engine's networks (without docker's own), when it answers.
	Available []string `json:"available,omitempty"`
	// Egress is the egress policy and the allowlists.
	Egress egressList `json:"egress"`
}

func newCmdNetworkList(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the saved networks, and the engine's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := deps.LoadConfig()
			if err != nil {
				return err
			}
			l := networkList{Global: cfg.Networks.Global, Workspaces: cfg.Networks.Workspaces}
			if l.Global == nil {
				l.Global = []string{}
			}
			if l.Workspaces == nil {
				l.Workspaces = map[string][]string{}
			}
			l.Egress, err = egressListing(deps, cfg)
			if err != nil {
				return err
			}
			m := &sandbox.Manager{Docker: deps.Docker(), Runner: deps.Runner, Streams: deps.Streams}
			engine, engineErr := m.Networks(cmd.Context())
			for _, n := range engine {
				l.Available = append(l.Available, n.Name)
			}
			if asJSON {
				enc := json.NewEncoder(deps.Streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(l)
			}
			printEgress(deps, l.Egress)
			printNetworks(deps, l, engine, engineErr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printNetworks(deps *Deps, l networkList, engine []sandbox.Network, engineErr error) {
	w := deps.Streams.Out
	mark := func(names []string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = n
			if engineErr == nil && !slices.Contains(l.Available, n) {
				out[i] += " (missing: docker network create " + n + ")"
			}
		}
		return strings.Join(out, ", ")
	}
	if len(l.Global) == 0 && len(l.Workspaces) == 0 {
		fmt.Fprintln(w, "saved: none (sandboxes join no network unless --network NAME or AI_SANDBOX_NETWORK is given)")
	}
	if len(l.Global) > 0 {
		fmt.Fprintf(w, "all workspaces: %s\n", mark(l.Global))
	}
	for _, ws := range slices.Sorted(maps.Keys(l.Workspaces)) {
		fmt.Fprintf(w, "%s: %s\n", ws, mark(l.Workspaces[ws]))
	}
	if engineErr != nil {
		deps.Streams.Warnf("the engine's networks are not listed: %v", engineErr)
		return
	}
	if len(engine) == 0 {
		fmt.Fprintln(w, "in docker: no networks besides docker's own (docker network create NAME makes one)")
		return
	}
	fmt.Fprintln(w, "in docker:")
	for _, n := range engine {
		line := "  " + n.Name
		if n.Compose != "" {
			line += " (compose project " + n.Compose + ")"
		}
		if len(n.Containers) > 0 {
			line += " — " + strings.Join(n.Containers, ", ")
		}
		fmt.Fprintln(w, line)
	}
}

// networkName is what docker accepts as a network's name.
var networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func newCmdNetworkChange(deps *Deps, add bool) *cobra.Command {
	var global bool
	var ws string
	use, short := "add NAME[,NAME]...", "Save networks for all workspaces (default) or one"
	if !add {
		use, short = "remove NAME[,NAME]...", "Forget saved networks, for all workspaces (default) or one"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if global && ws != "" {
				return ui.Usagef("--global and --workspace exclude each other")
			}
			var names []string
			for _, a := range args {
				for _, n := range splitComma(a) {
					if !networkName.MatchString(n) {
						return ui.Usagef("%q is not a docker network name (letters, digits, _ . -)", n)
					}
					names = append(names, n)
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
			return changeNetworks(cmd.Context(), deps, add, key, dedupe(names))
		},
	}
	cmd.Flags().BoolVar(&global, "global", false, "for all workspaces (the default)")
	cmd.Flags().StringVar(&ws, "workspace", "", "for the workspace (or project) at `PATH` only")
	return cmd
}

// workspaceKey is the canonical path networks are saved under.
func workspaceKey(deps *Deps, path string) (string, error) {
	cwd, err := deps.Getwd()
	if err != nil {
		return "", err
	}
	abs, err := workspace.Expand(path, deps.Home, cwd)
	if err != nil {
		return "", &ui.UsageError{Err: fmt.Errorf("--workspace %q: %w", path, err)}
	}
	canon, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("--workspace %q: %s does not exist", path, abs)
	}
	return canon, nil
}

func changeNetworks(ctx context.Context, deps *Deps, add bool, ws string, names []string) error {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	where := "all workspaces"
	if ws != "" {
		where = ws
	}
	var missing, after []string
	err = config.Update(p, func(c *config.Config) error {
		list := c.Networks.Global
		if ws != "" {
			list = c.Networks.Workspaces[ws]
		}
		list, missing = changeList(list, names, add)
		if len(missing) > 0 {
			return config.ErrNoChange
		}
		if ws == "" {
			c.Networks.Global = list
		} else {
			if c.Networks.Workspaces == nil {
				c.Networks.Workspaces = map[string][]string{}
			}
			c.Networks.Workspaces[ws] = list
			if len(list) == 0 {
				delete(c.Networks.Workspaces, ws)
			}
		}
		after = list
		return nil
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return ui.WithHint(fmt.Errorf("not saved for %s: %s", where, strings.Join(missing, ", ")), "'ai-sandbox network list' shows what is saved where")
	}
	if len(after) == 0 {
		s.Infof("no networks are saved for %s now", where)
	} else {
		s.Infof("sandboxes in %s join %s when no --network is given", where, strings.Join(after, ", "))
	}
	if add {
		m := &sandbox.Manager{Docker: deps.Docker(), Runner: deps.Runner, Streams: s}
		if engine, err := m.Networks(ctx); err == nil {
			for _, n := range names {
				if !slices.ContainsFunc(engine, func(e sandbox.Network) bool { return e.Name == n }) {
					s.Warnf("docker has no network %s yet: a launch fails until it exists (docker network create %s)", n, n)
				}
			}
		}
	}
	return nil
}
