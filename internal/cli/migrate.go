package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/opencodedb"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

const migrateLong = `Split your global OpenCode database into the per-project databases the
sandboxes use, so that the history you made before (with OpenCode on your
host, or with the original ai-sandbox-wrapper before 5.4) appears in each
project's sandbox.

  ai-sandbox migrate-opencode-db            show what would go where; write nothing
  ai-sandbox migrate-opencode-db --apply    do it

The source is $XDG_DATA_HOME/opencode/opencode.db (~/.local/share/opencode/
opencode.db), or --from FILE. The targets are
~/.ai-sandbox/opencode-dbs/<project>/opencode.db, the folders the sandboxes
mount and point OPENCODE_DB at.

Where each session goes: by its folder (a subagent's session with its
parent's), to the project id 'ai-sandbox run' computes in that folder
(its git origin, else its git top-level, else the folder), so subfolders and
worktrees of one repository go to one database:
  - a folder that no longer exists, inside the repository OpenCode recorded
    for it: that repository's id when it still exists, else the id it had
    without an origin (gitroot:<its path>);
  - any other folder that no longer exists: by its path (path:<folder>);
  - a session recorded without a folder: the database 'no-directory'
    (open it with OPENCODE_DB=~/.ai-sandbox/opencode-dbs/no-directory/opencode.db).
Every table tied to a session or a project (messages, parts, todos, shares,
events, workspaces, permissions, …) follows it, with the columns the
source's own schema has, so databases of every OpenCode version from 1.2 to
1.18 migrate; the migration bookkeeping goes along, so OpenCode does not
run its migrations again. Accounts and credentials, tied to no project,
are not copied; rows whose parent row is missing cannot be, and are listed.

--apply:
  1. refuses while an OpenCode sandbox runs or anything has the source open;
  2. backs the source up with SQLite's backup API (with what its WAL holds)
     into ~/.ai-sandbox/opencode-dbs/.backups/<time>/, with RESTORE.txt;
  3. meanwhile copies each project's rows (several projects at a time, one
     per CPU; the source is only read) in one transaction, verified before
     it commits (row counts as planned, PRAGMA integrity_check ok, PRAGMA
     foreign_key_check empty); a project database that exists already
     keeps its rows and gets the missing ones;
  4. only when the backup is complete, every project is verified and the
     source was not written meanwhile, renames the source
     opencode.db.migrated-<time> (OpenCode on your host then starts with an
     empty history; --keep-source leaves it in place).
If anything fails, nothing is renamed and the error names the project.
Running it again is safe: a migration that was interrupted completes, and
one that completed finds nothing to do.`

type migrateOptions struct {
	apply, asJSON, keepSource bool
	from                      string
}

func NewCmdMigrateOpencodeDB(deps *Deps) *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate-opencode-db [--apply]",
		Short: "Split the global OpenCode database into per-project databases",
		Long:  migrateLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMigrate(cmd.Context(), deps, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.apply, "apply", false, "migrate (without it: only show the plan)")
	f.BoolVar(&o.asJSON, "json", false, "print the plan (and what was done) as JSON")
	f.StringVar(&o.from, "from", "", "migrate this database `FILE` instead of OpenCode's global one")
	f.BoolVar(&o.keepSource, "keep-source", false, "leave the source where it is after migrating")
	return cmd
}

func runMigrate(ctx context.Context, deps *Deps, o *migrateOptions) error {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	src := opencodedb.Global(deps.Getenv, deps.Home, "opencode", opencodedb.DBFile)
	if o.from != "" {
		if src, err = opencodedb.At(o.from); err != nil {
			return &ui.UsageError{Err: fmt.Errorf("--from %s: %w", o.from, err)}
		}
	}
	dbRoot := hostfs.New(p.DBRoot("opencode"))
	if o.apply {
		if err := checkNoOpencodeSandbox(ctx, deps); err != nil {
			return err
		}
		if err := os.MkdirAll(p.Root, 0o700); err != nil {
			return err
		}
		rel, _ := filepath.Rel(p.Root, dbRoot.Path())
		if err := hostfs.New(p.Root).MkdirAll(rel, 0o700); err != nil {
			return linkHint(fmt.Errorf("prepare %s: %w", dbRoot.Path(), err))
		}
	}
	resolver := opencodedb.NewResolver(deps.askGit)
	mo := opencodedb.Options{Source: src, DBRoot: dbRoot, Place: resolver.Place, Apply: o.apply, KeepSource: o.keepSource}
	if !o.asJSON {
		mo.Progress = func(format string, a ...any) { s.Infof(format, a...) }
	}
	res, err := opencodedb.Migrate(ctx, mo)
	if err != nil {
		if res != nil && res.Backup != "" {
			s.Infof("the backup made before is %s", res.Backup)
		}
		if errors.Is(err, hostfs.ErrSymlink) {
			return linkHint(err)
		}
		if !o.apply {
			return err
		}
		return ui.WithHint(err, "fix what the error names and run 'ai-sandbox migrate-opencode-db --apply' again: rows already migrated are kept, the rest is added")
	}
	if res.Missing && o.from != "" {
		return fmt.Errorf("--from %s: there is no database there", o.from)
	}
	if o.asJSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if res.Missing {
		if o.from != "" {
			return fmt.Errorf("--from %s: there is no database there", o.from)
		}
		s.Infof("nothing to migrate: there is no OpenCode database at %s", res.Source)
		return nil
	}
	printMigration(s.Out, deps.Home, res, dbRoot.Path())
	switch {
	case !res.Applied:
		s.Infof("dry run: nothing was written; run 'ai-sandbox migrate-opencode-db --apply' to migrate")
	case res.RenamedTo != "":
		s.Infof("migrated and verified; %s is now %s (OpenCode on your host starts with an empty history)", res.Source, res.RenamedTo)
		s.Infof("backup: %s (RESTORE.txt says how to go back)", res.Backup)
	default:
		s.Infof("migrated and verified; %s stays where it is (--keep-source); backup: %s", res.Source, res.Backup)
	}
	return nil
}

