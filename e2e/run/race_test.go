package run_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// TestBackToBackLaunchesUnderLoad: every launch arrives while the previous
// one's keeper (--idle-timeout 0) is stopping the container, with the
// engine and the CPU busy (two loops of docker run --rm and a CPU hog).
// No launch may be lost: each command runs exactly once, its output and
// exit code come back unchanged, and docker's internal errors never
// reach the user. Stdin alternates between /dev/null (the session is
// tried first) and a pipe (the container is held first).
func TestBackToBackLaunchesUnderLoad(t *testing.T) {
	e := harness.NewEnv(t)
	stop := startLoad(t, e)
	defer stop()

	const launches = 24
	for i := 0; i < launches; i++ {
		want := i % 7
		script := fmt.Sprintf("echo out-%d >> ran.log; echo out-%d; exit %d", i, i, want)
		o := harness.RunOpts{}
		if i%2 == 1 {
			o.Stdin = strings.NewReader("")
		}
		r := e.RunWith(o, "run", "--image", e.S.Image, "--idle-timeout", "0", "sh", "-c", script)
		if r.Code != want || r.Stdout != fmt.Sprintf("out-%d\n", i) {
			t.Errorf("launch %d: exit %d (want %d), stdout %q\n%s", i, r.Code, want, r.Stdout, r)
		}
		for _, bad := range []string{"OCI runtime", "Error response from daemon", "No such container", "ai-sandbox-session"} {
			if strings.Contains(r.Stdout+r.Stderr, bad) {
				t.Errorf("launch %d: %q reached the user:\n%s", i, bad, r)
			}
		}
	}
	// Each command ran exactly once.
	data := e.ReadProjectFile("ran.log")
	lines := strings.Split(strings.TrimSpace(data), "\n")
	if len(lines) != launches {
		t.Errorf("%d commands ran for %d launches:\n%s", len(lines), launches, data)
	}
	for i, l := range lines {
		if l != fmt.Sprintf("out-%d", i) {
			t.Errorf("ran.log line %d is %q", i, l)
			break
		}
	}
}

// startLoad keeps the engine and the CPU busy until the returned stop is
// called: two loops of `docker run --rm IMAGE true` and one CPU hog.
func startLoad(t *testing.T, e *harness.Env) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, cancelRun := context.WithTimeout(ctx, time.Minute)
				_ = exec.CommandContext(c, e.S.Docker, "run", "--rm", "--pull", "never", e.S.Image, "true").Run()
				cancelRun()
			}
		}()
	}
	hog := exec.CommandContext(ctx, "sh", "-c", "while :; do :; done")
	if err := hog.Start(); err != nil {
		t.Fatalf("start the CPU hog: %v", err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = hog.Wait() }()
	return func() {
		cancel()
		wg.Wait()
	}
}
