package opencodedb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Options of a migration.
type Options struct {
	// Source is the global database (~/.local/share/opencode/opencode.db).
	Source File
	// DBRoot is the folder of the project databases (opencode-dbs); it
	// must exist.
	DBRoot hostfs.Root
	// Place places a session's folder (Resolver.Place).
	Place func(directory, worktree string) Placement
	// Apply migrates; otherwise only the plan is made and nothing is
	// written.
	Apply bool
	// KeepSource leaves the source where it is after migrating.
	KeepSource bool
	Now        func() time.Time
	// Progress reports each step of an apply.
	Progress func(format string, args ...any)
	// Hook is called at stages of each target (tests).
	Hook Hook
}

// Result is what a migration found and did.
type Result struct {
	Source     string `json:"source"`
	SourceSize int64  `json:"sourceBytes"`
	// Missing is set when there is no source database: nothing to do.
	Missing bool   `json:"missing,omitempty"`
	Applied bool   `json:"applied"`
	Plan    *Plan  `json:"plan,omitempty"`
	Backup  string `json:"backup,omitempty"`
	// RenamedTo is where the source was moved after the migration.
	RenamedTo string `json:"renamedTo,omitempty"`
}

// BackupsDir is the folder of backups below the database root.
const BackupsDir = ".backups"

// Migrate plans, and with Apply carries out, the split of the source
// database into the project databases:
//
//  1. the source must exist and no process may have it open;
//  2. the plan is made from the source (the dry run stops here, having
//     written nothing);
//  3. (apply) the source is backed up with SQLite's backup API into
//     .backups/<time>/opencode.db, with a restore note, while each
//     project database gets its rows in one transaction, verified before
//     it commits (several at a time, one per CPU);
//  4. (apply) only when every target is verified, and the source has not
//     changed since it was first read, is the source renamed aside.
//
// Running it again is safe: rows already in a project database are left
// as they are, so a migration that was killed completes, and one that
// completed finds no source.
func Migrate(ctx context.Context, o Options) (*Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	if o.Hook == nil {
		o.Hook = func(string, string) {}
	}
	res := &Result{Source: o.Source.Path()}
	exists, err := o.Source.Check()
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !exists) {
		res.Missing = true
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	res.SourceSize = o.Source.Size()
	if err := o.DBRoot.CheckDir(""); err != nil && o.Apply {
		return nil, err
	}
	if !o.Apply {
		src, err := open(ctx, o.Source, readOnly)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		res.Plan, err = NewPlan(ctx, src, o.DBRoot, o.Place)
		return res, err
	}

	lock := flock.New(o.DBRoot.Join(".migrate.lock"))
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	if !locked {
		return nil, fmt.Errorf("another migration is running (it holds %s)", lock.Path())
	}
	defer lock.Unlock()

	if busy, err := InUse(o.Source); err != nil {
		return nil, err
	} else if busy {
		return nil, errInUse(o.Source)
	}
	src, err := open(ctx, o.Source, readOnly)
	if err != nil {
		return nil, err
	}
	srcOpen := true
	defer func() {
		if srcOpen {
			src.Close()
		}
	}()
	var before int64
	if err := src.QueryRowContext(ctx, "PRAGMA data_version").Scan(&before); err != nil {
		return nil, fmt.Errorf("read %s: %w", o.Source.Path(), err)
	}

	// The plan is made from the source, read only; the backup and the
	// copies then run side by side (they only read the source), the copies
	// on as many connections as there are CPUs. Every read happens between
	// the two readings of data_version: if they differ, an OpenCode wrote
	// meanwhile, and nothing is renamed.
	o.Progress("planning: which session goes where")
	plan, err := NewPlan(ctx, src, o.DBRoot, o.Place)
	if err != nil {
		return res, fmt.Errorf("%w; nothing was renamed: the source database is untouched", err)
	}
	res.Plan = plan

	stamp := o.Now().UTC().Format("20060102T150405Z")
	backupRel, err := newBackupDir(o.DBRoot, stamp)
	if err != nil {
		return nil, err
	}
	res.Backup = o.DBRoot.Join(backupRel)
	snapshot := filepath.Join(res.Backup, DBFile)
	if err := backupAndCopy(ctx, o, plan, src, backupRel, snapshot); err != nil {
		return res, err
	}

	var after int64
	if err := src.QueryRowContext(ctx, "PRAGMA data_version").Scan(&after); err != nil {
		return res, fmt.Errorf("read %s: %w", o.Source.Path(), err)
	}
	src.Close()
	srcOpen = false
	if after != before {
		return res, fmt.Errorf("%s changed while it was migrated (an OpenCode wrote to it); nothing was renamed: quit OpenCode and run the migration again (it adds what is missing)", o.Source.Path())
	}
	res.Applied = true
	if o.KeepSource {
		return res, nil
	}
	if busy, err := InUse(o.Source); err != nil {
		return res, err
	} else if busy {
		return res, errInUse(o.Source)
	}
	to, err := renameAside(o.Source, stamp)
	if err != nil {
		return res, err
	}
	res.RenamedTo = to
	return res, nil
}

