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

	"github.com/ai-sandbox/ai-sandbox/internal/gitaccess"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
)

// menuAnswers answers the menu's questions in order: each answer names
// the start of the question it expects, so a menu that asks something
// else, or asks more, fails the test.
type menuAnswers struct {
	t       *testing.T
	answers []menuAnswer
	offered map[string][]string
}

type menuAnswer struct {
	question string
	answer   any // string, []string, bool or error
}

func (a *menuAnswers) next(msg string, options []string) any {
	a.t.Helper()
	if len(a.answers) == 0 {
		a.t.Fatalf("unexpected question %q (no answers left)", msg)
	}
	ans := a.answers[0]
	a.answers = a.answers[1:]
	if !strings.HasPrefix(msg, ans.question) {
		a.t.Fatalf("asked %q, expected a question starting %q", msg, ans.question)
	}
	if a.offered == nil {
		a.offered = map[string][]string{}
	}
	a.offered[ans.question] = options
	if s, ok := ans.answer.(string); ok && options != nil && !slices.Contains(options, s) {
		a.t.Fatalf("%q: answer %q is not among the options %q", msg, s, options)
	}
	return ans.answer
}

func (a *menuAnswers) Select(msg string, options []string, _ string, _ func(string, int) string) (string, error) {
	v := a.next(msg, options)
	if err, ok := v.(error); ok {
		return "", err
	}
	return v.(string), nil
}

func (a *menuAnswers) MultiSelect(msg string, options []string, _ []string, _ func(string, int) string) ([]string, error) {
	v := a.next(msg, options)
	if err, ok := v.(error); ok {
		return nil, err
	}
	return v.([]string), nil
}

func (a *menuAnswers) Input(msg, _, _ string) (string, error) {
	v := a.next(msg, nil)
	if err, ok := v.(error); ok {
		return "", err
	}
	return v.(string), nil
}

func (a *menuAnswers) Password(msg, _ string) (string, error) { return a.Input(msg, "", "") }

func (a *menuAnswers) Confirm(msg string, _ bool) (bool, error) {
	v := a.next(msg, nil)
	if err, ok := v.(error); ok {
		return false, err
	}
	return v.(bool), nil
}

// engineNetworks is a docker that knows the networks listed (none
// inspected with containers); anything else fails the test.
type engineNetworks struct {
	t     *testing.T
	names []string
	down  bool
}

func (r engineNetworks) Output(_ context.Context, argv []string) (proc.Result, error) {
	switch {
	case argv[0] == "git":
		return proc.Result{ExitCode: 1}, nil
	case len(argv) > 2 && argv[1] == "network" && (argv[2] == "ls" || argv[2] == "inspect"):
		if r.down {
			return proc.Result{ExitCode: 1, Stderr: []byte("Cannot connect to the Docker daemon")}, nil
		}
		var out strings.Builder
		for _, n := range r.names {
			out.WriteString(n + "\t\n")
		}
		return proc.Result{Stdout: []byte(out.String())}, nil
	}
	r.t.Errorf("unexpected command %q", argv)
	return proc.Result{ExitCode: 1}, nil
}

func (r engineNetworks) Interactive(_ context.Context, argv []string, _ proc.Stdio, _ []string, _ func(os.Signal) bool) (int, error) {
	r.t.Errorf("unexpected command %q", argv)
	return 0, nil
}

func updateDeps(t *testing.T, r Runner) (*Deps, string, *bytes.Buffer) {
	t.Helper()
	deps, proj := runDeps(t, nil)
	deps.Runner = r
	return deps, proj, deps.Streams.Out.(*bytes.Buffer)
}

