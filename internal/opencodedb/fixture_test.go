package opencodedb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

// Versions whose schemas testdata holds: each file is `sqlite3 .dump` of
// the database the real OpenCode of that version made (opencode run
// "hello" in a git repository, on an empty HOME), its folder renamed
// /gone/opencode-<version>/proj.
var versions = []string{"1.2.1", "1.14.34", "1.18.33"}

// fixture is a global OpenCode database made from a real schema, with
// rows added for the test's folders.
type fixture struct {
	t    *testing.T
	dir  string // holds opencode.db
	path string
	db   *sql.DB
	n    int
}

// newFixture loads testdata/opencode-<version>.sql into dir/opencode.db
// in WAL mode, as OpenCode leaves it (with its -wal and -shm while open).
func newFixture(t *testing.T, version, dir string) *fixture {
	t.Helper()
	dump, err := os.ReadFile(filepath.Join("testdata", "opencode-"+version+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DBFile)
	db, err := sql.Open("sqlite", uri(path, create))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000", "PRAGMA wal_autocheckpoint = 0"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatalf("load %s: %v", version, err)
	}
	if _, err := db.Exec("PRAGMA foreign_keys = ON"); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, path: path, db: db}
}

// close closes the fixture's connection and leaves the files as OpenCode
// leaves them when it exits: the rows still in opencode.db-wal, with its
// -shm (the files are saved before the close, which would checkpoint,
// and put back after).
func (f *fixture) close() {
	f.t.Helper()
	saved := map[string][]byte{}
	for _, suf := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(f.path + suf)
		if err != nil {
			f.t.Fatal(err)
		}
		saved[suf] = data
	}
	f.db.Close()
	for suf, data := range saved {
		if err := os.WriteFile(f.path+suf, data, 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) columns(table string) []column {
	rows, err := f.db.Query(`SELECT name, type, "notnull", dflt_value IS NOT NULL, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.HasDefault, &c.PK); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// insert adds a row: the given values, and a made-up one for every other
// NOT NULL column without a default.
func (f *fixture) insert(table string, vals map[string]any) {
	f.t.Helper()
	var names, marks []string
	var args []any
	for _, c := range f.columns(table) {
		v, ok := vals[c.Name]
		if !ok {
			if !c.NotNull || c.HasDefault {
				continue
			}
			f.n++
			switch strings.ToLower(c.Type) {
			case "integer", "numeric", "real":
				v = f.n
			default:
				v = fmt.Sprintf("%s-%d", c.Name, f.n)
			}
		}
		names = append(names, quote(c.Name))
		marks = append(marks, "?")
		args = append(args, v)
	}
	q := "INSERT INTO " + quote(table) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if _, err := f.db.Exec(q, args...); err != nil {
		f.t.Fatalf("%s %v: %v", q, args, err)
	}
}

func (f *fixture) project(id, worktree string) {
	f.insert("project", map[string]any{"id": id, "worktree": worktree, "sandboxes": "[]", "time_created": 1, "time_updated": 1})
}

// session adds a session with messages, each with parts, and a todo.
func (f *fixture) session(id, projectID, directory, parent string, messages, parts int) {
	f.t.Helper()
	vals := map[string]any{"id": id, "project_id": projectID, "directory": directory, "slug": "s", "title": "t '" + id + "'",
		"version": "1", "time_created": 1, "time_updated": 1}
	if parent != "" {
		vals["parent_id"] = parent
	}
	f.insert("session", vals)
	for m := 0; m < messages; m++ {
		mid := fmt.Sprintf("msg_%s_%d", id, m)
		f.insert("message", map[string]any{"id": mid, "session_id": id, "time_created": m, "time_updated": m, "data": `{"role":"user"}`})
		for p := 0; p < parts; p++ {
			f.insert("part", map[string]any{"id": fmt.Sprintf("prt_%s_%d_%d", id, m, p), "message_id": mid, "session_id": id,
				"time_created": p, "time_updated": p, "data": `{"type":"text","text":"it's \"quoted\" é"}`})
		}
	}
	f.insert("todo", map[string]any{"session_id": id, "content": "do it", "status": "pending", "priority": "high", "position": 0, "time_created": 1, "time_updated": 1})
}

func (f *fixture) count(q string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.QueryRow(q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// gitRepo makes a repository with a commit and, when origin is set, an
// origin remote.
func gitRepo(t *testing.T, dir, origin string) {
	t.Helper()
	run(t, "", "git", "init", "-q", "-b", "main", dir)
	run(t, dir, "git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "init")
	if origin != "" {
		run(t, dir, "git", "remote", "add", "origin", origin)
	}
}

func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// world is a host with projects and a global database.
type world struct {
	root    string // canonical temp folder
	state   hostfs.Root
	dbRoot  hostfs.Root
	data    hostfs.Root // the XDG data home
	src     File
	repo    string // a repository with an origin
	sub     string // a folder in it
	wt      string // a worktree of it
	odd     string // a folder without git, with quotes, spaces and non-ASCII
	gone    string // a folder that no longer exists
	fx      *fixture
	resolve Resolver
}

func newWorld(t *testing.T, version string) *world {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{root: root}
	w.repo = filepath.Join(root, "projects", "app")
	w.sub = filepath.Join(w.repo, "src", "deep")
	w.wt = filepath.Join(root, "projects", "app-feature")
	w.odd = filepath.Join(root, "projects", `l'été "x" #1?`)
	w.gone = filepath.Join(root, "projects", "removed")
	gitRepo(t, w.repo, "git@example.org:team/app.git")
	if err := os.MkdirAll(w.sub, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, w.repo, "git", "worktree", "add", "-q", "-b", "feature", w.wt)
	if err := os.MkdirAll(w.odd, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"state/opencode-dbs", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	w.state = hostfs.New(filepath.Join(root, "state"))
	w.dbRoot = hostfs.New(filepath.Join(root, "state", "opencode-dbs"))
	w.data = hostfs.New(filepath.Join(root, "data"))
	w.src = File{Root: w.data, Rel: filepath.Join("opencode", DBFile)}
	w.resolve = NewResolver(nil)
	w.fx = newFixture(t, version, filepath.Join(root, "data", "opencode"))
	return w
}

// populate adds the test's projects: the repository (root, subfolder,
// worktree, a subagent session), the odd folder, a gone folder, a
// session without a folder.
func (w *world) populate() {
	f := w.fx
	f.project("prj_app", w.repo)
	f.project("global", "/")
	f.session("ses_app1", "prj_app", w.repo, "", 3, 2)
	f.session("ses_app2", "prj_app", w.sub, "", 2, 1)
	f.session("ses_app3", "prj_app", w.wt, "", 1, 1)
	f.session("ses_child", "prj_app", w.odd, "ses_app1", 1, 1) // a subagent goes with its parent
	f.session("ses_odd", "global", w.odd, "", 2, 2)
	f.session("ses_gone", "global", w.gone, "", 1, 1)
	f.session("ses_nodir", "global", "", "", 1, 1)
}

func (w *world) options(apply bool) Options {
	return Options{Source: w.src, DBRoot: w.dbRoot, Place: w.resolve.Place, Apply: apply}
}

func (w *world) appID() string {
	return project.Find(w.repo, nil).ID
}

func migrate(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Migrate(context.Background(), o)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return res
}

// target opens a project database read-only.
func target(t *testing.T, root hostfs.Root, id string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", uri(root.Join(filepath.Join(id, DBFile)), readOnly))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countRows(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
