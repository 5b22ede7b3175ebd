package doctor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDetectOSC52FollowsTheTable(t *testing.T) {
	cases := []struct {
		env  []string
		name string
		ok   *bool
	}{
		{[]string{"TERM_PROGRAM", "iTerm.app", "TERM", "xterm-256color"}, "iTerm2", ptr(true)},
		{[]string{"TERM_PROGRAM", "WarpTerminal"}, "Warp", ptr(true)},
		{[]string{"TERM", "xterm-kitty"}, "Kitty", ptr(true)},
		{[]string{"TERM", "alacritty"}, "Alacritty", ptr(true)},
		{[]string{"TERM_PROGRAM", "WezTerm"}, "WezTerm", ptr(true)},
		{[]string{"WT_SESSION", "x", "TERM", "xterm-256color"}, "Windows Terminal", ptr(true)},
		{[]string{"TERM", "xterm-ghostty"}, "Ghostty", ptr(true)},
		{[]string{"VTE_VERSION", "7003", "TERM", "xterm-256color"}, "GNOME Terminal (or another VTE terminal)", ptr(false)},
		{[]string{"TERM_PROGRAM", "vscode"}, "VS Code's terminal", ptr(false)},
		{[]string{"TILIX_ID", "1", "VTE_VERSION", "7003"}, "Tilix", ptr(false)},
		{[]string{"TERMINATOR_UUID", "u", "VTE_VERSION", "7003"}, "Terminator", ptr(false)},
		{[]string{"TERM", "xterm"}, "xterm", nil},
	}
	for _, c := range cases {
		got := DetectOSC52(env(c.env...))
		if got.Terminal != c.name || (got.Supported == nil) != (c.ok == nil) || (got.Supported != nil && *got.Supported != *c.ok) {
			t.Errorf("%v: %+v", c.env, got)
		}
	}
	tm := DetectOSC52(env("TERM", "xterm-kitty", "TMUX", "/tmp/tmux-1/default,1,0"))
	if !strings.Contains(tm.Note, "set-clipboard on") {
		t.Errorf("inside tmux: %+v", tm)
	}
	f := Terminal(DetectOSC52(env("TERM_PROGRAM", "vscode")))
	if f[0].Status != Warn || !strings.Contains(f[0].Hint, "printf") {
		t.Errorf("unsupported: %+v", f)
	}
}

func ptr(b bool) *bool { return &b }

func TestEngineRootlessAndPodman(t *testing.T) {
	var info map[string]any
	_ = json.Unmarshal([]byte(`{"SecurityOptions":["name=seccomp,profile=default","name=rootless"],"Runtimes":{"runc":{},"runsc":{}},"DefaultRuntime":"runc"}`), &info)
	f := Engine(EngineFacts{CLI: "/usr/bin/docker", Client: "27.0", Server: "27.0", Info: info})
	if len(f) != 2 || f[1].Detail != "27.0 (rootless; runtimes: runc (default), runsc)" {
		t.Errorf("%+v", f)
	}
	info = nil
	_ = json.Unmarshal([]byte(`{"host":{"security":{"rootless":true,"seccompEnabled":true}}}`), &info)
	f = Engine(EngineFacts{CLI: "/usr/bin/podman", Client: "5.0", Server: "5.0", Info: info})
	if len(f) != 2 || !strings.Contains(f[1].Detail, "rootless") || strings.Contains(f[1].Detail, "not rootless") {
		t.Errorf("podman: %+v", f)
	}
	info = nil
	_ = json.Unmarshal([]byte(`{"SecurityOptions":[]}`), &info)
	f = Engine(EngineFacts{CLI: "/usr/bin/docker", Client: "27.0", Server: "27.0", Info: info})
	if len(f) != 3 || f[2].Name != "seccomp" || f[2].Status != Warn {
		t.Errorf("no seccomp: %+v", f)
	}
	if f := Engine(EngineFacts{}); f[0].Status != Fail || !strings.Contains(f[0].Hint, "AI_SANDBOX_DOCKER") {
		t.Errorf("no CLI: %+v", f)
	}
}

