package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/gitaccess"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

const updateLong = `The original's menu for changing the configuration on a terminal:
workspaces (add, remove), git access per folder (off, fetch-only, full) and
the networks sandboxes join (for all workspaces, or one), and a view of the
configuration. Each choice does what its own command does:

  ai-sandbox workspace add|remove PATH
  ai-sandbox git full|fetch-only|off [PATH]
  ai-sandbox network add|remove NAME [--workspace PATH]
  ai-sandbox config show

Without a terminal it does nothing and names those commands.`

// updateCommands are the commands 'update' stands for.
var updateCommands = []string{
	"ai-sandbox workspace add|remove PATH",
	"ai-sandbox git full|fetch-only|off [PATH]",
	"ai-sandbox network add|remove NAME [--workspace PATH]",
	"ai-sandbox config show",
}

func NewCmdUpdate(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "update",
		Short: "Change workspaces, git access and networks from a menu (on a terminal)",
		Long:  updateLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !deps.Streams.Interactive() {
				return &ui.UsageError{Err: ui.WithHint(errors.New("'ai-sandbox update' is a menu, which needs a terminal"),
					"use the commands it stands for: "+strings.Join(updateCommands, "; "))}
			}
			err := runUpdate(cmd.Context(), deps, deps.Streams.NewAsker())
			if ui.Interrupted(err) {
				deps.Streams.Infof("interrupted; what was saved before stays")
				return &ui.ExitError{Code: 130}
			}
			return err
		},
	}
}

// The menu's entries.
const (
	menuWorkspaces = "Workspaces: add or remove"
	menuGit        = "Git access for a folder"
	menuNetworks   = "Networks sandboxes join"
	menuView       = "View the configuration"
	menuExit       = "Exit"
	menuBack       = "Back"
)

// menuCommands names, under each entry, the command that does the same.
var menuCommands = map[string]string{
	menuWorkspaces: "same as: " + updateCommands[0],
	menuGit:        "same as: " + updateCommands[1],
	menuNetworks:   "same as: " + updateCommands[2],
	menuView:       "same as: " + updateCommands[3],
}

// sameAs says which command did what the menu just did.
func sameAs(deps *Deps, argv ...string) {
	deps.Streams.Infof("(the command for this: %s)", docker.Quote(append([]string{"ai-sandbox"}, argv...)))
}

// runUpdate is the menu loop: each entry calls what its command calls;
// an error of one action is said and the menu comes back.
func runUpdate(ctx context.Context, deps *Deps, ask ui.Asker) error {
	s := deps.Streams
	for {
		choice, err := ask.Select("What do you want to change?", []string{menuWorkspaces, menuGit, menuNetworks, menuView, menuExit}, menuWorkspaces,
			func(v string, _ int) string { return menuCommands[v] })
		if err != nil {
			return err
		}
		switch choice {
		case menuWorkspaces:
			err = updateWorkspaces(deps, ask)
		case menuGit:
			err = updateGit(deps, ask)
		case menuNetworks:
			err = updateNetworks(ctx, deps, ask)
		case menuView:
			err = showConfig(deps, false)
		default:
			return nil
		}
		if ui.Interrupted(err) {
			return err
		}
		if err != nil {
			s.Errorf("%s", err)
			for _, h := range ui.HintsOf(err) {
				s.Hintf("%s", h)
			}
		}
	}
}

func updateWorkspaces(deps *Deps, ask ui.Asker) error {
	cfg, err := deps.LoadConfig()
	if err != nil {
		return err
	}
	const add = "Add a folder"
	options := []string{add}
	for _, w := range cfg.Workspaces {
		options = append(options, "Remove "+w)
	}
	options = append(options, menuBack)
	desc := func(v string, _ int) string {
		if v == add {
			return fmt.Sprintf("%d whitelisted now", len(cfg.Workspaces))
		}
		return ""
	}
	choice, err := ask.Select("Workspaces:", options, add, desc)
	if err != nil || choice == menuBack {
		return err
	}
	if w, ok := strings.CutPrefix(choice, "Remove "); ok {
		yes, err := ask.Confirm("Remove "+w+" from the whitelist?", false)
		if err != nil || !yes {
			return err
		}
		if err := RemoveWorkspace(deps, w); err != nil {
			return err
		}
		sameAs(deps, "workspace", "remove", w)
		return nil
	}
	path, err := ask.Input("Folder to whitelist:", "", "a project folder, or the folder that holds your projects (~ works)")
	if err != nil || strings.TrimSpace(path) == "" {
		return err
	}
	canon, existed, err := AddWorkspace(deps, strings.TrimSpace(path))
	if err != nil {
		return err
	}
	if existed {
		deps.Streams.Infof("%s is already whitelisted", canon)
	} else {
		deps.Streams.Infof("whitelisted %s", canon)
	}
	sameAs(deps, "workspace", "add", canon)
	return nil
}

