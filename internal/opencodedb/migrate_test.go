package opencodedb

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

func targetByID(p *Plan, id string) *Target {
	for _, t := range p.Targets {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func TestPlanPlacesSessions(t *testing.T) {
	w := newWorld(t, "1.18.33")
	w.populate()
	w.fx.close()
	res := migrate(t, w.options(false))
	p := res.Plan
	app := targetByID(p, w.appID())
	if app == nil {
		t.Fatalf("no target %s in %+v", w.appID(), p.Targets)
	}
	var dirs []string
	for _, d := range app.Directories {
		dirs = append(dirs, d.Directory)
	}
	// The root, a subfolder and a worktree of one repository, and the
	// subagent session with its parent.
	for _, want := range []string{w.repo, w.sub, w.wt} {
		if !slices.Contains(dirs, want) {
			t.Errorf("app's folders %q lack %s", dirs, want)
		}
	}
	if got := app.Rows["session"]; got != 4 {
		t.Errorf("app sessions = %d, want 4", got)
	}
	if got := app.Rows["message"]; got != 3+2+1+1 {
		t.Errorf("app messages = %d", got)
	}
	if got := app.Rows["part"]; got != 6+2+1+1 {
		t.Errorf("app parts = %d", got)
	}
	if app.Owner != w.repo {
		t.Errorf("owner %q, want the main work tree %s", app.Owner, w.repo)
	}
	odd := targetByID(p, project.ID(filepath.Base(w.odd), "path:"+w.odd))
	if odd == nil || odd.Rows["session"] != 1 || odd.Rows["part"] != 4 {
		t.Errorf("odd folder: %+v", odd)
	}
	gone := targetByID(p, project.ID("removed", "path:"+w.gone))
	if gone == nil || gone.Rows["session"] != 1 || !strings.Contains(gone.Directories[0].Why, "gone") {
		t.Errorf("gone folder: %+v", gone)
	}
	nodir := targetByID(p, NoDirectory)
	if nodir == nil || nodir.Rows["session"] != 1 {
		t.Errorf("no directory: %+v", nodir)
	}
	// The session OpenCode itself made lies in a repository that is gone.
	real := targetByID(p, project.ID("proj", "gitroot:/gone/opencode-1.18.33/proj"))
	if real == nil || real.Rows["session"] != 1 || real.Rows["event"] == 0 {
		t.Errorf("OpenCode's own session: %+v", real)
	}
	var total int64
	for _, tg := range p.Targets {
		total += tg.Rows["session"]
		if tg.State != StateNew {
			t.Errorf("%s: state %s", tg.ID, tg.State)
		}
	}
	if total != p.Sessions || p.Sessions != 8 {
		t.Errorf("%d sessions placed of %d", total, p.Sessions)
	}
	// A dry run writes nothing.
	entries, _ := os.ReadDir(w.dbRoot.Path())
	if len(entries) != 0 {
		t.Errorf("dry run wrote %v", entries)
	}
}

func TestApplyEveryVersion(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			w := newWorld(t, v)
			w.populate()
			wantMigrations := w.fx.count("SELECT count(*) FROM sqlite_master WHERE name IN ('__drizzle_migrations', 'migration')")
			w.fx.close()
			if _, err := os.Stat(w.src.Path() + "-wal"); err != nil {
				t.Fatalf("the fixture has no WAL: %v", err)
			}
			res := migrate(t, w.options(true))
			if !res.Applied || res.RenamedTo == "" {
				t.Fatalf("not applied: %+v", res)
			}
			for _, tg := range res.Plan.Targets {
				db := target(t, w.dbRoot, tg.ID)
				for table, n := range tg.Rows {
					if got := countRows(t, db, "SELECT count(*) FROM "+quote(table)); got != n {
						t.Errorf("%s: %s has %d rows, planned %d", tg.ID, table, got, n)
					}
				}
				if n := countRows(t, db, "SELECT count(*) FROM sqlite_master WHERE name IN ('__drizzle_migrations', 'migration')"); n != wantMigrations {
					t.Errorf("%s: bookkeeping tables %d, want %d", tg.ID, n, wantMigrations)
				}
			}
			app := target(t, w.dbRoot, w.appID())
			if got := countRows(t, app, "SELECT count(*) FROM part WHERE data LIKE ?", `%it's \"quoted\" é%`); got != 10 {
				t.Errorf("app parts with their text: %d", got)
			}
			// The source is aside, the backup holds it.
			if _, err := os.Stat(w.src.Path()); !os.IsNotExist(err) {
				t.Errorf("source still there: %v", err)
			}
			if _, err := os.Stat(res.RenamedTo); err != nil {
				t.Error(err)
			}
			note, err := os.ReadFile(filepath.Join(res.Backup, "RESTORE.txt"))
			if err != nil || !strings.Contains(string(note), "backup API") {
				t.Errorf("restore note: %v %s", err, note)
			}
			owner, err := os.ReadFile(filepath.Join(w.dbRoot.Path(), ".owners", w.appID()))
			if err != nil || string(owner) != w.repo+"\n" {
				t.Errorf("owner record %q %v", owner, err)
			}
			// A second run finds nothing to do.
			if res := migrate(t, w.options(true)); !res.Missing {
				t.Errorf("second run: %+v", res)
			}
		})
	}
}

