package opencodedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// DBFile is the database's name in a project's folder.
const DBFile = "opencode.db"

// Target states.
const (
	StateNew   = "new"   // no database there yet
	StateEmpty = "empty" // a database file without tables: filled as new
	StateMerge = "merge" // a database OpenCode made already: rows are added
)

// Plan is what a migration does: which rows of the source go to which
// project database, and what stays behind.
type Plan struct {
	Targets []*Target `json:"targets"`
	// Sessions is the number of sessions in the source.
	Sessions int64 `json:"sessions"`
	// NotCopied are the tables tied to no project (accounts,
	// credentials): they stay in the source and its backup.
	NotCopied []TableCount `json:"notCopied,omitempty"`
	// LeftBehind are rows whose parent row is missing in the source
	// (they could not be inserted anywhere) or projects with no session.
	LeftBehind []TableCount `json:"leftBehind,omitempty"`
	// Skipped are schema objects not recreated (triggers, views).
	Skipped []string `json:"skipped,omitempty"`
	// Order is the order tables are copied in.
	Order []string `json:"-"`

	src   *schema
	rules map[string]rule
}

// TableCount is a number of rows of a table, and why they are counted.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	Why   string `json:"why,omitempty"`
}

// Target is one project database the migration writes.
type Target struct {
	ID    string `json:"id"`
	Dir   string `json:"folder"`
	State string `json:"state"`
	// Owner is the project folder recorded as the database's owner when
	// none is recorded yet ("" = leave it to the first launch).
	Owner       string     `json:"owner,omitempty"`
	Directories []DirCount `json:"directories"`
	// Rows are the rows to copy, by table.
	Rows map[string]int64 `json:"rows"`
	// NotMerged are rows an existing database cannot take (its table has
	// other columns): they stay in the source and its backup.
	NotMerged []TableCount `json:"notMerged,omitempty"`
	// Added are the rows the migration inserted (the rest were there).
	Added map[string]int64 `json:"added,omitempty"`

	sessions []string
	projects []string
	cols     map[string][]string // merge: the columns to copy, by table
	skip     map[string]bool     // merge: tables not merged
}

// DirCount is a source folder of a target and its number of sessions.
type DirCount struct {
	Directory string `json:"directory"`
	Sessions  int    `json:"sessions"`
	Why       string `json:"why,omitempty"`
}

// Count is the target's rows of a table.
func (t *Target) Count(table string) int64 { return t.Rows[table] }

type sessionRow struct {
	id, directory, parent, project, worktree string
}

