package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// engine is a fake docker engine behind a fake CLI: one container, with
// the state a real one goes through, and hooks that change it between
// calls (a keeper stopping it, another launch creating it).
type engine struct {
	t  *testing.T
	mu sync.Mutex

	exists, running bool
	status          string
	spec            string
	sessions        int // what docker top reports
	git             string
	ports           string // {{json .HostConfig.PortBindings}}
	stopping        bool   // the keeper is deciding to stop (guard and hold exit 214)

	// beforeExec runs before the n-th session exec (0-based); it may
	// change the state, and return true to fail that exec the way docker
	// does when the container stops under it (a message on stdout, 126).
	beforeExec func(e *engine, n int) (dies bool)
	// afterInspect runs after each inspect.
	afterInspect func(e *engine)
	// runConflict makes the next docker run find the name taken (another
	// launch won) and creates the container as that launch would.
	runConflict bool

	// topFails makes docker top fail that many times (the container
	// is stopping), after which the container is gone.
	topFails int

	calls    []string
	execs    int
	ran      int      // commands that really ran
	lastExec []string // argv of the last session exec
	cmdCode  int      // the command's own exit code
	cmdOut   string   // what the command prints on stdout
}

func newEngine(t *testing.T) *engine { return &engine{t: t, cmdOut: "hello\n"} }

func (e *engine) kind(argv []string) string {
	switch {
	case len(argv) > 1 && argv[1] == "exec":
		for _, a := range argv {
			if a == Hold {
				return "hold"
			}
		}
		return "exec"
	case len(argv) > 2 && argv[1] == "container" && argv[2] == "inspect":
		return "inspect"
	case len(argv) > 1:
		return argv[1]
	}
	return "?"
}

// guardArgs returns the arguments the guard or hold script got.
func guardArgs(argv []string) []string {
	for i, a := range argv {
		if a == Guard || a == Hold {
			return argv[i+1:]
		}
	}
	return nil
}

func (e *engine) Output(_ context.Context, argv []string) (proc.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := e.kind(argv)
	e.calls = append(e.calls, k)
	switch k {
	case "hold":
		if !e.running {
			return e.noContainer(), nil
		}
		spec := guardArgs(argv)[0]
		if spec != "-" && spec != e.spec {
			return proc.Result{ExitCode: GuardExit}, nil
		}
		if e.stopping {
			return proc.Result{ExitCode: StoppingExit}, nil
		}
		return proc.Result{}, nil
	case "inspect":
		defer func() {
			if e.afterInspect != nil {
				e.afterInspect(e)
			}
		}()
		if !e.exists {
			return proc.Result{ExitCode: 1, Stderr: []byte("Error: No such container: x\n")}, nil
		}
		return proc.Result{Stdout: []byte(fmt.Sprintf("%s|%v|%s|%s|%s\n", e.status, e.running, e.spec, e.git, e.ports))}, nil
	case "run":
		if e.exists || e.runConflict {
			if e.runConflict {
				e.runConflict = false
				e.exists, e.running, e.status, e.spec = true, true, "running", specOf(argv)
			}
			return proc.Result{ExitCode: 125, Stderr: []byte(`docker: Error response from daemon: Conflict. The container name "/x" is already in use by container "abc".` + "\n")}, nil
		}
		e.exists, e.running, e.status, e.spec, e.stopping = true, true, "running", specOf(argv), false
		return proc.Result{Stdout: []byte("abc\n")}, nil
	case "top":
		if e.topFails > 0 {
			// Stopping under docker top: the runtime's connection closes.
			e.topFails--
			if e.topFails == 0 {
				e.exists, e.running, e.status = false, false, ""
			}
			return proc.Result{ExitCode: 1, Stderr: []byte("Error response from daemon: ttrpc: closed: unknown\n")}, nil
		}
		out := "PID PPID\n10 0\n11 10\n"
		for i := 0; i < e.sessions; i++ {
			out += fmt.Sprintf("%d 0\n", 20+i)
		}
		return proc.Result{Stdout: []byte(out)}, nil
	case "rm":
		e.exists, e.running, e.status = false, false, ""
		return proc.Result{}, nil
	}
	e.t.Fatalf("unexpected docker call %q", argv)
	return proc.Result{}, nil
}

