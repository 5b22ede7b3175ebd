package run_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// TestProbeDetectsHoles runs the probe with plain `docker run` in
// containers that are deliberately weak, and expects each check to see
// the hole: a check that cannot fail proves nothing.
func TestProbeDetectsHoles(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	e.StartHostMarker()
	s := e.S
	user := strconv.Itoa(s.UID) + ":" + strconv.Itoa(s.GID)
	probe := "--mount=type=bind,source=" + s.ProbeDir + ",target=/opt/probe,readonly"
	same := func(path string) string { return "--mount=type=bind,source=" + path + ",target=" + path }

	cases := []struct {
		name   string
		docker []string // docker run flags
		probe  []string // more probe flags
		holes  []string // checks that must succeed
	}{
		{
			// Root with capabilities, no seccomp, the host's pid namespace,
			// the docker socket, the home and the other workspace mounted,
			// the undeclared key in the environment, a writable root, no
			// pids limit: every check must see its hole.
			name: "root-and-everything",
			docker: []string{
				"--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE", "--cap-add", "NET_RAW", "--cap-add", "MKNOD",
				"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
				"--pid", "host", "--memory", "1g",
				"--mount=type=bind,source=" + s.Socket + ",target=/var/run/docker.sock",
				same(e.Home), same(e.Other), same(e.Project),
				"--env", harness.UndeclaredKey + "=" + e.UndeclaredValue,
			},
			probe: []string{"-fork-max", "300"},
			holes: []string{"read-host-secret", "other-workspace-read", "other-workspace-write", "write-outside",
				"git-metadata-write", "capabilities", "become-root", "host-processes", "docker-socket", "mount",
				"ptrace", "env-leak", "fork-bomb"},
		},
		{
			// The sandbox's flags but no-new-privileges: setuid binaries
			// give euid 0.
			name:   "setuid-without-no-new-privileges",
			docker: []string{"--user", user, "--cap-drop", "ALL", "--read-only", "--tmpfs", "/tmp", "--pids-limit", "200"},
			holes:  []string{"become-root"},
		},
		{
			// An unprivileged user in the host's pid namespace sees the
			// host's processes and may ptrace the user's own.
			name: "user-in-host-pid-namespace",
			docker: []string{"--user", user, "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
				"--read-only", "--tmpfs", "/tmp", "--pids-limit", "200", "--pid", "host"},
			holes: []string{"host-processes", "ptrace"},
		},
		{
			// Writable host paths beyond the project: the other workspace
			// read-write and the home read-only.
			name: "extra-mounts",
			docker: []string{"--user", user, "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
				"--read-only", "--tmpfs", "/tmp", "--pids-limit", "200",
				same(e.Other), same(e.Home) + ",readonly"},
			holes: []string{"read-host-secret", "other-workspace-read", "other-workspace-write"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := "ai-sandbox-e2e-holes-" + harness.Random()
			args := []string{"run", "--rm", "--name", name, "--pull", "never", probe}
			args = append(args, c.docker...)
			args = append(args, s.Image, "/opt/probe/probe")
			args = append(args, e.ProbeFlags()...)
			args = append(args, c.probe...)
			args = append(args, c.holes...)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			t.Cleanup(func() { _ = exec.Command(s.Docker, "rm", "--force", name).Run() })
			cmd := exec.CommandContext(ctx, s.Docker, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("docker %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr.String())
			}
			res, err := harness.ParseProbe(string(out))
			if err != nil {
				t.Fatalf("probe output: %v\n%s", err, out)
			}
			for _, h := range c.holes {
				r, ok := res[h]
				switch {
				case !ok:
					t.Errorf("%s: not reported", h)
				case r.Skipped || r.TimedOut:
					t.Errorf("%s: did not run: %s", h, r.Detail)
				case !r.Succeeded:
					t.Errorf("%s: the probe did NOT see the hole: %s", h, r.Detail)
				default:
					t.Logf("%s: hole seen: %q", h, r.Evidence)
				}
			}
		})
	}
}