func TestImageAgeAndAgents(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	im := ImageFacts{Name: "ai-sandbox:latest", Present: true, Created: now.Add(-40 * 24 * time.Hour),
		Labels: map[string]string{"ai-sandbox.image": "1", "ai-sandbox.tools": "opencode", "ai-sandbox.preset": "base"}, Installed: []string{"opencode", "claude"}}
	f := Image(im, now)
	if len(f) != 2 || f[0].Status != Warn || !strings.Contains(f[0].Detail, "40 days") || f[1].Status != Warn || !strings.Contains(f[1].Hint, "--tools opencode,claude") {
		t.Errorf("%+v", f)
	}
	im.Created = now.Add(-time.Hour)
	im.Installed = nil
	if f := Image(im, now); len(f) != 1 || f[0].Status != OK {
		t.Errorf("fresh: %+v", f)
	}
}

func TestFileMode(t *testing.T) {
	f := File(FileFacts{Name: "env", Path: "/h/.ai-sandbox/env", Exists: true, Mode: 0o640, ParseOK: true})
	if f[0].Status != Warn || f[0].Hint != "chmod 600 /h/.ai-sandbox/env" {
		t.Errorf("%+v", f)
	}
	if f := File(FileFacts{Name: "env", Exists: true, Mode: 0o600, ParseOK: true}); f[0].Status != OK {
		t.Errorf("%+v", f)
	}
	if f := File(FileFacts{Name: "env", Exists: true, Err: "env:3: bad line"}); f[0].Status != Fail {
		t.Errorf("%+v", f)
	}
}

