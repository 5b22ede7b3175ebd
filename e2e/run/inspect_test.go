package run_test

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// inspected is the part of `docker inspect` the tests read.
type inspected struct {
	Config struct {
		User        string
		Env         []string
		Labels      map[string]string
		Cmd         []string
		Healthcheck *struct{ Test []string }
	}
	HostConfig struct {
		CapAdd          []string
		CapDrop         []string
		ReadonlyRootfs  bool
		SecurityOpt     []string
		PidsLimit       *int64
		Memory          int64
		CpuShares       int64
		Init            *bool
		Tmpfs           map[string]string
		Privileged      bool
		NetworkMode     string
		PidMode         string
		IpcMode         string
		UTSMode         string
		UsernsMode      string
		PortBindings    map[string]any
		Devices         []any
		PublishAllPorts bool
	}
	Mounts []struct {
		Type        string
		Source      string
		Destination string
		RW          bool
	}
	NetworkSettings struct {
		Ports map[string][]any
	}
}

func inspect(t *testing.T, e *harness.Env, id string) (inspected, string) {
	t.Helper()
	raw := e.S.DockerOut(t, "container", "inspect", id)
	var list []inspected
	if err := json.Unmarshal([]byte(raw), &list); err != nil || len(list) != 1 {
		t.Fatalf("docker inspect %s: %v\n%s", id, err, raw)
	}
	return list[0], raw
}

