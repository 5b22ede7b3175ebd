package opencodedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Hook is called at stages of a migration (tests use it to kill one
// half-way): "attached", "copied" (rows inserted, not committed),
// "committed", each with the target's id.
type Hook func(stage, target string)

// copyTarget copies the target's rows from the source database (opened
// read only) into its database in one transaction, table by table in
// foreign-key order, and verifies them before committing: row counts per
// table as planned, PRAGMA integrity_check ok, PRAGMA foreign_key_check
// empty. On any failure the transaction is rolled back and the database
// is as it was.
func (p *Plan) copyTarget(ctx context.Context, source string, dbRoot hostfs.Root, t *Target, hook Hook) (err error) {
	if err := dbRoot.MkdirAll(t.ID, 0o700); err != nil {
		return err
	}
	f := File{Root: dbRoot, Rel: filepath.Join(t.ID, DBFile)}
	exists, err := f.Check()
	if err != nil {
		return err
	}
	if exists != (t.State != StateNew) {
		return fmt.Errorf("%s appeared or went away while migrating; run the migration again", f.Path())
	}
	if exists {
		busy, err := InUse(f)
		if err != nil {
			return err
		}
		if busy {
			return fmt.Errorf("%s is in use (an OpenCode runs on it): quit it and run the migration again", f.Path())
		}
	}
	// A new database is built aside, in a file of the database root
	// (which no sandbox mounts), with no journal: a failure or a crash
	// leaves only that file, which the next run replaces. Once verified
	// and committed it is synced and renamed into place, never over a
	// file that appeared meanwhile. An existing database gets one
	// journaled transaction instead.
	staged := t.State == StateNew
	work := f
	if staged {
		work = File{Root: dbRoot, Rel: stagingPrefix + t.ID + ".db"}
		for _, suf := range companions {
			if err := dbRoot.Remove(work.Rel + suf); err != nil {
				return err
			}
		}
	}
	d, err := open(ctx, work, create)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
		if err != nil && staged {
			for _, suf := range companions {
				dbRoot.Remove(work.Rel + suf)
			}
		} else if err != nil && !exists {
			removeIfEmpty(dbRoot, f.Rel)
		}
	}()
	fresh := t.State != StateMerge
	setup := []string{"PRAGMA foreign_keys = ON", "PRAGMA temp_store = MEMORY"}
	if staged {
		setup = append(setup, "PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF")
	} else {
		setup = append(setup, "PRAGMA synchronous = FULL")
	}
	if fresh {
		var pageSize int
		if err := p.srcPageSize(ctx, source, &pageSize); err == nil && pageSize > 0 {
			setup = append(setup, fmt.Sprintf("PRAGMA page_size = %d", pageSize))
		}
	}
	for _, q := range setup {
		if _, err := d.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if _, err := d.ExecContext(ctx, "ATTACH DATABASE ? AS src", uri(source, readOnly)); err != nil {
		return fmt.Errorf("attach %s: %w", source, err)
	}
	// The source is read through memory mapping: no read call per page.
	for _, q := range []string{"PRAGMA src.mmap_size = 2147418112", "PRAGMA main.mmap_size = 2147418112"} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := makeTemp(ctx, d.Conn); err != nil {
		return err
	}
	if err := fillTemp(ctx, d.Conn, t.sessions, t.projects); err != nil {
		return err
	}
	hook("attached", t.ID)
	if _, err := d.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			d.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if fresh {
		for _, st := range p.src.Tables {
			if _, err := d.ExecContext(ctx, st.SQL); err != nil {
				return fmt.Errorf("create table %s: %w", st.Name, err)
			}
		}
	}
	t.Added = map[string]int64{}
	for _, name := range p.Order {
		if !t.copies(p, name) {
			continue
		}
		names := t.columns(p, name)
		verb := "INSERT"
		if !fresh {
			verb = "INSERT OR IGNORE"
		}
		q := verb + " INTO main." + quote(name) + " (" + cols(names) + ") SELECT " + cols(names) +
			" FROM src." + quote(name) + " WHERE " + member(p.src, p.rules, "src", name)
		res, err := d.ExecContext(ctx, q)
		if err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
		n, _ := res.RowsAffected()
		t.Added[name] = n
	}
	if fresh {
		for _, q := range p.src.Indexes {
			if _, err := d.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", firstWords(q, 4), err)
			}
		}
	}
	hook("copied", t.ID)
	if err := p.verify(ctx, d.Conn, t); err != nil {
		return err
	}
	if _, err := d.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	if staged {
		closed = true
		if err := d.Close(); err != nil {
			return err
		}
		if err := syncFile(dbRoot, work.Rel); err != nil {
			return err
		}
		if err := dbRoot.RenameNoReplace(work.Rel, f.Rel); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s appeared while migrating; run the migration again", f.Path())
			}
			return err
		}
		if err := syncDir(dbRoot, t.ID); err != nil {
			return err
		}
	}
	hook("committed", t.ID)
	return nil
}

