package run_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// A session that exhausts a resource of its sandbox — /tmp, processes,
// memory — takes itself down, never the keeper or the other sessions.
// Each test keeps a first session running (it prints A-done at its end),
// attacks from a second one, and checks that the first finishes, that a
// third session can still start, and that the container was never
// replaced (the keeper lived).

func limitedRun(e *harness.Env, flags ...string) []string {
	return append([]string{"run", "--image", e.S.Image, "--idle-timeout", "0"}, flags...)
}

func containerID(t *testing.T, e *harness.Env) string {
	t.Helper()
	return e.Container("shell")
}

func TestTmpfsFillLeavesTheSandboxUsable(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	flags := []string{"--memory", "512m"} // /tmp and /var/tmp get 128m each
	a := startSession(t, e, "A", append(limitedRun(e, flags...), "sh", "-c", "echo ready; read x; echo A-done")...)
	a.expect("ready", time.Minute)
	id := containerID(t, e)

	r := e.Run(append(limitedRun(e, flags...), "sh", "-c",
		"dd if=/dev/zero of=/tmp/fill bs=1M count=1024 2>&1; echo dd=$?; df -k /tmp /var/tmp | tail -n 2")...)
	if !strings.Contains(r.Stdout, "No space left on device") {
		t.Errorf("filling /tmp did not stop at its size:\n%s", r)
	}
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[len(f)-1] == "/tmp" || f[len(f)-1] == "/var/tmp") {
			if size, err := strconv.Atoi(f[1]); err != nil || size > 128*1024 {
				t.Errorf("%s is %s KiB, want at most 128 MiB: %q", f[len(f)-1], f[1], line)
			}
		}
	}
	if r := e.Run(append(limitedRun(e, flags...), "echo", "alive")...); r.Code != 0 || r.Stdout != "alive\n" {
		t.Errorf("a new session after /tmp was filled:\n%s", r)
	}
	if got := containerID(t, e); got != id {
		t.Errorf("the container was replaced (%q, was %q): its keeper died", got, id)
	}
	io.WriteString(a.stdin, "go\n")
	a.expect("A-done", time.Minute)
	if code := a.wait(30 * time.Second); code != 0 {
		t.Errorf("session A exited %d", code)
	}
}

func TestForkBombLeavesOtherSessions(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	flags := []string{"--pids-limit", "100"}
	a := startSession(t, e, "A", append(limitedRun(e, flags...), "sh", "-c", "echo ready; read x; echo A-done")...)
	a.expect("ready", time.Minute)
	id := containerID(t, e)

	// The bomb's processes outlive its session (they are orphans), so the
	// sandbox stays full of them.
	r := e.RunWith(harness.RunOpts{Timeout: time.Minute}, append(limitedRun(e, flags...), "bash", "-c", "b(){ b|b& }; b; sleep 2; echo bombed")...)
	t.Logf("the bomb's session: exit %d", r.Code)
	full := 0
	harness.WaitFor(10*time.Second, func() bool {
		full = len(dockerTop(t, e, id))
		return full >= 90
	})
	t.Logf("%d processes in the sandbox under --pids-limit 100", full)

	io.WriteString(a.stdin, "go\n")
	a.expect("A-done", time.Minute)
	if code := a.wait(30 * time.Second); code != 0 {
		t.Errorf("session A exited %d; stderr:\n%s", code, a.stderr.String())
	}
	// The keeper lived through it: the container A ran in is the one it
	// started in, and (idle timeout 0) the keeper then ends it, bomb and all.
	// Stopping a sandbox full of processes takes the engine a while on a
	// busy machine: two minutes.
	start := time.Now()
	if !harness.WaitFor(2*time.Minute, func() bool { return len(e.Containers()) == 0 }) {
		var rows []string
		if out, err := e.S.DockerTry("top", id, "-eo", "pid,ppid,args"); err == nil {
			rows = append(rows, out)
		} else {
			rows = append(rows, "(docker top: "+err.Error()+")")
		}
		t.Errorf("the keeper did not stop the sandbox within 2 minutes of its last session: %v\nprocesses (pid/ppid):\n%s", e.Containers(), strings.Join(rows, "\n"))
	} else {
		t.Logf("the sandbox was gone %s after its last session ended", time.Since(start).Round(time.Second))
	}
	if r := e.Run(append(limitedRun(e, flags...), "echo", "alive")...); r.Code != 0 || r.Stdout != "alive\n" {
		t.Errorf("a launch after the fork bomb:\n%s", r)
	}
}

