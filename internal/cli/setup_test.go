package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// These tests drive the wizard with scripted answers (the real terminal
// is driven in cmd/ai-sandbox/setup_pty_test.go): the seam to the image
// command, the fallback tags, and Ctrl-C.

type setupRunner struct{ calls [][]string }

func (r *setupRunner) Output(_ context.Context, argv []string) (proc.Result, error) {
	r.calls = append(r.calls, argv)
	if len(argv) > 1 && argv[1] == "info" {
		return proc.Result{Stdout: []byte(`{"ServerVersion":"27.3.1"}`)}, nil
	}
	if len(argv) > 2 && argv[1] == "image" && argv[2] == "inspect" {
		return proc.Result{ExitCode: 1, Stderr: []byte("No such image")}, nil
	}
	return proc.Result{}, nil
}

func (r *setupRunner) Interactive(context.Context, []string, proc.Stdio, []string, func(os.Signal) bool) (int, error) {
	return 0, nil
}

type fakeImageOps struct {
	tags    []string
	tagsErr error
	pulled  []string
	built   [][]string
}

func (f *fakeImageOps) ListTags(context.Context) ([]string, error) { return f.tags, f.tagsErr }
func (f *fakeImageOps) Pull(_ context.Context, tag string) error {
	f.pulled = append(f.pulled, tag)
	return nil
}
func (f *fakeImageOps) Build(_ context.Context, tools, addons []string, preset string) error {
	f.built = append(f.built, append(append(append([]string{}, tools...), "|"), append(addons, "|", preset)...))
	return nil
}

// scripted answers questions by the start of their message; every
// question must have an answer, and every answer must be used.
type scripted struct {
	t       *testing.T
	answers map[string]any
	asked   []string
	offered map[string][]string
	defs    map[string]any
}

func (a *scripted) answer(msg string, options []string, def any) any {
	a.t.Helper()
	a.asked = append(a.asked, msg)
	if a.offered == nil {
		a.offered, a.defs = map[string][]string{}, map[string]any{}
	}
	for prefix, v := range a.answers {
		if strings.HasPrefix(msg, prefix) {
			a.offered[prefix], a.defs[prefix] = options, def
			if err, ok := v.(error); ok {
				return err
			}
			return v
		}
	}
	a.t.Fatalf("unexpected question %q", msg)
	return nil
}

func (a *scripted) Select(msg string, options []string, def string, _ func(string, int) string) (string, error) {
	switch v := a.answer(msg, options, def).(type) {
	case error:
		return "", v
	default:
		return v.(string), nil
	}
}

func (a *scripted) MultiSelect(msg string, options []string, def []string, _ func(string, int) string) ([]string, error) {
	switch v := a.answer(msg, options, def).(type) {
	case error:
		return nil, v
	default:
		return v.([]string), nil
	}
}

func (a *scripted) Input(msg, def, _ string) (string, error) {
	switch v := a.answer(msg, nil, def).(type) {
	case error:
		return "", v
	default:
		return v.(string), nil
	}
}

func (a *scripted) Password(msg, _ string) (string, error) { return a.Input(msg, "", "") }

func (a *scripted) Confirm(msg string, def bool) (bool, error) {
	switch v := a.answer(msg, nil, def).(type) {
	case error:
		return false, v
	default:
		return v.(bool), nil
	}
}

func testSetupDeps(t *testing.T) (*Deps, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "proj"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := map[string]string{"HOME": home, "SHELL": "/bin/bash", "PATH": "/usr/bin:/bin"}
	deps := &Deps{
		Getenv: func(k string) string { return env[k] },
		// A terminal as far as setup can tell; the scripted asker answers.
		Streams: ui.Streams{In: os.Stdin, Out: &out, Err: &errb, InFile: os.Stdin, OutFile: os.Stdout, ErrFile: os.Stderr, InTTY: true, OutTTY: true},
		Runner:  &setupRunner{},
		Tools:   tools.New(),
		Home:    home,
		Getwd:   func() (string, error) { return home, nil },
	}
	return deps, &out, &errb
}

func runSetupWith(t *testing.T, deps *Deps, ops ImageOps, ask asker, args ...string) int {
	t.Helper()
	cmd := newCmdSetup(deps, func() ImageOps { return ops }, ask)
	root := NewCmdRoot(deps)
	for _, c := range root.Commands() {
		if c.Name() == "setup" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(cmd)
	root.SetArgs(append([]string{"setup"}, args...))
	root.SetOut(deps.Streams.Out)
	root.SetErr(deps.Streams.Err)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return 0
	}
	var exit *ui.ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	t.Logf("error: %v (hints %q)", err, ui.HintsOf(err))
	return 1
}

