//go:build !linux

package opencodedb

import (
	"io"

	"golang.org/x/sys/unix"
)

// dmsLocked asks (F_GETLK, taking nothing) whether another process holds
// a lock that a write lock on the dead-man-switch byte of the -shm file fd
// would meet. Without open-file-description locks (macOS), the locks of
// this process's own connections are not seen.
func dmsLocked(fd uintptr) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: shmDMS, Len: 1}
	if err := unix.FcntlFlock(fd, unix.F_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
