package run_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// writerReport is what e2e/dbwriter prints after writing.
type writerReport struct {
	Writer    string `json:"writer"`
	Committed int    `json:"committed"`
	Busy      int    `json:"busy"`
	MS        int64  `json:"ms"`
	Host      string `json:"host"`
	DB        string `json:"db"`
}

// dbCheck is what e2e/dbwriter -check prints.
type dbCheck struct {
	Integrity string         `json:"integrity"`
	Rows      map[string]int `json:"rows"`
	Gaps      map[string]int `json:"gaps"`
	Switches  int            `json:"switches"`
}

// lastJSON decodes the last line of a command's stdout.
func lastJSON(t *testing.T, r harness.Result, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("the writer's output: %v\n%s", err, r)
	}
}

// TestOpencodeDBConcurrentWriters: OpenCode-like writers (e2e/dbwriter:
// SQLite in WAL mode with OpenCode's pragmas, one transaction per row),
// launched as opencode, so that the sandbox is an opencode one with
// OPENCODE_DB set. Two terminals of one project share one container and
// one database: 2 × 10,000 writes at the same time (each waits for the
// other before writing) leave 20,000 rows, interleaved, none lost, and
// PRAGMA integrity_check ok. Two other projects, writing at the same
// time too, each get their own database folder and file, holding only
// their own 10,000 rows.
func TestOpencodeDBConcurrentWriters(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	const writes = 10000
	bin := e.StaticAs("./e2e/dbwriter", "opencode")
	opencode := func(more ...string) []string {
		return append([]string{"run", "--image", e.S.Image, "--idle-timeout", "5m", "--mount", bin + ":/usr/local/bin:ro", "opencode"}, more...)
	}
	two, three := filepath.Join(e.Workspace, "two"), filepath.Join(e.Workspace, "three")
	e.GitInit(two)
	e.GitInit(three)

	type launch struct {
		dir, id string
		wait    int
	}
	launches := []launch{{e.Project, "A1", 2}, {e.Project, "A2", 2}, {two, "B", 0}, {three, "C", 0}}
	results := make([]harness.Result, len(launches))
	var wg sync.WaitGroup
	start := time.Now()
	for i, l := range launches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := opencode("-id", l.id, "-writes", strconv.Itoa(writes), "-wait", strconv.Itoa(l.wait))
			results[i] = e.RunIn(l.dir, harness.RunOpts{Timeout: 15 * time.Minute}, args...)
		}()
	}
	wg.Wait()
	t.Logf("4 writers × %d writes, 2 of them in one project, took %s", writes, time.Since(start).Round(time.Millisecond))
	reports := map[string]writerReport{}
	for i, r := range results {
		if r.Code != 0 {
			t.Fatalf("writer %s in %s:\n%s", launches[i].id, launches[i].dir, r)
		}
		var rep writerReport
		lastJSON(t, r, &rep)
		t.Logf("writer %s: %+v", launches[i].id, rep)
		if rep.Writer != launches[i].id || rep.Committed != writes {
			t.Errorf("writer %s committed %d of %d", launches[i].id, rep.Committed, writes)
		}
		if rep.DB != "/var/lib/ai-sandbox/db/opencode.db" {
			t.Errorf("writer %s: OPENCODE_DB = %q, want the mounted folder's opencode.db", launches[i].id, rep.DB)
		}
		reports[rep.Writer] = rep
	}

	// The two terminals of the project: one container; the other
	// projects: one each, distinct.
	if a := e.ContainersOf(e.Project, "opencode"); len(a) != 1 {
		t.Errorf("the project's two terminals ran in %d opencode containers, want 1: %v", len(a), a)
	}
	if reports["A1"].Host != reports["A2"].Host {
		t.Errorf("the two terminals of one project ran in different containers: %s, %s", reports["A1"].Host, reports["A2"].Host)
	}
	if h := reports["B"].Host; h == reports["A1"].Host || h == reports["C"].Host {
		t.Errorf("projects share a container: A %s, B %s, C %s", reports["A1"].Host, h, reports["C"].Host)
	}

	// Each project's database folder on the host is its own, and holds
	// opencode.db.
	var files []os.FileInfo
	var folders []string
	for _, d := range []string{e.Project, two, three} {
		ids := e.ContainersOf(d, "opencode")
		if len(ids) != 1 {
			t.Fatalf("%s: %d opencode containers, want 1", d, len(ids))
		}
		folder := dbMount(t, e, ids[0])
		if filepath.Dir(folder) != filepath.Join(e.State, "opencode-dbs") {
			t.Errorf("%s: the database folder %s is not in %s", d, folder, filepath.Join(e.State, "opencode-dbs"))
		}
		st, err := os.Stat(filepath.Join(folder, "opencode.db"))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		for i, f := range files {
			if os.SameFile(f, st) || folders[i] == folder {
				t.Errorf("%s and %s share the database %s", folders[i], folder, filepath.Join(folder, "opencode.db"))
			}
		}
		files, folders = append(files, st), append(folders, folder)
	}

	// What each database holds, read in its sandbox (through OPENCODE_DB).
	want := map[string]map[string]int{
		e.Project: {"A1": writes, "A2": writes},
		two:       {"B": writes},
		three:     {"C": writes},
	}
	for dir, rows := range want {
		r := e.RunIn(dir, harness.RunOpts{Timeout: 5 * time.Minute}, opencode("-check")...)
		if r.Code != 0 {
			t.Fatalf("check in %s:\n%s", dir, r)
		}
		var c dbCheck
		lastJSON(t, r, &c)
		t.Logf("%s: %+v", filepath.Base(dir), c)
		if c.Integrity != "ok" {
			t.Errorf("%s: PRAGMA integrity_check = %q", dir, c.Integrity)
		}
		total := 0
		for w, n := range c.Rows {
			total += n
			if c.Gaps[w] != 0 {
				t.Errorf("%s: writer %s has %d rows missing between its first and last", dir, w, c.Gaps[w])
			}
		}
		if len(c.Rows) != len(rows) || total != len(rows)*writes {
			t.Errorf("%s: rows %v, want %v (%d in all)", dir, c.Rows, rows, len(rows)*writes)
		}
		for w, n := range rows {
			if c.Rows[w] != n {
				t.Errorf("%s: writer %s left %d rows, want %d", dir, w, c.Rows[w], n)
			}
		}
		if len(rows) == 2 && c.Switches < 2 {
			t.Errorf("%s: the two writers' rows did not interleave (%d switches): they did not write at the same time, the test proves nothing", dir, c.Switches)
		}
	}
	for _, d := range []string{e.Project, two, three} {
		e.StopIn(d)
	}
}
