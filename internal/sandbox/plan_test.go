package sandbox

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func baseFacts() Facts {
	return Facts{
		Tool: "shell", ProjectID: "app-1a2b3c4d", Key: "app-5e6f7a8b", Project: "/home/u/code/app", Workspace: "/home/u/code",
		Cwd: "/home/u/code/app/sub", UID: 1000, GID: 1000, Image: "ai-sandbox:latest",
		State: "/home/u/.ai-sandbox", Home: "/home/u/.ai-sandbox/projects/app-5e6f7a8b/homes/shell",
		Passwd:  "/home/u/.ai-sandbox/cache/passwd/1000-1000/passwd",
		Group:   "/home/u/.ai-sandbox/cache/passwd/1000-1000/group",
		Seccomp: "/home/u/.ai-sandbox/cache/seccomp-993269831390.json", SeccompProfile: []byte("{}\n"),
		IdleTimeout: 5 * time.Minute, PidsLimit: 1024, Memory: "8g", CPUShares: 512, TmpSize: "2048m", PortBind: "localhost",
		Cmd: []string{"true"}, Interactive: true, SessionID: "0011223344556677",
	}
}

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func render(p Plan) string {
	var host []string
	for _, o := range p.Host {
		host = append(host, "# host: "+o.String())
	}
	out := strings.Join(host, "\n") + "\n\n" +
		strings.Join(append([]string{"docker"}, docker.RunArgs(p.Run)...), "\n") + "\n\n" +
		strings.Join(append([]string{"docker"}, docker.ExecArgs(p.Exec)...), "\n") + "\n"
	if e := p.Egress; e != nil {
		out += "\n# egress: network " + e.Network + ", entry " + fmt.Sprintf("%+v", e.Entry) + ", refused " + strings.Join(e.Refused, " ") + "\n" +
			strings.Join(append([]string{"docker"}, docker.RunArgs(e.Proxy)...), "\n") + "\n"
		if e.Forwarder != nil {
			out += "\n# ports\n" + strings.Join(append([]string{"docker"}, docker.RunArgs(*e.Forwarder)...), "\n") + "\n"
		}
	}
	return out
}

func TestPlanGolden(t *testing.T) {
	cases := map[string]func(f *Facts){
		"shell-minimal": func(f *Facts) {},
		"opencode-full": func(f *Facts) {
			f.Tool, f.ProjectID = "opencode", "app-1a2b3c4d"
			f.Home = "/home/u/.ai-sandbox/projects/app-5e6f7a8b/homes/opencode"
			f.DB, f.DBEnv, f.DBFile = "/home/u/.ai-sandbox/opencode-dbs/app-1a2b3c4d", "OPENCODE_DB", "opencode.db"
			f.Protect = []docker.Mount{{Source: "/home/u/code/app/.git", Target: "/home/u/code/app/.git"},
				{Source: "/home/u/code/app/.git/hooks", Target: "/home/u/code/app/.git/hooks", ReadOnly: true}}
			f.Ports = []int{4096, 3000}
			f.Networks = []string{"db", "cache"}
			f.Cmd = []string{"opencode", "-s", "abc"}
			f.TTY = true
			f.TermEnv = map[string]string{"TERM": "xterm-256color", "COLORTERM": "truecolor"}
			f.SecretNames = []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
			f.HostConfig = []docker.Mount{{Source: "/home/u/.config/opencode", Target: "/home/agent/.config/opencode", ReadOnly: true}}
			f.ExtraMounts = []docker.Mount{{Source: "/data/a, \"b\" ü", Target: "/data/a, \"b\" ü", ReadOnly: true}}
			f.CPUs = "2"
		},
		"egress-allowlist": func(f *Facts) {
			f.Tool = "claude"
			f.Egress = egress.PolicyAllowlist
			f.Allow = []string{"api.anthropic.com", "*.anthropic.com", "localhost:11434"}
			f.Binary = "/usr/local/bin/ai-sandbox"
			f.Refused = []string{"192.0.2.10/32", "2001:db8::10/128"}
			f.Ports = []int{3000}
			f.Networks = []string{"db"}
		},
		"egress-none": func(f *Facts) {
			f.Egress = egress.PolicyNone
			f.Ports = []int{3000}
			f.Networks = []string{"db"}
		},
		"shared-caches": func(f *Facts) {
			f.Tool = "claude"
			f.Home = "/home/u/.ai-sandbox/projects/app-5e6f7a8b/homes/claude"
			f.SharedCaches = "/home/u/.ai-sandbox/cache/shared"
		},
		"all-interfaces-no-limits": func(f *Facts) {
			f.PortBind = "all"
			f.Ports = []int{8080}
			f.Memory = ""
			f.PidsLimit = -1
			f.IdleTimeout = 0
			f.Interactive = false
			f.Seccomp = ""
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			f := baseFacts()
			mod(&f)
			golden(t, name, render(NewPlan(f)))
		})
	}
}

