package run_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// doctorCard is 'ai-sandbox doctor --attack --json'.
type doctorCard struct {
	OK       bool   `json:"ok"`
	Holes    int    `json:"holes"`
	Project  string `json:"project"`
	Sandbox  string `json:"sandbox"`
	Scratch  string `json:"scratch"`
	Attempts []struct {
		Phase    string   `json:"phase"`
		Name     string   `json:"name"`
		Outcome  string   `json:"outcome"`
		Evidence []string `json:"evidence"`
		Detail   string   `json:"detail"`
	} `json:"attempts"`
}

func runDoctorAttack(t *testing.T, e *harness.Env, flags ...string) (harness.Result, doctorCard) {
	t.Helper()
	r := e.RunWith(harness.RunOpts{Timeout: 8 * time.Minute, Env: []string{"AI_SANDBOX_IMAGE=" + e.S.Image}},
		append([]string{"doctor", "--attack", "--json"}, flags...)...)
	var card doctorCard
	if err := json.Unmarshal([]byte(r.Stdout), &card); err != nil {
		t.Fatalf("doctor --attack --json: %v\n%s", err, r)
	}
	t.Logf("doctor --attack %v:\n%s", flags, r.Stderr)
	return r, card
}

// TestDoctorAttackAllBlocked: on a default sandbox every attack of the
// scorecard is blocked (the probe's, in a fresh sandbox of the project,
// with ai-sandbox's own executable as the probe; and the two-phase ones,
// in a scratch repository), the exit code is 0, and nothing is left
// behind: no container, no scratch folder, no doctor home, the project
// as it was.
func TestDoctorAttackAllBlocked(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	if r := e.Run(sandboxRun(e, "true")...); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	e.StopIn(e.Project)
	before := harness.Tree(e.Project)
	outside := outsideState(e)

	r, card := runDoctorAttack(t, e)
	if r.Code != 0 || !card.OK || card.Holes != 0 {
		t.Errorf("want exit 0 and no hole\n%s", r)
	}
	want := map[string]bool{"read-host-secret": true, "other-workspace-read": true, "other-workspace-write": true,
		"write-outside": true, "git-metadata-write": true, "capabilities": true, "become-root": true, "host-processes": true,
		"docker-socket": true, "mount": true, "ptrace": true, "env-leak": true, "fork-bomb": true,
		"plant-hooks-symlink": true, "plant-config-symlink": true, "plant-git-symlink": true, "plant-renamed-git": true,
		"plant-git-file": true, "plant-commondir": true, "exit-report": true, "relaunch": true, "host-git": true, "plant-home-links": true}
	for _, a := range card.Attempts {
		if a.Outcome != "blocked" {
			t.Errorf("%s (%s): %s %q %s", a.Name, a.Phase, a.Outcome, a.Evidence, a.Detail)
		}
		delete(want, a.Name)
	}
	for name := range want {
		t.Errorf("the scorecard lacks %s", name)
	}
	if card.Project != e.Project || !strings.HasPrefix(card.Sandbox, "ai-doctor-") {
		t.Errorf("project %q, sandbox %q", card.Project, card.Sandbox)
	}
	if ids := e.ContainersOf(e.Project, ""); len(ids) != 0 {
		t.Errorf("containers left behind: %v", ids)
	}
	if _, err := os.Stat(card.Scratch); !os.IsNotExist(err) {
		t.Errorf("the scratch repository %s is still there: %v", card.Scratch, err)
	}
	if _, err := os.Stat(e.ToolHome("doctor")); !os.IsNotExist(err) {
		t.Errorf("the doctor's home %s is still there: %v", e.ToolHome("doctor"), err)
	}
	if after := harness.Tree(e.Project); after != before {
		t.Errorf("the project changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	requireOutsideUnchanged(t, e, outside)
}

// TestDoctorAttackSeesAWeakenedSandbox: the same scorecard on a sandbox
// weakened on purpose — the other workspace mounted read-write, and an
// undeclared key passed — reports those holes and exits 1: the checks
// can fail.
func TestDoctorAttackSeesAWeakenedSandbox(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	r, card := runDoctorAttack(t, e, "--mount", e.Other+":rw", "--env", harness.UndeclaredKey)
	if r.Code != 1 || card.OK || card.Holes < 3 {
		t.Errorf("want exit 1 and at least 3 holes\n%s", r)
	}
	holes := map[string]bool{}
	for _, a := range card.Attempts {
		if a.Outcome == "hole" {
			holes[a.Name] = true
		}
	}
	for _, name := range []string{"other-workspace-read", "other-workspace-write", "env-leak"} {
		if !holes[name] {
			t.Errorf("%s was not reported as a hole (holes: %v)", name, holes)
		}
	}
	if !strings.Contains(r.Stderr, "ai-sandbox: error: ") || !strings.Contains(r.Stderr, "attacks succeeded") {
		t.Errorf("no error naming the holes\n%s", r.Stderr)
	}
	// The value never reached the report.
	if strings.Contains(r.Stdout+r.Stderr, e.UndeclaredValue) {
		t.Errorf("the undeclared key's value is in doctor's output")
	}
}
