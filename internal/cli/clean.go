package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/clean"
	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

const cleanLong = `Remove what ai-sandbox keeps: package caches, the agents' homes and logins,
per-project databases, stopped sandbox containers, sandbox images, git relay
folders, logs, and the original wrapper's leftovers (shared/git with its
copied SSH keys, its shared homes, browser profiles).

On a terminal, 'ai-sandbox clean' shows every category with its size, lets
you pick categories and then items (each project's homes and databases are
named by their project folder), lists what it will delete, and deletes only
after you type yes; it ends with what was freed.

Without a terminal, say what to delete:
  ai-sandbox clean cache [npm|pip|bun|playwright|node-gyp|uv|go ...]
  ai-sandbox clean homes | logins | databases | relays | logs | legacy
  ai-sandbox clean containers | images
  ai-sandbox clean all [--include-config]
each with --dry-run (list, delete nothing) or --yes (no question; needed
without a terminal), and --json.

Nothing a running sandbox uses is deleted (its project's homes, database and
relay are listed as in use: stop it first with 'ai-sandbox stop'). No
symbolic link is followed: a link an agent planted in its home is removed
as a link, never what it points to. config.json and env (your API keys) are
deleted only by 'clean all --include-config' or when picked by name, and the
question names them.`

type cleanOptions struct {
	dryRun, yes, asJSON, includeConfig bool
}

func NewCmdClean(deps *Deps) *cobra.Command {
	o := &cleanOptions{}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove caches, sandbox homes, databases, stopped sandboxes and images",
		Long:  cleanLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !deps.Streams.Interactive() {
				return ui.WithHint(errors.New("'ai-sandbox clean' asks what to delete, which needs a terminal"),
					"say what to delete: ai-sandbox clean cache|homes|logins|databases|containers|images|relays|logs|legacy|all, with --dry-run to see it or --yes to delete it")
			}
			if o.dryRun || o.yes || o.asJSON {
				return ui.Usagef("--dry-run, --yes and --json go with a category: ai-sandbox clean cache --dry-run")
			}
			return cleanInteractive(cmd.Context(), deps)
		},
	}
	pf := cmd.PersistentFlags()
	pf.BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted, with sizes, and delete nothing")
	pf.BoolVarP(&o.yes, "yes", "y", false, "delete without asking (needed without a terminal)")
	pf.BoolVar(&o.asJSON, "json", false, "print what is (or would be) deleted as JSON")

	sub := func(use, short string, cats ...clean.Category) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return cleanCategories(cmd.Context(), deps, o, cats, nil)
			},
		}
	}
	cache := &cobra.Command{
		Use:   "cache [TYPE...]",
		Short: "Package caches in the sandbox homes and the shared ones: " + strings.Join(clean.CacheTypes(), ", ") + " (default: all)",
		Long: `Remove package caches: in every agent home of every project, the caches shared
across projects (~/.ai-sandbox/cache/shared/<kind>, with settings.sharedCaches),
and the original wrapper's shared caches (~/.ai-sandbox/cache/npm, bun, pip,
playwright-browsers). Types: ` + strings.Join(clean.CacheTypes(), ", ") + ` (default: all of them;
go is the module and the build cache). A cache in the home of a sandbox that
runs is kept, and so are the shared ones while a sandbox that mounts them runs.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var types []string
			for _, a := range args {
				for _, t := range splitComma(a) {
					n, ok := clean.NormalizeCacheType(t)
					if !ok {
						return ui.Usagef("%q is not a cache type: %s", t, strings.Join(clean.CacheTypes(), ", "))
					}
					types = append(types, n)
				}
			}
			return cleanCategories(cmd.Context(), deps, o, []clean.Category{clean.Caches}, types)
		},
	}
	all := &cobra.Command{
		Use:   "all",
		Short: "Everything above; config.json and env too with --include-config",
		Long: `Remove everything ai-sandbox keeps: caches, homes, logins, databases, relays,
logs, the original's leftovers, the files it makes again at each launch,
stopped sandbox containers and sandbox images. config.json and env (your API
keys) stay unless --include-config is given. What a running sandbox uses
stays.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cats := []clean.Category{clean.Caches, clean.Homes, clean.Databases, clean.Containers, clean.Images, clean.Relays,
				clean.Logs, clean.Logins, clean.Legacy, clean.Generated}
			if o.includeConfig {
				cats = append(cats, clean.Config)
			}
			return cleanCategories(cmd.Context(), deps, o, cats, nil)
		},
	}
	all.Flags().BoolVar(&o.includeConfig, "include-config", false, "also delete config.json and env (your workspaces, settings and API keys)")
	cmd.AddCommand(cache,
		sub("homes", "The agents' homes per project (and of projects whose folder is gone)", clean.Homes),
		sub("logins", "The agents' logins shared by every project (you log in again)", clean.Logins),
		sub("databases", "The per-project databases of OpenCode and Kilo", clean.Databases),
		sub("containers", "Your stopped sandbox containers", clean.Containers),
		sub("images", "The sandbox images", clean.Images),
		sub("relays", "The git relays' folders (sockets and logs)", clean.Relays),
		sub("logs", "Logs and exit reports", clean.Logs),
		sub("legacy", "What the original wrapper left (shared/git with copied SSH keys, its homes, browser profiles)", clean.Legacy),
		all)
	return cmd
}