func TestPlanHardening(t *testing.T) {
	p := NewPlan(baseFacts())
	r := p.Run
	if !r.ReadOnly || !r.Init || r.User != "1000:1000" {
		t.Errorf("read-only %v, init %v, user %q", r.ReadOnly, r.Init, r.User)
	}
	if diff := cmp.Diff([]string{"ALL"}, r.CapDrop); diff != "" {
		t.Errorf("cap-drop: %s", diff)
	}
	if diff := cmp.Diff([]string{"no-new-privileges", "seccomp=/home/u/.ai-sandbox/cache/seccomp-993269831390.json"}, r.SecurityOpt); diff != "" {
		t.Errorf("security-opt: %s", diff)
	}
	if r.CPUShares != 512 || r.Health == nil || !strings.HasPrefix(r.Health.Cmd, HealthMarker) {
		t.Errorf("cpu-shares %d, health %+v", r.CPUShares, r.Health)
	}
	for _, tm := range r.Tmpfs {
		if !strings.Contains(tm.Options, ",size=") {
			t.Errorf("tmpfs %s has no size: %s", tm.Target, tm.Options)
		}
	}
	if r.Labels[LabelOwner] != "1000" {
		t.Errorf("owner label %q", r.Labels[LabelOwner])
	}
	if p.Name != "ai-shell-app-5e6f7a8b" {
		t.Errorf("the container is named by the project key: %s", p.Name)
	}
	if len(r.Ports) != 0 {
		t.Errorf("ports published by default: %v", r.Ports)
	}
	for _, m := range r.Mounts {
		if m.Source == "/home/u" || m.Source == "/" || strings.Contains(m.Source, "docker.sock") {
			t.Errorf("forbidden mount %+v", m)
		}
	}
	if r.Labels[LabelTool] != "shell" || r.Labels[LabelProject] != "app-1a2b3c4d" || r.Labels[LabelSpecHash] != p.SpecHash {
		t.Errorf("labels %v", r.Labels)
	}
}

// Every mount source below the state folder or the project is checked
// for symbolic links before docker binds it, after what creates it.
func TestPlanHostChecksEveryMountSource(t *testing.T) {
	f := baseFacts()
	f.Tool = "opencode"
	f.DB, f.DBEnv, f.DBFile = "/home/u/.ai-sandbox/opencode-dbs/app-1a2b3c4d", "OPENCODE_DB", "opencode.db"
	f.SharedCaches = "/home/u/.ai-sandbox/cache/shared"
	p := NewPlan(f)
	checked := map[string]int{}
	made := map[string]int{}
	for i, o := range p.Host {
		switch o.Kind {
		case hostfs.CheckDir, hostfs.CheckFile:
			checked[o.Path()] = i
		case hostfs.MkdirAll, hostfs.Write:
			made[o.Path()] = i
		}
	}
	for _, m := range p.Run.Mounts {
		i, ok := checked[m.Source]
		if !ok {
			t.Errorf("mount source %s is not checked", m.Source)
			continue
		}
		if j, ok := made[m.Source]; ok && j > i {
			t.Errorf("%s is checked before it is made", m.Source)
		}
	}
	if _, ok := made[f.Seccomp]; !ok {
		t.Errorf("the seccomp profile is not written")
	}
}

func TestSpecHash(t *testing.T) {
	a := NewPlan(baseFacts())
	same := baseFacts()
	same.Cmd = []string{"other", "command"}
	same.SecretNames = []string{"X_KEY"}
	same.TTY = true
	if b := NewPlan(same); a.SpecHash != b.SpecHash {
		t.Errorf("the session (command, secrets, tty) must not change the container spec: %s vs %s", a.SpecHash, b.SpecHash)
	}
	for name, mod := range map[string]func(*Facts){
		"image":    func(f *Facts) { f.Image = "other:1" },
		"ports":    func(f *Facts) { f.Ports = []int{3000} },
		"networks": func(f *Facts) { f.Networks = []string{"n"} },
		"mounts":   func(f *Facts) { f.ExtraMounts = []docker.Mount{{Source: "/x", Target: "/x"}} },
		"memory":   func(f *Facts) { f.Memory = "1g" },
		"idle":     func(f *Facts) { f.IdleTimeout = time.Second },
		"caches":   func(f *Facts) { f.SharedCaches = "/home/u/.ai-sandbox/cache/shared" },
	} {
		f := baseFacts()
		mod(&f)
		if NewPlan(f).SpecHash == a.SpecHash {
			t.Errorf("changing %s must change the spec hash", name)
		}
	}
}

