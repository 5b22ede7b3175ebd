package run_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	hostPort := strconv.Itoa(hostService(t))

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
		{
			// The engine's default bridge (what --egress open gives): the
			// host's service answers at the bridge's gateway, and public
			// names resolve.
			name: "default-bridge",
			docker: []string{"--user", user, "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
				"--read-only", "--tmpfs", "/tmp", "--pids-limit", "200"},
			probe: []string{"-reach", "172.17.0.1:" + hostPort, "-dns-name", "deb.debian.org"},
			holes: []string{"network-reach", "network-dns"},
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

	// The plants, with the project mounted as a plain folder (no .git
	// mounted onto itself, no read-only hooks, config or commondir) and a
	// writable home: each plant must take effect, and where it plants a
	// command, the user's git on the host must then run it.
	weak := []string{"--user", user, "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--read-only", "--tmpfs", "/tmp", "--pids-limit", "200", "--env", "HOME=/home/agent"}
	for _, check := range []string{"plant-hooks-symlink", "plant-config-symlink", "plant-git-symlink", "plant-renamed-git",
		"plant-git-file", "plant-commondir", "plant-home-links", "plant-nested-repo", "plant-index-gitlink"} {
		t.Run("unprotected-project/"+check, func(t *testing.T) {
			proj := filepath.Join(e.Workspace, "weak-"+check)
			e.GitInit(proj)
			home := e.HostSh(e.Dir, "mktemp -d \"$HOME/weak-home.XXXXXX\"")
			home = strings.TrimSpace(home)
			docker := append(append([]string{}, weak...), same(proj), "--mount=type=bind,source="+home+",target=/home/agent")
			r := runProbe(t, e, docker, append(e.ProbeFlags(), "-project", proj), check)[check]
			if r.Skipped || r.TimedOut || !r.Succeeded {
				t.Fatalf("%s: the probe did NOT see the hole: %s", check, r.Detail)
			}
			t.Logf("%s: hole seen: %q", check, r.Evidence)
			// What the host does with the plant.
			switch check {
			case "plant-hooks-symlink", "plant-config-symlink":
				link := filepath.Join(proj, ".git", strings.TrimSuffix(strings.TrimPrefix(check, "plant-"), "-symlink"))
				if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("%s is not a symbolic link on the host: %v", link, err)
				}
			case "plant-home-links":
				for _, rel := range []string{".claude/skills", ".claude/.credentials.json"} {
					if fi, err := os.Lstat(filepath.Join(home, rel)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
						t.Errorf("%s is not a symbolic link on the host: %v", rel, err)
					}
				}
			default:
				dir := proj
				if check == "plant-nested-repo" {
					dir = filepath.Join(proj, "nested-repo") // the user's git, once in it
				}
				_, _ = e.HostRun(dir, "git", "status")
				_, _ = e.HostRun(dir, "git", "commit", "--allow-empty", "-q", "-m", "x")
				if ran := harness.Planted(proj); ran == "" {
					t.Errorf("%s: the user's git in %s did not run the planted command", check, dir)
				} else {
					t.Logf("the user's git ran: %q", ran)
				}
			}
		})
	}

	// ptrace of another session's process in the same container: with no
	// seccomp profile, and with the engine's default one (which allows
	// ptrace on recent kernels), it works.
	for _, c := range []struct {
		name   string
		docker []string
	}{
		{"ptrace-sibling-seccomp-unconfined", []string{"--security-opt", "seccomp=unconfined"}},
		{"ptrace-sibling-engine-default", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "ai-sandbox-e2e-holes-" + harness.Random()
			t.Cleanup(func() { _ = exec.Command(s.Docker, "rm", "--force", name).Run() })
			args := append([]string{"run", "--detach", "--init", "--name", name, "--pull", "never", probe,
				"--user", user, "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only"}, c.docker...)
			s.DockerOut(t, append(args, s.Image, "/opt/probe/probe", "__sleep", "300")...)
			out, err := s.DockerTry("exec", name, "/opt/probe/probe", "ptrace-sibling")
			if err != nil {
				t.Fatalf("docker exec the probe: %v\n%s", err, out)
			}
			res, err := harness.ParseProbe(out)
			if err != nil {
				t.Fatalf("probe output: %v\n%s", err, out)
			}
			if r := res["ptrace-sibling"]; !r.Succeeded {
				t.Errorf("ptrace-sibling: the probe did NOT see the hole: %s", r.Detail)
			} else {
				t.Logf("ptrace-sibling: hole seen: %q", r.Evidence)
			}
		})
	}
}

// runProbe runs the probe's checks with plain `docker run` and the given
// docker and probe flags, and returns its report.
func runProbe(t *testing.T, e *harness.Env, docker, flags []string, checks ...string) map[string]harness.ProbeResult {
	t.Helper()
	s := e.S
	name := "ai-sandbox-e2e-holes-" + harness.Random()
	args := []string{"run", "--rm", "--name", name, "--pull", "never",
		"--mount=type=bind,source=" + s.ProbeDir + ",target=/opt/probe,readonly"}
	args = append(args, docker...)
	args = append(args, s.Image, "/opt/probe/probe")
	args = append(append(args, flags...), checks...)
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
	return res
}
