package run_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// session is an ai-sandbox run in the background, read line by line.
type session struct {
	t      *testing.T
	name   string
	cancel context.CancelFunc
	stdin  io.WriteCloser
	lines  chan string
	done   chan struct{}
	code   int
	stderr strings.Builder
	cmdPid int
}

func startSession(t *testing.T, e *harness.Env, name string, args ...string) *session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := e.Command(ctx, e.Project, args...)
	s := &session{t: t, name: name, cancel: cancel, lines: make(chan string, 100), done: make(chan struct{})}
	cmd.Stderr = &s.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmdPid = cmd.Process.Pid
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	go func() {
		err := cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		_ = err
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// expect waits for a line of output.
func (s *session) expect(want string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("session %s ended before printing %q; stderr:\n%s", s.name, want, s.stderr.String())
			}
			if line == want {
				return
			}
		case <-deadline:
			s.t.Fatalf("session %s did not print %q within %s; stderr:\n%s", s.name, want, timeout, s.stderr.String())
		}
	}
}

func (s *session) wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(timeout):
		s.t.Fatalf("session %s did not end within %s; stderr:\n%s", s.name, timeout, s.stderr.String())
		return -1
	}
}

func sandboxRun(e *harness.Env, more ...string) []string {
	return append(append([]string{"run"}, e.SandboxFlags()...), more...)
}

type topRow struct {
	pid, ppid int
	args      string
}

func dockerTop(t *testing.T, e *harness.Env, id string) []topRow {
	t.Helper()
	out := e.S.DockerOut(t, "top", id, "-eo", "pid,ppid,args")
	var rows []topRow
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		rows = append(rows, topRow{pid, ppid, strings.Join(f[2:], " ")})
	}
	return rows
}

// TestSecondTerminalSurvivesFirst: two sessions share one container;
// ending the first (its terminal closes) leaves the second running, and
// PID 1 is docker-init with the keeper, never an agent.
func TestSecondTerminalSurvivesFirst(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	a := startSession(t, e, "A", sandboxRun(e, "sh", "-c", "echo A-ready; exec sleep 300")...)
	a.expect("A-ready", time.Minute)
	b := startSession(t, e, "B", sandboxRun(e, "sh", "-c", "echo B-ready; read line; echo B-got-$line")...)
	b.expect("B-ready", time.Minute)

	ids := e.Containers()
	if len(ids) != 1 {
		t.Fatalf("two sessions of one project made %d containers, want 1", len(ids))
	}
	id := ids[0]
	pid1, err := strconv.Atoi(strings.TrimSpace(e.S.DockerOut(t, "inspect", "--format", "{{.State.Pid}}", id)))
	if err != nil {
		t.Fatal(err)
	}
	rows := dockerTop(t, e, id)
	var init, keeper bool
	for _, r := range rows {
		if r.pid == pid1 {
			init = strings.Contains(r.args, "docker-init")
			if !init {
				t.Errorf("PID 1 is %q, want docker-init", r.args)
			}
		}
		if r.ppid == pid1 {
			if strings.Contains(r.args, "ai-sandbox-keeper") {
				keeper = true
			} else {
				t.Errorf("PID 1 has a child that is not the keeper: %q", r.args)
			}
		}
	}
	if !init || !keeper {
		t.Errorf("PID 1 is not docker-init running the keeper:\n%v", rows)
	}

	// The first terminal closes.
	if err := syscall.Kill(a.cmdPid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	code := a.wait(30 * time.Second)
	t.Logf("session A ended with %d", code)
	// Its processes are gone from the container.
	if !harness.WaitFor(15*time.Second, func() bool {
		for _, r := range dockerTop(t, e, id) {
			if strings.Contains(r.args, "sleep 300") {
				return false
			}
		}
		return true
	}) {
		t.Errorf("session A's command still runs in the container after its terminal closed:\n%v", dockerTop(t, e, id))
	}

	// B is alive: its input and output still work.
	if _, err := io.WriteString(b.stdin, "ping\n"); err != nil {
		t.Fatalf("session B's input: %v", err)
	}
	b.stdin.Close()
	b.expect("B-got-ping", 30*time.Second)
	if code := b.wait(30 * time.Second); code != 0 {
		t.Errorf("session B exited %d, want 0; stderr:\n%s", code, b.stderr.String())
	}
}

func TestExitCodePassthrough(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	for _, c := range []struct {
		script string
		want   int
	}{{"exit 42", 42}, {"exit 0", 0}, {"exit 1", 1}, {"kill -TERM $$", 143}} {
		r := e.Run(sandboxRun(e, "sh", "-c", c.script)...)
		if r.Code != c.want {
			t.Errorf("sh -c %q: exit %d, want %d\n%s", c.script, r.Code, c.want, r)
		}
	}
}

func TestStdinPiped(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	r := e.RunWith(harness.RunOpts{Stdin: strings.NewReader("hi\n")}, sandboxRun(e, "cat")...)
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Errorf("echo hi | ai-sandbox run cat: want hi\n%s", r)
	}
}