func TestScorecard(t *testing.T) {
	s := Scorecard{Project: "/p", Sandbox: "ai-doctor-p", Image: "img", Scratch: "/tmp/s", Attempts: []Attempt{
		{Phase: "sandbox", Name: "a", What: "try a", Outcome: Blocked},
		{Phase: "sandbox", Name: "b", What: "try b", Outcome: Hole, Evidence: []string{"read /x"}},
		{Phase: "two-phase", Name: "c", What: "try c", Outcome: Skipped, Detail: "no git"},
		{Phase: "two-phase", Name: "d", What: "try d", Outcome: Broken, Detail: "launch failed"},
	}}
	if len(s.Holes()) != 1 || len(s.Unfinished()) != 1 {
		t.Errorf("holes %d, unfinished %d", len(s.Holes()), len(s.Unfinished()))
	}
	var b bytes.Buffer
	s.WriteText(&b, false)
	for _, want := range []string{"HOLE      b", "read /x", "two-phase attacks", "4 attacks: 1 blocked, 1 succeeded, 1 skipped, 1 did not run to the end"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := s.WriteJSON(&b); err != nil || !strings.Contains(b.String(), `"ok": false`) || !strings.Contains(b.String(), `"holes": 1`) {
		t.Errorf("json: %v\n%s", err, b.String())
	}
}

func TestAliases(t *testing.T) {
	f := Aliases([]RCFacts{
		{Shell: "bash", Path: "~/.bashrc", Exists: true, Block: true, Tools: []string{"claude"}, Exe: "/x", ExeExists: true, Shadowed: []string{"claude (alias, line 9)"}},
		{Shell: "zsh", Path: "~/.zshrc", Exists: true, Current: true},
	})
	if len(f) != 3 || f[0].Status != OK || f[1].Status != Warn || f[2].Status != Warn || !strings.Contains(f[2].Hint, "--shell zsh") {
		t.Errorf("%+v", f)
	}
}

func TestEngineWarnsOfTheDNSLeak(t *testing.T) {
	for v, leaks := range map[string]bool{"20.10.24+dfsg1": true, "24.0.7": true, "25.0.4": true, "25.0.5": false, "26.1.0": false, "27.3.1": false, "weird": false} {
		got := false
		for _, f := range Engine(EngineFacts{CLI: "/usr/bin/docker", Client: v, Server: v, Info: map[string]any{"SecurityOptions": []any{"name=seccomp"}}}) {
			if f.Name == "internal networks' DNS" && f.Status == Warn {
				got = true
			}
		}
		if got != leaks {
			t.Errorf("engine %s: warned %v, want %v", v, got, leaks)
		}
	}
}

func TestCaches(t *testing.T) {
	f := Caches(CacheFacts{Source: "default", Dir: "~/.ai-sandbox/cache/shared"})
	if len(f) != 1 || f[0].Status != Info || f[0].Detail != "per project, in each agent home (shared: off)" {
		t.Errorf("off: %+v", f)
	}
	f = Caches(CacheFacts{Shared: true, Source: "env", Dir: "~/.ai-sandbox/cache/shared"})
	if len(f) != 1 || f[0].Status != Warn || !strings.Contains(f[0].Detail, "shared across projects: ~/.ai-sandbox/cache/shared (a compromised session can plant code in a later one's builds; from AI_SANDBOX_SHARED_CACHES)") ||
		!strings.Contains(f[0].Hint, "AI_SANDBOX_SHARED_CACHES=0") {
		t.Errorf("on: %+v", f)
	}
}

func TestToolchain(t *testing.T) {
	goNeed := Need{Language: "Go", Evidence: "go.mod", Addons: []string{"go"}}
	pnpm := Need{Language: "pnpm", Evidence: "pnpm-lock.yaml", Addons: []string{"pnpm"}}
	known := []string{"go", "pnpm", "lsp"}
	cases := []struct {
		name string
		in   ToolchainFacts
		want []string // status: detail
	}{
		{"nothing needed", ToolchainFacts{Image: "img", ImageKnown: true, Known: known}, nil},
		{"all there", ToolchainFacts{Needs: []Need{goNeed, pnpm}, Image: "img", ImageKnown: true, ImageAddons: []string{"pnpm", "go"}, Known: known},
			[]string{"ok: image img has the add-ons for what this project uses: Go (go.mod), pnpm (pnpm-lock.yaml)"}},
		{"go missing", ToolchainFacts{Needs: []Need{goNeed, pnpm}, Image: "img", ImageKnown: true, ImageAddons: []string{"pnpm"}, Known: known},
			[]string{"warn: this project uses Go (go.mod) but image img has no go add-on"}},
		{"an add-on this ai-sandbox lacks", ToolchainFacts{Needs: []Need{{Language: "Ruby", Evidence: "Gemfile", Addons: []string{"ruby"}}},
			Image: "img", ImageKnown: true, Known: known},
			[]string{"info: this project uses Ruby (Gemfile), but there is no add-on for ruby in this ai-sandbox"}},
		{"image not inspected", ToolchainFacts{Needs: []Need{goNeed}, Image: "img", ImageNote: "the engine does not answer", Known: known},
			[]string{"info: this project uses Go (go.mod); the add-ons of image img are unknown: the engine does not answer"}},
		{"a linked file", ToolchainFacts{Ignored: []string{"go.mod (a symbolic link, not followed)"}, Image: "img", ImageKnown: true, Known: known},
			[]string{"info: go.mod (a symbolic link, not followed): ignored"}},
	}
	for _, c := range cases {
		var got []string
		for _, f := range Toolchain(c.in) {
			if f.Section != "this project" || f.Name != "toolchain" {
				t.Errorf("%s: finding %+v", c.name, f)
			}
			if f.Status == Warn && !strings.Contains(f.Hint, "ai-sandbox image build --for-project") {
				t.Errorf("%s: hint %q", c.name, f.Hint)
			}
			got = append(got, string(f.Status)+": "+f.Detail)
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}
