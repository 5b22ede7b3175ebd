package imagebuild

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/dockerfiles"
)

// clipboardBin writes the image's osc52-copy and its links, as the base
// layer installs them, into a folder.
func clipboardBin(t *testing.T) string {
	t.Helper()
	b, err := dockerfiles.FS.ReadFile("build/osc52-copy.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "osc52-copy"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"pbcopy", "pbpaste", "xclip", "xsel", "wl-copy", "wl-paste"} {
		if err := os.Symlink("osc52-copy", filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func osc52(s string) string {
	return "\033]52;c;" + base64.StdEncoding.EncodeToString([]byte(s)) + "\a"
}

// runNoTTY runs a shim with no controlling terminal (a new session), so
// that the sequence goes to stderr.
func runNoTTY(t *testing.T, bin, stdin string, argv ...string) (string, string, int) {
	t.Helper()
	c := exec.Command(filepath.Join(bin, argv[0]), argv[1:]...)
	c.Env = []string{"PATH=/usr/bin:/bin"}
	c.Stdin = strings.NewReader(stdin)
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestClipboardShims(t *testing.T) {
	bin := clipboardBin(t)
	text := "hi there\nline 2 ünïcode\n"
	for _, argv := range [][]string{{"pbcopy"}, {"xclip", "-selection", "clipboard"}, {"xclip", "-i"}, {"xsel", "--clipboard", "--input"}, {"wl-copy"}} {
		out, errs, code := runNoTTY(t, bin, text, argv...)
		if code != 0 || out != "" || errs != osc52(text) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want stderr %q", argv, code, out, errs, osc52(text))
		}
	}
	// wl-copy TEXT copies its arguments, not stdin.
	if _, errs, _ := runNoTTY(t, bin, "ignored", "wl-copy", "from", "args"); errs != osc52("from args") {
		t.Errorf("wl-copy from args: %q", errs)
	}
	// Reading the clipboard is refused, plainly.
	for _, argv := range [][]string{{"pbpaste"}, {"wl-paste"}, {"xclip", "-o"}, {"xsel", "--output"}} {
		out, errs, code := runNoTTY(t, bin, "", argv...)
		if code != 1 || out != "" || !strings.Contains(errs, "reading the clipboard is not possible") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", argv, code, out, errs)
		}
	}
	// In tmux (TMUX set), the sequence is wrapped for tmux to pass on.
	c := exec.Command(filepath.Join(bin, "pbcopy"))
	c.Env = []string{"PATH=/usr/bin:/bin", "TMUX=/tmp/tmux-1/default,1,0"}
	c.Stdin = strings.NewReader("x")
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if want := "\033Ptmux;\033" + osc52("x") + "\033\\"; errb.String() != want {
		t.Errorf("in tmux: %q, want %q", errb.String(), want)
	}
}

// TestClipboardShimToTerminal runs pbcopy in a tmux pane (a terminal that
// accepts OSC52 with set-clipboard on): the copy lands in tmux's paste
// buffer: the sequence reached the session's terminal.
func TestClipboardShimToTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed; CI must install it")
		}
		t.Skip("no tmux")
	}
	bin := clipboardBin(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "sock")
	conf := filepath.Join(dir, "tmux.conf")
	os.WriteFile(conf, []byte("set -g set-clipboard on\nset -g remain-on-exit on\n"), 0o644)
	tm := func(args ...string) (string, error) {
		c := exec.Command(tmux, append([]string{"-S", sock, "-f", conf}, args...)...)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TMUX") {
				env = append(env, kv)
			}
		}
		c.Env = env
		out, err := c.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { tm("kill-server") })
	// TMUX unset inside: the plain sequence, as from a sandbox session.
	if out, err := tm("new-session", "-d", "-x", "80", "-y", "20", "--", "env", "-u", "TMUX", "sh", "-c", "printf 'copied from the sandbox' | "+filepath.Join(bin, "pbcopy")+"; echo done"); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		buf, err := tm("show-buffer")
		if err == nil && buf == "copied from the sandbox" {
			return
		}
		if time.Now().After(deadline) {
			screen, _ := tm("capture-pane", "-p")
			t.Fatalf("tmux's buffer: %q (%v); screen:\n%s", buf, err, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