func TestUpdateMenuWorkspaces(t *testing.T) {
	deps, _, out := updateDeps(t, noDocker{t})
	extra := filepath.Join(deps.Home, "extra")
	if err := os.MkdirAll(extra, 0o755); err != nil {
		t.Fatal(err)
	}
	code := filepath.Join(deps.Home, "code")
	ask := &menuAnswers{t: t, answers: []menuAnswer{
		{"What do you want to change?", menuWorkspaces},
		{"Workspaces:", "Add a folder"},
		{"Folder to whitelist:", "~/extra"},
		{"What do you want to change?", menuWorkspaces},
		{"Workspaces:", "Remove " + code},
		{"Remove " + code, false}, // said no: nothing removed
		{"What do you want to change?", menuWorkspaces},
		{"Workspaces:", "Remove " + code},
		{"Remove " + code, true},
		{"What do you want to change?", menuExit},
	}}
	if err := runUpdate(context.Background(), deps, ask); err != nil {
		t.Fatalf("runUpdate: %v\n%s", err, out)
	}
	if len(ask.answers) != 0 {
		t.Fatalf("questions not asked: %v", ask.answers)
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Workspaces, []string{extra}) {
		t.Errorf("workspaces = %q, want only %s", cfg.Workspaces, extra)
	}
	for _, want := range []string{
		"whitelisted " + extra,
		"(the command for this: ai-sandbox workspace add " + extra + ")",
		"removed " + code,
		"(the command for this: ai-sandbox workspace remove " + code + ")",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUpdateMenuGit(t *testing.T) {
	deps, proj, out := updateDeps(t, noDocker{t})
	other := filepath.Join(deps.Home, "elsewhere")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	ask := &menuAnswers{t: t, answers: []menuAnswer{
		{"What do you want to change?", menuGit},
		{"Git access for which folder?", proj},
		{"Git access for " + proj, string(gitaccess.FetchOnly)},
		{"What do you want to change?", menuGit},
		{"Git access for which folder?", "Another folder…"},
		{"Folder:", other},
		{"Git access for " + other, string(gitaccess.Full)},
		{"What do you want to change?", menuExit},
	}}
	if err := runUpdate(context.Background(), deps, ask); err != nil {
		t.Fatalf("runUpdate: %v\n%s", err, out)
	}
	// The folders offered: the current one first, then the workspaces.
	offered := ask.offered["Git access for which folder?"]
	if len(offered) < 2 || offered[0] != proj || !slices.Contains(offered, filepath.Join(deps.Home, "code")) || offered[len(offered)-1] != menuBack {
		t.Errorf("folders offered = %q", offered)
	}
	if !slices.Contains(offered, proj) {
		t.Errorf("the folder saved before is not offered again: %q", offered)
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if m := gitaccess.For(cfg, proj).Mode; m != gitaccess.FetchOnly {
		t.Errorf("mode of %s = %s, want fetch-only", proj, m)
	}
	if m := gitaccess.For(cfg, other).Mode; m != gitaccess.Full {
		t.Errorf("mode of %s = %s, want full", other, m)
	}
	for _, want := range []string{
		"(the command for this: ai-sandbox git fetch-only " + proj + ")",
		"(the command for this: ai-sandbox git full " + other + ")",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUpdateMenuNetworks(t *testing.T) {
	deps, _, out := updateDeps(t, engineNetworks{t: t, names: []string{"backend", "db_net"}})
	code := filepath.Join(deps.Home, "code")
	ask := &menuAnswers{t: t, answers: []menuAnswer{
		// Docker's networks offered: pick one for all workspaces.
		{"What do you want to change?", menuNetworks},
		{"Networks for:", "All workspaces"},
		{"Networks for all workspaces:", "Add networks"},
		{"Docker's networks to add", []string{"backend"}},
		// None picked: a name typed, for one workspace; a bad one is
		// refused, said, and the menu comes back.
		{"What do you want to change?", menuNetworks},
		{"Networks for:", code},
		{"Networks for " + code, "Add networks"},
		{"Docker's networks to add", []string{}},
		{"Network names", "bad name!"},
		{"What do you want to change?", menuNetworks},
		{"Networks for:", code},
		{"Networks for " + code, "Add networks"},
		{"Docker's networks to add", []string{}},
		{"Network names", "later_net, db_net"},
		// And one forgotten again.
		{"What do you want to change?", menuNetworks},
		{"Networks for:", "All workspaces"},
		{"Networks for all workspaces:", "Remove networks"},
		{"Forget which?", []string{"backend"}},
		{"What do you want to change?", menuExit},
	}}
	if err := runUpdate(context.Background(), deps, ask); err != nil {
		t.Fatalf("runUpdate: %v\n%s", err, out)
	}
	if len(ask.answers) != 0 {
		t.Fatalf("questions not asked: %v", ask.answers)
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Networks.Global) != 0 {
		t.Errorf("global networks = %q, want none", cfg.Networks.Global)
	}
	if got := cfg.Networks.Workspaces[code]; !slices.Equal(got, []string{"later_net", "db_net"}) {
		t.Errorf("networks of %s = %q", code, got)
	}
	for _, want := range []string{
		`"bad name!" is not a docker network name`,
		"docker has no network later_net yet",
		"(the command for this: ai-sandbox network add backend)",
		"(the command for this: ai-sandbox network add later_net db_net --workspace " + code + ")",
		"(the command for this: ai-sandbox network remove backend)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The second time, backend was saved already for all workspaces:
	// only what is not saved there is offered.
	if got := ask.offered["Forget which?"]; !slices.Equal(got, []string{"backend"}) {
		t.Errorf("offered to forget %q", got)
	}
}

func TestUpdateMenuDockerDownAsksForNames(t *testing.T) {
	deps, _, out := updateDeps(t, engineNetworks{t: t, down: true})
	ask := &menuAnswers{t: t, answers: []menuAnswer{
		{"What do you want to change?", menuNetworks},
		{"Networks for:", "All workspaces"},
		{"Networks for all workspaces:", "Add networks"},
		{"Network names", "n1"},
		{"What do you want to change?", menuView},
		{"What do you want to change?", menuExit},
	}}
	if err := runUpdate(context.Background(), deps, ask); err != nil {
		t.Fatalf("runUpdate: %v\n%s", err, out)
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Networks.Global, []string{"n1"}) {
		t.Errorf("global networks = %q", cfg.Networks.Global)
	}
	// The view is config show's.
	if !strings.Contains(out.String(), "idle-timeout") {
		t.Errorf("the view does not show the settings:\n%s", out)
	}
}

func TestUpdateMenuInterrupted(t *testing.T) {
	deps, _, _ := updateDeps(t, noDocker{t})
	ask := &menuAnswers{t: t, answers: []menuAnswer{
		{"What do you want to change?", menuWorkspaces},
		{"Workspaces:", "Add a folder"},
		{"Folder to whitelist:", terminal.InterruptErr},
	}}
	err := runUpdate(context.Background(), deps, ask)
	if !errors.Is(err, terminal.InterruptErr) {
		t.Fatalf("runUpdate = %v, want the interrupt", err)
	}
}
