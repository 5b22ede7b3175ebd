package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/gitguard"
	"github.com/ai-sandbox/ai-sandbox/internal/hostexec"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// reportRel is where the last report of a project is kept, below the
// state folder.
func reportRel(key string) string { return filepath.Join("logs", "reports", key+".json") }

// saveReport keeps a project's last report (an empty one too: it says
// nothing changed in the last sessions).
func saveReport(p config.Paths, key string, rep *hostexec.Report) error {
	if rep.Changes == nil {
		rep.Changes = []hostexec.Change{}
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	r := hostfs.New(p.Root)
	if err := r.MkdirAll(filepath.Dir(reportRel(key)), 0o700); err != nil {
		return err
	}
	return r.WriteFile(reportRel(key), append(data, '\n'), 0o600)
}

// printReportWarning is the short block shown when the last session of a
// project ends and files that run on the host changed.
func printReportWarning(s ui.Streams, rep *hostexec.Report) {
	s.Warnf("while the sandbox ran, files that run on your host changed in %s:", rep.Project)
	lines := summarize(rep.Changes)
	max := 12
	for i, l := range lines {
		if i == max {
			fmt.Fprintf(s.Err, "  … and %d more ('ai-sandbox report' lists them all)\n", len(lines)-max)
			break
		}
		fmt.Fprintf(s.Err, "  %-34s %s\n", l.Path, l.Why)
	}
	s.Hintf("review them before you run git, make or npm here; 'ai-sandbox report' shows this list again")
	for _, c := range rep.Changes {
		if c.Disarmed {
			s.Hintf("in the repositories the agent made, commands were set aside: config lines are commented out (the file as it was is config.ai-sandbox-original), hooks renamed *%s", gitguard.Quarantined)
			break
		}
	}
}

// summarize gives one line per repository (its changed files named)
// and one per other file.
func summarize(changes []hostexec.Change) []hostexec.Change {
	var out []hostexec.Change
	byDir := map[string]int{}
	for _, c := range changes {
		if c.GitDir == "" || c.GitDir == c.Path {
			out = append(out, hostexec.Change{Path: c.Path, Why: describe(c)})
			continue
		}
		name, _ := filepath.Rel(c.GitDir, c.Path)
		if i, ok := byDir[c.GitDir]; ok {
			out[i].Why = strings.Replace(out[i].Why, ")", ", "+name+")", 1)
			continue
		}
		byDir[c.GitDir] = len(out)
		why := "your git obeys this repository (changed: " + name + ")"
		if c.Disarmed {
			why += " — disarmed"
		}
		out = append(out, hostexec.Change{Path: c.GitDir, Why: why})
	}
	return out
}

// describe says what runs a changed file, and whether it was disarmed.
func describe(c hostexec.Change) string {
	if c.Disarmed {
		return c.Why + " — disarmed"
	}
	return c.Why
}

func NewCmdReport(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Show the host-executed files that the last sandbox sessions of this project changed",
		Long: `Show the last report of the current project: the files that run on your
host (git hooks and config of every repository in the project, a new .git,
.envrc, .husky/, .pre-commit-config.yaml, .vscode tasks and settings,
.github/workflows, Makefile, package.json scripts, .gitattributes,
.gitmodules) that changed while its sandboxes had sessions. It is made when
the project's last session ends, and printed then when it is not empty.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := deps.Paths()
			if err != nil {
				return err
			}
			proj, err := currentProject(deps)
			if err != nil {
				return err
			}
			data, err := hostfs.New(p.Root).ReadFile(reportRel(proj.Key), 8<<20)
			if errors.Is(err, fs.ErrNotExist) {
				if asJSON {
					fmt.Fprintln(deps.Streams.Out, "null")
					return nil
				}
				deps.Streams.Infof("no sandbox session of %s has ended yet", proj.Dir)
				return nil
			}
			if err != nil {
				return err
			}
			var rep hostexec.Report
			if err := json.Unmarshal(data, &rep); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(p.Root, reportRel(proj.Key)), err)
			}
			if asJSON {
				_, err := deps.Streams.Out.Write(data)
				return err
			}
			when := rep.Since.Local().Format("2006-01-02 15:04") + " to " + rep.Until.Local().Format("15:04")
			if len(rep.Changes) == 0 {
				fmt.Fprintf(deps.Streams.Out, "%s: no host-executed file changed during the sessions of %s\n", rep.Project, when)
				return nil
			}
			fmt.Fprintf(deps.Streams.Out, "%s: changed during the sessions of %s\n", rep.Project, when)
			tw := tabwriter.NewWriter(deps.Streams.Out, 0, 4, 2, ' ', 0)
			for _, c := range rep.Changes {
				fmt.Fprintf(tw, "  %s\t%s\n", c.Path, describe(c))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
