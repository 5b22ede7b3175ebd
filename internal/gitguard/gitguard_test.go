package gitguard

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func newRepo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "project")
	git(t, dir, "init", "-q", p)
	write(t, filepath.Join(p, "f"), "x\n")
	git(t, p, "add", "f")
	git(t, p, "commit", "-qm", "one")
	return p
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mountOf(g Guard, path string) (docker.Mount, bool) {
	for _, m := range g.Mounts {
		if m.Target == path {
			return m, true
		}
	}
	return docker.Mount{}, false
}

func TestProtectPlainRepo(t *testing.T) {
	p := newRepo(t)
	g, err := Protect(p, "/state")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{ // target -> read-only
		p + "/.git":           false,
		p + "/.git/commondir": true,
		p + "/.git/hooks":     true,
		p + "/.git/config":    true,
	}
	for target, ro := range want {
		m, ok := mountOf(g, target)
		if !ok || m.ReadOnly != ro || m.Source != target {
			t.Errorf("mount of %s: %+v (found %v), want read-only %v onto itself", target, m, ok, ro)
		}
	}
	if len(g.Mounts) != len(want) {
		t.Errorf("mounts %+v", g.Mounts)
	}
	if g.GitInode == 0 || len(g.Repos) != 1 || g.Repos[0] != "." {
		t.Errorf("inode %d repos %v", g.GitInode, g.Repos)
	}
	// Applying the ops makes commondir "." and git still works on it.
	if err := hostfs.Apply(g.Ops); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(p + "/.git/commondir"); string(data) != CommonDir {
		t.Errorf("commondir %q", data)
	}
	write(t, filepath.Join(p, "g"), "y\n")
	git(t, p, "add", "g")
	git(t, p, "commit", "-qm", "two")
	git(t, p, "stash", "list")
	if out := git(t, p, "rev-parse", "--git-common-dir"); !strings.HasSuffix(strings.TrimSpace(out), ".git") {
		t.Errorf("git-common-dir %q", out)
	}
	// A second look accepts our own commondir.
	if _, err := Protect(p, "/state"); err != nil {
		t.Errorf("our own commondir refused: %v", err)
	}
}

func TestProtectMissingHooksAndConfigAreMade(t *testing.T) {
	p := newRepo(t)
	os.RemoveAll(p + "/.git/hooks")
	g, err := Protect(p, "/state")
	if err != nil {
		t.Fatal(err)
	}
	if err := hostfs.Apply(g.Ops); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p + "/.git/hooks"); err != nil || !fi.IsDir() {
		t.Errorf("hooks not made: %v", err)
	}
	if m, ok := mountOf(g, p+"/.git/hooks"); !ok || !m.ReadOnly {
		t.Errorf("hooks not mounted read-only: %+v", g.Mounts)
	}
}

func TestProtectRefusesTampering(t *testing.T) {
	outside := t.TempDir()
	cases := map[string]struct {
		plant func(t *testing.T, p string)
		path  string // relative to the project
		what  string
	}{
		".git is a symlink": {func(t *testing.T, p string) {
			os.Rename(p+"/.git", p+"/.git-old")
			os.Symlink(p+"/.git-old", p+"/.git")
		}, ".git", "symbolic link"},
		"hooks is a symlink": {func(t *testing.T, p string) {
			os.RemoveAll(p + "/.git/hooks")
			os.Symlink(outside, p+"/.git/hooks")
		}, ".git/hooks", "symbolic link"},
		"config is a symlink": {func(t *testing.T, p string) {
			os.Rename(p+"/.git/config", p+"/.git/config-old")
			os.Symlink(outside+"/env", p+"/.git/config")
		}, ".git/config", "symbolic link"},
		"commondir elsewhere": {func(t *testing.T, p string) {
			write(t, p+"/.git/commondir", "../evil\n")
		}, ".git/commondir", `"../evil"`},
		"commondir symlink": {func(t *testing.T, p string) {
			os.Symlink(outside, p+"/.git/commondir")
		}, ".git/commondir", "not a plain file"},
		".git file into the project": {func(t *testing.T, p string) {
			os.Rename(p+"/.git", p+"/hidden")
			write(t, p+"/.git", "gitdir: hidden\n")
		}, ".git", "sends git to"},
		".git file into the state folder": {func(t *testing.T, p string) {
			os.RemoveAll(p + "/.git")
			write(t, p+"/.git", "gitdir: /state/projects/x/homes/claude/g\n")
		}, ".git", "sends git to /state/"},
		".git file that is not gitdir": {func(t *testing.T, p string) {
			os.RemoveAll(p + "/.git")
			write(t, p+"/.git", "hello\n")
		}, ".git", "gitdir:"},
		"a subfolder repo with a symlinked hooks": {func(t *testing.T, p string) {
			git(t, p, "init", "-q", "sub")
			os.RemoveAll(p + "/sub/.git/hooks")
			os.Symlink(outside, p+"/sub/.git/hooks")
		}, "sub/.git/hooks", "symbolic link"},
		"a submodule config is a symlink": {func(t *testing.T, p string) {
			os.MkdirAll(p+"/.git/modules/m/hooks", 0o755)
			write(t, p+"/.git/modules/m/HEAD", "ref: refs/heads/main\n")
			os.Symlink(outside, p+"/.git/modules/m/config")
		}, ".git/modules/m/config", "symbolic link"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := newRepo(t)
			c.plant(t, p)
			_, err := Protect(p, "/state")
			var te *TamperedError
			if !errors.As(err, &te) {
				t.Fatalf("not refused: %v", err)
			}
			if te.Path != filepath.Join(p, c.path) || !strings.Contains(te.Error(), c.what) {
				t.Errorf("error %q (path %s), want path %s and %q", te, te.Path, c.path, c.what)
			}
			if !strings.Contains(te.Hint(), "ls -la") {
				t.Errorf("hint %q", te.Hint())
			}
		})
	}
}