func TestOutOfMemorySessionLeavesOthers(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	flags := []string{"--memory", "256m"}
	// A stays until told (a line on its input): the checks below run while
	// it is attached, however slow the machine.
	a := startSession(t, e, "A", append(limitedRun(e, flags...), "sh", "-c", "echo ready; read x; echo A-done")...)
	a.expect("ready", time.Minute)
	id := containerID(t, e)

	// perl is in every Debian image; it asks for 1 GiB under a 256 MiB limit.
	r := e.Run(append(limitedRun(e, flags...), "perl", "-e", `my $x = "a" x (1024*1024*1024); print length($x), "\n"`)...)
	if r.Code == 0 {
		t.Errorf("the allocation succeeded under --memory 256m:\n%s", r)
	}
	t.Logf("the hungry session: exit %d", r.Code)

	if r := e.Run(append(limitedRun(e, flags...), "echo", "alive")...); r.Code != 0 || r.Stdout != "alive\n" {
		t.Errorf("a new session after the OOM:\n%s", r)
	}
	if got := containerID(t, e); got != id {
		t.Errorf("the container was replaced (%q, was %q): its keeper died", got, id)
	}
	io.WriteString(a.stdin, "go\n")
	a.expect("A-done", time.Minute)
	if code := a.wait(30 * time.Second); code != 0 {
		t.Errorf("session A exited %d; stderr:\n%s", code, a.stderr.String())
	}
}

// TestPsAndStopActOnOwnSandboxes: on an engine shared by two users, each
// sees and stops only their own sandboxes; --all-users is an explicit
// administrator's choice.
func TestPsAndStopActOnOwnSandboxes(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test needs root to act as a second user")
		}
		t.Skip("needs root to act as a second user")
	}
	a := startSession(t, e, "A", "run", "--image", e.S.Image, "--idle-timeout", "0", "sh", "-c", "echo ready; sleep 60")
	a.expect("ready", time.Minute)
	mine := e.Container("shell")

	// A second user with access to the engine and a home of their own,
	// with a project (and, later, a sandbox) there. The suite's own user
	// never runs 'stop --all' here: it would stop the sandboxes of the
	// tests running alongside this one, which belong to the same user.
	home, err := os.MkdirTemp(e.Dir, "second-user-")
	if err != nil {
		t.Fatal(err)
	}
	otherProject := filepath.Join(home, "project")
	if err := os.Mkdir(otherProject, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{home, otherProject} {
		if err := os.Chown(d, e.S.UID+1, e.S.GID+1); err != nil {
			t.Fatal(err)
		}
	}
	other := func(args ...string) harness.Result {
		t.Helper()
		cred := *e.S.Credential
		cred.Uid, cred.Gid = uint32(e.S.UID+1), uint32(e.S.GID+1)
		cmd := exec.Command(e.S.Bin, args...)
		cmd.Dir = otherProject
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &cred}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err = cmd.Run()
		res := harness.Result{Args: args, Stdout: out.String(), Stderr: errb.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			res.Code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run as the second user: %v", err)
		}
		return res
	}
	names := func(r harness.Result) string {
		var list []struct{ Name string }
		if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
			t.Fatalf("ps --json: %v\n%s", err, r)
		}
		var out []string
		for _, c := range list {
			out = append(out, c.Name)
		}
		return strings.Join(out, " ")
	}
	full, _ := e.S.DockerTry("inspect", "--format", "{{.Name}}", mine)
	name := strings.TrimPrefix(strings.TrimSpace(full), "/")

	// The second user's sandbox stays up after its command (idle timeout).
	if r := other("workspace", "add", otherProject); r.Code != 0 {
		t.Fatalf("the second user's workspace add:\n%s", r)
	}
	if r := other("run", "--image", e.S.Image, "--idle-timeout", "300", "true"); r.Code != 0 {
		t.Fatalf("the second user's run:\n%s", r)
	}
	theirs := e.ContainersOf(otherProject, "")
	if len(theirs) != 1 {
		t.Fatalf("the second user's sandbox: %v", theirs)
	}
	theirFull, _ := e.S.DockerTry("inspect", "--format", "{{.Name}}", theirs[0])
	theirName := strings.TrimPrefix(strings.TrimSpace(theirFull), "/")

	if r := other("ps", "--json"); strings.Contains(names(r), name) || !strings.Contains(names(r), theirName) {
		t.Errorf("another user's ps must list %s and not my %s:\n%s", theirName, name, r)
	}
	if r := e.Run("ps", "--json"); !strings.Contains(names(r), name) || strings.Contains(names(r), theirName) {
		t.Errorf("my own ps must list %s and not the other user's %s:\n%s", name, theirName, r)
	}
	if r := other("stop", "--all-users"); r.Code != 2 {
		t.Errorf("--all-users without --all must be a usage error:\n%s", r)
	}
	if r := other("ps", "--json", "--all-users"); !strings.Contains(names(r), name) {
		t.Errorf("ps --all-users does not list %s:\n%s", name, r)
	}
	if r := other("stop", "--all"); r.Code != 0 || strings.Contains(r.Stderr, name) || !strings.Contains(r.Stderr, "stopped "+theirName) {
		t.Errorf("another user's stop --all must stop %s and not %s:\n%s", theirName, name, r)
	}
	if !harness.WaitFor(time.Minute, func() bool { return len(e.ContainersOf(otherProject, "")) == 0 }) {
		t.Errorf("the second user's sandbox is still there after their stop --all")
	}
	if ids := e.Containers(); len(ids) != 1 || ids[0] != mine {
		t.Fatalf("my sandbox is gone after another user's stop --all: %v", ids)
	}
	e.StopIn(e.Project)
	a.wait(30 * time.Second)
}
