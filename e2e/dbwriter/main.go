// Command dbwriter is an OpenCode-like SQLite writer for the end-to-end
// tests: it opens the database OpenCode would ($OPENCODE_DB) with
// OpenCode's connection settings (WAL, synchronous NORMAL, busy_timeout
// 5000, foreign keys) and commits -writes rows, one transaction each, as
// writer -id. It is static (modernc.org/sqlite, CGO_ENABLED=0), so it
// runs in any sandbox image and on the host.
//
//	dbwriter -id A -writes 10000 [-wait N]
//	    write; with -wait, first wait (up to 5 minutes) until N writers
//	    are ready on the same database, so that they write at the same
//	    time; prints {"writer":…,"committed":…,"busy":…,"ms":…,"host":…,"db":…}
//	dbwriter -check [-db FILE]
//	    prints {"integrity":"ok","rows":{"A":10000,…},"gaps":{"A":0,…},
//	    "switches":N} — switches: how often consecutive rows (in commit
//	    order) come from different writers, > 1 when writes interleaved
package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
)

func main() {
	db := flag.String("db", os.Getenv("OPENCODE_DB"), "the database (default $OPENCODE_DB)")
	id := flag.String("id", "w", "this writer's name")
	writes := flag.Int("writes", 10000, "rows to commit, one transaction each")
	check := flag.Bool("check", false, "check the database instead of writing")
	wait := flag.Int("wait", 0, "before writing, wait until this many writers are ready")
	flag.Parse()
	if *db == "" {
		fail(errors.New("no database: set OPENCODE_DB or -db"))
	}
	conn, err := sql.Open("sqlite", *db)
	if err != nil {
		fail(err)
	}
	conn.SetMaxOpenConns(1)
	defer conn.Close()
	// OpenCode's pragmas (reference: agents.md A1.1).
	for _, q := range []string{"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000",
		"PRAGMA cache_size = -64000", "PRAGMA foreign_keys = ON"} {
		if _, err := conn.Exec(q); err != nil {
			fail(fmt.Errorf("%s: %w", q, err))
		}
	}
	if *check {
		out := map[string]any{}
		var res []string
		rows, err := conn.Query("PRAGMA integrity_check")
		if err != nil {
			fail(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			res = append(res, s)
		}
		rows.Close()
		out["integrity"] = strings.Join(res, "; ")
		counts := map[string]int{}
		gaps := map[string]int{}
		rows, err = conn.Query("SELECT writer, count(*), max(seq) - min(seq) + 1 - count(*) FROM writes GROUP BY writer")
		if err == nil {
			for rows.Next() {
				var w string
				var n, gap int
				rows.Scan(&w, &n, &gap)
				counts[w], gaps[w] = n, gap
			}
			rows.Close()
		}
		out["rows"], out["gaps"] = counts, gaps
		var switches int
		if err := conn.QueryRow("SELECT count(*) FROM (SELECT writer, lag(writer) OVER (ORDER BY rowid) AS prev FROM writes) WHERE prev IS NOT NULL AND prev != writer").Scan(&switches); err == nil {
			out["switches"] = switches
		}
		json.NewEncoder(os.Stdout).Encode(out)
		return
	}
	if _, err := exec(conn, "CREATE TABLE IF NOT EXISTS writes (writer TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (writer, seq))"); err != nil {
		fail(err)
	}
	if *wait > 0 {
		if _, err := exec(conn, "CREATE TABLE IF NOT EXISTS ready (writer TEXT PRIMARY KEY)"); err != nil {
			fail(err)
		}
		if _, err := exec(conn, "INSERT OR REPLACE INTO ready (writer) VALUES (?)", *id); err != nil {
			fail(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for n := 0; n < *wait; time.Sleep(20 * time.Millisecond) {
			if err := conn.QueryRow("SELECT count(*) FROM ready").Scan(&n); err != nil {
				fail(err)
			}
			if time.Now().After(deadline) {
				fail(fmt.Errorf("%d of %d writers ready after 5 minutes", n, *wait))
			}
		}
	}
	payload := strings.Repeat("x", 200)
	committed, busy := 0, 0
	start := time.Now()
	for i := 0; i < *writes; i++ {
		n, err := exec(conn, "INSERT INTO writes (writer, seq, at, data) VALUES (?, ?, ?, ?)", *id, i, time.Now().UnixMilli(), payload)
		busy += n
		if err != nil {
			fail(fmt.Errorf("write %d of %s: %w", i, *id, err))
		}
		committed++
	}
	host, _ := os.Hostname() // the container's id, in a sandbox
	json.NewEncoder(os.Stdout).Encode(map[string]any{"writer": *id, "committed": committed, "busy": busy, "ms": time.Since(start).Milliseconds(), "host": host, "db": *db})
}

// exec runs a statement, trying again (up to 20 times) when the database
// stays locked past busy_timeout; it returns how often it was locked.
func exec(db *sql.DB, q string, args ...any) (int, error) {
	for tries := 0; ; tries++ {
		_, err := db.Exec(q, args...)
		var se *sqlite.Error
		if err != nil && errors.As(err, &se) && (se.Code()&0xff == 5 || se.Code()&0xff == 6) && tries < 20 {
			continue // SQLITE_BUSY, SQLITE_LOCKED
		}
		return tries, err
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dbwriter:", err)
	os.Exit(1)
}