func TestProtectWorktreeAndSubmodule(t *testing.T) {
	main := newRepo(t)
	wt := filepath.Join(filepath.Dir(main), "wt")
	git(t, main, "worktree", "add", "-q", wt)
	g, err := Protect(wt, "/state")
	if err != nil {
		t.Fatalf("a worktree (its .git points outside) is refused: %v", err)
	}
	if m, ok := mountOf(g, wt+"/.git"); !ok || !m.ReadOnly {
		t.Errorf("the worktree's .git file must be read-only: %+v", g.Mounts)
	}

	// A superproject with a submodule: the submodule's .git file points
	// into .git/modules, whose config and hooks are protected.
	lib := newRepo(t)
	git(t, main, "submodule", "add", "-q", lib, "lib")
	g, err = Protect(main, "/state")
	if err != nil {
		t.Fatal(err)
	}
	for target, ro := range map[string]bool{
		main + "/lib/.git":                true,
		main + "/.git/modules/lib/config": true,
		main + "/.git/modules/lib/hooks":  true,
	} {
		if m, ok := mountOf(g, target); !ok || m.ReadOnly != ro {
			t.Errorf("mount %s: %+v %v", target, m, ok)
		}
	}
	if len(g.Repos) != 2 {
		t.Errorf("repos %v", g.Repos)
	}
}

func TestProtectNoGit(t *testing.T) {
	g, err := Protect(t.TempDir(), "/state")
	if err != nil || len(g.Mounts) != 0 || g.GitInode != 0 {
		t.Errorf("%+v %v", g, err)
	}
}

func TestProtectWorktreeConfig(t *testing.T) {
	p := newRepo(t)
	git(t, p, "config", "extensions.worktreeConfig", "true")
	g, err := Protect(p, "/state")
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := mountOf(g, p+"/.git/config.worktree"); !ok || !m.ReadOnly {
		t.Errorf("config.worktree must be made and mounted read-only when worktreeConfig is on: %+v", g.Mounts)
	}
}