// NewPlan plans the migration of the database open on src (attached as
// "main") into the project databases below dbRoot (opencode-dbs), placing
// each session by its root session's folder.
func NewPlan(ctx context.Context, src *db, dbRoot hostfs.Root, place func(directory, worktree string) Placement) (*Plan, error) {
	s, err := readSchema(ctx, src.Conn, "main")
	if err != nil {
		return nil, err
	}
	rs, err := rules(s)
	if err != nil {
		return nil, err
	}
	p := &Plan{src: s, rules: rs, Order: copyOrder(s, rs), Skipped: s.Other}
	if _, err := src.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		return nil, err
	}
	if err := makeTemp(ctx, src.Conn); err != nil {
		return nil, err
	}
	sessions, err := loadSessions(ctx, src.Conn, s)
	if err != nil {
		return nil, err
	}
	p.Sessions = int64(len(sessions))

	// Each session goes with its root session (subagents with their
	// parent), by the root's folder.
	byID := map[string]*sessionRow{}
	for i := range sessions {
		byID[sessions[i].id] = &sessions[i]
	}
	rootOf := func(r *sessionRow) *sessionRow {
		for range 256 {
			parent, ok := byID[r.parent]
			if r.parent == "" || !ok || parent == r {
				return r
			}
			r = parent
		}
		return r
	}
	type key struct{ dir, wt string }
	placed := map[key]Placement{}
	targets := map[string]*Target{}
	owners := map[string]map[string]int{}
	dirs := map[string]map[string]*DirCount{}
	for i := range sessions {
		r := rootOf(&sessions[i])
		k := key{r.directory, r.worktree}
		pl, ok := placed[k]
		if !ok {
			pl = place(r.directory, r.worktree)
			placed[k] = pl
		}
		t := targets[pl.ID]
		if t == nil {
			t = &Target{ID: pl.ID, Dir: dbRoot.Join(pl.ID), Rows: map[string]int64{}}
			targets[pl.ID] = t
			owners[pl.ID] = map[string]int{}
			dirs[pl.ID] = map[string]*DirCount{}
		}
		t.sessions = append(t.sessions, sessions[i].id)
		if sessions[i].project != "" && !slices.Contains(t.projects, sessions[i].project) {
			t.projects = append(t.projects, sessions[i].project)
		}
		if pl.Owner != "" {
			owners[pl.ID][pl.Owner]++
		}
		d := dirs[pl.ID][r.directory]
		if d == nil {
			d = &DirCount{Directory: r.directory, Why: pl.Why}
			dirs[pl.ID][r.directory] = d
		}
		d.Sessions++
	}
	if err := p.routeIdleProjects(ctx, src.Conn, targets, place); err != nil {
		return nil, err
	}
	for id, t := range targets {
		for _, d := range dirs[id] {
			t.Directories = append(t.Directories, *d)
		}
		sort.Slice(t.Directories, func(i, j int) bool {
			a, b := t.Directories[i], t.Directories[j]
			return a.Sessions > b.Sessions || (a.Sessions == b.Sessions && a.Directory < b.Directory)
		})
		t.Owner = chooseOwner(owners[id])
		p.Targets = append(p.Targets, t)
	}
	sort.Slice(p.Targets, func(i, j int) bool {
		a, b := p.Targets[i], p.Targets[j]
		return len(a.sessions) > len(b.sessions) || (len(a.sessions) == len(b.sessions) && a.ID < b.ID)
	})

	for _, t := range p.Targets {
		if err := fillTemp(ctx, src.Conn, t.sessions, t.projects); err != nil {
			return nil, err
		}
		if err := p.inspectTarget(ctx, src.Conn, dbRoot, t); err != nil {
			return nil, fmt.Errorf("project %s (%s): %w", t.ID, t.Dir, err)
		}
		for _, name := range p.Order {
			n, err := p.count(ctx, src.Conn, "main", name)
			if err != nil {
				return nil, err
			}
			if t.skip[name] {
				if n > 0 {
					t.NotMerged = append(t.NotMerged, TableCount{Table: name, Rows: n, Why: "the existing database's table has other columns"})
				}
				continue
			}
			if rs[name].kind == ruleWhole && t.State == StateMerge {
				continue // an existing database keeps its own bookkeeping
			}
			t.Rows[name] = n
		}
	}
	if err := p.countRest(ctx, src.Conn, sessions, targets); err != nil {
		return nil, err
	}
	return p, nil
}

