//go:build !linux

package probe

import (
	"errors"
	"syscall"
)

// errNotLinux is the answer of every Linux-only attempt elsewhere: the
// probe is meant to run in a (Linux) container, and on another system
// each such check reports that it could not try.
var errNotLinux = errors.New("not on Linux")

func sethostname([]byte) error { return errNotLinux }

func setresuid(int, int, int) error { return errNotLinux }

func mount(string, string, string) error { return errNotLinux }

func bindMount(string, string) error { return errNotLinux }

func unmountDetach(string) error { return errNotLinux }

// newUserNamespace is nil here: the child runs in no new namespace, and
// its mount fails as every mount does.
func newUserNamespace() *syscall.SysProcAttr { return nil }

func waitStopped(pid int) {
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, 0, nil)
}
