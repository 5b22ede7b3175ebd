package opencodedb

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// shmDMS is the byte of a WAL database's -shm file on which every
// connection that has the database open holds a read lock (SQLite's
// "dead man switch", UNIX_SHM_DMS in os_unix.c).
const shmDMS = 128

// InUse reports whether a process has the database f open in WAL mode
// (as OpenCode always does): it tries a write lock on the -shm file's
// dead-man-switch byte. It uses an open-file-description lock, so it sees
// the locks of this process's own connections too: call it while this
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
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: shmDMS, Len: 1}
	err = unix.FcntlFlock(shm.Fd(), unix.F_OFD_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("check whether %s is in use: %w", f.Path(), err)
	}
	lk.Type = unix.F_UNLCK
	_ = unix.FcntlFlock(shm.Fd(), unix.F_OFD_SETLK, &lk)
	return false, nil
}
