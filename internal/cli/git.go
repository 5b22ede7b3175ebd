package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/gitaccess"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

const gitLong = `Git access per workspace: how much of your git credentials an agent's git
may use. Credentials never enter the sandbox in any mode: its git reaches
your remotes through a relay on the host, which runs your own ssh (your
keys, agent, known_hosts and config) and your own git's https helper (your
credential helpers), for the hosts of the project's remotes only.

  off         (default) no access to remotes that need your credentials;
              git works on the local repository (commit, diff, log, …)
  fetch-only  fetch, pull and clone work; every push is refused by the
              relay, whatever the agent does
  full        fetch and push work

The project's .git/hooks and .git/config are read-only in every sandbox
(your git on the host runs and obeys them). 'git full --writable-hooks'
lets full-mode sandboxes write the hooks, for agents you trust with that;
the exit report still lists what changed.

A mode saved for a folder applies to it and everything under it; the most
specific folder wins. Without a saved mode, a launch on a terminal asks
(once, or always for the workspace); 'ai-sandbox run --git-fetch' forces
fetch-only for one run. The modes are kept in config.json under
git.allowedWorkspaces (full) and git.fetchOnlyWorkspaces, as the original
wrapper keeps them, so both read each other's choices.`

func NewCmdGit(deps *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "git full|fetch-only|off|status [PATH]",
		Short: "Git access per workspace: off (default), fetch-only or full",
		Long:  gitLong,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return ui.Usagef("%q is not a git mode: full, fetch-only, off or status", args[0])
		},
	}
	set := func(name, short string, mode gitaccess.Mode, aliases ...string) *cobra.Command {
		var hooks bool
		c := &cobra.Command{
			Use:     name + " [PATH]",
			Aliases: aliases,
			Short:   short,
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runGitSet(deps, args, mode, hooks)
			},
		}
		if mode == gitaccess.Full {
			c.Flags().BoolVar(&hooks, "writable-hooks", false, "let the sandbox write the project's .git/hooks too (your git on the host runs them: only for agents you trust with that)")
		}
		return c
	}
	cmd.AddCommand(
		set("full", "Let sandboxes under PATH (default: the current folder) fetch and push", gitaccess.Full, "enable"),
		set("fetch-only", "Let sandboxes under PATH fetch, pull and clone, never push", gitaccess.FetchOnly, "fetch"),
		set("off", "Keep git credentials out of sandboxes under PATH (the default)", gitaccess.Off, "disable"),
		newCmdGitStatus(deps),
	)
	return cmd
}

// gitPath resolves PATH (default: the current folder) to a canonical
// folder.
func gitPath(deps *Deps, args []string) (string, error) {
	path := "."
	if len(args) == 1 {
		path = args[0]
	}
	cwd := ""
	if !filepath.IsAbs(path) {
		var err error
		if cwd, err = deps.Getwd(); err != nil {
			return "", fmt.Errorf("current folder: %w", err)
		}
	}
	return workspace.Canonical(path, deps.Home, cwd)
}

func runGitSet(deps *Deps, args []string, mode gitaccess.Mode, writableHooks bool) error {
	dir, err := gitPath(deps, args)
	if err != nil {
		return &ui.UsageError{Err: err}
	}
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	var now gitaccess.Decision
	var hooks bool
	err = config.Update(p, func(c *config.Config) error {
		gitaccess.Set(c, dir, mode)
		if writableHooks {
			gitaccess.SetWritableHooks(c, dir)
		}
		now = gitaccess.For(c, dir)
		hooks = gitaccess.WritableHooks(c, dir)
		return nil
	})
	if err != nil {
		return err
	}
	deps.Streams.Infof("git access for %s: %s (%s)", dir, now.Mode, now.Source())
	if hooks {
		deps.Streams.Warnf("sandboxes here may write %s's .git/hooks: your git on the host runs what the agent writes there ('ai-sandbox git full' without --writable-hooks takes it back)", dir)
	}
	if now.Mode != mode {
		deps.Streams.Hintf("a folder above it is saved as %s; 'ai-sandbox git status' lists them", now.Mode)
	}
	deps.Streams.Hintf("a sandbox that runs already keeps its mode until it stops ('ai-sandbox stop')")
	return nil
}

func newCmdGitStatus(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "status [PATH]",
		Short: "The mode of PATH (default: the current folder) and every saved folder",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := gitPath(deps, args)
			if err != nil {
				return &ui.UsageError{Err: err}
			}
			c, err := deps.LoadConfig()
			if err != nil {
				return err
			}
			out := deps.Streams.Out
			d := gitaccess.For(c, dir)
			fmt.Fprintf(out, "%s: %s (%s)\n", dir, d.Mode, d.Source())
			saved := gitaccess.Saved(c)
			if len(saved) == 0 {
				fmt.Fprintln(out, "\nno folder has a saved mode: every sandbox is off unless a launch is told otherwise")
				return nil
			}
			fmt.Fprintln(out, "\nsaved modes:")
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			for _, s := range saved {
				hooks := ""
				if s.Mode == gitaccess.Full && slices.Contains(c.Git.WritableHooksWorkspaces, s.Folder) {
					hooks = "\t(writable hooks)"
				}
				fmt.Fprintf(tw, "  %s\t%s%s\n", s.Mode, s.Folder, hooks)
			}
			return tw.Flush()
		},
	}
}
