package seccomp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/seccomp"
)

var update = flag.Bool("update", false, "rewrite the golden file in testdata/")

// The tests read the profile back from its JSON, the artifact docker sees.
type profile struct {
	DefaultAction   string `json:"defaultAction"`
	DefaultErrnoRet *uint  `json:"defaultErrnoRet"`
	ArchMap         []struct {
		Architecture     string   `json:"architecture"`
		SubArchitectures []string `json:"subArchitectures"`
	} `json:"archMap"`
	Syscalls []rule `json:"syscalls"`
}

type rule struct {
	Names    []string `json:"names"`
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet"`
	Args     []struct {
		Index    uint    `json:"index"`
		Value    uint64  `json:"value"`
		ValueTwo *uint64 `json:"valueTwo"`
		Op       string  `json:"op"`
	} `json:"args"`
	Comment  string `json:"comment"`
	Includes *struct {
		Arches []string `json:"arches"`
	} `json:"includes"`
	Excludes *struct {
		Arches []string `json:"arches"`
	} `json:"excludes"`
}

func parse(t *testing.T) profile {
	t.Helper()
	var p profile
	dec := json.NewDecoder(bytes.NewReader(seccomp.Profile()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("profile is not valid JSON of the expected shape: %v", err)
	}
	return p
}

// allowRules returns the rules that allow their names (maybe conditionally).
func allowRules(p profile) []rule {
	var rs []rule
	for _, r := range p.Syscalls {
		if r.Action == "SCMP_ACT_ALLOW" {
			rs = append(rs, r)
		}
	}
	return rs
}

func TestValidJSON(t *testing.T) {
	b := seccomp.Profile()
	if !json.Valid(b) {
		t.Fatal("Profile() is not valid JSON")
	}
	p := parse(t)
	if p.DefaultAction != "SCMP_ACT_ERRNO" || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Errorf("default = %s/%v, want SCMP_ACT_ERRNO with errno 1 (EPERM)", p.DefaultAction, p.DefaultErrnoRet)
	}
	if len(p.ArchMap) == 0 || p.ArchMap[0].Architecture != "SCMP_ARCH_X86_64" ||
		!slices.Equal(p.ArchMap[0].SubArchitectures, []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"}) {
		t.Errorf("archMap[0] = %+v, want x86_64 with x86 and x32", p.ArchMap)
	}
	for i, r := range p.Syscalls {
		if len(r.Names) == 0 {
			t.Errorf("rule %d has no names", i)
		}
		if r.Action != "SCMP_ACT_ALLOW" && r.Action != "SCMP_ACT_ERRNO" {
			t.Errorf("rule %d %v: unexpected action %s", i, r.Names, r.Action)
		}
		for _, a := range r.Args {
			if (a.Op == "SCMP_CMP_MASKED_EQ") != (a.ValueTwo != nil) {
				t.Errorf("rule %d %v: valueTwo must be present exactly for MASKED_EQ: %+v", i, r.Names, a)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := seccomp.Profile(), seccomp.Profile()
	if !bytes.Equal(a, b) {
		t.Fatal("Profile() differs between calls")
	}
	sum := sha256.Sum256(a)
	if h := seccomp.Hash(); h != hex.EncodeToString(sum[:])[:12] || h != seccomp.Hash() {
		t.Errorf("Hash() = %q, want the first 12 hex digits of sha256(Profile())", h)
	}
	// Callers may not change what later calls return.
	a[0] = 'X'
	seccomp.Denied()[0] = "X"
	if !bytes.Equal(seccomp.Profile(), b) || seccomp.Denied()[0] == "X" {
		t.Error("mutating a result changed a later result")
	}
}

func TestNamesSortedAndUnique(t *testing.T) {
	for i, r := range parse(t).Syscalls {
		for j := 1; j < len(r.Names); j++ {
			if r.Names[j-1] >= r.Names[j] {
				t.Errorf("rule %d: %q before %q: names must be sorted and unique", i, r.Names[j-1], r.Names[j])
			}
		}
	}
	d := seccomp.Denied()
	if !slices.IsSorted(d) || len(slices.Compact(slices.Clone(d))) != len(d) {
		t.Errorf("Denied() = %v, want sorted and unique", d)
	}
}

func TestDeniedNeverAllowed(t *testing.T) {
	want := []string{"io_uring_enter", "io_uring_register", "io_uring_setup", "process_vm_readv", "process_vm_writev", "ptrace"}
	if d := seccomp.Denied(); !slices.Equal(d, want) {
		t.Errorf("Denied() = %v, want %v", d, want)
	}
	for _, r := range allowRules(parse(t)) {
		for _, n := range seccomp.Denied() {
			if slices.Contains(r.Names, n) {
				t.Errorf("%s is allowed by %+v", n, r)
			}
		}
	}
}

// Docker allows these only with a capability; the container has none.
func TestNoCapabilityGatedSyscall(t *testing.T) {
	gated := []string{
		"mount", "umount", "umount2", "unshare", "setns", "bpf", "perf_event_open",
		"open_by_handle_at", "reboot", "chroot", "pivot_root", "init_module", "finit_module",
		"delete_module", "kexec_load", "kexec_file_load", "clock_settime", "clock_settime64",
		"settimeofday", "stime", "syslog", "kcmp", "pidfd_getfd", "process_madvise", "keyctl",
		"add_key", "request_key", "userfaultfd", "iopl", "ioperm", "swapon", "swapoff", "acct",
		"mbind", "set_mempolicy", "get_mempolicy", "vhangup", "fsopen", "fsmount", "fsconfig",
		"fspick", "move_mount", "open_tree", "mount_setattr", "sethostname", "setdomainname",
		"quotactl", "fanotify_init", "lookup_dcookie",
	}
	for _, r := range allowRules(parse(t)) {
		for _, n := range gated {
			if slices.Contains(r.Names, n) {
				t.Errorf("capability-gated %s is allowed by %+v", n, r)
			}
		}
	}
}

func TestCommonSyscallsAllowed(t *testing.T) {
	p := parse(t)
	plain := p.Syscalls[0]
	if plain.Action != "SCMP_ACT_ALLOW" || plain.Args != nil || plain.Includes != nil || plain.Excludes != nil {
		t.Fatalf("first rule should be the unconditional allow list, got %+v", plain)
	}
	if n := len(plain.Names); n < 340 || n > 400 {
		t.Errorf("unconditional allow list has %d names, want about 350", n)
	}
	for _, n := range []string{
		"read", "write", "openat", "close", "execve", "futex", "epoll_pwait", "statx",
		"getrandom", "rseq", "mmap", "brk", "wait4", "pipe2", "newfstatat", "landlock_create_ruleset",
	} {
		if !slices.Contains(plain.Names, n) {
			t.Errorf("%s is not in the unconditional allow list", n)
		}
	}
	if slices.Contains(plain.Names, "clone") || slices.Contains(plain.Names, "socket") || slices.Contains(plain.Names, "personality") {
		t.Error("clone, socket and personality must only be allowed with argument conditions")
	}
}

func TestConditionalRules(t *testing.T) {
	p := parse(t)
	var clones, personas int
	var clone3, socket bool
	for _, r := range p.Syscalls {
		switch {
		case slices.Equal(r.Names, []string{"clone"}):
			clones++
			if r.Action != "SCMP_ACT_ALLOW" || len(r.Args) != 1 || r.Args[0].Op != "SCMP_CMP_MASKED_EQ" ||
				r.Args[0].Value != 0x7E020000 || r.Args[0].ValueTwo == nil || *r.Args[0].ValueTwo != 0 {
				t.Errorf("clone rule %+v must allow only without namespace flags", r)
			}
			s390 := r.Args[0].Index == 1
			if s390 != (r.Includes != nil && slices.Equal(r.Includes.Arches, []string{"s390", "s390x"})) ||
				!s390 != (r.Excludes != nil && slices.Equal(r.Excludes.Arches, []string{"s390", "s390x"})) {
				t.Errorf("clone rule %+v: arg 1 on s390/s390x only, arg 0 elsewhere", r)
			}
		case slices.Equal(r.Names, []string{"clone3"}):
			clone3 = r.Action == "SCMP_ACT_ERRNO" && r.ErrnoRet != nil && *r.ErrnoRet == 38
		case slices.Equal(r.Names, []string{"socket"}):
			socket = r.Action == "SCMP_ACT_ALLOW" && len(r.Args) == 1 && r.Args[0].Index == 0 &&
				r.Args[0].Value == 40 && r.Args[0].Op == "SCMP_CMP_NE"
		case slices.Equal(r.Names, []string{"personality"}):
			personas++
			if len(r.Args) != 1 || r.Args[0].Op != "SCMP_CMP_EQ" ||
				!slices.Contains([]uint64{0, 8, 131072, 131080, 4294967295}, r.Args[0].Value) {
				t.Errorf("unexpected personality rule %+v", r)
			}
		}
	}
	if clones != 2 || personas != 5 || !clone3 || !socket {
		t.Errorf("clone rules %d (want 2), personality rules %d (want 5), clone3 ENOSYS %v, socket !AF_VSOCK %v",
			clones, personas, clone3, socket)
	}
}

func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "profile.golden.json")
	got := seccomp.Profile()
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/seccomp -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (-golden +got); rerun with -update if the change is meant:\n%s",
			path, cmp.Diff(string(want), string(got)))
	}
}
