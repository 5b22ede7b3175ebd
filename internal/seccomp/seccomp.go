// Package seccomp builds the seccomp profile that ai-sandbox hands to
// docker run (--security-opt seccomp=<file>).
//
// The profile is Docker's default profile (moby profiles/seccomp/default.json)
// as it applies to a container started with --cap-drop ALL, minus the
// syscalls listed by Denied. Every rule that Docker only turns on for a
// capability (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_TIME, …) is left out:
// the container holds no capability, so those syscalls fall through to the
// default action and fail with EPERM.
//
// The data is written here as Go rather than copied from upstream so that the
// differences from Docker's default are explicit and reviewable, and so that
// the bytes (and therefore Hash) change only when this file changes.
package seccomp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Docker's action and comparison names (libseccomp's, as the docker daemon
// spells them in its profile format).
const (
	actAllow = "SCMP_ACT_ALLOW"
	actErrno = "SCMP_ACT_ERRNO"

	opEQ       = "SCMP_CMP_EQ"
	opNE       = "SCMP_CMP_NE"
	opMaskedEQ = "SCMP_CMP_MASKED_EQ"
)

// Errno values returned by the filter.
const (
	errnoEPERM  = 1  // the default: "operation not permitted"
	errnoENOSYS = 38 // "function not implemented": makes libc fall back
)

// profile is Docker's seccomp profile format (the subset we use).
type profile struct {
	DefaultAction   string `json:"defaultAction"`
	DefaultErrnoRet uint   `json:"defaultErrnoRet,omitempty"`
	ArchMap         []arch `json:"archMap"`
	Syscalls        []rule `json:"syscalls"`
}

// arch maps a native architecture to the sub-architectures whose syscalls the
// filter must also cover (e.g. 32-bit x86 binaries on x86_64).
type arch struct {
	Architecture     string   `json:"architecture"`
	SubArchitectures []string `json:"subArchitectures,omitempty"`
}

// rule is one entry of the syscalls list.
type rule struct {
	Names    []string `json:"names"`
	Action   string   `json:"action"`
	ErrnoRet uint     `json:"errnoRet,omitempty"`
	Args     []arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes *filter  `json:"includes,omitempty"`
	Excludes *filter  `json:"excludes,omitempty"`
}

// arg is a condition on one syscall argument. For SCMP_CMP_MASKED_EQ, Value
// is the mask and ValueTwo the value the masked argument must equal; ValueTwo
// is a pointer so that it is written (even when 0) for that op only.
type arg struct {
	Index    uint    `json:"index"`
	Value    uint64  `json:"value"`
	ValueTwo *uint64 `json:"valueTwo,omitempty"`
	Op       string  `json:"op"`
}

// filter restricts a rule to some architectures (Docker's names: amd64, x86,
// x32, arm, arm64, ppc64le, s390, s390x, riscv64).
type filter struct {
	Arches []string `json:"arches,omitempty"`
}

// Profile returns the profile as indented JSON, ending in a newline. The
// bytes are the same on every call.
func Profile() []byte {
	b, err := json.MarshalIndent(build(), "", "\t")
	if err != nil {
		// Only strings, integers and slices of them: cannot fail.
		panic("seccomp: marshal profile: " + err.Error())
	}
	return append(b, '\n')
}

// Hash returns the first 12 hex digits of sha256(Profile()). Callers name the
// profile file after it, so a new profile version gets a new file (and a new
// container spec).
func Hash() string {
	sum := sha256.Sum256(Profile())
	return hex.EncodeToString(sum[:])[:12]
}

// Denied lists, sorted, the syscalls this profile denies on purpose although
// Docker's default allows them to a container without capabilities.
//
// ptrace, process_vm_readv and process_vm_writev let a process read and
// write the memory of other processes of the same user: an agent could
// inspect or steer the tools it runs (and their secrets). io_uring_* is a
// large, frequently exploited kernel attack surface that newer Docker
// versions remove from their default as well.
func Denied() []string {
	return []string{
		"io_uring_enter",
		"io_uring_register",
		"io_uring_setup",
		"process_vm_readv",
		"process_vm_writev",
		"ptrace",
	}
}

