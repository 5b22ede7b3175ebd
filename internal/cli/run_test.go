package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/nanobrain"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// noDocker is a runner that fails the test if anything is started (git
// aside, which the project id may ask).
type noDocker struct{ t *testing.T }

func (r noDocker) Output(_ context.Context, argv []string) (proc.Result, error) {
	if argv[0] != "git" {
		r.t.Errorf("unexpected command %q", argv)
	}
	return proc.Result{ExitCode: 1}, nil
}

func (r noDocker) Interactive(_ context.Context, argv []string, _ proc.Stdio, _ []string, _ func(os.Signal) bool) (int, error) {
	r.t.Errorf("unexpected command %q", argv)
	return 0, nil
}

// runDeps is a home with a whitelisted workspace holding a git project,
// and the current folder in it.
func runDeps(t *testing.T, env map[string]string) (*Deps, string) {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "home")
	proj := filepath.Join(home, "code", "app")
	for _, d := range []string{filepath.Join(proj, ".git", "hooks"), filepath.Join(home, ".ai-sandbox")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(proj, ".git", "config"), []byte("[core]\n"), 0o644)
	os.WriteFile(filepath.Join(home, ".ai-sandbox", "config.json"), []byte(`{"version": 2, "workspaces": ["`+filepath.Join(home, "code")+`"]}`), 0o600)
	os.WriteFile(filepath.Join(home, ".ai-sandbox", "env"), []byte("ANTHROPIC_API_KEY=sk-secret\nOTHER=x\n"), 0o600)
	var out bytes.Buffer
	return &Deps{
		Getenv:  func(k string) string { return env[k] },
		Streams: ui.Streams{In: strings.NewReader(""), Out: &out, Err: &out},
		Runner:  noDocker{t},
		Tools:   tools.New(),
		Home:    home,
		Getwd:   func() (string, error) { return proj, nil },
		UID:     1000, GID: 1000,
	}, proj
}

// planFor parses run's arguments as the command does and decides the
// plan from them, starting nothing.
func planFor(t *testing.T, env map[string]string, args ...string) (sandbox.Plan, *Deps) {
	t.Helper()
	deps, _ := runDeps(t, env)
	return planWith(t, deps, args...), deps
}

// planWith is planFor with the given dependencies.
func planWith(t *testing.T, deps *Deps, args ...string) sandbox.Plan {
	t.Helper()
	var plan sandbox.Plan
	cmd := NewCmdRun(deps, func(_ context.Context, deps *Deps, o *runOptions) error {
		rf, err := gatherRun(context.Background(), deps, o)
		if err != nil {
			return err
		}
		plan = sandbox.NewPlan(rf.facts)
		return nil
	})
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("run %q: %v", args, err)
	}
	return plan
}

func runArgv(p sandbox.Plan) string  { return strings.Join(docker.RunArgs(p.Run), " ") }
func execArgv(p sandbox.Plan) string { return strings.Join(docker.ExecArgs(p.Exec), " ") }

