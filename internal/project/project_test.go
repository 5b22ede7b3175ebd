package project_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

// hash8 is the original's `printf '%s' "$src" | openssl dgst -sha256 -r | cut -c1-8`.
func hash8(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])[:8]
}

func TestReadable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"my-app", "my-app"},
		{"My Project", "my-project"},
		{"My  Project!", "my--project"},
		{"a_b-c.d", "a_b-cd"},
		{"UPPER_case", "upper_case"},
		{"tab\there", "tabhere"}, // only spaces become "-"
		{"café au lait", "caf-au-lait"},
		{"ÄÖÜ straße", "-strae"},
		{"İstanbul", "stanbul"},  // filtered before lowercasing, as tr does
		{"\u212Aelvin", "elvin"}, // the Kelvin sign is not ASCII
		{"日本語", "workspace"},     // nothing left
		{"", "workspace"},
		{"...", "workspace"},
		{"/", "workspace"},
		{strings.Repeat("x", 29) + "YZ", strings.Repeat("x", 29) + "y"}, // 30 characters at most
		{strings.Repeat("ab ", 20), "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-"},
	}
	for _, tt := range tests {
		if got := project.Readable(tt.in); got != tt.want {
			t.Errorf("Readable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The original's readable-name pipeline, run by a real shell, agrees
// with Readable on awkward names.
func TestReadableMatchesTheOriginalsPipeline(t *testing.T) {
	for _, tool := range []string{"bash", "tr", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	names := []string{"My Project", "café au lait", "İstanbul", "\u212Aelvin", "ÄÖÜ straße", "a_b-c.d", "UPPER", "日本語",
		"tab\there", strings.Repeat("Long Name ", 5), "it's \"quoted\", ok", "$(echo hi)"}
	for _, n := range names {
		cmd := exec.Command("bash", "-c", `human=$(echo "$1" | tr ' ' '-' | tr -cd '[:alnum:]_-' | tr '[:upper:]' '[:lower:]' | cut -c1-30)
[[ -z "$human" ]] && human="workspace"
printf '%s' "$human"`, "bash", n)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("shell: %v", err)
		}
		if got := project.Readable(n); got != string(out) {
			t.Errorf("Readable(%q) = %q, the original's pipeline gives %q", n, got, out)
		}
	}
}

func TestID(t *testing.T) {
	tests := []struct{ name, source, want string }{
		{"app", "path:/home/u/app", "app-" + hash8("path:/home/u/app")},
		{"My App", "gitroot:/home/u/My App", "my-app-" + hash8("gitroot:/home/u/My App")},
		{"repo", "git:git@github.com:org/repo.git", "repo-" + hash8("git:git@github.com:org/repo.git")},
		{"", "path:/", "workspace-" + hash8("path:/")},
	}
	for _, tt := range tests {
		if got := project.ID(tt.name, tt.source); got != tt.want {
			t.Errorf("ID(%q, %q) = %q, want %q", tt.name, tt.source, got, tt.want)
		}
	}
	// Pinned values: a change to the algorithm breaks users' data.
	if got := project.ID("app", "path:/home/u/app"); got != "app-"+hash8("path:/home/u/app") || len(got) != len("app-")+8 {
		t.Errorf("ID = %q", got)
	}
	sum := sha256.Sum256([]byte("git:https://github.com/o/r.git"))
	if want := "r-" + hex.EncodeToString(sum[:4]); project.ID("r", "git:https://github.com/o/r.git") != want {
		t.Errorf("ID of a git source = %q, want %q", project.ID("r", "git:https://github.com/o/r.git"), want)
	}
}

// gitEnv isolates git from the machine's and the user's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"LC_ALL=C.UTF-8")
}

type gitHelper struct {
	t    *testing.T
	home string
}

func (g gitHelper) run(dir string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cmd.Env = gitEnv(g.home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// originalID is the original's compute_project_identifier, run by bash
// with real git: the oracle the Go code must agree with.
func (g gitHelper) originalID(dir string) string {
	g.t.Helper()
	const script = `set -e
workdir="$1"
remote_url=$(git -C "$workdir" config --get remote.origin.url 2>/dev/null || true)
if [[ -n "$remote_url" ]]; then
  src="git:${remote_url}"
  human=$(echo "${remote_url}" | sed 's|.*/||; s|\.git$||')
else
  top=$(git -C "$workdir" rev-parse --show-toplevel 2>/dev/null || true)
  if [[ -n "$top" ]]; then
    real=$(realpath "$top"); src="gitroot:${real}"
  else
    real=$(realpath "$workdir"); src="path:${real}"
  fi
  human=$(basename "$real")
fi
hash=$(printf '%s' "$src" | sha256sum | cut -c1-8)
human=$(echo "$human" | tr ' ' '-' | tr -cd '[:alnum:]_-' | tr '[:upper:]' '[:lower:]' | cut -c1-30)
[[ -z "$human" ]] && human="workspace"
printf '%s' "${human}-${hash}"`
	cmd := exec.Command("bash", "-c", script, "bash", dir)
	cmd.Env = gitEnv(g.home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("oracle for %s: %v\n%s", dir, err, out)
	}
	return string(out)
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
}

func realTempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mkdir(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindWithRealGit(t *testing.T) {
	needTools(t, "git", "bash", "sha256sum", "realpath", "sed")
	root := realTempDir(t)
	g := gitHelper{t: t, home: mkdir(t, filepath.Join(root, "githome"))}

	// A folder outside any repository.
	plain := mkdir(t, filepath.Join(root, "My Plain Folder, v2 İ"))

	// A repository without a remote, looked at from a subfolder.
	local := mkdir(t, filepath.Join(root, "local repo"))
	g.run(local, "init", "-q")
	localSub := mkdir(t, filepath.Join(local, "src", "pkg"))

	// A repository with an origin, its worktree, and a clone with several urls.
	main := mkdir(t, filepath.Join(root, "main"))
	g.run(main, "init", "-q")
	g.run(main, "remote", "add", "origin", "https://github.com/acme/Web-App.git")
	g.run(main, "commit", "-q", "--allow-empty", "-m", "init")
	wt := filepath.Join(root, "wt-feature")
	g.run(main, "worktree", "add", "-q", wt)
	mainSub := mkdir(t, filepath.Join(main, "deep", "er"))

	// A real submodule: its .git is a "gitdir:" file.
	lib := mkdir(t, filepath.Join(root, "lib"))
	g.run(lib, "init", "-q")
	g.run(lib, "commit", "-q", "--allow-empty", "-m", "lib")
	g.run(main, "submodule", "add", "-q", lib, "vendor/lib")
	sub := filepath.Join(main, "vendor", "lib")

	// A worktree of a repository without an origin.
	g.run(local, "commit", "-q", "--allow-empty", "-m", "init")
	localWT := filepath.Join(root, "local-wt")
	g.run(local, "worktree", "add", "-q", localWT)

	// Remote URLs the readable name must cut like the original's sed.
	urls := map[string]string{
		"scp-no-slash": "git@host.example:repo.git",
		"trailing":     "https://github.com/o/r/",
		"quoted":       "ssh://git@h/p; not # a comment.git",
		"spaces":       "/srv/git/My Repo.git",
	}
	urlDirs := map[string]string{}
	for name, u := range urls {
		d := mkdir(t, filepath.Join(root, "url-"+name))
		g.run(d, "init", "-q")
		g.run(d, "config", "remote.origin.url", u)
		urlDirs[name] = d
	}
	multi := mkdir(t, filepath.Join(root, "multi"))
	g.run(multi, "init", "-q")
	g.run(multi, "config", "remote.origin.url", "https://h/first.git")
	g.run(multi, "config", "--add", "remote.origin.url", "https://h/second.git")
	g.run(multi, "config", "remote.upstream.url", "https://h/upstream.git")

	tests := []struct {
		name               string
		dir                string
		wantTop, wantURL   string
		wantSource, wantID string
	}{
		{"plain folder", plain, "", "", "path:" + plain, "my-plain-folder-v2--" + hash8("path:"+plain)},
		{"repo top without origin", local, local, "", "gitroot:" + local, "local-repo-" + hash8("gitroot:"+local)},
		{"repo subfolder without origin", localSub, local, "", "gitroot:" + local, "local-repo-" + hash8("gitroot:"+local)},
		{"worktree without origin", localWT, localWT, "", "gitroot:" + localWT, "local-wt-" + hash8("gitroot:"+localWT)},
		{"repo with origin", main, main, "https://github.com/acme/Web-App.git", "git:https://github.com/acme/Web-App.git",
			"web-app-" + hash8("git:https://github.com/acme/Web-App.git")},
		{"subfolder of repo with origin", mainSub, main, "https://github.com/acme/Web-App.git", "git:https://github.com/acme/Web-App.git",
			"web-app-" + hash8("git:https://github.com/acme/Web-App.git")},
		{"worktree shares the origin", wt, wt, "https://github.com/acme/Web-App.git", "git:https://github.com/acme/Web-App.git",
			"web-app-" + hash8("git:https://github.com/acme/Web-App.git")},
		{"submodule", sub, sub, lib, "git:" + lib, "lib-" + hash8("git:"+lib)},
		{"scp url without a slash", urlDirs["scp-no-slash"], urlDirs["scp-no-slash"], urls["scp-no-slash"], "git:" + urls["scp-no-slash"],
			"githost" + "examplerepo-" + hash8("git:"+urls["scp-no-slash"])},
		{"url with a trailing slash", urlDirs["trailing"], urlDirs["trailing"], urls["trailing"], "git:" + urls["trailing"],
			"workspace-" + hash8("git:"+urls["trailing"])},
		{"url git had to quote", urlDirs["quoted"], urlDirs["quoted"], urls["quoted"], "git:" + urls["quoted"],
			"p-not--a-comment-" + hash8("git:"+urls["quoted"])},
		{"url with spaces", urlDirs["spaces"], urlDirs["spaces"], urls["spaces"], "git:" + urls["spaces"],
			"my-repo-" + hash8("git:"+urls["spaces"])},
		{"several origin urls: the last wins", multi, multi, "https://h/second.git", "git:https://h/second.git",
			"second-" + hash8("git:https://h/second.git")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := project.Find(tt.dir, askGit(g.home))
			if got.TopLevel != tt.wantTop || got.OriginURL != tt.wantURL || got.Source != tt.wantSource || got.ID != tt.wantID {
				t.Errorf("Find(%q) =\n  %+v\nwant top=%q url=%q source=%q id=%q", tt.dir, got, tt.wantTop, tt.wantURL, tt.wantSource, tt.wantID)
			}
			// Real git agrees on the facts…
			if tt.wantTop != "" {
				if top := g.run(tt.dir, "rev-parse", "--show-toplevel"); top != got.TopLevel {
					t.Errorf("git rev-parse --show-toplevel = %q, Find = %q", top, got.TopLevel)
				}
				cmd := exec.Command("git", "config", "--get", "remote.origin.url")
				cmd.Dir, cmd.Env = tt.dir, gitEnv(g.home)
				out, _ := cmd.Output()
				if u := strings.TrimRight(string(out), "\n"); u != got.OriginURL {
					t.Errorf("git config --get remote.origin.url = %q, Find = %q", u, got.OriginURL)
				}
			}
			// …and the original's own algorithm gives the same id.
			if want := g.originalID(tt.dir); got.ID != want {
				t.Errorf("ID = %q, the original computes %q", got.ID, want)
			}
		})
	}
}

// A ".git" file with an absolute gitdir (as older git and some tools
// write for submodules) is followed to its config.
func TestFindGitdirFile(t *testing.T) {
	root := realTempDir(t)
	gitdir := mkdir(t, filepath.Join(root, "store", "modules", "thing"))
	cfg := "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://example.com/wrong.git\n" +
		"[Remote \"origin\"]\n\tURL = \"git@example.com:team/Thing.git\" ; trailing comment\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
	if err := os.WriteFile(filepath.Join(gitdir, "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"gitdir: " + gitdir + "\n", "gitdir: ../store/modules/thing\n"} {
		work := mkdir(t, filepath.Join(root, "work"))
		if err := os.WriteFile(filepath.Join(work, ".git"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		got := project.Find(mkdir(t, filepath.Join(work, "sub")), nil)
		const url = "git@example.com:team/Thing.git"
		if got.TopLevel != work || got.OriginURL != url || got.ID != "thing-"+hash8("git:"+url) {
			t.Errorf("with %q: %+v", line, got)
		}
	}
}

// The repository may lie above the workspace: the id follows git, as the
// original computes it (the caller keeps the mount inside the workspace).
func TestFindAboveTheWorkspace(t *testing.T) {
	needTools(t, "git", "bash", "sha256sum", "realpath", "sed")
	root := realTempDir(t)
	g := gitHelper{t: t, home: mkdir(t, filepath.Join(root, "githome"))}
	outer := mkdir(t, filepath.Join(root, "outer"))
	g.run(outer, "init", "-q")
	dir := mkdir(t, filepath.Join(outer, "ws", "app"))
	got := project.Find(dir, nil)
	if got.TopLevel != outer || got.Source != "gitroot:"+outer || got.ID != g.originalID(dir) {
		t.Errorf("%+v, the original computes %s", got, g.originalID(dir))
	}
}

// Config forms git reads and a line-by-line reader could miss: the
// deprecated [remote.origin] section, an origin set in an included file.
func TestFindReadsConfigLikeGit(t *testing.T) {
	needTools(t, "git", "bash", "sha256sum", "realpath", "sed")
	root := realTempDir(t)
	g := gitHelper{t: t, home: mkdir(t, filepath.Join(root, "githome"))}

	legacy := mkdir(t, filepath.Join(root, "legacy"))
	g.run(legacy, "init", "-q")
	appendFile(t, filepath.Join(legacy, ".git", "config"), "[Remote.Origin]\n\turl = https://h/legacy-syntax.git\n")

	included := mkdir(t, filepath.Join(root, "included"))
	g.run(included, "init", "-q")
	if err := os.WriteFile(filepath.Join(root, "origin.inc"), []byte("[remote \"origin\"]\n\turl = https://h/from-include.git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(included, ".git", "config"), "[include]\n\tpath = ../../origin.inc\n")

	for _, dir := range []string{legacy, included} {
		want := g.originalID(dir)
		if got := project.Find(dir, askGit(g.home)); got.ID != want {
			t.Errorf("%s: ID %q, the original computes %q (%+v)", filepath.Base(dir), got.ID, want, got)
		}
	}
	if got := project.Find(legacy, nil); got.OriginURL != "https://h/legacy-syntax.git" {
		t.Errorf("[remote.origin] read without git: %+v", got)
	}
	// Without git to ask, an include is not followed: the id falls back.
	if got := project.Find(included, nil); got.OriginURL != "" || got.Source != "gitroot:"+included {
		t.Errorf("include without git: %+v", got)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// askGit asks the real git, as ai-sandbox's launch does.
func askGit(home string) project.AskGit {
	return func(dir string) (string, bool) {
		cmd := exec.Command("git", "-C", dir, "config", "--get", "remote.origin.url")
		cmd.Env = gitEnv(home)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			return "", true
		}
		if err != nil {
			return "", false
		}
		return strings.TrimRight(string(out), "\n"), true
	}
}

// The files read are the agent's to write: a FIFO or a link planted as
// .git/config, commondir or a .git file never blocks or leads elsewhere.
func TestFindNeverBlocksOrFollows(t *testing.T) {
	root := realTempDir(t)
	secret := filepath.Join(root, "secret-config")
	os.WriteFile(secret, []byte("[remote \"origin\"]\n\turl = https://h/secret.git\n"), 0o644)
	for name, plant := range map[string]func(git string) error{
		"config is a fifo":  func(git string) error { return syscall.Mkfifo(filepath.Join(git, "config"), 0o644) },
		"config is a link":  func(git string) error { return os.Symlink(secret, filepath.Join(git, "config")) },
		"commondir is fifo": func(git string) error { return syscall.Mkfifo(filepath.Join(git, "commondir"), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := mkdir(t, filepath.Join(root, strings.ReplaceAll(name, " ", "-")))
			git := mkdir(t, filepath.Join(dir, ".git"))
			if err := plant(git); err != nil {
				t.Fatal(err)
			}
			done := make(chan project.Info)
			go func() { done <- project.Find(dir, nil) }()
			select {
			case got := <-done:
				if got.OriginURL != "" {
					t.Errorf("followed the plant: %+v", got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Find blocked on a planted file")
			}
		})
	}
}
