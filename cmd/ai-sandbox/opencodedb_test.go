package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdOpencodeDB makes an OpenCode database from the schema (and rows) a
// real OpenCode of VERSION made (internal/opencodedb/testdata), in WAL
// mode, with a session of two messages of one part each for every
// folder given ("-" is a session recorded without a folder):
//
//	opencodedb 1.14.34 $HOME/.local/share/opencode/opencode.db $WORK/home/app $WORK/home/app/sub -
func cmdOpencodeDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: opencodedb VERSION FILE [FOLDER|-]...")
	}
	dump, err := os.ReadFile(filepath.Join("..", "..", "internal", "opencodedb", "testdata", "opencode-"+args[0]+".sql"))
	if err != nil {
		ts.Fatalf("opencodedb: %v", err)
	}
	path := ts.MkAbs(args[1])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		ts.Fatalf("opencodedb: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		ts.Fatalf("opencodedb: %v", err)
	}
	db.SetMaxOpenConns(1)
	// Leave the files as OpenCode does when it exits: rows still in the
	// WAL (saved before the close, which would checkpoint, put back after).
	defer func() {
		saved := map[string][]byte{}
		for _, suf := range []string{"", "-wal", "-shm"} {
			data, err := os.ReadFile(path + suf)
			if err != nil {
				ts.Fatalf("opencodedb: %v", err)
			}
			saved[suf] = data
		}
		db.Close()
		for suf, data := range saved {
			if err := os.WriteFile(path+suf, data, 0o644); err != nil {
				ts.Fatalf("opencodedb: %v", err)
			}
		}
	}()
	exec := func(q string, a ...any) {
		if _, err := db.Exec(q, a...); err != nil {
			ts.Fatalf("opencodedb: %s: %v", q, err)
		}
	}
	exec("PRAGMA journal_mode = WAL")
	exec("PRAGMA wal_autocheckpoint = 0")
	exec(string(dump))
	exec("INSERT OR IGNORE INTO project (id, worktree, sandboxes, time_created, time_updated) VALUES ('global', '/', '[]', 1, 1)")
	for i, dir := range args[2:] {
		if dir == "-" {
			dir = ""
		}
		id := fmt.Sprintf("ses_script%d", i)
		exec("INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated) VALUES (?, 'global', 's', ?, ?, '1', 1, 1)",
			id, dir, "it's session "+strconv.Itoa(i))
		for m := 0; m < 2; m++ {
			mid := fmt.Sprintf("msg_%s_%d", id, m)
			exec("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, 1, 1, '{}')", mid, id)
			exec("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, 1, 1, '{}')", "prt_"+mid, mid, id)
		}
	}
}

// cmdSQLCount checks the result of a count query on a database:
//
//	sqlcount FILE 'SELECT count(*) FROM session' 3
func cmdSQLCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: sqlcount FILE QUERY WANT")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0])+"?mode=ro")
	if err != nil {
		ts.Fatalf("sqlcount: %v", err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow(args[1]).Scan(&got); err != nil {
		ts.Fatalf("sqlcount: %s: %v", args[1], err)
	}
	if (strings.TrimSpace(got) == args[2]) == neg {
		ts.Fatalf("%s: got %s, want %s%s", args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}
