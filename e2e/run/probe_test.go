package run_test

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// Each attack runs in the claude sandbox (the probe mounted as the
// claude binary), which is the one holding an agent's keys.

func TestProbeReadHostSecret(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "read-host-secret")
	harness.RequireBlocked(t, res, "read-host-secret")
}

func TestProbeOtherWorkspace(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "other-workspace-read", "other-workspace-write")
	harness.RequireBlocked(t, res, "other-workspace-read")
	harness.RequireBlocked(t, res, "other-workspace-write")
}

func TestProbeWriteOutside(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "write-outside", "git-metadata-write")
	r := harness.RequireBlocked(t, res, "write-outside")
	// The places an agent needs must stay writable: the project and its
	// home, and the scratch space.
	for _, dir := range []string{e.Project, "/home/agent", "/tmp"} {
		if !r.HasFact("writable", dir) {
			t.Errorf("%s is not writable in the sandbox (writable: %q)", dir, r.Facts)
		}
	}
	harness.RequireBlocked(t, res, "git-metadata-write")
}

func TestProbeCapabilities(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "capabilities")
	harness.RequireBlocked(t, res, "capabilities")
}

func TestProbeBecomeRoot(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "become-root")
	r := harness.RequireBlocked(t, res, "become-root")
	// The test image has setuid binaries (su, mount, passwd, …): the
	// check is only worth something if it tried them.
	if !strings.Contains(r.Detail, "/usr/bin/su ran with") {
		t.Errorf("become-root did not try su: %s", r.Detail)
	}
}

func TestProbeHostProcesses(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	e.StartHostMarker()
	res := e.Probe("claude", nil, "host-processes")
	harness.RequireBlocked(t, res, "host-processes")
}

func TestProbeDockerSocket(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "docker-socket")
	harness.RequireBlocked(t, res, "docker-socket")
}

func TestProbeMount(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", nil, "mount")
	harness.RequireBlocked(t, res, "mount")
}

func TestProbePtrace(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	e.StartHostMarker()
	res := e.Probe("claude", nil, "ptrace")
	harness.RequireBlocked(t, res, "ptrace")
}

func TestProbeForkBomb(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	res := e.Probe("claude", []string{"--pids-limit", "200"}, "fork-bomb")
	r := harness.RequireBlocked(t, res, "fork-bomb")
	count, _ := r.Fact("count")
	n, err := strconv.Atoi(count)
	if err != nil {
		t.Fatalf("fork-bomb reported no count: %q", r.Facts)
	}
	// The loop must really have run into the limit, not stopped early
	// for another reason.
	if n < 100 || n >= 200 {
		t.Errorf("fork-bomb started %d children; want between 100 and 199 under --pids-limit 200 (%s)", n, r.Detail)
	}
	if left, _ := r.Fact("left"); left != "0" {
		t.Errorf("%s children were left after the fork bomb", left)
	}
	// The host is unharmed: this process can still fork, and the engine answers.
	if out, err := exec.Command("sh", "-c", "echo alive").Output(); err != nil || strings.TrimSpace(string(out)) != "alive" {
		t.Errorf("the host cannot fork after the fork bomb: %v", err)
	}
	e.S.DockerOut(t, "version", "--format", "{{.Server.Version}}")
}

func TestProbeEnvLeak(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)

	// The claude sandbox: its declared key is there, the undeclared one is not.
	res := e.Probe("claude", nil, "env-leak")
	r := harness.RequireBlocked(t, res, "env-leak")
	if !r.HasFact("env", harness.DeclaredKey) {
		t.Errorf("claude's declared %s is missing from its sandbox (names: %q)", harness.DeclaredKey, r.Facts)
	}
	if r.HasFact("env", harness.UndeclaredKey) {
		t.Errorf("%s reached claude's sandbox", harness.UndeclaredKey)
	}

	// The shell sandbox (an unknown command) gets no agent's keys at all.
	res = e.Probe("probe", nil, "env-leak")
	r = harness.RequireBlocked(t, res, "env-leak")
	for _, k := range []string{harness.DeclaredKey, harness.UndeclaredKey} {
		if r.HasFact("env", k) {
			t.Errorf("%s reached the shell sandbox (names: %q)", k, r.Facts)
		}
	}
	// Nothing printed a value.
	for _, c := range res {
		for _, v := range []string{e.DeclaredValue, e.UndeclaredValue} {
			if strings.Contains(c.Detail, v) {
				t.Errorf("a secret value is in the probe's report")
			}
		}
	}
}

// TestProbeAllInShellSandbox runs every attack at once in the shell
// sandbox (a command that is not an agent), with a low pids limit.
func TestProbeAllInShellSandbox(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	e.StartHostMarker()
	res := e.Probe("probe", []string{"--pids-limit", "200"}, "all")
	if len(res) < 13 {
		t.Errorf("the probe reported %d checks, want all 13", len(res))
	}
	for name := range res {
		harness.RequireBlocked(t, res, name)
	}
}