// build assembles a fresh profile value.
func build() profile {
	return profile{
		// Anything not allowed below fails with EPERM, as in Docker.
		DefaultAction:   actErrno,
		DefaultErrnoRet: errnoEPERM,
		ArchMap:         archMap(),
		Syscalls:        rules(),
	}
}

// archMap is upstream's: the daemon keeps only the entry of its own
// architecture, so listing all of them keeps the profile portable.
func archMap() []arch {
	return []arch{
		{Architecture: "SCMP_ARCH_X86_64", SubArchitectures: []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
		{Architecture: "SCMP_ARCH_AARCH64", SubArchitectures: []string{"SCMP_ARCH_ARM"}},
		{Architecture: "SCMP_ARCH_MIPS64", SubArchitectures: []string{"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
		{Architecture: "SCMP_ARCH_MIPS64N32", SubArchitectures: []string{"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
		{Architecture: "SCMP_ARCH_MIPSEL64", SubArchitectures: []string{"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
		{Architecture: "SCMP_ARCH_MIPSEL64N32", SubArchitectures: []string{"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
		{Architecture: "SCMP_ARCH_S390X", SubArchitectures: []string{"SCMP_ARCH_S390"}},
		{Architecture: "SCMP_ARCH_RISCV64"},
	}
}

// cloneNamespaceFlags is the mask of clone flags that create namespaces
// (CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|
// CLONE_NEWPID|CLONE_NEWNET) = 0x7E020000.
const cloneNamespaceFlags = 2114060288

// rules returns the syscalls list. Names are sorted within each rule.
func rules() []rule {
	rs := []rule{
		// The plain allow list: Docker's unconditional one minus Denied.
		{Names: allowed(), Action: actAllow},

		// socket: every address family except AF_VSOCK (40), which would
		// reach the host's hypervisor sockets.
		{Names: []string{"socket"}, Action: actAllow, Args: []arg{{Index: 0, Value: 40, Op: opNE}}},
	}

	// personality: only the harmless personas (PER_LINUX, PER_LINUX32,
	// UNAME26 variants and the 0xffffffff query); not e.g. ADDR_NO_RANDOMIZE.
	for _, p := range []uint64{0, 8, 131072, 131080, 4294967295} {
		rs = append(rs, rule{Names: []string{"personality"}, Action: actAllow, Args: []arg{{Index: 0, Value: p, Op: opEQ}}})
	}

	rs = append(rs,
		// Architecture-specific syscalls that the plain list does not name,
		// each only on the architectures that have it.
		rule{Names: []string{"swapcontext", "sync_file_range2"}, Action: actAllow, Includes: arches("ppc64le")},
		rule{Names: []string{"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls", "sync_file_range2"}, Action: actAllow, Includes: arches("arm", "arm64")},
		rule{Names: []string{"arch_prctl"}, Action: actAllow, Includes: arches("amd64", "x32")},
		rule{Names: []string{"modify_ldt"}, Action: actAllow, Includes: arches("amd64", "x32", "x86")},
		rule{Names: []string{"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}, Action: actAllow, Includes: arches("s390", "s390x")},
		rule{Names: []string{"riscv_flush_icache"}, Action: actAllow, Includes: arches("riscv64")},

		// clone: processes and threads yes, new namespaces no (Docker only
		// allows those with CAP_SYS_ADMIN). s390 swaps clone's first two
		// arguments, so the flags are argument 1 there.
		rule{Names: []string{"clone"}, Action: actAllow, Args: []arg{maskedEQ(0, cloneNamespaceFlags, 0)}, Excludes: arches("s390", "s390x")},
		rule{Names: []string{"clone"}, Action: actAllow, Args: []arg{maskedEQ(1, cloneNamespaceFlags, 0)}, Comment: "s390 parameter ordering for clone is different", Includes: arches("s390", "s390x")},

		// clone3: its flags live in a struct the filter cannot read, so it
		// is refused with ENOSYS, which makes glibc fall back to clone.
		rule{Names: []string{"clone3"}, Action: actErrno, ErrnoRet: errnoENOSYS},
	)
	return rs
}

// arches returns an includes/excludes filter for the given architectures.
func arches(names ...string) *filter {
	return &filter{Arches: names}
}

// maskedEQ is the condition (argument index & mask) == want.
func maskedEQ(index uint, mask, want uint64) arg {
	return arg{Index: index, Value: mask, ValueTwo: &want, Op: opMaskedEQ}
}

// allowed returns the unconditional allow list, sorted: Docker's default list
// without io_uring_enter, io_uring_register and io_uring_setup. (Docker
// allows ptrace, process_vm_readv and process_vm_writev in a separate rule
// for kernels >= 4.8; that rule is left out entirely.) Names a kernel or
// libseccomp does not know are skipped by runc, so listing the syscalls of
// other architectures and of newer kernels is harmless.
func allowed() []string {
	return []string{
		"_llseek",
		"_newselect",
		"accept",
		"accept4",
		"access",
		"adjtimex",
		"alarm",
		"bind",
		"brk",
		"cachestat", // added in newer Docker
		"capget",
		"capset",
		"chdir",
		"chmod",
		"chown",
		"chown32",
		"clock_adjtime",
		"clock_adjtime64",
		"clock_getres",
		"clock_getres_time64",
		"clock_gettime",
		"clock_gettime64",
		"clock_nanosleep",
		"clock_nanosleep_time64",
		"close",
		"close_range",
		"connect",
		"copy_file_range",
		"creat",
		"dup",
		"dup2",
		"dup3",
		"epoll_create",
		"epoll_create1",
		"epoll_ctl",
		"epoll_ctl_old",
		"epoll_pwait",
		"epoll_pwait2",
		"epoll_wait",
		"epoll_wait_old",
		"eventfd",
		"eventfd2",
		"execve",
		"execveat",
		"exit",
		"exit_group",
		"faccessat",
		"faccessat2",
		"fadvise64",
		"fadvise64_64",
		"fallocate",
		"fanotify_mark",
		"fchdir",
		"fchmod",
		"fchmodat",
		"fchmodat2", // added in newer Docker
		"fchown",
		"fchown32",
		"fchownat",
		"fcntl",
		"fcntl64",
		"fdatasync",
		"fgetxattr",
		"flistxattr",
		"flock",
		"fork",
		"fremovexattr",
		"fsetxattr",
		"fstat",
		"fstat64",
		"fstatat64",
		"fstatfs",
		"fstatfs64",
		"fsync",
		"ftruncate",
		"ftruncate64",
		"futex",
		"futex_requeue", // added in newer Docker
		"futex_time64",
		"futex_wait", // added in newer Docker
		"futex_waitv",
		"futex_wake", // added in newer Docker
		"futimesat",
		"get_robust_list",
		"get_thread_area",
		"getcpu",
		"getcwd",
		"getdents",
		"getdents64",
		"getegid",
		"getegid32",
		"geteuid",
		"geteuid32",
		"getgid",
		"getgid32",
		"getgroups",
		"getgroups32",
		"getitimer",
		"getpeername",
		"getpgid",
		"getpgrp",
		"getpid",
		"getppid",
		"getpriority",
		"getrandom",
		"getresgid",
		"getresgid32",
		"getresuid",
		"getresuid32",
		"getrlimit",
		"getrusage",
		"getsid",
		"getsockname",
		"getsockopt",
		"gettid",
		"gettimeofday",
		"getuid",
		"getuid32",
		"getxattr",
		"inotify_add_watch",
		"inotify_init",
		"inotify_init1",
		"inotify_rm_watch",
		"io_cancel",
		"io_destroy",
		"io_getevents",
		"io_pgetevents",
		"io_pgetevents_time64",
		"io_setup",
		"io_submit",
		"ioctl",
		"ioprio_get",
		"ioprio_set",
		"ipc",
		"kill",
		"landlock_add_rule",
		"landlock_create_ruleset",
		"landlock_restrict_self",
		"lchown",
		"lchown32",
		"lgetxattr",
		"link",
		"linkat",
		"listen",
		"listxattr",
		"llistxattr",
		"lremovexattr",
		"lseek",
		"lsetxattr",
		"lstat",
		"lstat64",
		"madvise",
		"map_shadow_stack", // added in newer Docker
		"membarrier",
		"memfd_create",
		"memfd_secret",
		"mincore",
		"mkdir",
		"mkdirat",
		"mknod",
		"mknodat",
		"mlock",
		"mlock2",
		"mlockall",
		"mmap",
		"mmap2",
		"mprotect",
		"mq_getsetattr",
		"mq_notify",
		"mq_open",
		"mq_timedreceive",
		"mq_timedreceive_time64",
		"mq_timedsend",
		"mq_timedsend_time64",
		"mq_unlink",
		"mremap",
		"msgctl",
		"msgget",
		"msgrcv",
		"msgsnd",
		"msync",
		"munlock",
		"munlockall",
		"munmap",
		"name_to_handle_at",
		"nanosleep",
		"newfstatat",
		"open",
		"openat",
		"openat2",
		"pause",
		"pidfd_open",
		"pidfd_send_signal",
		"pipe",
		"pipe2",
		"pkey_alloc",
		"pkey_free",
		"pkey_mprotect",
		"poll",
		"ppoll",
		"ppoll_time64",
		"prctl",
		"pread64",
		"preadv",
		"preadv2",
		"prlimit64",
		"process_mrelease",
		"pselect6",
		"pselect6_time64",
		"pwrite64",
		"pwritev",
		"pwritev2",
		"read",
		"readahead",
		"readlink",
		"readlinkat",
		"readv",
		"recv",
		"recvfrom",
		"recvmmsg",
		"recvmmsg_time64",
		"recvmsg",
		"remap_file_pages",
		"removexattr",
		"rename",
		"renameat",
		"renameat2",
		"restart_syscall",
		"rmdir",
		"rseq",
		"rt_sigaction",
		"rt_sigpending",
		"rt_sigprocmask",
		"rt_sigqueueinfo",
		"rt_sigreturn",
		"rt_sigsuspend",
		"rt_sigtimedwait",
		"rt_sigtimedwait_time64",
		"rt_tgsigqueueinfo",
		"sched_get_priority_max",
		"sched_get_priority_min",
		"sched_getaffinity",
		"sched_getattr",
		"sched_getparam",
		"sched_getscheduler",
		"sched_rr_get_interval",
		"sched_rr_get_interval_time64",
		"sched_setaffinity",
		"sched_setattr",
		"sched_setparam",
		"sched_setscheduler",
		"sched_yield",
		"seccomp",
		"select",
		"semctl",
		"semget",
		"semop",
		"semtimedop",
		"semtimedop_time64",
		"send",
		"sendfile",
		"sendfile64",
		"sendmmsg",
		"sendmsg",
		"sendto",
		"set_robust_list",
		"set_thread_area",
		"set_tid_address",
		"setfsgid",
		"setfsgid32",
		"setfsuid",
		"setfsuid32",
		"setgid",
		"setgid32",
		"setgroups",
		"setgroups32",
		"setitimer",
		"setpgid",
		"setpriority",
		"setregid",
		"setregid32",
		"setresgid",
		"setresgid32",
		"setresuid",
		"setresuid32",
		"setreuid",
		"setreuid32",
		"setrlimit",
		"setsid",
		"setsockopt",
		"setuid",
		"setuid32",
		"setxattr",
		"shmat",
		"shmctl",
		"shmdt",
		"shmget",
		"shutdown",
		"sigaltstack",
		"signalfd",
		"signalfd4",
		"sigprocmask",
		"sigreturn",
		"socketcall",
		"socketpair",
		"splice",
		"stat",
		"stat64",
		"statfs",
		"statfs64",
		"statx",
		"symlink",
		"symlinkat",
		"sync",
		"sync_file_range",
		"syncfs",
		"sysinfo",
		"tee",
		"tgkill",
		"time",
		"timer_create",
		"timer_delete",
		"timer_getoverrun",
		"timer_gettime",
		"timer_gettime64",
		"timer_settime",
		"timer_settime64",
		"timerfd_create",
		"timerfd_gettime",
		"timerfd_gettime64",
		"timerfd_settime",
		"timerfd_settime64",
		"times",
		"tkill",
		"truncate",
		"truncate64",
		"ugetrlimit",
		"umask",
		"uname",
		"unlink",
		"unlinkat",
		"utime",
		"utimensat",
		"utimensat_time64",
		"utimes",
		"vfork",
		"vmsplice",
		"wait4",
		"waitid",
		"waitpid",
		"write",
		"writev",
	}
}