func (e *engine) noContainer() proc.Result {
	if e.exists {
		return proc.Result{ExitCode: 1, Stderr: []byte("Error response from daemon: Container abc is not running\n")}
	}
	return proc.Result{ExitCode: 1, Stderr: []byte("Error response from daemon: No such container: x\n")}
}

func specOf(argv []string) string {
	for _, a := range argv {
		if v, ok := strings.CutPrefix(a, "AI_SANDBOX_SPEC="); ok {
			return v
		}
	}
	return ""
}

func (e *engine) Interactive(_ context.Context, argv []string, stdio proc.Stdio, extraEnv []string, _ func(os.Signal) bool) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "exec")
	e.lastExec = argv
	n := e.execs
	e.execs++
	if e.beforeExec != nil && e.beforeExec(e, n) {
		// The container stopped under the exec: docker prints the
		// runtime's error on stdout and exits 126.
		fmt.Fprintln(stdio.Out, "OCI runtime exec failed: exec failed: cannot exec in a stopped container: unknown")
		return 126, nil
	}
	if !e.running {
		r := e.noContainer()
		stdio.Err.Write(r.Stderr)
		return r.ExitCode, nil
	}
	args := guardArgs(argv)
	if args == nil { // unguarded (signal forwarding)
		return 0, nil
	}
	spec, sid, held, token := args[0], args[1], args[4], args[5]
	if spec != "-" && spec != e.spec {
		return GuardExit, nil
	}
	if held != "1" && e.stopping {
		return StoppingExit, nil
	}
	if token == "1" {
		fmt.Fprintf(stdio.Err, "%s%s\n", StartToken, sid)
	}
	e.ran++
	io.WriteString(stdio.Out, e.cmdOut)
	if stdio.In != nil {
		io.Copy(stdio.Out, stdio.In)
	}
	return e.cmdCode, nil
}

func testPlan() Plan {
	f := baseFacts()
	f.Interactive = false
	return NewPlan(f)
}

type launchResult struct {
	code           int
	err            error
	stdout, stderr string
}

func launch(t *testing.T, e *engine, p Plan, stdin io.Reader, retrySafe bool) launchResult {
	t.Helper()
	var out, errb bytes.Buffer
	s := ui.Streams{Out: &out, Err: &errb}
	m := &Manager{Docker: "docker", Runner: e, Streams: s, StartTimeout: 3 * time.Second}
	code, err := m.Launch(context.Background(), p, "shell", proc.Stdio{In: stdin, Out: &out, Err: &errb}, nil, retrySafe)
	return launchResult{code, err, out.String(), errb.String()}
}

func (e *engine) callList() string { return strings.Join(e.calls, ",") }

func running(e *engine, p Plan) *engine {
	e.exists, e.running, e.status, e.spec = true, true, "running", p.SpecHash
	return e
}

func TestLaunchWarmIsOneExec(t *testing.T) {
	p := testPlan()
	e := running(newEngine(t), p)
	e.cmdCode = 42
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 42 {
		t.Fatalf("code %d err %v", r.code, r.err)
	}
	if e.callList() != "exec" {
		t.Errorf("calls %s, want one exec", e.callList())
	}
	if r.stdout != "hello\n" || r.stderr != "" {
		t.Errorf("stdout %q stderr %q: the start token must not show", r.stdout, r.stderr)
	}
}

func TestLaunchColdIsThreeCalls(t *testing.T) {
	p := testPlan()
	e := newEngine(t)
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 {
		t.Fatalf("code %d err %v\n%s", r.code, r.err, r.stderr)
	}
	if e.callList() != "exec,run,exec" {
		t.Errorf("calls %s", e.callList())
	}
	if strings.Contains(r.stderr, "No such container") {
		t.Errorf("docker's message reached the user: %q", r.stderr)
	}
	if e.ran != 1 {
		t.Errorf("the command ran %d times", e.ran)
	}
}

