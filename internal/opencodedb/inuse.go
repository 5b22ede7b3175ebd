package opencodedb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// shmDMS is the byte of a WAL database's -shm file on which every
// connection that has the database open holds a read lock (SQLite's
// "dead man switch", UNIX_SHM_DMS in os_unix.c).
const shmDMS = 128

// InUse reports whether a process has the database f open in WAL mode
// (as OpenCode always does): it tries a write lock on the -shm file's
// dead-man-switch byte (dmsLocked, per system). Call it while this
// process has the database closed. Processes across a VM boundary (Docker
// Desktop's file sharing, NFS) are not seen.
func InUse(f File) (bool, error) {
	shm, err := f.Root.OpenFile(f.Rel+"-shm", os.O_RDWR)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // no -shm: no connection in WAL mode
	}
	if err != nil {
		return false, err
	}
	defer shm.Close()
	held, err := dmsLocked(shm.Fd())
	if err != nil {
		return false, fmt.Errorf("check whether %s is in use: %w", f.Path(), err)
	}
	return held, nil
}