func TestFilesOwnedByUser(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	r := e.Run(sandboxRun(e, "sh", "-c", "echo x > created.txt && mkdir -p sub/dir && touch sub/dir/f /home/agent/in-home")...)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	for _, p := range []string{
		filepath.Join(e.Project, "created.txt"), filepath.Join(e.Project, "sub", "dir", "f"),
		filepath.Join(e.ToolHome("shell"), "in-home"), e.ToolHome("shell"),
	} {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		sys := st.Sys().(*syscall.Stat_t)
		if int(sys.Uid) != e.S.UID || int(sys.Gid) != e.S.GID {
			t.Errorf("%s is owned by %d:%d, want %d:%d", p, sys.Uid, sys.Gid, e.S.UID, e.S.GID)
		}
	}
}

// TestCwdIsKept: from a subfolder, the session starts there and the
// project (the git top-level) is what is mounted.
func TestCwdIsKept(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	sub := filepath.Join(e.Project, "src", "pkg")
	r0 := e.Run(sandboxRun(e, "mkdir", "-p", "src/pkg")...)
	if r0.Code != 0 {
		t.Fatalf("%s", r0)
	}
	r := e.RunIn(sub, harness.RunOpts{}, sandboxRun(e, "sh", "-c", "pwd; ls "+e.Project)...)
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, sub+"\n") || !strings.Contains(r.Stdout, "README.md") {
		t.Errorf("want the session in %s with the project mounted\n%s", sub, r)
	}
}

func TestIdleStop(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	start := time.Now()
	if r := e.Run(sandboxRun(e, "sh", "-c", "sleep 2")...); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	// The keeper polls once a second: "at once" is within a few seconds.
	if !harness.WaitFor(5*time.Second, func() bool { return len(e.Containers()) == 0 }) {
		t.Fatalf("with --idle-timeout 0 the container is still there 5s after its last session: %v", e.Containers())
	}
	t.Logf("--idle-timeout 0: gone %s after the session ended", time.Since(start).Round(100*time.Millisecond))

	// With a grace period it stays up for a while, then goes.
	args := []string{"run", "--image", e.S.Image, "--idle-timeout", "8s", "sh", "-c", "sleep 2"}
	if r := e.Run(args...); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	ended := time.Now()
	if n := len(e.Containers()); n != 1 {
		t.Errorf("with --idle-timeout 8s the container is gone at once (%d containers)", n)
	}
	if !harness.WaitFor(20*time.Second, func() bool { return len(e.Containers()) == 0 }) {
		t.Fatalf("with --idle-timeout 8s the container is still there 20s after its last session")
	}
	if d := time.Since(ended); d < 7*time.Second {
		t.Errorf("with --idle-timeout 8s the container went %s after its last session", d.Round(100*time.Millisecond))
	}
	t.Logf("--idle-timeout 8s: gone %s after the session ended", time.Since(ended).Round(100*time.Millisecond))
}

// TestSecretNeverOnArgv: a secret's value appears in no docker command
// line (--print, AI_RUN_DEBUG, the host's process table), in no
// container configuration and in no file of the state folder but env.
func TestSecretNeverOnArgv(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	secrets := []string{e.DeclaredValue, e.UndeclaredValue}
	leaks := func(where, text string) {
		t.Helper()
		for _, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("a secret value appears in %s", where)
			}
		}
	}

	r := e.Run(sandboxRun(e, "--print", "claude", "-p", "x")...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "docker") {
		t.Fatalf("--print: %s", r)
	}
	if !strings.Contains(r.Stdout, "--env "+harness.DeclaredKey) {
		t.Errorf("--print does not pass %s by name:\n%s", harness.DeclaredKey, r.Stdout)
	}
	leaks("--print output", r.Stdout+r.Stderr)
	if len(e.Containers()) != 0 {
		t.Errorf("--print started a container")
	}

	r = e.RunWith(harness.RunOpts{Env: []string{"AI_RUN_DEBUG=1"}}, sandboxRun(e, "claude", "__sleep", "0")...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "docker") {
		t.Fatalf("AI_RUN_DEBUG=1: want the docker command lines on stderr\n%s", r)
	}
	leaks("AI_RUN_DEBUG output", r.Stdout+r.Stderr)

	// While a session runs: the host's process table and docker inspect.
	s := startSession(t, e, "claude", sandboxRun(e, "claude", "__sleep", "60")...)
	s.expect("ready", time.Minute)
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil {
			leaks(p, string(b))
		}
	}
	for _, id := range e.Containers() {
		leaks("docker inspect", e.S.DockerOut(t, "inspect", id))
	}
	_ = syscall.Kill(s.cmdPid, syscall.SIGTERM)
	s.wait(30 * time.Second)

	_ = filepath.Walk(e.State, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() || path == filepath.Join(e.State, "env") || info.Size() > 1<<20 {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			leaks(path, string(b))
		}
		return nil
	})
}