func updateGit(deps *Deps, ask ui.Asker) error {
	cfg, err := deps.LoadConfig()
	if err != nil {
		return err
	}
	cwd, _ := deps.Getwd()
	const other = "Another folder…"
	var folders []string
	if cwd != "" {
		folders = append(folders, cwd)
	}
	for _, w := range canonicalWorkspaces(cfg.Workspaces) {
		if !slices.Contains(folders, w) {
			folders = append(folders, w)
		}
	}
	for _, sv := range gitaccess.Saved(cfg) {
		if !slices.Contains(folders, sv.Folder) {
			folders = append(folders, sv.Folder)
		}
	}
	options := append(append([]string{}, folders...), other, menuBack)
	desc := func(v string, _ int) string {
		if v == other || v == menuBack {
			return ""
		}
		d := gitaccess.For(cfg, v)
		return string(d.Mode) + " (" + d.Source() + ")"
	}
	folder, err := ask.Select("Git access for which folder?", options, "", desc)
	if err != nil || folder == menuBack {
		return err
	}
	if folder == other {
		if folder, err = ask.Input("Folder:", "", "the mode applies to it and everything under it"); err != nil || strings.TrimSpace(folder) == "" {
			return err
		}
		folder = strings.TrimSpace(folder)
	}
	modes := []string{string(gitaccess.Off), string(gitaccess.FetchOnly), string(gitaccess.Full)}
	modeDesc := map[string]string{
		string(gitaccess.Off):       "no access to remotes that need your credentials (the default)",
		string(gitaccess.FetchOnly): "fetch, pull and clone; every push is refused",
		string(gitaccess.Full):      "fetch and push",
	}
	cur := ""
	if abs, err := gitPath(deps, []string{folder}); err == nil {
		cur = string(gitaccess.For(cfg, abs).Mode)
	}
	mode, err := ask.Select("Git access for "+folder+":", modes, cur, func(v string, _ int) string { return modeDesc[v] })
	if err != nil {
		return err
	}
	if err := runGitSet(deps, []string{folder}, gitaccess.Mode(mode), false); err != nil {
		return err
	}
	sameAs(deps, "git", mode, folder)
	return nil
}

func updateNetworks(ctx context.Context, deps *Deps, ask ui.Asker) error {
	cfg, err := deps.LoadConfig()
	if err != nil {
		return err
	}
	const all = "All workspaces"
	options := []string{all}
	options = append(options, canonicalWorkspaces(cfg.Workspaces)...)
	for w := range cfg.Networks.Workspaces {
		if !slices.Contains(options, w) {
			options = append(options, w)
		}
	}
	options = append(options, menuBack)
	desc := func(v string, _ int) string {
		list := cfg.Networks.Global
		if v != all {
			list = cfg.Networks.Workspaces[v]
		}
		if v == menuBack {
			return ""
		}
		if len(list) == 0 {
			return "none saved"
		}
		return strings.Join(list, ", ")
	}
	where, err := ask.Select("Networks for:", options, all, desc)
	if err != nil || where == menuBack {
		return err
	}
	ws, saved := "", cfg.Networks.Global
	if where != all {
		ws, saved = where, cfg.Networks.Workspaces[where]
	}
	const addOne, removeSome = "Add networks", "Remove networks"
	actions := []string{addOne}
	if len(saved) > 0 {
		actions = append(actions, removeSome)
	}
	action, err := ask.Select("Networks for "+strings.ToLower(where[:1])+where[1:]+":", append(actions, menuBack), addOne, nil)
	if err != nil || action == menuBack {
		return err
	}
	if action == removeSome {
		names, err := ask.MultiSelect("Forget which?", saved, nil, nil)
		if err != nil || len(names) == 0 {
			return err
		}
		if err := changeNetworks(ctx, deps, false, ws, names); err != nil {
			return err
		}
		sameAs(deps, networkArgv("remove", ws, names)...)
		return nil
	}
	var names []string
	var available []string
	if engine, err := deps.manager().Networks(ctx); err == nil {
		for _, n := range engine {
			if !slices.Contains(saved, n.Name) {
				available = append(available, n.Name)
			}
		}
	}
	if len(available) > 0 {
		names, err = ask.MultiSelect("Docker's networks to add (space to pick; none to type a name):", available, nil, nil)
		if err != nil {
			return err
		}
	}
	if len(names) == 0 {
		typed, err := ask.Input("Network names (comma-separated):", "", "docker network ls lists them; one that does not exist yet is saved with a warning")
		if err != nil {
			return err
		}
		for _, n := range splitComma(typed) {
			if !networkName.MatchString(n) {
				return ui.Usagef("%q is not a docker network name (letters, digits, _ . -)", n)
			}
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	names = dedupe(names)
	if err := changeNetworks(ctx, deps, true, ws, names); err != nil {
		return err
	}
	sameAs(deps, networkArgv("add", ws, names)...)
	return nil
}

func networkArgv(verb, ws string, names []string) []string {
	argv := append([]string{"network", verb}, names...)
	if ws != "" {
		argv = append(argv, "--workspace", ws)
	}
	return argv
}