func TestApplyTwiceKeepingSource(t *testing.T) {
	w := newWorld(t, "1.14.34")
	w.populate()
	w.fx.close()
	o := w.options(true)
	o.KeepSource = true
	first := migrate(t, o)
	second := migrate(t, o)
	for _, tg := range second.Plan.Targets {
		if tg.State != StateMerge {
			t.Errorf("%s: %s the second time", tg.ID, tg.State)
		}
		for table, n := range tg.Added {
			if n != 0 {
				t.Errorf("%s: %d rows of %s added again", tg.ID, n, table)
			}
		}
	}
	if len(first.Plan.Targets) != len(second.Plan.Targets) {
		t.Errorf("targets %d then %d", len(first.Plan.Targets), len(second.Plan.Targets))
	}
}

func TestMergeIntoExistingNewerDatabase(t *testing.T) {
	w := newWorld(t, "1.14.34")
	w.populate()
	w.fx.insert("permission", map[string]any{"project_id": "prj_app", "data": "[]"})
	w.fx.close()
	// The project ran isolated already, with OpenCode 1.18.33.
	existing := newFixture(t, "1.18.33", w.dbRoot.Join(w.appID()))
	existing.project("prj_app", w.repo)
	existing.session("ses_new", "prj_app", w.repo, "", 1, 1)
	before := existing.count("SELECT count(*) FROM session")
	existing.close()

	res := migrate(t, w.options(true))
	app := targetByID(res.Plan, w.appID())
	if app.State != StateMerge {
		t.Fatalf("state %s", app.State)
	}
	if len(app.NotMerged) != 1 || app.NotMerged[0].Table != "permission" {
		t.Errorf("not merged: %+v", app.NotMerged)
	}
	db := target(t, w.dbRoot, w.appID())
	if got := countRows(t, db, "SELECT count(*) FROM session"); got != before+4 {
		t.Errorf("sessions %d, want 4 migrated + %d of its own", got, before)
	}
	if got := countRows(t, db, "SELECT count(*) FROM migration"); got != 38 {
		t.Errorf("its own bookkeeping changed: %d", got)
	}
	if got := countRows(t, db, "SELECT count(*) FROM session WHERE id = 'ses_new'"); got != 1 {
		t.Error("its own session is gone")
	}
}

func TestRefusesLinks(t *testing.T) {
	w := newWorld(t, "1.18.33")
	w.populate()
	w.fx.close()
	secret := filepath.Join(w.root, "secret")
	os.WriteFile(secret, []byte("x"), 0o600)
	// An agent planted a link as the project's WAL.
	dir := w.dbRoot.Join(w.appID())
	os.MkdirAll(dir, 0o700)
	if err := os.Symlink(secret, filepath.Join(dir, DBFile+"-wal")); err != nil {
		t.Fatal(err)
	}
	_, err := Migrate(context.Background(), w.options(true))
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), w.appID()) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(w.src.Path()); err != nil {
		t.Errorf("source moved: %v", err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "x" {
		t.Error("the link was followed")
	}
	// A linked source is refused too.
	os.Rename(w.src.Path(), w.src.Path()+".real")
	os.Symlink(w.src.Path()+".real", w.src.Path())
	if _, err := Migrate(context.Background(), w.options(false)); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("linked source: %v", err)
	}
}

func TestRefusesSourceInUse(t *testing.T) {
	w := newWorld(t, "1.18.33")
	w.populate() // the fixture's connection stays open, as a running OpenCode's
	_, err := Migrate(context.Background(), w.options(true))
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("err = %v", err)
	}
}