// TestInspectHardening checks every flag of DESIGN.md §3 on running
// sandboxes: the shell sandbox and an agent's.
func TestInspectHardening(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	for _, tool := range []string{"shell", "claude"} {
		t.Run(tool, func(t *testing.T) {
			// A grace period keeps the container up after the session.
			args := []string{"run", "--image", e.S.Image, "--idle-timeout", "2m",
				"--mount", e.S.ProbeDir + ":/usr/local/bin:ro"}
			if tool == "claude" {
				args = append(args, "claude", "__sleep", "0")
			} else {
				args = append(args, "true")
			}
			if r := e.Run(args...); r.Code != 0 {
				t.Fatalf("run: %s", r)
			}
			c, raw := inspect(t, e, e.Container(tool))
			hc := c.HostConfig

			if !contains(hc.CapDrop, "ALL") {
				t.Errorf("CapDrop = %q, want ALL", hc.CapDrop)
			}
			if len(hc.CapAdd) != 0 {
				t.Errorf("CapAdd = %q, want none", hc.CapAdd)
			}
			if !hc.ReadonlyRootfs {
				t.Error("ReadonlyRootfs is false")
			}
			nnp := false
			for _, o := range hc.SecurityOpt {
				if o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true" {
					nnp = true
				}
				if strings.Contains(o, "unconfined") {
					t.Errorf("SecurityOpt has %q", o)
				}
			}
			if !nnp {
				t.Errorf("SecurityOpt = %q, want no-new-privileges", hc.SecurityOpt)
			}
			// ai-sandbox's seccomp profile: docker's default without ptrace
			// and process_vm_*.
			profile := ""
			for _, o := range hc.SecurityOpt {
				if v, ok := strings.CutPrefix(o, "seccomp="); ok {
					profile = v
				}
			}
			if profile == "" {
				t.Errorf("SecurityOpt = %q: no seccomp profile", hc.SecurityOpt)
			} else {
				for _, denied := range []string{`"ptrace"`, `"process_vm_readv"`, `"process_vm_writev"`} {
					if strings.Contains(profile, denied) {
						t.Errorf("the seccomp profile allows %s", denied)
					}
				}
				if !strings.Contains(profile, `"defaultAction"`) || !strings.Contains(profile, `"openat"`) {
					t.Errorf("the seccomp option is not a profile: %.200s", profile)
				}
			}
			// Docker Bench for Security 5.11/5.12 (CPU priority) and 5.26/5.27
			// (a health check).
			if hc.CpuShares == 0 || hc.CpuShares >= 1024 {
				t.Errorf("CpuShares = %d, want below docker's 1024", hc.CpuShares)
			}
			if c.Config.Healthcheck == nil || len(c.Config.Healthcheck.Test) == 0 {
				t.Error("no health check")
			}
			wantUser := strconv.Itoa(e.S.UID) + ":" + strconv.Itoa(e.S.GID)
			if c.Config.User != wantUser {
				t.Errorf("Config.User = %q, want %q", c.Config.User, wantUser)
			}
			if hc.PidsLimit == nil || *hc.PidsLimit != 1024 {
				t.Errorf("PidsLimit = %v, want the default 1024", deref(hc.PidsLimit))
			}
			if hc.Memory != 8<<30 {
				t.Errorf("Memory = %d, want the default 8g", hc.Memory)
			}
			if hc.Init == nil || !*hc.Init {
				t.Error("Init is not true")
			}
			for _, dir := range []string{"/tmp", "/var/tmp", "/run"} {
				opts, ok := hc.Tmpfs[dir]
				if !ok {
					t.Errorf("no tmpfs at %s (Tmpfs = %v)", dir, hc.Tmpfs)
				}
				if !strings.Contains(opts, "size=") {
					t.Errorf("the tmpfs at %s has no size: %s", dir, opts)
				}
			}
			if hc.Privileged {
				t.Error("Privileged")
			}
			for what, mode := range map[string]string{"NetworkMode": hc.NetworkMode, "PidMode": hc.PidMode,
				"IpcMode": hc.IpcMode, "UTSMode": hc.UTSMode, "UsernsMode": hc.UsernsMode} {
				if mode == "host" {
					t.Errorf("%s is host", what)
				}
			}
			if len(hc.Devices) != 0 {
				t.Errorf("Devices = %v", hc.Devices)
			}
			if len(hc.PortBindings) != 0 || hc.PublishAllPorts {
				t.Errorf("ports are published: %v", hc.PortBindings)
			}
			for port, b := range c.NetworkSettings.Ports {
				if len(b) != 0 {
					t.Errorf("port %s is published: %v", port, b)
				}
			}

			// Mounts: the project read-write at its own path, its .git onto
			// itself (so it cannot be moved) with hooks, config and commondir
			// read-only; from the home only this tool's home for this project
			// (and read-only generated files of the state folder); no docker
			// socket.
			toolHome := e.ToolHome(tool)
			git := filepath.Join(e.Project, ".git")
			var project, home bool
			for _, m := range c.Mounts {
				if strings.Contains(m.Source+m.Destination, "docker.sock") {
					t.Errorf("the docker socket is mounted: %+v", m)
				}
				switch {
				case m.Source == e.Project:
					project = true
					if m.Destination != e.Project || !m.RW {
						t.Errorf("the project is mounted as %+v, want read-write at %s", m, e.Project)
					}
				case m.Source == toolHome:
					home = true
					if m.Destination != "/home/agent" || !m.RW {
						t.Errorf("the sandbox home is mounted as %+v, want read-write at /home/agent", m)
					}
				case m.Source == git:
					if m.Destination != git || !m.RW {
						t.Errorf(".git is mounted as %+v, want read-write onto itself", m)
					}
				case m.Source == filepath.Join(git, "hooks") || m.Source == filepath.Join(git, "config") || m.Source == filepath.Join(git, "commondir"):
					if m.RW || m.Destination != m.Source {
						t.Errorf("%s is mounted as %+v, want read-only onto itself", m.Source, m)
					}
				case m.Source == e.S.ProbeDir:
					// the test's own --mount
				case within(m.Source, e.State):
					if m.RW {
						t.Errorf("%s from the state folder is mounted read-write", m.Source)
					}
					if m.Source == filepath.Join(e.State, "env") || within(m.Source, filepath.Join(e.State, "tools")) {
						t.Errorf("%s must not be mounted", m.Source)
					}
				case m.Source == e.Home || within(m.Source, e.Home) || within(e.Home, m.Source):
					t.Errorf("a part of the home is mounted: %+v", m)
				case m.Source == e.Other || within(m.Source, e.Workspace) && m.Source != e.Project:
					t.Errorf("something else of the workspaces is mounted: %+v", m)
				default:
					if m.RW {
						t.Errorf("an unexpected writable mount: %+v", m)
					}
				}
			}
			if !project {
				t.Errorf("the project %s is not mounted", e.Project)
			}
			if !home {
				t.Errorf("the sandbox home %s is not mounted", toolHome)
			}

			// Labels.
			want := map[string]string{"ai-sandbox.tool": tool, "ai-sandbox.workspace": e.Workspace, "ai-sandbox.path": e.Project,
				"ai-sandbox.owner": strconv.Itoa(e.S.UID)}
			for k, v := range want {
				if got := c.Config.Labels[k]; got != v {
					t.Errorf("label %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range []string{"ai-sandbox.project", "ai-sandbox.spec-hash"} {
				if c.Config.Labels[k] == "" {
					t.Errorf("label %s is missing", k)
				}
			}
			// No secret in the container's configuration.
			for _, v := range []string{e.DeclaredValue, e.UndeclaredValue} {
				if strings.Contains(raw, v) {
					t.Errorf("docker inspect shows a secret value")
				}
			}

			// The user has a name and the agent home, whatever its uid.
			if tool == "shell" {
				r := e.Run("run", "--image", e.S.Image, "--idle-timeout", "2m", "--mount", e.S.ProbeDir+":/usr/local/bin:ro",
					"sh", "-c", `id -un; echo "$HOME"`)
				if r.Code != 0 || r.Stdout != "agent\n/home/agent\n" {
					t.Errorf("id -un; echo $HOME: want agent, /home/agent\n%s", r)
				}
			}
		})
	}
	// Leave nothing behind: stop them now rather than in 2 minutes.
	for _, id := range e.Containers() {
		e.S.DockerOut(t, "rm", "--force", id)
	}
	harness.WaitFor(10*time.Second, func() bool { return len(e.Containers()) == 0 })
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func within(path, dir string) bool {
	return strings.HasPrefix(filepath.Clean(path), filepath.Clean(dir)+"/")
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
