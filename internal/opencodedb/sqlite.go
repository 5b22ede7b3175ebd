// Package opencodedb owns the SQLite databases of OpenCode (and of Kilo,
// its fork): where each project's database lives, the one-time backup of
// the global database before the first isolated run, the shared database
// of the opt-out, and migrate-opencode-db, which splits the global
// database into per-project ones.
//
// Every database file it opens lies in a folder reached without a
// symbolic link below a trusted root, and is checked first: the file and
// its -wal, -shm and -journal are regular files or absent (an agent can
// write in a project's database folder, which is mounted into its
// sandbox). SQLite itself opens the files with O_NOFOLLOW. It uses
// modernc.org/sqlite: pure Go, so the binary stays static.
package opencodedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"

	sqlite "modernc.org/sqlite"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// File is an SQLite database file below a trusted root.
type File struct {
	Root hostfs.Root
	Rel  string // the database file, relative to Root
}

// Path is the file's host path.
func (f File) Path() string { return f.Root.Join(f.Rel) }

// companions are the files SQLite keeps beside a database.
var companions = []string{"", "-wal", "-shm", "-journal"}

// Check reports whether the database file exists. It fails when its
// folder is not reached without a symbolic link, or when the file or one
// of its companions (-wal, -shm, -journal) is a link, a FIFO or anything
// but a regular file.
func (f File) Check() (exists bool, err error) {
	if err := f.Root.CheckDir(filepath.Dir(f.Rel)); err != nil {
		return false, err
	}
	for _, suf := range companions {
		err := f.Root.CheckFile(f.Rel + suf)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		if suf == "" {
			exists = true
		}
	}
	return exists, nil
}

// Size is the size of the database and its WAL, in bytes.
func (f File) Size() int64 {
	var n int64
	for _, suf := range []string{"", "-wal"} {
		if fi, err := f.Root.Lstat(f.Rel + suf); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

type openMode string

const (
	readOnly  openMode = "ro"
	readWrite openMode = "rw"
	create    openMode = "rwc"
)

// uri is the SQLite URI of a file: the path percent-encoded (so spaces,
// quotes, '?', '#' and non-ASCII names work), with the open mode.
func uri(path string, mode openMode) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=" + string(mode)}
	return u.String()
}

// db is one connection to a database, kept for the whole use (pragmas,
// attachments and temp tables belong to a connection).
type db struct {
	pool *sql.DB
	*sql.Conn
	path string
}

// open checks f and opens one connection to it with OpenCode's busy
// timeout. A missing file is an error unless mode is create.
func open(ctx context.Context, f File, mode openMode) (*db, error) {
	exists, err := f.Check()
	if err != nil {
		return nil, err
	}
	if !exists && mode != create {
		return nil, &fs.PathError{Op: "open", Path: f.Path(), Err: fs.ErrNotExist}
	}
	return openPath(ctx, f.Path(), mode)
}

// openPath opens a database the caller has checked.
func openPath(ctx context.Context, path string, mode openMode) (*db, error) {
	pool, err := sql.Open("sqlite", uri(path, mode))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	pool.SetMaxOpenConns(1)
	c, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &db{pool: pool, Conn: c, path: path}
	// OpenCode's own: a writer waits up to 5 s for another (A1.1).
	if _, err := c.ExecContext(ctx, "PRAGMA busy_timeout = 5000"); err != nil {
		d.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return d, nil
}

// Close closes the connection.
func (d *db) Close() error {
	err := d.Conn.Close()
	if perr := d.pool.Close(); err == nil {
		err = perr
	}
	return err
}

// backup copies the database of d, with everything its WAL holds, into
// the new file dst with SQLite's backup API (one consistent snapshot,
// safe while others write), then makes the copy one self-contained file
// (rollback journal mode, no -wal beside it).
func (d *db) backup(ctx context.Context, dst string) error {
	err := d.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver has no backup API")
		}
		bk, err := b.NewBackup(uri(dst, create))
		if err != nil {
			return err
		}
		// One step: one read transaction, so one snapshot (in steps,
		// a write by another connection would restart the copy).
		if _, err := bk.Step(-1); err != nil {
			bk.Finish()
			return err
		}
		return bk.Finish()
	})
	if err != nil {
		return fmt.Errorf("back up %s to %s: %w", d.path, dst, err)
	}
	c, err := openPath(ctx, dst, readWrite)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA journal_mode = DELETE"); err != nil {
		return fmt.Errorf("back up %s to %s: %w", d.path, dst, err)
	}
	return nil
}

// quote quotes an SQL identifier (a table or column name read from a
// schema): names are never pasted in unquoted, values always go as
// parameters.
func quote(name string) string {
	out := make([]byte, 0, len(name)+2)
	out = append(out, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, name[i])
	}
	return string(append(out, '"'))
}

func newRoot(dir string) hostfs.Root { return hostfs.New(dir) }
