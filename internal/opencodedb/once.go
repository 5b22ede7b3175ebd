package opencodedb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// SharedID is the database every project's sandbox shares when the user
// opts out of per-project databases (OPENCODE_DB_ISOLATION=0).
const SharedID = "shared"

// initialized marks that the global database was backed up before the
// first isolated run (the original's marker: timestamp= and files=
// lines).
const initialized = ".initialized"

// BackupDone reports whether the one-time backup was made (or there was
// nothing to back up) in dbRoot.
func BackupDone(dbRoot hostfs.Root) bool {
	_, err := dbRoot.Lstat(filepath.Join(BackupsDir, initialized))
	return err == nil
}

// BackupOnce backs up the global database before the first isolated run
// of its tool: with SQLite's backup API (what the WAL holds included),
// into dbRoot/.backups/<time>/, then writes the marker. It returns the
// backup folder ("" when there was no global database).
func BackupOnce(ctx context.Context, global File, dbRoot hostfs.Root, now time.Time) (string, error) {
	if BackupDone(dbRoot) {
		return "", nil
	}
	stamp := now.UTC().Format("20060102T150405Z")
	exists, err := global.Check()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var dir, files string
	if exists {
		src, err := open(ctx, global, readOnly)
		if err != nil {
			return "", err
		}
		defer src.Close()
		rel, err := newBackupDir(dbRoot, stamp)
		if err != nil {
			return "", err
		}
		dir = dbRoot.Join(rel)
		name := filepath.Base(global.Rel)
		if err := src.backup(ctx, filepath.Join(dir, name)); err != nil {
			return "", err
		}
		note := fmt.Sprintf("A copy of %s made with SQLite's backup API (with what its WAL held)\n"+
			"by ai-sandbox on %s, before the first run with per-project databases.\n"+
			"ai-sandbox did not change the original; 'ai-sandbox migrate-opencode-db' moves\n"+
			"its sessions into the per-project databases. To restore this copy: quit\n"+
			"OpenCode, move %s (and its -wal and -shm) aside, and copy %s there.\n",
			global.Path(), now.UTC().Format(time.RFC3339), global.Path(), filepath.Join(dir, name))
		if err := dbRoot.WriteFile(filepath.Join(rel, "RESTORE.txt"), []byte(note), 0o600); err != nil {
			return "", err
		}
		files = name
	} else if err := dbRoot.MkdirAll(BackupsDir, 0o700); err != nil {
		return "", err
	}
	marker := fmt.Sprintf("timestamp=%s\nfiles=%s\n", stamp, files)
	if _, err := dbRoot.CreateExclusive(filepath.Join(BackupsDir, initialized), []byte(marker), 0o600); err != nil {
		return "", err
	}
	return dir, nil
}

// SeedShared makes the shared database a copy of the global one, when
// the shared one does not exist yet and the global one does. The copy is
// made aside (in dbRoot, which no sandbox mounts) and renamed into place
// only if nothing appeared there meanwhile.
func SeedShared(ctx context.Context, global File, dbRoot hostfs.Root, file string) (bool, error) {
	shared := File{Root: dbRoot, Rel: filepath.Join(SharedID, file)}
	if exists, err := shared.Check(); err != nil || exists {
		return false, err
	}
	exists, err := global.Check()
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !exists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	src, err := open(ctx, global, readOnly)
	if err != nil {
		return false, err
	}
	defer src.Close()
	b := make([]byte, 8)
	rand.Read(b)
	tmp := ".seed-" + hex.EncodeToString(b) + ".db"
	if err := src.backup(ctx, dbRoot.Join(tmp)); err != nil {
		dbRoot.Remove(tmp)
		return false, err
	}
	if err := dbRoot.RenameNoReplace(tmp, shared.Rel); err != nil {
		dbRoot.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return false, nil // a sandbox made it meanwhile
		}
		return false, err
	}
	return true, nil
}
