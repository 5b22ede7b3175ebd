package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/ptyterm"
)

// buildBinary builds ai-sandbox once per test binary run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ai-sandbox-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "ai-sandbox")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = &buildError{out: string(out), err: err}
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// terminal is the binary on a pseudo-terminal.
type terminal struct {
	t *testing.T
	*ptyterm.Term
}

func startTerminal(t *testing.T, dir string, env []string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = env
	term, err := ptyterm.Start(cmd, 40, 120)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	return &terminal{t: t, Term: term}
}

func (term *terminal) expect(re string) {
	term.t.Helper()
	if err := term.Expect(re, 10*time.Second); err != nil {
		term.t.Fatal(err)
	}
}

func (term *terminal) send(s string) {
	term.t.Helper()
	if err := term.Send(s); err != nil {
		term.t.Fatal(err)
	}
}

func (term *terminal) wait() int {
	term.t.Helper()
	code, err := term.Wait()
	if err != nil {
		term.t.Fatal(err)
	}
	return code
}

// promptEnv is a HOME with a fake docker first on PATH.
func promptEnv(t *testing.T) (home string, env []string) {
	t.Helper()
	home = t.TempDir()
	bin := filepath.Join(home, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\necho \"$1\" >> \"$HOME/docker.calls\"\ncase \"$1\" in exec) echo session-ran;; esac\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	env = []string{"HOME=" + home, "PATH=" + bin + ":" + os.Getenv("PATH"), "TERM=xterm", "NO_COLOR=1"}
	return home, env
}

func readWorkspaces(t *testing.T, home string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, ".ai-sandbox", "config.json"))
	if err != nil {
		return nil
	}
	var c struct{ Workspaces []string }
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.Workspaces
}

// TestRunAsksToWhitelist: outside a workspace, on a terminal, run asks
// "Whitelist <dir>? [y/N]"; yes adds it and the session starts.
func TestRunAsksToWhitelist(t *testing.T) {
	home, env := promptEnv(t)
	proj := filepath.Join(home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, proj, env, "run", "-q", "true")
	term.expect(`Whitelist ` + regexp.QuoteMeta(proj) + `\? \[y/N\] `)
	term.send("y\r")
	term.expect(`session-ran`)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; terminal:\n%s", code, term.Output())
	}
	if got := readWorkspaces(t, home); len(got) != 1 || got[0] != proj {
		t.Errorf("workspaces = %q, want [%s]", got, proj)
	}
}

// TestRunWhitelistDeclined: no (the default) starts nothing and writes
// nothing, and says how to whitelist later.
func TestRunWhitelistDeclined(t *testing.T) {
	home, env := promptEnv(t)
	proj := filepath.Join(home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, proj, env, "run", "-q", "true")
	term.expect(`Whitelist .*\? \[y/N\] `)
	term.send("\r")
	term.expect(`not inside a whitelisted workspace`)
	if code := term.wait(); code != 1 {
		t.Fatalf("exit %d, want 1; terminal:\n%s", code, term.Output())
	}
	if !strings.Contains(term.Output(), "ai-sandbox workspace add") {
		t.Errorf("no hint naming the command:\n%s", term.Output())
	}
	if got := readWorkspaces(t, home); len(got) != 0 {
		t.Errorf("workspaces = %q, want none", got)
	}
	if _, err := os.Stat(filepath.Join(home, "docker.calls")); err == nil {
		t.Error("docker was called")
	}
}

// TestRunPromptRefusesHome: the prompt never offers a folder the rules
// refuse, such as the home itself.
func TestRunPromptRefusesHome(t *testing.T) {
	home, env := promptEnv(t)
	term := startTerminal(t, home, env, "run", "-q", "true")
	term.expect(`it is your home folder`)
	if code := term.wait(); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if strings.Contains(term.Output(), "[y/N]") {
		t.Errorf("asked to whitelist the home:\n%s", term.Output())
	}
}