func TestSetupWizardBuildGoesThroughImageOps(t *testing.T) {
	deps, out, _ := testSetupDeps(t)
	ops := &fakeImageOps{}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":    "~/proj",
		"Sandbox image":           "build",
		"Agents to install":       []string{"aider", "claude"},
		"Add-ons to build":        []string{"openspec"},
		"Image preset":            "full",
		"Keys for aider":          []string{},
		"Keys for claude":         []string{},
		"Share your aider config": "off",
		"Share your claude":       "read-only",
		"Write the aliases":       []string{},
	}}
	if code := runSetupWith(t, deps, ops, ask); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := [][]string{{"aider", "claude", "|", "openspec", "|", "full"}}; !slices.EqualFunc(ops.built, want, slices.Equal) {
		t.Errorf("built %q, want %q", ops.built, want)
	}
	// With no image there, the wizard offers the pull first.
	if ask.defs["Sandbox image"] != "pull" {
		t.Errorf("default image source %v, want pull", ask.defs["Sandbox image"])
	}
	// Every agent of the table is offered, aider included; opencode is
	// the default with nothing set up yet.
	if got := ask.offered["Agents to install"]; !slices.Equal(got, deps.Tools.Names()) || !slices.Contains(got, "aider") {
		t.Errorf("agents offered %q", got)
	}
	if d := ask.defs["Agents to install"].([]string); !slices.Equal(d, []string{"opencode"}) {
		t.Errorf("default agents %q", d)
	}
	// Keys are asked once: claude is not offered aider's ANTHROPIC_API_KEY again.
	if slices.Contains(ask.offered["Keys for claude"], "ANTHROPIC_API_KEY") {
		t.Errorf("ANTHROPIC_API_KEY offered twice: %q", ask.offered["Keys for claude"])
	}
	if !strings.Contains(out.String(), "built ai-sandbox:latest (agents: aider, claude; preset full; add-ons: openspec)") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestSetupWizardPullFallsBackToRollingTags(t *testing.T) {
	deps, _, errb := testSetupDeps(t)
	ops := &fakeImageOps{tagsErr: errors.New("offline")}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":       "",
		"Sandbox image":              "pull",
		"Image tag to pull":          "full",
		"Agents you use":             []string{"opencode"},
		"Keys for opencode":          []string{},
		"Share your opencode config": "off",
		"Write the aliases":          []string{},
	}}
	if code := runSetupWith(t, deps, ops, ask); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := ask.offered["Image tag to pull"]; !slices.Equal(got, []string{"base", "full"}) {
		t.Errorf("tags offered %q", got)
	}
	if ask.defs["Image tag to pull"] != "base" {
		t.Errorf("default tag %v", ask.defs["Image tag to pull"])
	}
	if !slices.Equal(ops.pulled, []string{"full"}) {
		t.Errorf("pulled %q", ops.pulled)
	}
	if !strings.Contains(errb.String(), "cannot list the registry's tags (offline); offering base and full") {
		t.Errorf("stderr:\n%s", errb)
	}
}

func TestSetupWizardCtrlC(t *testing.T) {
	deps, _, errb := testSetupDeps(t)
	ask := &scripted{t: t, answers: map[string]any{"Folders to whitelist": terminal.InterruptErr}}
	if code := runSetupWith(t, deps, &fakeImageOps{}, ask); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if !strings.Contains(errb.String(), "setup interrupted") {
		t.Errorf("stderr:\n%s", errb)
	}
	if _, err := os.Stat(filepath.Join(deps.Home, ".ai-sandbox", "env")); err == nil {
		t.Error("an interrupted setup wrote the env file")
	}
}

func TestSetupWizardKeepsWorkspacesAndKeys(t *testing.T) {
	deps, _, _ := testSetupDeps(t)
	if _, _, err := AddWorkspace(deps, "~/proj"); err != nil {
		t.Fatal(err)
	}
	envPath := filepath.Join(deps.Home, ".ai-sandbox", "env")
	if err := os.WriteFile(envPath, []byte("# mine\nOPENAI_API_KEY=sk-old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ask := &scripted{t: t, answers: map[string]any{
		"Workspaces:":             "keep",
		"Sandbox image":           "none",
		"Agents you use":          []string{"codex"},
		"Keys for codex":          []string{"OPENAI_API_KEY", "OPENAI_BASE_URL"},
		"OPENAI_API_KEY (hidden":  "", // empty: keep
		"OPENAI_BASE_URL:":        "https://example.test/v1",
		"Share your codex config": "off",
		"Write the aliases":       []string{},
	}}
	if code := runSetupWith(t, deps, &fakeImageOps{}, ask); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got, _ := os.ReadFile(envPath)
	if want := "# mine\nOPENAI_API_KEY=sk-old\nOPENAI_BASE_URL=https://example.test/v1\n"; string(got) != want {
		t.Errorf("env:\n%s\nwant:\n%s", got, want)
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(deps.Home, "proj")}; !slices.Equal(cfg.Workspaces, want) {
		t.Errorf("workspaces %q", cfg.Workspaces)
	}
}