// linkHint adds the hint for a symbolic link found where ai-sandbox
// keeps its own files or a database.
func linkHint(err error) error {
	return ui.WithHint(err, "an agent may have planted it (a project's database folder is writable in its sandbox): inspect it with 'ls -la' and remove it")
}

// checkNoOpencodeSandbox refuses to migrate while one of the user's
// OpenCode sandboxes runs: its database could change meanwhile.
func checkNoOpencodeSandbox(ctx context.Context, deps *Deps) error {
	filters := append(ownerFilter(deps, false), "label="+sandbox.LabelTool+"=opencode")
	list, err := deps.manager().List(ctx, filters...)
	if err != nil {
		deps.Streams.Warnf("could not list the running sandboxes (%v); each database is checked for use all the same", err)
		return nil
	}
	if len(list) == 0 {
		return nil
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	return ui.WithHint(fmt.Errorf("OpenCode sandboxes are running (%s): their databases could change while they are migrated", strings.Join(names, ", ")),
		"end their sessions, or run 'ai-sandbox stop --all', then run the migration again")
}

// printMigration prints the plan as a table: one line per project
// database, then its source folders.
func printMigration(out io.Writer, home string, res *opencodedb.Result, dbRoot string) {
	p := res.Plan
	fmt.Fprintf(out, "source: %s (%s, %s)\n", tilde(home, res.Source), size(res.SourceSize), plural(int(p.Sessions), "session"))
	fmt.Fprintf(out, "into:   %s/<project>/%s\n\n", tilde(home, dbRoot), opencodedb.DBFile)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT DATABASE\tSTATE\tSESSIONS\tMESSAGES\tPARTS\tFOLDERS (SESSIONS)")
	var ts, tm, tp int64
	for _, t := range p.Targets {
		state := t.State
		if state == opencodedb.StateMerge {
			state = "add to existing"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", t.ID, state, t.Count("session"), t.Count("message"), t.Count("part"),
			folderCell(home, t.Directories[0]))
		for _, d := range t.Directories[1:] {
			fmt.Fprintf(tw, "\t\t\t\t\t%s\n", folderCell(home, d))
		}
		ts += t.Count("session")
		tm += t.Count("message")
		tp += t.Count("part")
	}
	fmt.Fprintf(tw, "TOTAL\t\t%d\t%d\t%d\t\n", ts, tm, tp)
	tw.Flush()
	var notes []string
	for _, t := range p.Targets {
		if t.Owner != "" && t.State != opencodedb.StateMerge {
			notes = append(notes, fmt.Sprintf("%s belongs to %s (its folder; a second clone gets its own)", t.ID, tilde(home, t.Owner)))
		}
		for _, n := range t.NotMerged {
			notes = append(notes, fmt.Sprintf("%s: %s not added (%s); they stay in the backup", t.ID, rows(n), n.Why))
		}
		if t.Added != nil {
			var already []string
			for _, name := range p.Order {
				if n := t.Rows[name] - t.Added[name]; n > 0 && t.State == opencodedb.StateMerge {
					already = append(already, fmt.Sprintf("%d %s", n, name))
				}
			}
			if len(already) > 0 {
				notes = append(notes, fmt.Sprintf("%s had these already: %s", t.ID, strings.Join(already, ", ")))
			}
		}
	}
	for _, n := range p.NotCopied {
		notes = append(notes, fmt.Sprintf("not copied, %s: %s; they stay in the backup", n.Why, rows(n)))
	}
	for _, n := range p.LeftBehind {
		notes = append(notes, fmt.Sprintf("left behind, %s: %s; they stay in the backup", n.Why, rows(n)))
	}
	for _, o := range p.Skipped {
		notes = append(notes, "not recreated: "+o)
	}
	if len(notes) > 0 {
		fmt.Fprintln(out)
		for _, n := range notes {
			fmt.Fprintln(out, "- "+n)
		}
	}
}

func folderCell(home string, d opencodedb.DirCount) string {
	dir := tilde(home, d.Directory)
	if d.Directory == "" {
		dir = "(no folder)"
	}
	cell := fmt.Sprintf("%s (%d)", dir, d.Sessions)
	if d.Why != "" && d.Directory != "" {
		cell += " — " + d.Why
	}
	return cell
}

func rows(n opencodedb.TableCount) string {
	unit := "rows"
	if n.Rows == 1 {
		unit = "row"
	}
	return fmt.Sprintf("%d %s of %s", n.Rows, unit, n.Table)
}

// tilde shortens a path below home.
func tilde(home, path string) string {
	if home != "" && home != "/" && (path == home || strings.HasPrefix(path, home+"/")) {
		return "~" + strings.TrimPrefix(path, home)
	}
	return path
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " kB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