// The race of the issue: the container is running when looked at, and
// stops while the exec starts; docker prints its runtime error on stdout.
func TestLaunchContainerStopsUnderTheExec(t *testing.T) {
	p := testPlan()
	e := running(newEngine(t), p)
	e.beforeExec = func(e *engine, n int) bool {
		if n == 0 {
			e.running, e.status = false, "exited" // it goes, --rm removes it soon
			return true
		}
		return false
	}
	e.afterInspect = func(e *engine) { e.exists = false } // removal finished
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 {
		t.Fatalf("code %d err %v\n%s", r.code, r.err, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "OCI runtime") {
		t.Errorf("docker's internal error reached the user: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if r.stdout != "hello\n" || e.ran != 1 {
		t.Errorf("stdout %q, ran %d times", r.stdout, e.ran)
	}
}

func TestLaunchKeeperStopping(t *testing.T) {
	p := testPlan()
	e := running(newEngine(t), p)
	e.stopping = true
	e.afterInspect = func(e *engine) { e.exists, e.running, e.stopping = false, false, false } // the keeper finished
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 || e.ran != 1 {
		t.Fatalf("code %d err %v ran %d\n%s", r.code, r.err, e.ran, r.stderr)
	}
	if !strings.HasPrefix(e.callList(), "exec,inspect,") || !strings.HasSuffix(e.callList(), "run,exec") {
		t.Errorf("calls %s", e.callList())
	}
}

func TestLaunchOtherSpecIdleIsRecreated(t *testing.T) {
	p := testPlan()
	e := newEngine(t)
	e.exists, e.running, e.status, e.spec = true, true, "running", "otherspec"
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 || e.ran != 1 {
		t.Fatalf("code %d err %v ran %d", r.code, r.err, e.ran)
	}
	if e.callList() != "exec,inspect,top,rm,run,exec" {
		t.Errorf("calls %s", e.callList())
	}
	if e.spec != p.SpecHash {
		t.Errorf("not recreated with the plan's spec")
	}
}

func TestLaunchOtherSpecWithSessionsJoins(t *testing.T) {
	p := testPlan()
	e := newEngine(t)
	e.exists, e.running, e.status, e.spec, e.sessions = true, true, "running", "otherspec", 1
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 || e.ran != 1 {
		t.Fatalf("code %d err %v ran %d", r.code, r.err, e.ran)
	}
	if !strings.Contains(r.stderr, "running with other settings") || !strings.Contains(r.stderr, "ai-sandbox stop shell") {
		t.Errorf("no warning and hint: %q", r.stderr)
	}
	if args := guardArgs(e.lastExec); args[0] != "-" {
		t.Errorf("the joining session must accept any spec, got %q", args[0])
	}
}

// Ports are fixed when a container starts: a launch that asks for a port
// the running sandbox lacks joins it (its sessions live on) and says
// which port is missing and how to get it.
func TestLaunchMissingPortSaysSo(t *testing.T) {
	f := baseFacts()
	f.Ports = []int{3000, 4096}
	p := NewPlan(f)
	e := newEngine(t)
	e.exists, e.running, e.status, e.spec, e.sessions = true, true, "running", "otherspec", 1
	e.ports = `{"3000/tcp":[{"HostIp":"127.0.0.1","HostPort":"3000"}]}`
	r := launch(t, e, p, nil, true)
	if r.err != nil || e.ran != 1 || strings.Contains(e.callList(), "rm") {
		t.Fatalf("err %v ran %d calls %s", r.err, e.ran, e.callList())
	}
	if !strings.Contains(r.stderr, "runs without port 4096 and has sessions attached") || !strings.Contains(r.stderr, "ai-sandbox stop shell") {
		t.Errorf("no word of the missing port: %q", r.stderr)
	}
}

// A launch never joins a sandbox with more git access than it asked for.
func TestLaunchRefusesMoreGitAccess(t *testing.T) {
	f := baseFacts()
	f.GitMode = "fetch-only"
	p := NewPlan(f)
	e := newEngine(t)
	e.exists, e.running, e.status, e.spec, e.sessions, e.git = true, true, "running", "otherspec", 1, "full"
	r := launch(t, e, p, nil, true)
	if r.err == nil || !strings.Contains(r.err.Error(), "runs with git access full") || e.ran != 0 {
		t.Fatalf("err %v ran %d", r.err, e.ran)
	}
	// Less access than it runs with is fine to join.
	e = newEngine(t)
	e.exists, e.running, e.status, e.spec, e.sessions, e.git = true, true, "running", "otherspec", 1, "off"
	if r := launch(t, e, p, nil, true); r.err != nil || e.ran != 1 {
		t.Errorf("joining a sandbox with less git access: %v", r.err)
	}
}

func TestLaunchCreateConflict(t *testing.T) {
	p := testPlan()
	e := newEngine(t)
	e.runConflict = true
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 || e.ran != 1 {
		t.Fatalf("code %d err %v ran %d", r.code, r.err, e.ran)
	}
	if e.callList() != "exec,run,inspect,exec" {
		t.Errorf("calls %s", e.callList())
	}
}

// A command that exits 126 or 213 itself (after the token) is never retried.
func TestLaunchCommandCodesPassThrough(t *testing.T) {
	for _, code := range []int{1, 125, 126, 127, GuardExit, StoppingExit} {
		p := testPlan()
		e := running(newEngine(t), p)
		e.cmdCode = code
		r := launch(t, e, p, nil, true)
		if r.err != nil || r.code != code || e.ran != 1 || e.callList() != "exec" {
			t.Errorf("code %d: got %d err %v ran %d calls %s", code, r.code, r.err, e.ran, e.callList())
		}
	}
}

func TestLaunchNeverStarts(t *testing.T) {
	p := testPlan()
	e := running(newEngine(t), p)
	e.beforeExec = func(e *engine, n int) bool { return true } // every exec fails
	start := time.Now()
	r := launch(t, e, p, nil, true)
	if r.err == nil || e.ran != 0 {
		t.Fatalf("code %d err %v ran %d", r.code, r.err, e.ran)
	}
	if !strings.Contains(r.err.Error(), "did not start") || !strings.Contains(r.err.Error(), "cannot exec in a stopped container") {
		t.Errorf("error %q: it must say the session did not start and quote docker", r.err)
	}
	if strings.Contains(r.stdout+r.stderr, "OCI runtime") {
		t.Errorf("docker's message was shown as output: %q %q", r.stdout, r.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %s", d)
	}
}

func TestLaunchPipedInputHoldsFirst(t *testing.T) {
	p := testPlan()
	p.Exec.Interactive = true
	e := running(newEngine(t), p)
	r := launch(t, e, p, strings.NewReader("piped data\n"), false)
	if r.err != nil || r.code != 0 {
		t.Fatalf("code %d err %v", r.code, r.err)
	}
	if e.callList() != "hold,exec" {
		t.Errorf("calls %s, want hold,exec", e.callList())
	}
	if !strings.Contains(r.stdout, "piped data") {
		t.Errorf("stdin did not reach the command: %q", r.stdout)
	}
	if args := guardArgs(e.lastExec); args[4] != "1" {
		t.Errorf("the session must say it is held: %q", args)
	}
}

func TestLaunchPipedInputColdAndStopping(t *testing.T) {
	p := testPlan()
	e := newEngine(t)
	r := launch(t, e, p, strings.NewReader("x"), false)
	if r.err != nil || e.callList() != "hold,run,hold,exec" || e.ran != 1 {
		t.Fatalf("cold: err %v calls %s ran %d", r.err, e.callList(), e.ran)
	}
	e = running(newEngine(t), p)
	e.stopping = true
	e.afterInspect = func(e *engine) { e.exists, e.running, e.stopping = false, false, false }
	r = launch(t, e, p, strings.NewReader("x"), false)
	if r.err != nil || e.ran != 1 || !strings.HasPrefix(e.callList(), "hold,inspect,") || !strings.HasSuffix(e.callList(), "run,hold,exec") {
		t.Fatalf("stopping: err %v calls %s ran %d", r.err, e.callList(), e.ran)
	}
}

// If a held session still fails to start, the launch does not try again:
// the input may be gone.
func TestLaunchPipedInputNotRetried(t *testing.T) {
	p := testPlan()
	e := running(newEngine(t), p)
	e.beforeExec = func(e *engine, n int) bool { return true }
	r := launch(t, e, p, strings.NewReader("x"), false)
	if r.err == nil || e.execs != 1 || e.ran != 0 {
		t.Fatalf("err %v execs %d ran %d", r.err, e.execs, e.ran)
	}
	if hs := ui.HintsOf(r.err); len(hs) == 0 || !strings.Contains(hs[0], "run it again") {
		t.Errorf("hints %q", hs)
	}
}

func TestLaunchTerminalHoldsAndIsNotGated(t *testing.T) {
	f := baseFacts()
	f.TTY, f.Rows, f.Cols = true, 40, 120
	p := NewPlan(f)
	e := running(newEngine(t), p)
	r := launch(t, e, p, nil, true)
	if r.err != nil || e.callList() != "hold,exec" {
		t.Fatalf("err %v calls %s", r.err, e.callList())
	}
	args := guardArgs(e.lastExec)
	if args[2] != "40" || args[3] != "120" || args[4] != "1" || args[5] != "0" {
		t.Errorf("guard args %q: rows, cols, held, no token", args)
	}
}

func TestGate(t *testing.T) {
	tok := StartToken + "sid"
	cases := []struct {
		name     string
		onStdout bool
		writes   []struct {
			stream int
			data   string
		}
		started  bool
		out, err string
		held     string
	}{
		{name: "token then output", writes: w(1, tok+"\n", 0, "a\n", 1, "e\n"), started: true, out: "a\n", err: "e\n"},
		{name: "stdout before the token is held, then flushed", writes: w(0, "early\n", 1, tok+"\nlate\n"), started: true, out: "early\n", err: "late\n"},
		{name: "token split across writes", writes: w(1, "\x1eai-sand", 1, "box-session sid", 1, "\nrest"), started: true, err: "rest"},
		{name: "terminal: token on stdout with CRLF", onStdout: true, writes: w(0, tok+"\r\nscreen"), started: true, out: "screen"},
		{name: "docker's warning before the token passes", writes: w(1, "WARNING: x\n"+tok+"\nerr\n"), started: true, err: "WARNING: x\nerr\n"},
		{name: "no token: nothing shown", writes: w(0, "OCI runtime exec failed: boom\n", 1, "Error: No such container: x\n"), held: "Error: No such container: x"},
		{name: "another session's token is not ours", writes: w(1, StartToken+"other\n"), held: StartToken[1:] + "other"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			g := newGate(&out, &errb, "sid", c.onStdout)
			for _, wr := range c.writes {
				ws := g.Stdout()
				if wr.stream == 1 {
					ws = g.Stderr()
				}
				if _, err := ws.Write([]byte(wr.data)); err != nil {
					t.Fatal(err)
				}
			}
			if g.Started() != c.started || out.String() != c.out || errb.String() != c.err {
				t.Errorf("started %v stdout %q stderr %q; want %v %q %q", g.Started(), out.String(), errb.String(), c.started, c.out, c.err)
			}
			if !c.started && !strings.Contains(g.Held(), c.held) {
				t.Errorf("held %q, want %q", g.Held(), c.held)
			}
		})
	}
}

func w(args ...any) []struct {
	stream int
	data   string
} {
	var out []struct {
		stream int
		data   string
	}
	for i := 0; i < len(args); i += 2 {
		out = append(out, struct {
			stream int
			data   string
		}{args[i].(int), args[i+1].(string)})
	}
	return out
}

// A container of another spec that is stopping fails docker top: the
// launch looks again and starts a new one instead of failing.
func TestLaunchOtherSpecStoppingUnderTop(t *testing.T) {
	p := testPlan()
	e := running(newEngine(t), p)
	e.spec = "other"
	e.topFails = 2
	r := launch(t, e, p, nil, true)
	if r.err != nil || r.code != 0 || e.ran != 1 {
		t.Fatalf("launch: code %d, err %v, ran %d; calls %s", r.code, r.err, e.ran, e.callList())
	}
	if e.spec != p.SpecHash {
		t.Errorf("the container was not made again from the plan: spec %q", e.spec)
	}
	if !strings.Contains(e.callList(), "top,inspect,top,inspect,run") {
		t.Errorf("calls: %s", e.callList())
	}
}