// TestKilledMigration kills a migration (SIGKILL, in a subprocess) in the
// middle of a target's transaction, and right after a target committed:
// the source is untouched each time, and a second run completes.
func TestKilledMigration(t *testing.T) {
	for _, at := range []struct {
		stage string
		nth   int
	}{{"copied", 0}, {"committed", 0}, {"copied", 2}} {
		t.Run(fmt.Sprintf("%s-%d", at.stage, at.nth), func(t *testing.T) {
			w := newWorld(t, "1.18.33")
			w.populate()
			sessions := w.fx.count("SELECT count(*) FROM session")
			w.fx.close()
			srcBefore := fileSums(t, w.src.Path())

			cmd := exec.Command(os.Args[0], "-test.run=^TestMigrationHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "OPENCODEDB_HELPER="+strings.Join([]string{w.data.Path(), w.src.Rel, w.dbRoot.Path(), at.stage, strconv.Itoa(at.nth)}, "\n"))
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			ready := false
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "READY ") {
					ready = true
					break
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if !ready {
				t.Fatalf("the helper did not reach %s: %s", at.stage, stderr.String())
			}
			if got := fileSums(t, w.src.Path()); got != srcBefore {
				t.Errorf("the source changed: %s, was %s", got, srcBefore)
			}
			res := migrate(t, w.options(true))
			if !res.Applied || res.RenamedTo == "" {
				t.Fatalf("second run: %+v", res)
			}
			var total int64
			for _, tg := range res.Plan.Targets {
				total += countRows(t, target(t, w.dbRoot, tg.ID), "SELECT count(*) FROM session")
			}
			if total != sessions {
				t.Errorf("%d sessions in the project databases, %d in the source", total, sessions)
			}
		})
	}
}

// TestMigrationHelper is the migration TestKilledMigration kills: it
// says READY at the stage asked for and waits to be killed.
func TestMigrationHelper(t *testing.T) {
	env := os.Getenv("OPENCODEDB_HELPER")
	if env == "" {
		t.Skip("run by TestKilledMigration")
	}
	f := strings.Split(env, "\n")
	nth, _ := strconv.Atoi(f[4])
	seen := 0
	o := Options{
		Source: File{Root: hostfs.New(f[0]), Rel: f[1]}, DBRoot: hostfs.New(f[2]), Place: NewResolver(nil).Place, Apply: true,
		Hook: func(stage, id string) {
			if stage != f[3] {
				return
			}
			if seen == nth {
				fmt.Printf("READY %s %s\n", stage, id)
				time.Sleep(time.Hour)
			}
			seen++
		},
	}
	if _, err := Migrate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	t.Fatal("the migration ended before the stage")
}

// fileSums fingerprints a database and its WAL (not the -shm: the WAL's
// index in shared memory, which every reader may rebuild).
func fileSums(t *testing.T, path string) string {
	t.Helper()
	var parts []string
	for _, suf := range []string{"", "-wal"} {
		data, err := os.ReadFile(path + suf)
		if err != nil {
			parts = append(parts, suf+":none")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s:%x", suf, sha256.Sum256(data)))
	}
	return strings.Join(parts, " ")
}

// TestWriteDuringMigrationRenamesNothing: the copies read the source
// itself, beside its backup; an OpenCode that writes to it meanwhile
// makes the migration fail with nothing renamed, and a rerun adds the
// new rows.
func TestWriteDuringMigrationRenamesNothing(t *testing.T) {
	w := newWorld(t, "1.18.33")
	w.populate()
	w.fx.close()
	o := w.options(true)
	wrote := false
	o.Hook = func(stage, id string) {
		if stage != "committed" || wrote {
			return
		}
		wrote = true
		db, err := sql.Open("sqlite", uri(w.src.Path(), readWrite))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("PRAGMA busy_timeout = 5000"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE session SET title = 'written meanwhile' WHERE id = 'ses_app1'"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Migrate(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "changed while it was migrated") || !strings.Contains(err.Error(), "nothing was renamed") {
		t.Fatalf("got %v, want the source changed, nothing renamed", err)
	}
	if !wrote {
		t.Fatal("the hook never wrote")
	}
	if exists, err := w.src.Check(); err != nil || !exists {
		t.Fatalf("the source is gone: %v", err)
	}
	matches, _ := filepath.Glob(w.src.Path() + ".migrated-*")
	if len(matches) != 0 {
		t.Fatalf("renamed: %v", matches)
	}
	res := migrate(t, w.options(true))
	if !res.Applied || res.RenamedTo == "" {
		t.Fatalf("rerun: %+v", res)
	}
}
