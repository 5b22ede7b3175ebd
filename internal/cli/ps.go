package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

type psEntry struct {
	Name          string    `json:"name"`
	Tool          string    `json:"tool"`
	Project       string    `json:"project"`
	Path          string    `json:"path"`
	Owner         string    `json:"owner"`
	Sessions      int       `json:"sessions"`
	Started       time.Time `json:"started"`
	UptimeSeconds int64     `json:"uptimeSeconds"`
	// Blocked are the hosts its egress proxy refused since it started.
	Blocked []egress.Blocked `json:"blocked"`
}

func (d *Deps) manager() *sandbox.Manager {
	return &sandbox.Manager{Docker: d.Docker(), Runner: d.Runner, Streams: d.Streams, Debug: d.Getenv("AI_RUN_DEBUG") == "1"}
}

// ownerFilter limits a listing to the caller's own sandboxes, unless
// allUsers.
func ownerFilter(deps *Deps, allUsers bool) []string {
	if allUsers {
		return nil
	}
	return []string{"label=" + sandbox.LabelOwner + "=" + strconv.Itoa(deps.UID)}
}

// withBlocked fills in what the egress proxy refused each sandbox.
func withBlocked(deps *Deps, list []psEntry) {
	p, err := deps.Paths()
	if err != nil {
		return
	}
	store := sandbox.EgressStore(p.Root)
	for i := range list {
		list[i].Blocked = store.Blocked(list[i].Name, list[i].Started)
	}
}

func listSandboxes(ctx context.Context, m *sandbox.Manager, withSessions bool, filters ...string) ([]psEntry, error) {
	list, err := m.List(ctx, filters...)
	if err != nil {
		return nil, err
	}
	var out []psEntry
	for _, c := range list {
		e := psEntry{Name: c.Name, Tool: c.Tool, Project: c.Project, Path: c.Path, Owner: c.Owner, Started: c.Created}
		if !c.Created.IsZero() {
			e.UptimeSeconds = int64(time.Since(c.Created).Seconds())
		}
		if withSessions {
			if n, err := m.Sessions(ctx, e.Name); err == nil {
				e.Sessions = n
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func NewCmdPs(deps *Deps) *cobra.Command {
	var asJSON, allUsers bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List your running sandboxes",
		Long: `List your running sandboxes: tool, project, path, attached sessions and
uptime. Below the table, the hosts each sandbox's egress proxy refused since
it started, with the command that allows each ('ai-sandbox network allow
HOST'). Sandboxes of other users of the same Docker engine are left out;
--all-users shows them too (their owner's uid is in the JSON).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := listSandboxes(cmd.Context(), deps.manager(), true, ownerFilter(deps, allUsers)...)
			if err != nil {
				return err
			}
			out := deps.Streams.Out
			withBlocked(deps, list)
			if asJSON {
				if list == nil {
					list = []psEntry{}
				}
				for i := range list {
					if list[i].Blocked == nil {
						list[i].Blocked = []egress.Blocked{}
					}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			if len(list) == 0 {
				deps.Streams.Infof("no sandbox is running")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			head := "TOOL\tPROJECT\tSESSIONS\tUPTIME\tPATH"
			if allUsers {
				head = "OWNER\t" + head
			}
			fmt.Fprintln(tw, head)
			for _, e := range list {
				if allUsers {
					fmt.Fprintf(tw, "%s\t", e.Owner)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.Tool, e.Project, e.Sessions,
					(time.Duration(e.UptimeSeconds) * time.Second).String(), e.Path)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, e := range list {
				reportBlocked(deps.Streams, e.Tool+" in "+e.Project+": ", e.Blocked)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&allUsers, "all-users", false, "include other users' sandboxes (for an administrator)")
	return cmd
}

func NewCmdStop(deps *Deps) *cobra.Command {
	var all, allUsers bool
	cmd := &cobra.Command{
		Use:   "stop [TOOL]",
		Short: "Stop this project's sandboxes (or one tool's, or --all)",
		Long: `Stop sandboxes. With no argument, every sandbox of the current project; with
TOOL, only that tool's ("shell" is the sandbox of plain commands); with --all,
every one of your sandboxes. Sessions attached to them end. Other users'
sandboxes are never stopped unless --all-users is given as well (for an
administrator of a shared engine).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 0 {
				return ui.Usagef("--all stops every sandbox; give either TOOL or --all")
			}
			if allUsers && !all {
				return ui.Usagef("--all-users goes with --all: 'ai-sandbox stop --all --all-users'")
			}
			filters := ownerFilter(deps, allUsers)
			if !all {
				proj, err := currentProject(deps)
				if err != nil {
					return err
				}
				filters = append(filters, "label="+sandbox.LabelPath+"="+proj.Dir)
				if len(args) == 1 {
					tool := args[0]
					if t, ok := deps.Tools.Lookup(tool); ok {
						tool = t.Name
					}
					filters = append(filters, "label="+sandbox.LabelTool+"="+tool)
				}
			}
			m := deps.manager()
			list, err := listSandboxes(cmd.Context(), m, false, filters...)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				deps.Streams.Infof("no sandbox to stop")
				return nil
			}
			var names []string
			for _, e := range list {
				names = append(names, e.Name)
			}
			if err := m.Stop(cmd.Context(), names...); err != nil {
				return err
			}
			for _, n := range names {
				deps.Streams.Infof("stopped %s", n)
			}
			if !allUsers {
				pruneEgress(cmd.Context(), deps, m, names)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "stop every one of your sandboxes")
	cmd.Flags().BoolVar(&allUsers, "all-users", false, "with --all: other users' sandboxes too (for an administrator)")
	return cmd
}

// pruneEgress removes the networks of the sandboxes just stopped (once
// docker has removed them, which takes a moment) and of any gone before.
func pruneEgress(ctx context.Context, deps *Deps, m *sandbox.Manager, stopped []string) {
	p, err := deps.Paths()
	if err != nil {
		return
	}
	store := sandbox.EgressStore(p.Root)
	if _, err := store.Root.Lstat(""); err != nil {
		return // no sandbox ever ran under the allowlist
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range stopped {
		for time.Now().Before(deadline) {
			st, err := m.Inspect(ctx, n)
			if err != nil || !st.Exists {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	dir := store.Root.Path()
	if err := m.PruneNetworks(ctx, store, dir, sandbox.ProxyName(deps.UID, dir), stopped...); err != nil {
		deps.Streams.Warnf("remove the stopped sandboxes' networks: %v", err)
	}
}
