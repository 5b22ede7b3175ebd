package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/gitguard"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// currentProject is the project of the current folder, found as run finds
// it, without asking anything (outside a workspace: the folder itself).
func currentProject(deps *Deps) (projectAt, error) {
	wd, err := deps.Getwd()
	if err != nil {
		return projectAt{}, fmt.Errorf("current folder: %w", err)
	}
	cwd, err := filepath.EvalSymlinks(wd)
	if err != nil {
		return projectAt{}, fmt.Errorf("current folder %s: %w", wd, err)
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		return projectAt{}, err
	}
	ws, _ := workspace.Match(canonicalWorkspaces(cfg.Workspaces), cwd)
	return findProject(deps, cwd, ws), nil
}

func NewCmdProject(deps *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "project",
		Short: "This project's identity and state (show, rebind)",
		Long: `A project is the folder a sandbox mounts: the git top-level of the current
folder inside a whitelisted workspace, else the folder. Its state (the
agents' homes, its record) lives in ~/.ai-sandbox/projects/<key>, where the
key depends only on the folder's path; its OpenCode and Kilo databases keep
the original's id (from the git origin) and record the folder they belong to.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCmdProjectShow(deps), newCmdProjectRebind(deps))
	return cmd
}

func newCmdProjectShow(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Show the current project's folder, id, key and state folders",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := deps.Paths()
			if err != nil {
				return err
			}
			proj, err := currentProject(deps)
			if err != nil {
				return err
			}
			out := deps.Streams.Out
			fmt.Fprintf(out, "folder:     %s\n", proj.Dir)
			fmt.Fprintf(out, "workspace:  %s\n", orNone(proj.Workspace))
			fmt.Fprintf(out, "id:         %s\n", proj.ID)
			fmt.Fprintf(out, "key:        %s\n", proj.Key)
			fmt.Fprintf(out, "state:      %s\n", p.ProjectState(proj.Key))
			for _, t := range deps.Tools.All() {
				if t.DB == nil {
					continue
				}
				owner, err := readOwner(p, t.Name, proj.ID)
				if err != nil || owner == "" {
					continue
				}
				fmt.Fprintf(out, "%-11s %s (belongs to %s)\n", t.Name+" db:", p.ProjectDB(t.Name, proj.ID), owner)
			}
			return nil
		},
	}
}

func newCmdProjectRebind(deps *Deps) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rebind",
		Short: "Make the current folder the owner of its project's data (after a move, or a .git you replaced)",
		Long: `Record the current folder as the owner of its project's per-project data:
the OpenCode and Kilo databases of its project id, which a launch refuses to
mount for any other folder, and the agents' homes of the folder it was moved
from. Also accept the project's .git as it is now (a launch refuses a .git
that was replaced since the last session: an agent may have made its own).

Run it after you moved or renamed a project folder. When the old folder
still exists, the data stays with it unless --force is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := deps.Streams
			p, err := deps.Paths()
			if err != nil {
				return err
			}
			proj, err := currentProject(deps)
			if err != nil {
				return err
			}
			guard, err := gitguard.Protect(proj.Dir, p.Root)
			var te *gitguard.TamperedError
			if errors.As(err, &te) {
				return ui.WithHint(err, te.Hint())
			}
			if err != nil {
				return err
			}
			var moved []string
			for _, t := range deps.Tools.All() {
				if t.DB == nil {
					continue
				}
				owner, err := readOwner(p, t.Name, proj.ID)
				if err != nil {
					return err
				}
				if owner == "" || owner == proj.Dir {
					continue
				}
				if _, err := os.Stat(owner); err == nil && !force {
					return ui.WithHint(fmt.Errorf("the %s database %s belongs to %s, which still exists", t.Name, p.ProjectDB(t.Name, proj.ID), owner),
						"a second copy of a project gets its own database; to take this one over anyway, run 'ai-sandbox project rebind --force'")
				}
				rel, _ := filepath.Rel(p.Root, p.DBOwner(t.Name, proj.ID))
				if err := hostfs.New(p.Root).WriteFile(rel, []byte(proj.Dir+"\n"), 0o600); err != nil {
					return err
				}
				s.Infof("the %s database %s now belongs to %s", t.Name, p.ProjectDB(t.Name, proj.ID), proj.Dir)
				moved = append(moved, owner)
			}
			for _, old := range moved {
				if err := moveState(p.Root, project.Key(old), proj.Key); err != nil {
					return err
				}
				if old != proj.Dir {
					s.Infof("the agents' homes of %s moved to this folder's state", old)
				}
			}
			if err := hostfs.Apply(recordOps(p, proj.Key, projectRecord{Path: proj.Dir, GitInode: guard.GitInode})); err != nil {
				return err
			}
			s.Infof("recorded %s and its .git as they are now", proj.Dir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "take the data over even when its old folder still exists")
	return cmd
}

// moveState moves a project's state folder (its agents' homes) from an
// old key to a new one, unless the new one exists already.
func moveState(state, oldKey, newKey string) error {
	r := hostfs.New(state)
	from, to := filepath.Join("projects", oldKey), filepath.Join("projects", newKey)
	if _, err := r.Lstat(from); errors.Is(err, fs.ErrNotExist) || oldKey == newKey {
		return nil
	}
	if _, err := r.Lstat(to); err == nil {
		return nil
	}
	if err := r.Rename(from, to); err != nil {
		return err
	}
	_ = r.Remove(filepath.Join(to, recordFile)) // rewritten for the new folder
	return nil
}