func errInUse(f File) error {
	return fmt.Errorf("%s is in use: an OpenCode (on this host, or in a sandbox that shares it) has it open; quit it and run the migration again", f.Path())
}

// newBackupDir makes .backups/<stamp> (or <stamp>-2, … when taken).
func newBackupDir(root hostfs.Root, stamp string) (string, error) {
	if err := root.MkdirAll(BackupsDir, 0o700); err != nil {
		return "", err
	}
	for i := 1; i < 100; i++ {
		name := stamp
		if i > 1 {
			name = fmt.Sprintf("%s-%d", stamp, i)
		}
		rel := filepath.Join(BackupsDir, name)
		if _, err := root.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
			return rel, root.MkdirAll(rel, 0o700)
		}
	}
	return "", fmt.Errorf("cannot name a backup folder in %s", root.Join(BackupsDir))
}

// writeOwner records the project folder that owns a new database, unless
// one is recorded.
func writeOwner(root hostfs.Root, t *Target) error {
	if t.Owner == "" {
		return nil
	}
	if err := root.MkdirAll(".owners", 0o700); err != nil {
		return err
	}
	_, err := root.CreateExclusive(filepath.Join(".owners", t.ID), []byte(t.Owner+"\n"), 0o600)
	return err
}

// renameAside renames the source and its companions to
// <name>.migrated-<stamp>[-wal|-shm|-journal]: the companions first, so
// that a fresh database never meets an old WAL.
func renameAside(f File, stamp string) (string, error) {
	to := f.Rel + ".migrated-" + stamp
	for _, suf := range []string{"-shm", "-wal", "-journal", ""} {
		err := f.Root.RenameNoReplace(f.Rel+suf, to+suf)
		if errors.Is(err, fs.ErrNotExist) && suf != "" {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("move the migrated database aside: %w", err)
		}
	}
	return f.Root.Join(to), nil
}

func restoreNote(source, snapshot, dbRoot string, now time.Time, renamed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ai-sandbox migrate-opencode-db, %s\n\n", now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "opencode.db here is a copy of %s made with SQLite's backup API\n", source)
	b.WriteString("before it was split into the per-project databases of\n")
	fmt.Fprintf(&b, "%s/<project>/opencode.db. It holds every committed session,\n", dbRoot)
	b.WriteString("those that were still in opencode.db-wal included, in one file.\n\n")
	if renamed {
		fmt.Fprintf(&b, "After the migration the source was renamed %s.migrated-<time>.\n\n", source)
	}
	b.WriteString("To go back to it:\n")
	b.WriteString("  1. quit OpenCode everywhere (on your host, and 'ai-sandbox stop --all')\n")
	fmt.Fprintf(&b, "  2. move %s (and its -wal and -shm, if any) aside\n", source)
	fmt.Fprintf(&b, "  3. cp '%s' '%s'\n", snapshot, source)
	b.WriteString("  4. to use it from the sandboxes as it is, one database for every project:\n")
	b.WriteString("     OPENCODE_DB_ISOLATION=0 (see 'ai-sandbox run --help'); or run\n")
	b.WriteString("     'ai-sandbox migrate-opencode-db --apply' again to split it.\n")
	return b.String()
}

// backupAndCopy backs the source up into snapshot (with its restore
// note) while the targets are copied from the source, up to one per CPU
// at a time, largest first. The first failure cancels the rest and is
// returned, naming its project; targets committed before it stay (a
// rerun adds what is missing).
func backupAndCopy(ctx context.Context, o Options, plan *Plan, src *db, backupRel, snapshot string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	// Progress and Hook are called from one goroutine at a time.
	var say sync.Mutex
	progress := func(format string, args ...any) {
		say.Lock()
		defer say.Unlock()
		o.Progress(format, args...)
	}
	hook := func(stage, target string) {
		say.Lock()
		defer say.Unlock()
		o.Hook(stage, target)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		progress("backing up %s to %s", o.Source.Path(), snapshot)
		if err := src.backup(ctx, snapshot); err != nil {
			fail(fmt.Errorf("%w; nothing was renamed: the source database is untouched", err))
			return
		}
		note := restoreNote(o.Source.Path(), snapshot, o.DBRoot.Path(), o.Now(), !o.KeepSource)
		if err := o.DBRoot.WriteFile(filepath.Join(backupRel, "RESTORE.txt"), []byte(note), 0o600); err != nil {
			fail(err)
		}
	}()

	targets := make(chan *Target)
	workers := min(runtime.GOMAXPROCS(0), len(plan.Targets), 8)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range targets {
				n := fmt.Sprintf("%d sessions", len(t.sessions))
				if len(t.sessions) == 1 {
					n = "1 session"
				}
				progress("copying %s into %s (%s)", n, t.Dir, t.State)
				if err := plan.copyTarget(ctx, o.Source.Path(), o.DBRoot, t, hook); err != nil {
					fail(fmt.Errorf("project %s (%s): %w; nothing was renamed: the source database is untouched", t.ID, t.Dir, err))
					continue
				}
				if err := writeOwner(o.DBRoot, t); err != nil {
					fail(fmt.Errorf("project %s: %w", t.ID, err))
				}
			}
		}()
	}
feed:
	for _, t := range plan.Targets {
		select {
		case targets <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(targets)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}