// From flags and variables to the plan, without a process.
func TestRunFlagsToPlan(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		run  []string // substrings of docker run
		exec []string // substrings of docker exec
		not  []string // in neither
		fwd  []string // substrings of the port forwarder's docker run
	}{
		{name: "defaults", args: nil,
			run: []string{"--read-only", "--cap-drop ALL", "--security-opt no-new-privileges", "--pids-limit 1024", "--memory 8g", "--cpu-shares 512", "/tmp:rw,nosuid,nodev,exec,mode=1777,size=2048m", "--label ai-sandbox.owner=1000", "--user 1000:1000",
				"--label ai-sandbox.egress=allowlist", "--network ai-shell-app-", "--dns 192.0.2.1", "--env HTTPS_PROXY=http://ai-sandbox-proxy:3128", "--env NODE_USE_ENV_PROXY=1"},
			exec: []string{"/bin/sh -c"},
			not:  []string{"--publish", "sk-secret"}},
		{name: "wrapper flags before the tool", args: []string{"--expose", "3000", "--memory", "1g", "--pids-limit", "50", "--tmp-size", "64m", "--cpu-shares", "256", "claude", "-p", "hi"},
			run:  []string{"--memory 1g", "--pids-limit 50", "--cpu-shares 256", "size=64m", "--name ai-claude-app-"},
			exec: []string{"--env ANTHROPIC_API_KEY ", " claude -p hi"},
			not:  []string{"sk-secret", "OTHER", "--publish"},
			fwd:  []string{"--publish 127.0.0.1:3000:3000", "__port-forward --to ai-claude-app-", "--ports 3000"}},
		{name: "egress none", args: []string{"--egress", "none", "sh"},
			run: []string{"--network none", "--label ai-sandbox.egress=none"},
			not: []string{"HTTPS_PROXY", "--dns"}},
		{name: "egress open", env: map[string]string{"AI_SANDBOX_EGRESS": "open"}, args: []string{"--expose", "3000", "sh"},
			run: []string{"--publish 127.0.0.1:3000:3000", "--label ai-sandbox.egress=open"},
			not: []string{"HTTPS_PROXY", "--dns", "--network"}},
		{name: "the tool's own flags are its own", args: []string{"claude", "--memory", "1g", "-e", "x"},
			run:  []string{"--memory 8g"},
			exec: []string{" claude --memory 1g -e x"}},
		{name: "variables for aliases", env: map[string]string{"AI_SANDBOX_EXPOSE": "8080", "AI_SANDBOX_PORT_BIND": "all", "AI_SANDBOX_MEMORY": "none", "AI_SANDBOX_SECCOMP": "docker"}, args: []string{"opencode"},
			run: []string{"--env OPENCODE_DB=/var/lib/ai-sandbox/db/opencode.db"},
			not: []string{"--memory", "seccomp="},
			fwd: []string{"--publish 0.0.0.0:8080:8080"}},
		{name: "a plain command: the shell sandbox, no agent's keys", args: []string{"make", "test"},
			run:  []string{"--name ai-shell-app-"},
			exec: []string{" make test"},
			not:  []string{"ANTHROPIC_API_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, _ := planFor(t, tt.env, tt.args...)
			run, exec := runArgv(plan), execArgv(plan)
			for _, want := range tt.run {
				if !strings.Contains(run, want) {
					t.Errorf("docker run lacks %q:\n%s", want, run)
				}
			}
			for _, want := range tt.exec {
				if !strings.Contains(exec, want) {
					t.Errorf("docker exec lacks %q:\n%s", want, exec)
				}
			}
			for _, bad := range tt.not {
				if strings.Contains(run+exec, bad) {
					t.Errorf("%q appears:\n%s\n%s", bad, run, exec)
				}
			}
			if len(tt.fwd) > 0 && (plan.Egress == nil || plan.Egress.Forwarder == nil) {
				t.Fatal("no port forwarder")
			}
			for _, want := range tt.fwd {
				if fwd := strings.Join(docker.RunArgs(*plan.Egress.Forwarder), " "); !strings.Contains(fwd, want) {
					t.Errorf("the forwarder's docker run lacks %q:\n%s", want, fwd)
				}
			}
		})
	}
}