// gatherClean lists what can be cleaned. Docker not answering is no
// failure: containers and images are then left out, and only the launches
// alive tell which projects are in use.
func gatherClean(ctx context.Context, deps *Deps) ([]clean.Item, error) {
	p, err := deps.Paths()
	if err != nil {
		return nil, err
	}
	f := clean.Facts{
		Root:   p.Root,
		Exists: func(path string) bool { _, err := os.Stat(path); return err == nil },
		Key:    project.Key,
	}
	for _, t := range deps.Tools.All() {
		if t.DB != nil {
			rel, _ := filepath.Rel(p.Root, p.DBRoot(t.Name))
			f.DBRoots = append(f.DBRoots, rel)
		}
	}
	m := deps.manager()
	running, err := m.List(ctx, ownerFilter(deps, false)...)
	if err != nil {
		deps.Streams.Warnf("docker does not answer, so containers and images are not listed: %v", ui.FirstLine(err.Error()))
	}
	for _, c := range running {
		f.Running = append(f.Running, c.Path)
	}
	f.Running = append(f.Running, liveProjects(p)...)
	if err == nil {
		f.Containers, err = sandboxContainers(ctx, deps)
		if err != nil {
			return nil, err
		}
		images, err := imageEnv(deps)
		if err != nil {
			return nil, err
		}
		list, err := images.List(ctx, "")
		if err != nil {
			deps.Streams.Warnf("the sandbox images are not listed: %v", err)
		}
		for _, e := range list {
			f.Images = append(f.Images, clean.Image{ID: e.ID, Names: e.Names, Bytes: e.Size})
		}
	}
	return clean.Inventory(f)
}

// liveProjects are the project folders with a launch still alive (its
// session registry names a process that exists), docker or not.
func liveProjects(p config.Paths) []string {
	r := hostfs.New(p.Root)
	entries, _ := r.ReadDir("projects")
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sessions, _ := r.ReadDir(filepath.Join("projects", e.Name(), "sessions"))
		for _, s := range sessions {
			data, err := r.ReadFile(filepath.Join("projects", e.Name(), "sessions", s.Name()), 64)
			pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil || perr != nil || pid <= 0 {
				continue
			}
			if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
				if rec, err := readRecord(p, e.Name()); err == nil && rec.Path != "" {
					out = append(out, rec.Path)
				}
				break
			}
		}
	}
	return out
}

// sandboxContainers lists the user's sandbox containers in any state.
func sandboxContainers(ctx context.Context, deps *Deps) ([]clean.Container, error) {
	format := `{{.ID}}	{{.Names}}	{{.Label "` + sandbox.LabelTool + `"}}	{{.Label "` + sandbox.LabelPath + `"}}	{{.State}}	{{.Image}}	{{.Label "` + sandbox.LabelCaches + `"}}`
	filters := append([]string{"label=" + sandbox.LabelTool}, ownerFilter(deps, false)...)
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, docker.PsAllArgs(format, filters...)...))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("list the sandbox containers: docker said: %s", ui.FirstLine(strings.TrimSpace(string(res.Stderr))))
	}
	var out []clean.Container
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 || f[0] == "" {
			continue
		}
		c := clean.Container{ID: f[0], Name: f[1], Tool: f[2], Path: f[3], State: f[4], Image: f[5]}
		c.SharedCaches = len(f) > 6 && f[6] == "shared"
		out = append(out, c)
	}
	return out, nil
}