// routeIdleProjects adds projects that have no session to the target of
// their work tree, when there is one; the others stay behind.
func (p *Plan) routeIdleProjects(ctx context.Context, c *sql.Conn, targets map[string]*Target, place func(string, string) Placement) error {
	pt := p.src.table("project")
	if pt == nil || p.rules["project"].kind != ruleProject || pt.col("worktree") == nil || p.src.table("session").col("project_id") == nil {
		return nil
	}
	rows, err := c.QueryContext(ctx, `SELECT "id", coalesce("worktree", '') FROM main."project" WHERE "id" NOT IN (SELECT "project_id" FROM main."session" WHERE "project_id" IS NOT NULL)`)
	if err != nil {
		return fmt.Errorf("read the projects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, wt string
		if err := rows.Scan(&id, &wt); err != nil {
			return err
		}
		if wt == "" || filepath.Clean(wt) == "/" {
			continue
		}
		if t := targets[place(wt, wt).ID]; t != nil && !slices.Contains(t.projects, id) {
			t.projects = append(t.projects, id)
		}
	}
	return rows.Err()
}

// chooseOwner picks the project folder that owns a database: the one
// with the most sessions, a repository's main work tree (its .git a
// folder) before its other worktrees.
func chooseOwner(counts map[string]int) string {
	best, bestMain, bestN := "", false, -1
	for dir, n := range counts {
		fi, err := os.Lstat(filepath.Join(dir, ".git"))
		isMain := err == nil && fi.IsDir()
		if bestN < 0 || (isMain && !bestMain) || (isMain == bestMain && (n > bestN || (n == bestN && dir < best))) {
			best, bestMain, bestN = dir, isMain, n
		}
	}
	return best
}

// loadSessions reads every session with its folder, parent, project and
// the project's work tree, with the columns this schema has.
func loadSessions(ctx context.Context, c *sql.Conn, s *schema) ([]sessionRow, error) {
	st := s.table("session")
	sel := func(col string) string {
		if st.col(col) == nil {
			return "''"
		}
		return `coalesce(s.` + quote(col) + `, '')`
	}
	worktree, join := "''", ""
	if pt := s.table("project"); pt != nil && pt.col("id") != nil && pt.col("worktree") != nil && st.col("project_id") != nil {
		worktree, join = `coalesce(p."worktree", '')`, ` LEFT JOIN main."project" AS p ON p."id" = s."project_id"`
	}
	q := `SELECT s."id", ` + sel("directory") + `, ` + sel("parent_id") + `, ` + sel("project_id") + `, ` + worktree +
		` FROM main."session" AS s` + join + ` ORDER BY s.rowid`
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read the sessions: %w", err)
	}
	defer rows.Close()
	var out []sessionRow
	for rows.Next() {
		var r sessionRow
		var id sql.NullString
		if err := rows.Scan(&id, &r.directory, &r.parent, &r.project, &r.worktree); err != nil {
			return nil, fmt.Errorf("read the sessions: %w", err)
		}
		r.id = id.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// makeTemp creates the temp tables that hold one target's sessions and
// projects.
func makeTemp(ctx context.Context, c *sql.Conn) error {
	for _, q := range []string{
		"CREATE TEMP TABLE IF NOT EXISTS m_session(id TEXT PRIMARY KEY)",
		"CREATE TEMP TABLE IF NOT EXISTS m_project(id TEXT PRIMARY KEY)",
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// fillTemp puts a target's sessions and projects in the temp tables (as
// one JSON parameter each: no value is ever pasted into SQL).
func fillTemp(ctx context.Context, c *sql.Conn, sessions, projects []string) error {
	for _, t := range []struct {
		name string
		ids  []string
	}{{"m_session", sessions}, {"m_project", projects}} {
		if _, err := c.ExecContext(ctx, "DELETE FROM temp."+t.name); err != nil {
			return err
		}
		ids := t.ids
		if ids == nil {
			ids = []string{}
		}
		data, _ := json.Marshal(ids)
		if _, err := c.ExecContext(ctx, "INSERT OR IGNORE INTO temp."+t.name+"(id) SELECT value FROM json_each(?)", string(data)); err != nil {
			return err
		}
	}
	return nil
}

// count counts the rows of a table that go to the target in the temp
// tables.
func (p *Plan) count(ctx context.Context, c *sql.Conn, db, name string) (int64, error) {
	var n int64
	q := "SELECT count(*) FROM " + quote(db) + "." + quote(name) + " WHERE " + member(p.src, p.rules, db, name)
	if err := c.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the rows of %s: %w", name, err)
	}
	return n, nil
}

// countRest counts what is not copied and what stays behind.
func (p *Plan) countRest(ctx context.Context, c *sql.Conn, sessions []sessionRow, targets map[string]*Target) error {
	var allS, allP []string
	for _, s := range sessions {
		allS = append(allS, s.id)
	}
	for _, t := range targets {
		allP = append(allP, t.projects...)
	}
	if err := fillTemp(ctx, c, allS, allP); err != nil {
		return err
	}
	for _, t := range p.src.Tables {
		var total int64
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM main."+quote(t.Name)).Scan(&total); err != nil {
			return fmt.Errorf("count the rows of %s: %w", t.Name, err)
		}
		switch p.rules[t.Name].kind {
		case ruleNone:
			if total > 0 {
				p.NotCopied = append(p.NotCopied, TableCount{Table: t.Name, Rows: total, Why: "not tied to a project"})
			}
		case ruleWhole:
		default:
			n, err := p.count(ctx, c, "main", t.Name)
			if err != nil {
				return err
			}
			if total > n {
				why := "their parent row is missing"
				if t.Name == "project" {
					why = "projects with no session"
				}
				p.LeftBehind = append(p.LeftBehind, TableCount{Table: t.Name, Rows: total - n, Why: why})
			}
		}
	}
	return nil
}

// inspectTarget looks at a target's folder: no database yet, an empty
// one, or one OpenCode made, whose tables must be able to take the rows.
func (p *Plan) inspectTarget(ctx context.Context, src *sql.Conn, dbRoot hostfs.Root, t *Target) error {
	f := File{Root: dbRoot, Rel: filepath.Join(t.ID, DBFile)}
	if err := dbRoot.CheckDir(t.ID); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	exists, err := f.Check()
	if errors.Is(err, fs.ErrNotExist) {
		t.State = StateNew
		return nil
	}
	if err != nil {
		return err
	}
	if !exists {
		t.State = StateNew
		return nil
	}
	d, err := open(ctx, f, readOnly)
	if err != nil {
		return err
	}
	defer d.Close()
	ts, err := readSchema(ctx, d.Conn, "main")
	if err != nil {
		return err
	}
	if len(ts.Tables) == 0 {
		t.State = StateEmpty
		return nil
	}
	if st := ts.table("session"); st == nil || st.col("id") == nil {
		return fmt.Errorf("%s has tables but no session table: it is not an OpenCode database", f.Path())
	}
	t.State = StateMerge
	t.cols, t.skip = map[string][]string{}, map[string]bool{}
	for _, name := range p.Order {
		if p.rules[name].kind == ruleWhole {
			continue
		}
		st, dt := p.src.table(name), ts.table(name)
		if dt == nil {
			t.skip[name] = true
			continue
		}
		var use []string
		ok := true
		for _, c := range st.Cols {
			if dt.col(c.Name) != nil {
				use = append(use, c.Name)
			} else if c.NotNull || c.PK > 0 {
				ok = false // a value that must be there, and has nowhere to go
			} else {
				// A column the existing table lacks: left out when it is
				// empty in every row that goes there.
				var n int64
				q := "SELECT count(*) FROM main." + quote(name) + " WHERE (" + member(p.src, p.rules, "main", name) + ") AND " + quote(c.Name) + " IS NOT NULL"
				if err := src.QueryRowContext(ctx, q).Scan(&n); err != nil {
					return fmt.Errorf("read %s.%s: %w", name, c.Name, err)
				}
				if n > 0 {
					ok = false
				}
			}
		}
		for _, c := range dt.Cols {
			if st.col(c.Name) == nil && c.NotNull && !c.HasDefault && !dt.rowidAlias(c.Name) {
				ok = false // the existing table needs a value the source has not
			}
		}
		if !ok {
			t.skip[name] = true
			continue
		}
		t.cols[name] = use
	}
	// A table whose parent is not merged is not merged either.
	for changed := true; changed; {
		changed = false
		for _, name := range p.Order {
			if t.skip[name] {
				continue
			}
			r := p.rules[name]
			parents := []string{}
			if r.kind == ruleVia {
				parents = append(parents, r.parent)
			}
			for _, fk := range p.src.table(name).FKs {
				parents = append(parents, fk.Parent)
			}
			for _, par := range parents {
				if par != name && t.skip[par] {
					t.skip[name] = true
					changed = true
					break
				}
			}
		}
	}
	if t.skip["session"] {
		return fmt.Errorf("%s was made by an OpenCode whose session table cannot take these sessions", f.Path())
	}
	return nil
}
