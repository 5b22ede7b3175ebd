package probe

import (
	"os"
	"syscall"
)

// The calls the checks try that only Linux has; sys_other.go refuses them
// elsewhere. The probe is meant to run in a (Linux) container.

func sethostname(b []byte) error { return syscall.Sethostname(b) }

func setresuid(r, e, s int) error { return syscall.Setresuid(r, e, s) }

func mount(source, target, fstype string) error {
	return syscall.Mount(source, target, fstype, 0, "")
}

func bindMount(source, target string) error {
	return syscall.Mount(source, target, "", syscall.MS_BIND, "")
}

func unmountDetach(target string) error { return syscall.Unmount(target, syscall.MNT_DETACH) }

// newUserNamespace starts a child in a new user and mount namespace, as
// root there.
func newUserNamespace() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
}

// waitStopped waits for a traced pid to stop (any child, thread or not).
func waitStopped(pid int) {
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, syscall.WALL, nil)
}
