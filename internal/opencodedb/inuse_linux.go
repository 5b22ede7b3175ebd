package opencodedb

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// dmsLocked tries a write lock on the dead-man-switch byte of the open
// -shm file fd, and lets it go: an open-file-description lock, so the
// locks of this process's own connections count too, and taking it never
// drops a lock this process holds through another descriptor.
func dmsLocked(fd uintptr) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: shmDMS, Len: 1}
	err := unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	lk.Type = unix.F_UNLCK
	_ = unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
	return false, nil
}
