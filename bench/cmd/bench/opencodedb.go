package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"

	"github.com/ai-sandbox/ai-sandbox/bench"
)

// The migrate-opencode-db figure: a generated OpenCode-shaped database of
// about -db-size bytes (the schema of OpenCode 1.18.33, as the real
// binary made it; sessions of several projects, messages, parts with
// JSON text, todos, events) is split by `ai-sandbox migrate-opencode-db
// --apply` (backup, plan, copy, verify, rename: the whole command), and
// the same file is copied with SQLite's own backup API (the same SQLite,
// modernc.org/sqlite), alternating. Throughput = source bytes / wall
// time; the target is migrate ≥ 0.5× backup.

// dbFigure measures the figure and adds its row.
func (h *harness) dbFigure() error {
	dir := filepath.Join(h.tmp, "opencodedb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(dir, "source.db")
	logf("generating an OpenCode database of about %d MB", h.o.dbSize/1e6)
	start := time.Now()
	projects, err := generateOpencodeDB(src, filepath.Join(h.home, "code"), h.o.dbSize)
	if err != nil {
		return fmt.Errorf("generate the OpenCode database: %w", err)
	}
	for _, p := range projects {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	size := float64(st.Size())
	logf("generated %.0f MB in %s", size/1e6, time.Since(start).Round(time.Second))
	runs := h.o.dbRuns
	var migA, bakB []float64
	for i := 0; i < runs; i++ {
		for _, first := range order(i) {
			if first {
				d, err := h.timeMigrate(dir, src)
				if err != nil {
					return err
				}
				migA = append(migA, size/1e6/d.Seconds())
				logf("migrate: %s (%.0f MB/s)", d.Round(time.Millisecond), size/1e6/d.Seconds())
			} else {
				d, err := timeBackup(src, filepath.Join(dir, "backup.db"))
				if err != nil {
					return err
				}
				bakB = append(bakB, size/1e6/d.Seconds())
				logf("backup API: %s (%.0f MB/s)", d.Round(time.Millisecond), size/1e6/d.Seconds())
			}
		}
	}
	row := bench.NewRow("opencode-migrate", "OpenCode database split, throughput",
		fmt.Sprintf("ai-sandbox migrate-opencode-db --apply (%.2f GB, %d projects)", size/1e9, len(projects)),
		"SQLite's backup API, same file", "MB/s", migA, bakB, bench.Target{On: "ratio", Op: ">=", Limit: 0.5})
	row.Note = "higher is better; the migration includes its own backup, the plan, the copy in one verified transaction per project (integrity_check, foreign_key_check) and the rename"
	h.add(row)
	h.report.Notes = append(h.report.Notes, fmt.Sprintf("OpenCode database split: a generated database of %.0f MB (OpenCode 1.18.33's schema, %d projects), on page cache; %d pairs, migrate and backup alternating; throughput = source bytes / wall time", size/1e6, len(projects), runs))
	return nil
}

// timeMigrate runs the real command on a fresh copy of the source (not
// timed), as the bench user.
func (h *harness) timeMigrate(dir, src string) (time.Duration, error) {
	home := filepath.Join(dir, "home")
	_ = os.RemoveAll(home)
	data := filepath.Join(home, ".local", "share", "opencode")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return 0, err
	}
	if out, err := exec.Command("cp", "--sparse=never", src, filepath.Join(data, "opencode.db")).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("cp: %v %s", err, out)
	}
	if err := chownTree(home, h.uid, h.gid); err != nil {
		return 0, err
	}
	env := append(append([]string(nil), h.env...), "HOME="+home, "AI_SANDBOX_HOME="+filepath.Join(home, ".ai-sandbox"))
	res, err := h.measured(env, h.bin, []string{"ai-sandbox", "migrate-opencode-db", "--apply"})
	if err != nil {
		return 0, err
	}
	if _, err := os.Stat(filepath.Join(data, "opencode.db")); err == nil {
		return 0, fmt.Errorf("migrate-opencode-db --apply left the source in place")
	}
	_ = os.RemoveAll(home)
	return res.wall, nil
}

// timeBackup copies src with SQLite's backup API (one step, as the
// product does), from open to finish.
func timeBackup(src, dst string) (time.Duration, error) {
	_ = os.Remove(dst)
	defer os.Remove(dst)
	start := time.Now()
	db, err := sql.Open("sqlite", fileURI(src, "ro"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	c, err := db.Conn(context.Background())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		bk, err := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		}).NewBackup(fileURI(dst, "rwc"))
		if err != nil {
			return err
		}
		if _, err := bk.Step(-1); err != nil {
			bk.Finish()
			return err
		}
		return bk.Finish()
	})
	return time.Since(start), err
}

