package run_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// TestPsAndStop: ps lists a running sandbox with its tool, project, path
// and attached sessions; stop in the project ends it (and its session);
// stop with nothing left to stop says so.
func TestPsAndStop(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	args := []string{"run", "--image", e.S.Image, "--idle-timeout", "5m", "sh", "-c", "echo ready; sleep 60"}
	s := startSession(t, e, "long", args...)
	s.expect("ready", time.Minute)

	r := e.Run("ps", "--json")
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	var list []struct {
		Name, Tool, Project, Path string
		Sessions                  int
		UptimeSeconds             int64
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("ps --json: %v\n%s", err, r.Stdout)
	}
	var mine []int
	for i, c := range list {
		if c.Path == e.Project {
			mine = append(mine, i)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("ps --json lists %d sandboxes for %s, want 1:\n%s", len(mine), e.Project, r.Stdout)
	}
	c := list[mine[0]]
	if c.Tool != "shell" || c.Name != "ai-shell-"+e.Key() || !strings.HasPrefix(c.Project, "project-") || c.Sessions != 1 || c.UptimeSeconds < 0 {
		t.Errorf("ps --json entry %+v", c)
	}
	if r := e.Run("ps"); r.Code != 0 || !strings.Contains(r.Stdout, e.Project) || !strings.Contains(r.Stdout, "SESSIONS") {
		t.Errorf("ps:\n%s", r)
	}

	if r := e.Run("stop"); r.Code != 0 || !strings.Contains(r.Stderr, "stopped "+c.Name) {
		t.Fatalf("stop:\n%s", r)
	}
	if code := s.wait(30 * time.Second); code == 0 {
		t.Errorf("the session survived stop (exit %d)", code)
	}
	if !harness.WaitFor(20*time.Second, func() bool { return len(e.Containers()) == 0 }) {
		t.Errorf("containers left after stop: %v", e.Containers())
	}
	if r := e.Run("stop"); r.Code != 0 || !strings.Contains(r.Stderr, "no sandbox to stop") {
		t.Errorf("stop with nothing running:\n%s", r)
	}
}