// Gathering writes nothing on the host: the plan's ops do, later.
func TestGatherWritesNothing(t *testing.T) {
	plan, deps := planFor(t, nil, "claude")
	p, _ := deps.Paths()
	if _, err := os.Stat(filepath.Join(p.Root, "projects")); err == nil {
		t.Error("gathering created the project's state")
	}
	wd, _ := deps.Getwd()
	if _, err := os.Stat(filepath.Join(wd, ".git", "commondir")); err == nil {
		t.Error("gathering created .git/commondir")
	}
	var kinds []hostfs.OpKind
	for _, o := range plan.Host {
		kinds = append(kinds, o.Kind)
	}
	if len(kinds) == 0 {
		t.Error("the plan has no host ops")
	}
	if err := hostfs.Apply(plan.Host); err != nil {
		t.Fatalf("applying the plan: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(wd, ".git", "commondir")); string(data) != ".\n" {
		t.Errorf("commondir after apply: %q", data)
	}
}

// The same launch gives the same spec at every run: a warm sandbox is
// never replaced for nothing. The git relay's shims once came from a
// map, so their mounts (and the spec hash) changed order between runs.
func TestSpecIsTheSameAtEveryLaunch(t *testing.T) {
	for _, args := range [][]string{{"--git-fetch", "sh"}, {"opencode"}, {"--expose", "3000,3001", "sh"}} {
		deps, _ := runDeps(t, nil)
		var first string
		for i := 0; i < 20; i++ {
			plan := planWith(t, deps, args...)
			got := plan.SpecHash + " " + runArgv(plan)
			if i == 0 {
				first = got
				continue
			}
			if got != first {
				t.Fatalf("run %q: launch %d has another spec:\n%s\nfirst:\n%s", args, i+1, got, first)
			}
		}
	}
}

// A nano-brain command runs under the auto-repair wrapper unless a
// switch says not to; the flag never reaches nano-brain; other commands,
// agents and shells are left alone.
func TestRunNanoBrainRepair(t *testing.T) {
	wrapped := func(p sandbox.Plan) bool {
		return len(p.Cmd) > 4 && p.Cmd[0] == "/bin/sh" && p.Cmd[3] == "nano-brain-auto-repair"
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		wrap bool
		cmd  []string // the command, after the wrapper's arguments
	}{
		{name: "npx", args: []string{"npx", "nano-brain", "status"}, wrap: true, cmd: []string{"0", "npx", "nano-brain", "status"}},
		{name: "direct, debug", env: map[string]string{"AI_RUN_DEBUG": "1"}, args: []string{"nano-brain", "query", "x"}, wrap: true, cmd: []string{"1", "nano-brain", "query", "x"}},
		{name: "sh -c", args: []string{"sh", "-c", "npx -y nano-brain status"}, wrap: true, cmd: []string{"0", "sh", "-c", "npx -y nano-brain status"}},
		{name: "flag after", args: []string{"npx", "nano-brain", "status", "--no-nano-brain-auto-repair"}, cmd: []string{"npx", "nano-brain", "status"}},
		{name: "flag before", args: []string{"--no-nano-brain-auto-repair", "npx", "nano-brain", "status"}, cmd: []string{"npx", "nano-brain", "status"}},
		{name: "env", env: map[string]string{"AI_RUN_DISABLE_NANO_BRAIN_AUTO_REPAIR": "1"}, args: []string{"nano-brain", "status"}, cmd: []string{"nano-brain", "status"}},
		{name: "other command", args: []string{"npx", "prettier", "--no-nano-brain-auto-repair"}, cmd: []string{"npx", "prettier", "--no-nano-brain-auto-repair"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, _ := planFor(t, tt.env, tt.args...)
			if wrapped(plan) != tt.wrap {
				t.Fatalf("wrapped = %v, want %v: %q", !tt.wrap, tt.wrap, plan.Cmd)
			}
			got := plan.Cmd
			if tt.wrap {
				got = plan.Cmd[4:]
			}
			if !slices.Equal(got, tt.cmd) {
				t.Errorf("command = %q, want %q", got, tt.cmd)
			}
		})
	}
	// A shell session gets the functions, unless switched off.
	if plan, _ := planFor(t, nil); !slices.Equal(plan.Cmd, nanobrain.Shell(false)) {
		t.Errorf("shell session: %q", plan.Cmd)
	}
	if plan, _ := planFor(t, map[string]string{"AI_RUN_DISABLE_NANO_BRAIN_AUTO_REPAIR": "1"}); !slices.Equal(plan.Cmd, sandbox.ShellCmd()) {
		t.Errorf("shell session, switched off: %q", plan.Cmd)
	}
	if plan, _ := planFor(t, nil, "--no-nano-brain-auto-repair"); !slices.Equal(plan.Cmd, sandbox.ShellCmd()) {
		t.Errorf("shell session, --no-nano-brain-auto-repair: %q", plan.Cmd)
	}
	// An agent's command is not nano-brain's.
	if plan, _ := planFor(t, nil, "claude", "nano-brain"); wrapped(plan) {
		t.Errorf("an agent's run was wrapped: %q", plan.Cmd)
	}
}