// cleanCategories is the non-interactive clean of some categories.
func cleanCategories(ctx context.Context, deps *Deps, o *cleanOptions, cats []clean.Category, types []string) error {
	s := deps.Streams
	if o.dryRun && o.yes {
		return ui.Usagef("--dry-run and --yes exclude each other")
	}
	items, err := gatherClean(ctx, deps)
	if err != nil {
		return err
	}
	chosen, inUse := clean.Removable(clean.Select(items, cats, types))
	if o.dryRun {
		if o.asJSON {
			return writeCleanJSON(s.Out, chosen, inUse, false)
		}
		printCleanPlan(s.Out, chosen, inUse, "would delete")
		return nil
	}
	if len(chosen) == 0 {
		if o.asJSON {
			return writeCleanJSON(s.Out, nil, inUse, true)
		}
		printInUse(s.Out, inUse)
		s.Infof("nothing to delete")
		return nil
	}
	if !o.yes {
		if !s.Interactive() {
			return ui.WithHint(fmt.Errorf("deleting %d items (%s) needs a yes, and there is no terminal to ask on", len(chosen), clean.Human(clean.Total(chosen))),
				"add --yes to delete them, or --dry-run to list them")
		}
		printCleanPlan(s.Err, chosen, inUse, "will delete")
		ok, err := typedYes(deps, chosen)
		if err != nil {
			return err
		}
		if !ok {
			s.Infof("nothing was deleted")
			return nil
		}
	}
	done, failed := removeItems(ctx, deps, chosen, !o.asJSON)
	if o.asJSON {
		if err := writeCleanJSON(s.Out, done, inUse, true); err != nil {
			return err
		}
	} else {
		printInUse(s.Out, inUse)
		fmt.Fprintf(s.Out, "deleted %d items, freed %s\n", len(done), clean.Human(clean.Total(done)))
	}
	if failed > 0 {
		return fmt.Errorf("%d items could not be deleted (see above)", failed)
	}
	return nil
}

// typedYes asks for a typed "yes", naming config.json and env when they
// are among the items.
func typedYes(deps *Deps, items []clean.Item) (bool, error) {
	s := deps.Streams
	if cfg := clean.HasConfig(items); len(cfg) > 0 {
		s.Warnf("this deletes %s: your workspaces, git modes, networks, settings and API keys", strings.Join(cfg, " and "))
	}
	for _, c := range cleanWarnings(items) {
		s.Warnf("%s", c)
	}
	answer, err := s.Ask(fmt.Sprintf("Type yes to delete these %d items (%s): ", len(items), clean.Human(clean.Total(items))))
	if err != nil {
		return false, fmt.Errorf("the question: %w", err)
	}
	return strings.EqualFold(strings.TrimSpace(answer), "yes"), nil
}

// cleanWarnings are the categories' warnings for the items chosen.
func cleanWarnings(items []clean.Item) []string {
	var out []string
	seen := map[clean.Category]bool{}
	for _, it := range items {
		if seen[it.Category] || it.Category == clean.Config {
			continue
		}
		seen[it.Category] = true
		if w := clean.Info(it.Category).Warning; w != "" {
			out = append(out, clean.Info(it.Category).Title+": "+w)
		}
	}
	return out
}

// removeItems deletes the items: paths below the state folder without
// following links, containers with docker rm (a stopped one only: one
// that started meanwhile is refused by docker), images with docker image
// rm (by name, so that every tag goes).
func removeItems(ctx context.Context, deps *Deps, items []clean.Item, say bool) (done []clean.Item, failed int) {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		s.Errorf("%v", err)
		return nil, len(items)
	}
	for _, it := range items {
		var err error
		switch it.Category {
		case clean.Containers:
			err = dockerRemove(ctx, deps, []string{"rm", it.ID})
		case clean.Images:
			names := it.Names
			if len(names) == 0 {
				names = []string{it.ID}
			}
			err = dockerRemove(ctx, deps, docker.ImageRemoveArgs(names...))
		default:
			err = clean.RemovePaths(p.Root, it)
		}
		if err != nil {
			failed++
			s.Errorf("%s: %v", it.Label, err)
			if errors.Is(err, hostfs.ErrSymlink) {
				s.Hintf("a symbolic link was on the way; nothing behind it was touched: inspect it with 'ls -la'")
			}
			continue
		}
		done = append(done, it)
		if say {
			fmt.Fprintf(s.Out, "deleted %s (%s)\n", it.Label, clean.Human(it.Bytes))
		}
	}
	return done, failed
}

func dockerRemove(ctx context.Context, deps *Deps, args []string) error {
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, args...))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("docker said: %s", ui.FirstLine(strings.TrimSpace(string(res.Stderr))))
	}
	return nil
}

func printCleanPlan(w io.Writer, items, inUse []clean.Item, verb string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "nothing to delete\n")
	} else {
		fmt.Fprintf(w, "%s %d items, %s:\n", verb, len(items), clean.Human(clean.Total(items)))
		var cat clean.Category
		for _, it := range items {
			if it.Category != cat {
				cat = it.Category
				fmt.Fprintf(w, "  %s:\n", clean.Info(cat).Title)
			}
			fmt.Fprintf(w, "    %9s  %s%s\n", clean.Human(it.Bytes), it.Label, note(it))
		}
	}
	printInUse(w, inUse)
}

