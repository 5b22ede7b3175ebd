package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

// TestConcurrentWorkspaceAdd starts 100 real `ai-sandbox workspace add`
// processes at once, one distinct folder each, sharing one HOME. The
// cross-process lock must serialise their read-modify-write of
// config.json: exactly those 100 entries, a file that parses, mode 0600,
// no temporary files left, and docker never called.
func TestConcurrentWorkspaceAdd(t *testing.T) {
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "bin", "ai-sandbox")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// A fake docker that records any call.
	dockerLog := filepath.Join(tmp, "docker.log")
	fake := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %q\nexit 0\n", dockerLog)
	if err := os.WriteFile(filepath.Join(tmp, "bin", "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}

	home := filepath.Join(tmp, "home")
	const n = 100
	var want []string
	for i := 0; i < n; i++ {
		d := filepath.Join(home, "projects", fmt.Sprintf("p%03d", i))
		if i%10 == 0 {
			d = filepath.Join(home, "projects", fmt.Sprintf("p %03d, ünï", i))
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}

	env := []string{
		"HOME=" + home,
		"PATH=" + filepath.Join(tmp, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"NO_COLOR=1",
	}
	type proc struct {
		cmd    *exec.Cmd
		stderr bytes.Buffer
	}
	procs := make([]*proc, n)
	for i, d := range want {
		p := &proc{cmd: exec.Command(bin, "workspace", "add", d)}
		p.cmd.Env = env
		p.cmd.Dir = home
		p.cmd.Stderr = &p.stderr
		procs[i] = p
	}
	// All started before any is waited on.
	for i, p := range procs {
		if err := p.cmd.Start(); err != nil {
			for _, q := range procs[:i] {
				_ = q.cmd.Process.Kill()
				_ = q.cmd.Wait()
			}
			t.Fatalf("start %d: %v", i, err)
		}
	}
	for i, p := range procs {
		err := p.cmd.Wait()
		if err != nil {
			t.Errorf("process %d (%s): %v\n%s", i, want[i], err, p.stderr.String())
			continue
		}
		if msg := strings.TrimSpace(p.stderr.String()); msg != "ai-sandbox: whitelisted "+want[i] {
			t.Errorf("process %d said %q", i, msg)
		}
	}

	path := filepath.Join(home, ".ai-sandbox", "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Decode(path, data)
	if err != nil {
		t.Fatalf("config.json does not parse after concurrent writes: %v", err)
	}
	got := append([]string(nil), c.Workspaces...)
	sort.Strings(got)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workspaces after %d concurrent adds (-want +got):\n%s", n, diff)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v, want 0600", st.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if _, err := os.Stat(dockerLog); err == nil {
		log, _ := os.ReadFile(dockerLog)
		t.Errorf("workspace add called docker:\n%s", log)
	}
}