// By default the package caches stay in the agent's home for the
// project: nothing is mounted at /cache and no cache variable is set.
// Shared, each kind is mounted read-write at /cache/<kind>, outside the
// home, and its variable points there.
func TestSharedCaches(t *testing.T) {
	p := NewPlan(baseFacts())
	for _, m := range p.Run.Mounts {
		if strings.HasPrefix(m.Target, CacheDir) || strings.Contains(m.Source, "cache/shared") {
			t.Errorf("default plan mounts a shared cache: %+v", m)
		}
	}
	for _, k := range CacheKinds() {
		if _, ok := p.Run.Env[k.Env]; ok {
			t.Errorf("default plan sets %s", k.Env)
		}
	}
	if _, ok := p.Run.Labels[LabelCaches]; ok {
		t.Error("default plan has the caches label")
	}

	f := baseFacts()
	f.SharedCaches = "/home/u/.ai-sandbox/cache/shared"
	p = NewPlan(f)
	mounted := map[string]docker.Mount{}
	for _, m := range p.Run.Mounts {
		mounted[m.Target] = m
	}
	want := map[string]string{"GOMODCACHE": "/cache/go-mod", "GOCACHE": "/cache/go-build", "npm_config_cache": "/cache/npm",
		"npm_config_store_dir": "/cache/pnpm", "UV_CACHE_DIR": "/cache/uv", "BUN_INSTALL_CACHE_DIR": "/cache/bun"}
	for env, target := range want {
		if p.Run.Env[env] != target {
			t.Errorf("%s = %q, want %q", env, p.Run.Env[env], target)
		}
		m, ok := mounted[target]
		if !ok || m.ReadOnly || m.Source != "/home/u/.ai-sandbox/cache/shared/"+strings.TrimPrefix(target, "/cache/") {
			t.Errorf("mount at %s: %+v", target, m)
		}
		if strings.HasPrefix(target, AgentHome) {
			t.Errorf("%s lies in the agent's home", target)
		}
	}
	if p.Run.Labels[LabelCaches] != "shared" {
		t.Errorf("caches label %q", p.Run.Labels[LabelCaches])
	}
	made := 0
	for _, o := range p.Host {
		if o.Kind == hostfs.MkdirAll && strings.HasPrefix(o.Rel, "cache/shared/") {
			made++
			if o.Root != f.State || o.Perm != 0o700 {
				t.Errorf("cache folder op %+v: want below the state folder, 0700", o)
			}
		}
	}
	if made != len(CacheKinds()) {
		t.Errorf("%d cache folders made, want %d", made, len(CacheKinds()))
	}
}

func TestCountSessions(t *testing.T) {
	top := `PID                 PPID
17688               17667
17716               17688
17738               17667
17744               17738
17799               17667
17807               17716
`
	if n := CountSessions([]byte(top)); n != 2 {
		t.Errorf("sessions = %d, want 2", n)
	}
	if n := CountSessions([]byte("PID PPID\n10 9\n11 10\n")); n != 0 {
		t.Errorf("idle container: sessions = %d, want 0", n)
	}
	if n := CountSessions(nil); n != 0 {
		t.Errorf("empty: %d", n)
	}
}

func TestPasswdFor(t *testing.T) {
	p, g := PasswdFor(12345, 2000)
	if !strings.Contains(p, "agent:x:12345:2000:ai-sandbox agent:/home/agent:/bin/bash\n") || !strings.Contains(g, "agent:x:2000:\n") {
		t.Errorf("passwd %q group %q", p, g)
	}
	p, _ = PasswdFor(0, 0)
	if strings.Contains(p, "\nagent:") || !strings.HasPrefix(p, "root:x:0:0:root:/home/agent:") {
		t.Errorf("root passwd %q", p)
	}
}

func TestHostConfigMounts(t *testing.T) {
	exists := func(p string) bool { return p == "/h/.claude" }
	got := HostConfigMounts("/h", []string{".claude", ".claude.json"}, exists, true)
	want := []docker.Mount{{Source: "/h/.claude", Target: "/home/agent/.claude", ReadOnly: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// The scripts and the Go side agree on the exit codes and the markers.
func TestScriptsUseTheConstants(t *testing.T) {
	for name, script := range map[string]string{"guard": Guard, "hold": Hold} {
		for _, code := range []int{GuardExit, StoppingExit} {
			if !strings.Contains(script, "exit "+strconv.Itoa(code)) {
				t.Errorf("the %s does not exit %d", name, code)
			}
		}
	}
	if !strings.Contains(Guard, `printf '\036ai-sandbox-session %s\n'`) || StartToken != "\x1eai-sandbox-session " {
		t.Error("the guard's start token and StartToken differ")
	}
	if !strings.Contains(Keeper, `"`+HealthMarker+`"*)`) || !strings.HasPrefix(HealthCmd, HealthMarker) {
		t.Error("the keeper does not skip the health check")
	}
}