func TestMissingImage(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	r := e.Run("run", "--image", "ai-sandbox-e2e-missing:"+harness.Random(), "--idle-timeout", "0", "true")
	if r.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.Code, r)
	}
	if !strings.Contains(r.Stderr, "ai-sandbox image build") {
		t.Errorf("the error does not name 'ai-sandbox image build'\n%s", r)
	}
	if n := len(e.Containers()); n != 0 {
		t.Errorf("%d containers left", n)
	}
}

// TestOutsideWorkspaceRefused: outside the whitelist nothing starts.
func TestOutsideWorkspaceRefused(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	outside := filepath.Join(e.Dir, "not-whitelisted")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(outside, e.S.UID, e.S.GID); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
	r := e.RunIn(outside, harness.RunOpts{}, sandboxRun(e, "true")...)
	if r.Code != 1 || !strings.Contains(r.Stderr, "is not inside a whitelisted workspace") ||
		!strings.Contains(r.Stderr, "ai-sandbox workspace add") {
		t.Errorf("want exit 1, the refusal and the workspace add hint\n%s", r)
	}
	out := e.S.DockerOut(t, "ps", "--all", "--quiet", "--filter", "label=ai-sandbox.path="+outside)
	if strings.TrimSpace(out) != "" {
		t.Errorf("a container was started outside the whitelist")
	}
}

// TestConcurrentFirstLaunch: terminals opened at the same moment, before
// any container exists, all get a session in one container.
func TestConcurrentFirstLaunch(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	const n = 4
	results := make(chan harness.Result, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			results <- e.RunWith(harness.RunOpts{Env: []string{"AI_RUN_DEBUG=1"}}, sandboxRun(e, "sh", "-c", "sleep 1; echo session-"+strconv.Itoa(i))...)
		}(i)
	}
	var ids []string
	for i := 0; i < n; i++ {
		r := <-results
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "session-") {
			t.Errorf("a concurrent launch failed:\n%s", r)
		}
		if i == 0 {
			ids = e.Containers()
		}
	}
	if len(ids) != 1 {
		t.Errorf("%d concurrent launches made %d containers, want 1", n, len(ids))
	}
}

// TestSignalReachesAgent: Ctrl-C (SIGINT to ai-sandbox) reaches the
// command in the sandbox, and its exit code comes back.
func TestSignalReachesAgent(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	s := startSession(t, e, "trap", sandboxRun(e, "sh", "-c", `trap 'echo got-INT; exit 7' INT; echo ready; while :; do sleep 0.2; done`)...)
	s.expect("ready", time.Minute)
	if err := syscall.Kill(s.cmdPid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	s.expect("got-INT", 30*time.Second)
	if code := s.wait(30 * time.Second); code != 7 {
		t.Errorf("exit %d after SIGINT, want the command's 7; stderr:\n%s", code, s.stderr.String())
	}
}

// TestSpecChange: a run that asks for another spec recreates an idle
// container, but joins (and says so) one that has sessions attached.
func TestSpecChange(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	base := []string{"run", "--image", e.S.Image, "--idle-timeout", "1m"}
	hash := func() string {
		t.Helper()
		return strings.TrimSpace(e.S.DockerOut(t, "inspect", "--format", `{{index .Config.Labels "ai-sandbox.spec-hash"}}`, e.Container("shell")))
	}
	if r := e.Run(append(base, "true")...); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	first, firstHash := e.Container("shell"), hash()

	// Same spec: the container is reused.
	if r := e.Run(append(base, "true")...); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	if id := e.Container("shell"); id != first {
		t.Errorf("the same spec made a new container")
	}

	// Another spec, no session attached: recreated with the new spec.
	if r := e.Run(append(base, "--memory", "1g", "true")...); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	second := e.Container("shell")
	if second == first || hash() == firstHash {
		t.Errorf("an idle container was not recreated for a new spec")
	}
	mem := strings.TrimSpace(e.S.DockerOut(t, "inspect", "--format", "{{.HostConfig.Memory}}", second))
	if mem != strconv.Itoa(1<<30) {
		t.Errorf("Memory = %s after --memory 1g", mem)
	}

	// Another spec while a session is attached: it joins and says so.
	s := startSession(t, e, "long", append(base, "--memory", "1g", "sh", "-c", "echo ready; read x; exit 0")...)
	s.expect("ready", time.Minute)
	r := e.Run(append(base, "--memory", "2g", "sh", "-c", "echo joined")...)
	if r.Code != 0 || r.Stdout != "joined\n" {
		t.Errorf("a run with another spec did not join the busy container\n%s", r)
	}
	if !strings.Contains(r.Stderr, "warning") || !strings.Contains(r.Stderr, "ai-sandbox stop") {
		t.Errorf("no warning with the restart command about the other spec\n%s", r)
	}
	if id := e.Container("shell"); id != second {
		t.Errorf("a container with a session attached was replaced")
	}
	s.stdin.Close()
	if code := s.wait(30 * time.Second); code != 0 {
		t.Errorf("the attached session ended with %d", code)
	}
}