func fileURI(path, mode string) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=" + mode}
	return u.String()
}

func chownTree(root string, uid, gid int) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// generateOpencodeDB writes an OpenCode-shaped database of about size
// bytes at path, with its projects' folders under codeDir (returned, to
// be made): 1.18.33's schema; projects of uneven size; per session ~30
// messages of ~3 parts with JSON text of 0.5 to 6 kB, a todo, events.
func generateOpencodeDB(path, codeDir string, size int64) ([]string, error) {
	schema, err := os.ReadFile(filepath.Join("internal", "opencodedb", "testdata", "opencode-1.18.33.sql"))
	if err != nil {
		return nil, fmt.Errorf("%w (run the bench from the repository's root)", err)
	}
	_ = os.Remove(path)
	db, err := sql.Open("sqlite", fileURI(path, "rwc"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", "PRAGMA cache_size = -200000", string(schema)} {
		if _, err := db.Exec(q); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the a function returns error value file test build run project session message part tool call read write edit grep list diff commit branch merge docker sandbox sqlite database migrate plan copy verify")
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	// Projects of uneven size: weights 1/(k+1).
	const nProjects = 24
	var projects []string
	var weights []float64
	total := 0.0
	for k := 0; k < nProjects; k++ {
		projects = append(projects, filepath.Join(codeDir, fmt.Sprintf("project-%02d", k)))
		weights = append(weights, 1/float64(k+1))
		total += 1 / float64(k+1)
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	prep := func(q string) *sql.Stmt {
		s, e := tx.Prepare(q)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	insProject := prep("INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?, ?, 'git', 1, 1, '[]')")
	insSession := prep("INSERT INTO session (id, project_id, slug, directory, path, title, version, time_created, time_updated) VALUES (?, ?, 'quick-wolf', ?, '', ?, '1.18.33', ?, ?)")
	insMessage := prep("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)")
	insPart := prep("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)")
	insTodo := prep("INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?, ?, 'pending', 'high', 0, 1, 1)")
	insSeq := prep("INSERT INTO event_sequence (aggregate_id, seq) VALUES (?, ?)")
	insEvent := prep("INSERT INTO event (id, aggregate_id, seq, type, data) VALUES (?, ?, ?, 'session.updated.1', ?)")
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	for k, p := range projects {
		if _, err := insProject.Exec(fmt.Sprintf("prj%040d", k), p); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	var written int64
	t := int64(1_790_000_000_000)
	for s := 0; written < size; s++ {
		x, k := rng.Float64()*total, 0
		for ; k < nProjects-1 && x > weights[k]; k++ {
			x -= weights[k]
		}
		sid := fmt.Sprintf("ses_%012d", s)
		t += 1000
		if _, err := insSession.Exec(sid, fmt.Sprintf("prj%040d", k), projects[k], "session "+text(30), t, t); err != nil {
			tx.Rollback()
			return nil, err
		}
		insTodo.Exec(sid, text(40))
		insSeq.Exec(sid, 3)
		for e := 0; e < 3; e++ {
			insEvent.Exec(fmt.Sprintf("evt_%s_%d", sid, e), sid, e, `{"directory":"`+projects[k]+`"}`)
		}
		for m := 0; m < 20+rng.IntN(20); m++ {
			mid := fmt.Sprintf("msg_%012d_%03d", s, m)
			t++
			data := `{"role":"assistant","agent":"build","modelID":"big-pickle","providerID":"opencode","tokens":{"input":1200,"output":300}}`
			insMessage.Exec(mid, sid, t, t, data)
			written += int64(len(data)) + 60
			for q := 0; q < 1+rng.IntN(5); q++ {
				body := `{"type":"text","text":"` + text(500+rng.IntN(5500)) + `"}`
				if _, err := insPart.Exec(fmt.Sprintf("prt_%012d_%03d_%d", s, m, q), mid, sid, t, t, body); err != nil {
					tx.Rollback()
					return nil, err
				}
				written += int64(len(body)) + 120
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// As OpenCode leaves it: in WAL mode.
	if _, err := db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		return nil, err
	}
	return projects, nil
}