func TestDefuseDisarmsANestedRepository(t *testing.T) {
	p := newRepo(t)
	git(t, p, "init", "-q", "sub")
	cfg := "[core]\n\trepositoryformatversion = 0\n\tfsmonitor = \"echo PWNED >> marker; false\"\n\tbare = false\n" +
		"[Core]\n\tpager = evil\n[alias]\n\tst = status\n\tx = !sh -c 'echo run'\n[remote \"origin\"]\n\turl = https://h/x.git\n\tvcs = evil\n" +
		"[include]\n\tpath = ../../payload\n[filter \"lfs\"]\n\tclean = evil \\\n\t  continued\n[user]\n\tname = agent\n"
	write(t, p+"/sub/.git/config", cfg)
	write(t, p+"/sub/.git/hooks/pre-commit", "#!/bin/sh\necho hook\n")
	write(t, p+"/sub/.git/commondir", "../elsewhere\n")
	changed, err := Defuse(p, "sub/.git")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(changed, ",")
	if got != "sub/.git/config,sub/.git/hooks/pre-commit,sub/.git/commondir" {
		t.Errorf("changed %s", got)
	}
	data, _ := os.ReadFile(p + "/sub/.git/config")
	out := string(data)
	for _, armed := range []string{"fsmonitor", "pager = evil", "x = !sh", "vcs = evil", "path = ../../payload", "clean = evil", "continued"} {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, armed) && !strings.HasPrefix(line, disarmed) {
				t.Errorf("still armed: %q", line)
			}
		}
	}
	for _, kept := range []string{"\trepositoryformatversion = 0\n", "\tst = status\n", "\turl = https://h/x.git\n", "\tname = agent\n", "\tbare = false\n"} {
		if !strings.Contains(out, kept) {
			t.Errorf("lost %q:\n%s", kept, out)
		}
	}
	if orig, _ := os.ReadFile(p + "/sub/.git/config.ai-sandbox-original"); string(orig) != cfg {
		t.Error("the original config is not kept")
	}
	// git still reads it, and runs nothing.
	git(t, p+"/sub", "status", "--short")
	if _, err := os.Stat(p + "/sub/marker"); err == nil {
		t.Error("the disarmed fsmonitor ran")
	}
	// A second pass finds nothing to do; the project's own .git is refused.
	if changed, _ := Defuse(p, "sub/.git"); len(changed) != 0 {
		t.Errorf("second pass: %v", changed)
	}
	if _, err := Defuse(p, ".git"); err == nil {
		t.Error("the project's own .git was disarmed")
	}
}

// A planted link is set aside, never followed.
func TestDefuseNeverFollowsLinks(t *testing.T) {
	p := newRepo(t)
	outside := t.TempDir()
	write(t, outside+"/config", "[core]\n\tfsmonitor = x\n")
	os.MkdirAll(p+"/sub/.git", 0o755)
	os.Symlink(outside+"/config", p+"/sub/.git/config")
	os.Symlink(outside, p+"/sub/.git/hooks")
	changed, err := Defuse(p, "sub/.git")
	if err != nil || len(changed) != 2 {
		t.Fatalf("%v %v", changed, err)
	}
	if data, _ := os.ReadFile(outside + "/config"); string(data) != "[core]\n\tfsmonitor = x\n" {
		t.Error("the link's target was changed")
	}
	os.RemoveAll(p + "/sub")
	os.Symlink(outside, p+"/sub")
	if _, err := Defuse(p, "sub/.git"); err == nil {
		t.Error("went through a linked folder")
	}
}

func TestGitlinksFromARealIndex(t *testing.T) {
	for _, version := range []string{"2", "3", "4"} {
		t.Run("v"+version, func(t *testing.T) {
			p := newRepo(t)
			for _, sub := range []string{"lib/a", "vendor/b-with-a-long-name"} {
				git(t, p, "init", "-q", sub)
				git(t, p+"/"+sub, "commit", "-q", "--allow-empty", "-m", "x")
			}
			write(t, p+"/vendor/file.txt", "x\n")
			write(t, p+"/later.txt", "x\n")
			git(t, p, "add", "lib/a", "vendor")
			git(t, p, "add", "-N", "later.txt") // an extended-flags entry
			git(t, p, "update-index", "--index-version", version)
			data, err := os.ReadFile(p + "/.git/index")
			if err != nil {
				t.Fatal(err)
			}
			got, err := Gitlinks(data, 20)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != "lib/a,vendor/b-with-a-long-name" {
				t.Errorf("gitlinks %q", got)
			}
		})
	}
	if _, err := Gitlinks([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x05"), 20); err == nil {
		t.Error("a truncated index was read")
	}
}

func TestDefuseGitFilesAndLinks(t *testing.T) {
	p := newRepo(t)
	write(t, p+"/in/.git", "gitdir: ../inner-gitdir\n")
	write(t, p+"/out/.git", "gitdir: /home/somebody/.ai-sandbox/projects/x/homes/claude/g\n")
	os.MkdirAll(p+"/linked", 0o755)
	os.Symlink("/tmp", p+"/linked/.git")
	if c, err := Defuse(p, "in/.git"); err != nil || len(c) != 0 {
		t.Errorf("a .git file into the project is left (its git dir is disarmed itself): %v %v", c, err)
	}
	for _, rel := range []string{"out/.git", "linked/.git"} {
		c, err := Defuse(p, rel)
		if err != nil || len(c) != 1 {
			t.Errorf("%s: %v %v", rel, c, err)
		}
		if _, err := os.Lstat(p + "/" + rel); err == nil {
			t.Errorf("%s is still there", rel)
		}
		if _, err := os.Lstat(p + "/" + rel + Quarantined); err != nil {
			t.Errorf("%s was not set aside", rel)
		}
	}
}
