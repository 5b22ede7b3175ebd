package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

type psEntry struct {
	Name          string    `json:"name"`
	Tool          string    `json:"tool"`
	Project       string    `json:"project"`
	Path          string    `json:"path"`
	Sessions      int       `json:"sessions"`
	Started       time.Time `json:"started"`
	UptimeSeconds int64     `json:"uptimeSeconds"`
}

// psFormat reads each container's labels with docker's own template
// function, so label values are never split on commas.
const psFormat = `{{.Names}}	{{.Label "` + sandbox.LabelTool + `"}}	{{.Label "` + sandbox.LabelProject + `"}}	{{.Label "` +
	sandbox.LabelPath + `"}}	{{.CreatedAt}}`

func listSandboxes(ctx context.Context, deps *Deps, m *sandbox.Manager, filters ...string) ([]psEntry, error) {
	args := []string{"ps", "--no-trunc", "--format", psFormat, "--filter", "label=" + sandbox.LabelTool}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, args...))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("list sandboxes: %s", strings.TrimSpace(string(res.Stderr)))
	}
	var out []psEntry
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			continue
		}
		e := psEntry{Name: f[0], Tool: f[1], Project: f[2], Path: f[3]}
		// "2026-11-29 08:00:00 +0000 UTC"
		if t, err := time.Parse("2006-01-02 15:04:05 -0700 MST", f[4]); err == nil {
			e.Started = t
			e.UptimeSeconds = int64(time.Since(t).Seconds())
		}
		if m != nil {
			if n, err := m.Sessions(ctx, e.Name); err == nil {
				e.Sessions = n
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func NewCmdPs(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List running sandboxes",
		Long:  "List the running sandboxes: tool, project, path, attached sessions and uptime.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := &sandbox.Manager{Docker: deps.Docker(), Runner: deps.Runner, Streams: deps.Streams}
			list, err := listSandboxes(cmd.Context(), deps, m)
			if err != nil {
				return err
			}
			out := deps.Streams.Out
			if asJSON {
				if list == nil {
					list = []psEntry{}
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
			fmt.Fprintln(tw, "TOOL\tPROJECT\tSESSIONS\tUPTIME\tPATH")
			for _, e := range list {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.Tool, e.Project, e.Sessions,
					(time.Duration(e.UptimeSeconds) * time.Second).String(), e.Path)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func NewCmdStop(deps *Deps) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "stop [TOOL]",
		Short: "Stop this project's sandboxes (or one tool's, or --all)",
		Long: `Stop sandboxes. With no argument, every sandbox of the current project; with
TOOL, only that tool's ("shell" is the sandbox of plain commands); with --all,
every ai-sandbox container. Sessions attached to them end.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 0 {
				return ui.Usagef("--all stops every sandbox; give either TOOL or --all")
			}
			var filters []string
			if !all {
				wd, err := deps.Getwd()
				if err != nil {
					return err
				}
				cwd, err := filepath.EvalSymlinks(wd)
				if err != nil {
					return err
				}
				c, err := deps.LoadConfig()
				if err != nil {
					return err
				}
				ws, _ := workspace.Match(canonicalWorkspaces(c.Workspaces), cwd)
				proj := project.Find(cwd, ws)
				filters = append(filters, "label="+sandbox.LabelProject+"="+proj.ID)
				if len(args) == 1 {
					tool := args[0]
					if t, ok := deps.Tools.Lookup(tool); ok {
						tool = t.Name
					}
					filters = append(filters, "label="+sandbox.LabelTool+"="+tool)
				}
			}
			list, err := listSandboxes(cmd.Context(), deps, nil, filters...)
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
			res, err := deps.Runner.Output(cmd.Context(), append([]string{deps.Docker()}, docker.StopArgs(3, names...)...))
			if err != nil {
				return err
			}
			if res.ExitCode != 0 {
				return fmt.Errorf("stop: %s", strings.TrimSpace(string(res.Stderr)))
			}
			for _, n := range names {
				deps.Streams.Infof("stopped %s", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "stop every sandbox")
	return cmd
}