// stagingPrefix names the files new databases are built in.
const stagingPrefix = ".staging-"

// syncDir fsyncs a folder below root (a rename in it is then durable).
func syncDir(root hostfs.Root, rel string) error {
	if err := root.CheckDir(rel); err != nil {
		return err
	}
	fh, err := os.Open(root.Join(rel))
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := fh.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", fh.Name(), err)
	}
	return nil
}

// syncFile fsyncs a file below root.
func syncFile(root hostfs.Root, rel string) error {
	fh, err := root.OpenFile(rel, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := fh.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", fh.Name(), err)
	}
	return nil
}

// copies reports whether the target takes rows of a table.
func (t *Target) copies(p *Plan, name string) bool {
	switch p.rules[name].kind {
	case ruleNone:
		return false
	case ruleWhole:
		return t.State != StateMerge
	}
	return !t.skip[name]
}

// columns are the columns copied of a table: all of the source's for a
// new database, those the existing one has (and are not empty) for a
// merge.
func (t *Target) columns(p *Plan, name string) []string {
	if t.State == StateMerge {
		return t.cols[name]
	}
	st := p.src.table(name)
	out := make([]string, len(st.Cols))
	for i, c := range st.Cols {
		out[i] = c.Name
	}
	return out
}

// verify checks the target inside its transaction.
func (p *Plan) verify(ctx context.Context, c *sql.Conn, t *Target) error {
	for _, name := range p.Order {
		if !t.copies(p, name) {
			continue
		}
		want := t.Rows[name]
		var got int64
		q := "SELECT count(*) FROM main." + quote(name)
		if t.State == StateMerge {
			q = "SELECT count(*) FROM src." + quote(name) + " AS s WHERE (" + member(p.src, p.rules, "src", name) +
				") AND EXISTS (SELECT 1 FROM main." + quote(name) + " AS d WHERE " + sameKey(p.src.table(name), t.columns(p, name)) + ")"
		}
		if err := c.QueryRowContext(ctx, q).Scan(&got); err != nil {
			return fmt.Errorf("verify %s: %w", name, err)
		}
		if got != want {
			return fmt.Errorf("verification failed: table %s has %d of the %d rows planned", name, got, want)
		}
	}
	var problems []string
	rows, err := c.QueryContext(ctx, "PRAGMA main.integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	rows.Close()
	if len(problems) > 0 {
		return fmt.Errorf("verification failed: integrity check: %s", strings.Join(first(problems, 5), "; "))
	}
	rows, err = c.QueryContext(ctx, "PRAGMA main.foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tbl, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&tbl, &rowid, &parent, &fkid); err != nil {
			return err
		}
		problems = append(problems, fmt.Sprintf("a row of %s refers to a missing row of %s", tbl, parent))
	}
	if len(problems) > 0 {
		return fmt.Errorf("verification failed: foreign key check: %s", strings.Join(first(problems, 5), "; "))
	}
	return rows.Err()
}

// sameKey matches row d of the target to row s of the source: by primary
// key, or by every column copied when the table has none.
func sameKey(t *table, copied []string) string {
	key := t.pk()
	if len(key) == 0 {
		key = copied
	}
	conds := make([]string, len(key))
	for i, k := range key {
		conds[i] = "d." + quote(k) + " IS s." + quote(k)
	}
	return strings.Join(conds, " AND ")
}

func first(list []string, n int) []string {
	if len(list) > n {
		return append(list[:n:n], fmt.Sprintf("… %d more", len(list)-n))
	}
	return list
}

// srcPageSize reads the source's page size.
func (p *Plan) srcPageSize(ctx context.Context, source string, out *int) error {
	d, err := openPath(ctx, source, readOnly)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.QueryRowContext(ctx, "PRAGMA page_size").Scan(out)
}

// removeIfEmpty removes a database file this migration created and
// left empty (its transaction rolled back).
func removeIfEmpty(root hostfs.Root, rel string) {
	fi, err := root.Lstat(rel)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		return
	}
	for _, suf := range []string{"-journal", "-wal", "-shm"} {
		if _, err := root.Lstat(rel + suf); err == nil {
			return
		} else if !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	_ = root.Remove(rel)
}
