package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/whitelist"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

func NewCmdWorkspace(deps *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "workspace",
		Aliases: []string{"workspaces", "ws"},
		Short:   "Manage the whitelist of folders sandboxes may work in",
		Long: `A sandbox starts only inside a whitelisted workspace, and mounts only the
project it is started in (the git top-level, or the current folder).

Paths are stored canonical: ~ expanded, absolute, symlinks resolved. Matching
is by whole path segments (/home/u/app does not match /home/u/app2).
Refused: /, your home folder and any folder above it, credential folders
(~/.ssh, ~/.aws, ~/.gnupg, ~/.config/gh, ~/.docker, ~/.kube, ~/.ai-sandbox,
agents' config folders, …) and anything inside them, system folders, and
paths that do not exist or are not folders.`,
	}
	cmd.AddCommand(newCmdWorkspaceAdd(deps), newCmdWorkspaceRemove(deps), newCmdWorkspaceList(deps))
	return cmd
}

// AddWorkspace whitelists path through the refusal rules; it is the one
// way a folder enters the whitelist (run's prompt and setup use it too).
// It reports the canonical path and whether it was already there.
func AddWorkspace(deps *Deps, path string) (string, bool, error) {
	p, err := deps.Paths()
	if err != nil {
		return "", false, err
	}
	return whitelist.Add(p, deps.Home, path, deps.Getwd)
}

func newCmdWorkspaceAdd(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "add PATH...",
		Short: "Whitelist folders",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := deps.Streams
			for _, a := range args {
				canon, existed, err := AddWorkspace(deps, a)
				if err != nil {
					return err
				}
				if existed {
					s.Infof("%s is already whitelisted", canon)
				} else {
					s.Infof("whitelisted %s", canon)
				}
			}
			return nil
		},
	}
}

func newCmdWorkspaceRemove(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:     "remove PATH...",
		Aliases: []string{"rm"},
		Short:   "Remove folders from the whitelist",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if err := RemoveWorkspace(deps, a); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// RemoveWorkspace takes path off the whitelist (config.json and the
// legacy file), and says what it did. The folder may be gone already:
// its expanded form matches, and its canonical form when it exists.
func RemoveWorkspace(deps *Deps, path string) error {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	cwd, err := deps.Getwd()
	if err != nil {
		return fmt.Errorf("current folder: %w", err)
	}
	abs, err := workspace.Expand(path, deps.Home, cwd)
	if err != nil {
		return err
	}
	forms := []string{abs}
	if canon, err := workspace.Canonical(path, deps.Home, cwd); err == nil && canon != abs {
		forms = append(forms, canon)
	}
	removed := false
	err = config.Update(p, func(c *config.Config) error {
		kept := c.Workspaces[:0:0]
		for _, w := range c.Workspaces {
			if slices.Contains(forms, w) {
				removed = true
				continue
			}
			kept = append(kept, w)
		}
		for _, f := range forms {
			ok, err := config.RemoveLegacyWorkspace(p, f)
			if err != nil {
				return err
			}
			removed = removed || ok
		}
		if len(kept) == len(c.Workspaces) {
			return config.ErrNoChange
		}
		c.Workspaces = kept
		return nil
	})
	if err != nil {
		return err
	}
	if removed {
		s.Infof("removed %s", forms[len(forms)-1])
	} else {
		s.Infof("%s is not whitelisted; nothing to remove", abs)
	}
	return nil
}

func newCmdWorkspaceList(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the whitelisted folders",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := deps.LoadConfig()
			if err != nil {
				return err
			}
			out := deps.Streams.Out
			if asJSON {
				type entry struct {
					Path   string `json:"path"`
					Exists bool   `json:"exists"`
				}
				list := make([]entry, 0, len(c.Workspaces))
				for _, w := range c.Workspaces {
					_, err := os.Stat(w)
					list = append(list, entry{Path: w, Exists: err == nil})
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			if len(c.Workspaces) == 0 {
				deps.Streams.Infof("no workspaces are whitelisted")
				deps.Streams.Hintf("ai-sandbox workspace add ~/projects/my-app")
				return nil
			}
			for _, w := range c.Workspaces {
				fmt.Fprintln(out, w)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
