package gitrelay

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// procFDPath names name in dir through /proc/self/fd of the folder,
// opened with O_PATH; done closes it. ok is always true on Linux.
func procFDPath(dir, name string) (path string, done func(), ok bool, err error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, true, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd, name), func() { unix.Close(fd) }, true, nil
}