func printInUse(w io.Writer, inUse []clean.Item) {
	if len(inUse) == 0 {
		return
	}
	fmt.Fprintf(w, "kept, in use by a running sandbox ('ai-sandbox stop' it first):\n")
	for _, it := range inUse {
		fmt.Fprintf(w, "    %9s  %s\n", clean.Human(it.Bytes), it.Label)
	}
}

func note(it clean.Item) string {
	if it.Note == "" {
		return ""
	}
	return " — " + it.Note
}

type cleanJSON struct {
	Deleted bool         `json:"deleted"`
	Items   []clean.Item `json:"items"`
	InUse   []clean.Item `json:"inUse"`
	Bytes   int64        `json:"bytes"`
}

func writeCleanJSON(w io.Writer, items, inUse []clean.Item, deleted bool) error {
	if items == nil {
		items = []clean.Item{}
	}
	if inUse == nil {
		inUse = []clean.Item{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(cleanJSON{Deleted: deleted, Items: items, InUse: inUse, Bytes: clean.Total(items)})
}

// cleanInteractive asks which categories, then which items, then for a
// typed yes, then deletes and says what was freed.
func cleanInteractive(ctx context.Context, deps *Deps) error {
	s := deps.Streams
	items, err := gatherClean(ctx, deps)
	if err != nil {
		return err
	}
	ask := s.NewAsker()
	removable, inUse := clean.Removable(items)
	type catSum struct {
		info  clean.CategoryInfo
		items []clean.Item
	}
	var cats []catSum
	for _, info := range clean.Categories() {
		sel := clean.Select(removable, []clean.Category{info.Category}, nil)
		if len(sel) > 0 {
			cats = append(cats, catSum{info, sel})
		}
	}
	printInUse(s.Err, inUse)
	if len(cats) == 0 {
		s.Infof("nothing to clean")
		return nil
	}
	const everything = "everything (config.json and env not included)"
	var options []string
	desc := map[string]string{}
	for _, c := range cats {
		label := c.info.Title
		options = append(options, label)
		desc[label] = fmt.Sprintf("%d, %s", len(c.items), clean.Human(clean.Total(c.items)))
	}
	var notConfig []clean.Item
	for _, c := range cats {
		if c.info.Category != clean.Config {
			notConfig = append(notConfig, c.items...)
		}
	}
	options = append(options, everything)
	desc[everything] = fmt.Sprintf("%d, %s", len(notConfig), clean.Human(clean.Total(notConfig)))
	picked, err := ask.MultiSelect("What to clean? (space to pick, enter to go on)", options, nil,
		func(v string, _ int) string { return desc[v] })
	if err != nil {
		return interrupted(s, err)
	}
	var chosen []clean.Item
	if slices.Contains(picked, everything) {
		chosen = append(chosen, notConfig...)
		for _, c := range cats {
			if c.info.Category == clean.Config && slices.Contains(picked, c.info.Title) {
				chosen = append(chosen, c.items...)
			}
		}
	} else {
		for _, c := range cats {
			if !slices.Contains(picked, c.info.Title) {
				continue
			}
			if len(c.items) == 1 {
				chosen = append(chosen, c.items...)
				continue
			}
			var labels []string
			byLabel := map[string]clean.Item{}
			for i, it := range c.items {
				l := it.Label
				if _, dup := byLabel[l]; dup {
					l = fmt.Sprintf("%s (%d)", l, i+1)
				}
				labels = append(labels, l)
				byLabel[l] = it
			}
			sel, err := ask.MultiSelect(c.info.Title+":", labels, labels, func(v string, _ int) string {
				it := byLabel[v]
				return clean.Human(it.Bytes) + note(it)
			})
			if err != nil {
				return interrupted(s, err)
			}
			for _, l := range sel {
				chosen = append(chosen, byLabel[l])
			}
		}
	}
	if len(chosen) == 0 {
		s.Infof("nothing chosen; nothing was deleted")
		return nil
	}
	printCleanPlan(s.Err, chosen, nil, "will delete")
	ok, err := typedYes(deps, chosen)
	if err != nil {
		return err
	}
	if !ok {
		s.Infof("nothing was deleted")
		return nil
	}
	done, failed := removeItems(ctx, deps, chosen, true)
	fmt.Fprintf(s.Out, "deleted %d items, freed %s\n", len(done), clean.Human(clean.Total(done)))
	if failed > 0 {
		return fmt.Errorf("%d items could not be deleted (see above)", failed)
	}
	return nil
}

// interrupted turns Ctrl-C at a question into exit 130.
func interrupted(s ui.Streams, err error) error {
	if ui.Interrupted(err) {
		s.Infof("interrupted; nothing was deleted")
		return &ui.ExitError{Code: 130}
	}
	return err
}
