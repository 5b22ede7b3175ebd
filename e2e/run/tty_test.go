package run_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
	"github.com/ai-sandbox/ai-sandbox/internal/ptyterm"
)

// ttySession is ai-sandbox started on a pseudo-terminal, as a user's
// terminal would start it.
type ttySession struct {
	t *testing.T
	*ptyterm.Term
}

func startTTY(t *testing.T, e *harness.Env, rows, cols uint16, args ...string) *ttySession {
	t.Helper()
	return startTTYIn(t, e, e.Project, nil, rows, cols, args...)
}

func startTTYIn(t *testing.T, e *harness.Env, dir string, env []string, rows, cols uint16, args ...string) *ttySession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := e.Command(ctx, dir, args...)
	cmd.Env = append(append(cmd.Env, "TERM=xterm"), env...)
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	term, err := ptyterm.Start(cmd, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	return &ttySession{t: t, Term: term}
}

func (s *ttySession) expect(want string, timeout time.Duration) {
	s.t.Helper()
	if err := s.Expect(regexp.QuoteMeta(want), timeout); err != nil {
		s.t.Fatal(err)
	}
}

func (s *ttySession) send(text string) {
	s.t.Helper()
	if err := s.Send(text); err != nil {
		s.t.Fatal(err)
	}
}

func (s *ttySession) wait() int {
	s.t.Helper()
	code, err := s.Wait()
	if err != nil {
		s.t.Fatal(err)
	}
	return code
}

// TestTTYIsATerminal: on a terminal the session gets one (-t), with the
// host's TERM.
func TestTTYIsATerminal(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	s := startTTY(t, e, 24, 80, sandboxRun(e, "sh", "-c", `test -t 0 && test -t 1 && echo "tty-yes $TERM"`)...)
	s.expect("tty-yes xterm", time.Minute)
	if code := s.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestTTYCtrlC: Ctrl-C typed on the terminal reaches the agent as SIGINT.
func TestTTYCtrlC(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	s := startTTY(t, e, 24, 80, sandboxRun(e, "sh", "-c", `trap 'echo got-INT; exit 7' INT; echo ready; while :; do sleep 0.2; done`)...)
	s.expect("ready", time.Minute)
	s.send("\x03")
	s.expect("got-INT", 30*time.Second)
	if code := s.wait(); code != 7 {
		t.Errorf("exit %d after Ctrl-C, want the command's 7", code)
	}
}

// TestTTYSizeFollows: the session starts with the terminal's size and
// follows when the terminal is resized.
func TestTTYSizeFollows(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	s := startTTY(t, e, 30, 100, sandboxRun(e, "sh", "-c", `stty size; echo ready; while read x; do [ "$x" = q ] && break; stty size; done; echo done`)...)
	s.expect("30 100", time.Minute)
	s.expect("ready", 10*time.Second)
	if err := s.Resize(41, 123); err != nil {
		t.Fatal(err)
	}
	// docker learns the new size from SIGWINCH and passes it on through
	// the engine, which takes a moment on a busy machine: ask again until
	// the session sees it (half a minute at most).
	seen := false
	for deadline := time.Now().Add(30 * time.Second); !seen && time.Now().Before(deadline); {
		s.send("\r")
		seen = s.Expect(regexp.QuoteMeta("41 123"), 2*time.Second) == nil
	}
	if !seen {
		t.Fatalf("the session never saw the new size 41 123; the terminal shows:\n%s", s.Output())
	}
	s.send("q\r")
	s.expect("done", 10*time.Second)
	if code := s.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestQuickStart follows the README's quick start as written (the image
// comes from AI_SANDBOX_IMAGE; building it is e2e/image's job): whitelist
// a project, cd into it, 'ai-sandbox run' gives a shell in the sandbox,
// and 'echo hi | ai-sandbox run cat' prints hi.
func TestQuickStart(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	app := filepath.Join(e.Home, "projects", "my-app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(e.Home, "projects"), app} {
		if err := os.Chown(d, int(e.S.Credential.Uid), int(e.S.Credential.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	image := []string{"AI_SANDBOX_IMAGE=" + e.S.Image, "AI_SANDBOX_IDLE_TIMEOUT=0"}
	if r := e.RunIn(e.Home, harness.RunOpts{Env: image}, "workspace", "add", "projects/my-app"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	s := startTTYIn(t, e, app, image, 24, 80, "run")
	s.send("echo \"in:$(id -un):$(pwd):$HOME\"; exit\r")
	s.expect("in:agent:"+app+":/home/agent", time.Minute)
	if code := s.wait(); code != 0 {
		t.Errorf("the shell exited %d", code)
	}
	r := e.RunIn(app, harness.RunOpts{Env: image, Stdin: strings.NewReader("hi\n")}, "run", "cat")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Errorf("echo hi | ai-sandbox run cat:\n%s", r)
	}
}
