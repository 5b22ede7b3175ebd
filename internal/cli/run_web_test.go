package cli

import (
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestDetectWeb(t *testing.T) {
	table := tools.New()
	oc, _ := table.Lookup("opencode")
	claude, _ := table.Lookup("claude")
	tests := []struct {
		agent tools.Tool
		args  []string
		port  int // 0: not web
		out   string
		err   string
	}{
		{agent: oc, args: []string{"web"}, port: 4096, out: "web --port 4096 --hostname 0.0.0.0"},
		{agent: oc, args: []string{"serve", "--port", "8080"}, port: 8080, out: "serve --port 8080 --hostname 0.0.0.0"},
		{agent: oc, args: []string{"--print-logs", "web", "--port=9000", "--hostname=127.0.0.1"}, port: 9000, out: "--print-logs web --port=9000 --hostname=127.0.0.1"},
		{agent: oc, args: []string{"web", "--", "extra"}, port: 4096, out: "web --port 4096 --hostname 0.0.0.0 -- extra"},
		{agent: oc, args: []string{"run", "web"}, out: "run web"},
		{agent: oc, args: []string{"-s", "abc"}, out: "-s abc"},
		{agent: oc, args: nil, out: ""},
		{agent: claude, args: []string{"web"}, out: "web"},
		{agent: oc, args: []string{"web", "--port", "abc"}, err: `opencode web --port "abc": a port is a number from 1 to 65535`},
		{agent: oc, args: []string{"web", "--port=65536"}, err: `opencode web --port "65536"`},
		{agent: oc, args: []string{"web", "--port"}, err: "the port is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.agent.Name+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			w, out, err := detectWeb(&tt.agent, tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(out, " "); got != tt.out {
				t.Errorf("args %q, want %q", got, tt.out)
			}
			if (w == nil) != (tt.port == 0) || (w != nil && w.port != tt.port) {
				t.Errorf("web %+v, want port %d", w, tt.port)
			}
		})
	}
}

// The combinations of ports, web mode, password and networks, from the
// command line to the docker argv: golden.
func TestWebCombinationsGolden(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
	}{
		{args: []string{"opencode", "web"}},
		{args: []string{"opencode", "--expose", "3000", "web", "--port=8080", "--password", "s3cret"}},
		{args: []string{"--egress", "open", "-e", "3000,4000", "-n", "db", "opencode", "serve", "--hostname", "127.0.0.1", "--allow-unsecured"}},
		{env: map[string]string{"PW": "from-var", "PORT_BIND": "all", "AI_SANDBOX_EGRESS": "open"}, args: []string{"kilo", "web", "--password-env", "PW", "--network", "a,b"}},
		{env: map[string]string{"PORT": "5000", "AI_SANDBOX_EXPOSE": "6000", "AI_SANDBOX_EGRESS": "open"}, args: []string{"claude", "-n", "x", "--expose", "7000"}},
		{args: []string{"opencode", "run", "--password", "x", "--attach", "http://h:4096"}},
	}
	var b strings.Builder
	for _, c := range cases {
		deps, _ := runDeps(t, c.env)
		var plan sandbox.Plan
		cmd := NewCmdRun(deps, func(_ context.Context, deps *Deps, o *runOptions) error {
			rf, err := gatherRun(context.Background(), deps, o)
			if err != nil {
				return err
			}
			if err := serverAuth(deps, o, rf); err != nil {
				return err
			}
			plan = sandbox.NewPlan(rf.facts)
			return nil
		})
		cmd.SetArgs(c.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		b.WriteString("$ ")
		for _, k := range slices.Sorted(maps.Keys(c.env)) {
			b.WriteString(k + "=" + c.env[k] + " ")
		}
		b.WriteString("ai-sandbox run " + docker.Quote(c.args) + "\n")
		run := docker.RunArgs(plan.Run)
		for i, a := range run {
			switch {
			case a == "--network" && plan.Egress != nil && run[i+1] == plan.Egress.Network:
				b.WriteString("  run --network <its own>\n") // named by the project's key
			case a == "--publish" || a == "--network":
				b.WriteString("  run " + a + " " + run[i+1] + "\n")
			}
		}
		if plan.Egress != nil && plan.Egress.Forwarder != nil {
			fwd := docker.RunArgs(*plan.Egress.Forwarder)
			for i, a := range fwd {
				if a == "--publish" {
					b.WriteString("  ports " + a + " " + fwd[i+1] + "\n")
				}
			}
		}
		for _, n := range plan.ExtraNetworks {
			b.WriteString("  network connect " + n + "\n")
		}
		b.WriteString("  exec env " + strings.Join(plan.Exec.PassEnv, " ") + "\n")
		b.WriteString("  cmd " + docker.Quote(plan.Cmd) + "\n")
		for _, secret := range []string{"s3cret", "from-var"} {
			if strings.Contains(strings.Join(append(run, docker.ExecArgs(plan.Exec)...), " "), secret) {
				t.Errorf("%q: the password is on an argv", c.args)
			}
		}
	}
	path := filepath.Join("testdata", "web-combinations.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
