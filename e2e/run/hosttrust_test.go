package run_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
)

// The two-phase attacks of "the host side trusts nothing the agent
// wrote". Phase one plants, from inside a sandbox, what the host later
// reads, mounts or runs (the probe's plant-* checks); the sandbox stops;
// phase two launches again and runs the user's own git on the host. After
// it, nothing planted has run, no host secret is readable from inside,
// and nothing outside the project and its state has changed.

// outsideState is a listing of what no launch may change: the other
// workspace, the folders of the planted secrets and the env file.
func outsideState(e *harness.Env) map[string]string {
	m := map[string]string{}
	for _, dir := range []string{e.Other, filepath.Dir(e.Secrets[0]), filepath.Dir(e.Secrets[1])} {
		m[dir] = harness.Tree(dir)
	}
	env := filepath.Join(e.State, "env")
	m[env] = harness.Tree(env)
	return m
}

// requireOutsideUnchanged fails t when something outside the project and
// its state changed since before, or when a file of the state folder
// (the login store included) holds a planted secret's marker.
func requireOutsideUnchanged(t *testing.T, e *harness.Env, before map[string]string) {
	t.Helper()
	for dir, was := range outsideState(e) {
		if was != before[dir] {
			t.Errorf("%s changed:\nbefore:\n%s\nafter:\n%s", dir, before[dir], was)
		}
	}
	if files := harness.FilesWith(e.State, e.Markers); len(files) > 0 {
		t.Errorf("a host secret was copied into the state folder: %q", files)
	}
}

// requireHostGitRanNothing runs the user's own git in dir on the host
// (git status, git commit) and fails t when a planted command ran.
func requireHostGitRanNothing(t *testing.T, e *harness.Env, dir string) {
	t.Helper()
	for _, args := range [][]string{{"status"}, {"commit", "--allow-empty", "-q", "-m", "x"}} {
		if out, err := e.HostRun(dir, "git", args...); err != nil {
			t.Errorf("git %s on the host: %v", strings.Join(args, " "), err)
		} else {
			t.Logf("git %s on the host:\n%s", strings.Join(args, " "), out)
		}
	}
	if ran := harness.Planted(dir); ran != "" {
		t.Errorf("the user's git on the host RAN a command planted in the sandbox (%s):\n%s", filepath.Join(dir, harness.PlantMarker), ran)
	}
}

// phaseTwo launches claude's sandbox again after a plant: the launch
// works, no host secret is readable from inside (nor through
// .git/hooks), and then the user's git on the host runs nothing planted
// and nothing outside changed.
func phaseTwo(t *testing.T, e *harness.Env, before map[string]string) {
	t.Helper()
	res := e.Probe("claude", nil, "read-host-secret")
	harness.RequireBlocked(t, res, "read-host-secret")
	r := e.Run(sandboxRun(e, "sh", "-c", "cat .git/hooks/id_rsa")...)
	if r.Code == 0 || containsAny(r.Stdout+r.Stderr, e.Markers) {
		t.Errorf("the host's SSH key is readable as .git/hooks/id_rsa in the sandbox:\n%s", r)
	}
	r = e.Run(sandboxRun(e, "sh", "-c", "cat .git/config")...)
	if r.Code != 0 || strings.Contains(r.Stdout, e.DeclaredValue) {
		t.Errorf("cat .git/config in the sandbox: want the project's git config, not the env file:\n%s", r)
	}
	e.StopIn(e.Project)
	requireHostGitRanNothing(t, e, e.Project)
	requireOutsideUnchanged(t, e, before)
}

func containsAny(s string, subs []string) bool {
	for _, v := range subs {
		if v != "" && strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// TestHostTrustGitPlants: each plant on the project's .git is refused
// inside the sandbox (the .git is mounted onto itself; hooks, config and
// commondir read-only), and the next launch and the user's git find
// nothing planted.
func TestHostTrustGitPlants(t *testing.T) {
	t.Parallel()
	for _, check := range []string{"plant-hooks-symlink", "plant-config-symlink", "plant-git-symlink",
		"plant-renamed-git", "plant-git-file", "plant-commondir"} {
		t.Run(check, func(t *testing.T) {
			t.Parallel()
			e := harness.NewEnv(t)
			before := outsideState(e)
			res := e.Probe("claude", nil, check)
			harness.RequireBlocked(t, res, check)
			e.StopIn(e.Project)
			phaseTwo(t, e, before)
		})
	}
}

// TestHostTrustNestedRepo: a repository written by hand inside the
// project, and an .envrc, cannot be prevented; the user's git in the
// project does not run the nested repository's config or hooks, the next
// launch works and the exit report named them.
func TestHostTrustNestedRepo(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	before := outsideState(e)
	r := e.Probe("claude", nil, "plant-nested-repo")["plant-nested-repo"]
	if !r.Succeeded {
		t.Fatalf("plant-nested-repo did not take effect (it cannot be prevented): %s", r.Detail)
	}
	e.StopIn(e.Project)
	requireReported(t, e, ".envrc", "nested-repo/.git/config", "nested-repo/.git/hooks/pre-commit")
	phaseTwo(t, e, before)
}

// TestHostTrustIndexGitlink: a repository written inside the project and
// recorded as a submodule in the project's own index (.git/index, which
// git in the sandbox must write) — the user's git status in the project
// runs git status in the nested repository, which obeys its
// core.fsmonitor. The plant cannot be prevented in the sandbox; the
// user's git on the host must still run nothing planted.
func TestHostTrustIndexGitlink(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	before := outsideState(e)
	r := e.Probe("claude", nil, "plant-index-gitlink")["plant-index-gitlink"]
	if !r.Succeeded {
		t.Fatalf("plant-index-gitlink did not take effect: %s", r.Detail)
	}
	e.StopIn(e.Project)
	requireReported(t, e, "gitlinked/.git/config")
	phaseTwo(t, e, before)
}

// TestHostTrustIndexGitlinkDuringASession: the same plant while another
// session of the project still runs (the user works in a second terminal
// on the host, whose prompt runs git status): the running launch's watch
// disarms the linked repository within a moment, so the host's git runs
// nothing planted even before the last session ends.
func TestHostTrustIndexGitlinkDuringASession(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	keep := startSession(t, e, "keep", sandboxRun(e, "claude", "__sleep", "60")...)
	_ = keep
	r := e.Probe("claude", nil, "plant-index-gitlink")["plant-index-gitlink"]
	if !r.Succeeded {
		t.Fatalf("plant-index-gitlink did not take effect: %s", r.Detail)
	}
	// Give the watch (every 250ms) a moment; the session goes on.
	time.Sleep(2 * time.Second)
	if n := len(e.Containers()); n != 1 {
		t.Fatalf("the first session's sandbox is gone (%d containers)", n)
	}
	requireHostGitRanNothing(t, e, e.Project)
	cfg := e.ReadProjectFile("gitlinked/.git/config")
	if !strings.Contains(cfg, "# ai-sandbox disarmed: ") {
		t.Errorf("the linked repository's config was not disarmed:\n%s", cfg)
	}
}

// requireReported fails t unless the project's last exit report
// ('ai-sandbox report --json') lists each path.
func requireReported(t *testing.T, e *harness.Env, paths ...string) {
	t.Helper()
	r := e.Run("report", "--json")
	var rep struct {
		Changes []struct{ Path, Why string } `json:"changes"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &rep) != nil {
		t.Fatalf("ai-sandbox report --json:\n%s", r)
	}
	listed := map[string]bool{}
	for _, c := range rep.Changes {
		listed[c.Path] = true
	}
	for _, p := range paths {
		if !listed[p] {
			t.Errorf("the exit report does not list %s:\n%s", p, r.Stdout)
		}
	}
}

// TestHostTrustRefusesTampering: a tampered .git that only the host side
// can make (the sandbox cannot) is refused at launch with an error naming
// the path and a hint, and no container starts; a .git replaced since the
// last launch is accepted after 'ai-sandbox project rebind'.
func TestHostTrustRefusesTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, script string
		path         string // below the project: named in the error
		what         string // in the error too
	}{
		{"git-symlink", `mv .git .git-real && ln -s .git-real .git`, ".git", "is a symbolic link"},
		{"commondir-elsewhere", `cp -a .git ../elsewhere.git && echo "$(cd .. && pwd)/elsewhere.git" > .git/commondir`, ".git/commondir", "sends git to"},
		{"hooks-symlink", `rm -rf .git/hooks && ln -s "$HOME/.ssh" .git/hooks`, ".git/hooks", "is a symbolic link"},
		{"config-symlink", `mv .git/config .git/config.real && ln -s config.real .git/config`, ".git/config", "is a symbolic link"},
		{"git-file-into-project", `mv .git .git-real && echo "gitdir: .git-real" > .git`, ".git", "a folder the sandbox can write"},
		{"git-file-into-state", `d="$HOME/.ai-sandbox/projects/planted" && mkdir -p "$d" && mv .git "$d/git" && echo "gitdir: $d/git" > .git`, ".git", "a folder the sandbox can write"},
		{"replaced", `mv .git .git-old && cp -a .git-old .git`, ".git", "was replaced since the last sandbox session"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := harness.NewEnv(t)
			// A first launch records the project's .git.
			if r := e.Run(sandboxRun(e, "true")...); r.Code != 0 {
				t.Fatalf("%s", r)
			}
			e.StopIn(e.Project)
			e.HostSh(e.Project, c.script)

			r := e.Run(sandboxRun(e, "true")...)
			path := filepath.Join(e.Project, c.path)
			if r.Code != 1 || !strings.Contains(r.Stderr, "ai-sandbox: error: "+path+" ") && !strings.Contains(r.Stderr, "ai-sandbox: error: "+path+"\n") ||
				!strings.Contains(r.Stderr, c.what) || !strings.Contains(r.Stderr, "ai-sandbox: hint: ") {
				t.Errorf("want exit 1 and an error naming %s (%q) with a hint\n%s", path, c.what, r)
			}
			if ids := e.ContainersOf(e.Project, ""); len(ids) != 0 {
				t.Errorf("a container started for a tampered .git: %v", ids)
			}
			if c.name != "replaced" {
				return
			}
			if !strings.Contains(r.Stderr, "ai-sandbox project rebind") {
				t.Errorf("the hint does not name 'ai-sandbox project rebind'\n%s", r)
			}
			if r := e.Run("project", "rebind"); r.Code != 0 {
				t.Fatalf("%s", r)
			}
			if r := e.Run(sandboxRun(e, "true")...); r.Code != 0 {
				t.Errorf("the launch after 'ai-sandbox project rebind' failed\n%s", r)
			}
		})
	}
}

// TestHostTrustHomeLinks: links planted in the agent's home (the skills
// folder to the other workspace, the login file to the host's SSH key)
// cannot be prevented; the login store never receives the key, and the
// next launches refuse or warn about each link rather than write through
// it.
func TestHostTrustHomeLinks(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	// A login in claude's store, as an earlier login leaves it: a launch
	// copies it into the home, through the planted link if it were careless.
	store := filepath.Join(e.State, "tools", "claude", "login")
	if _, err := e.HostRun(e.Dir, "sh", "-c", `umask 077 && mkdir -p "$1/.claude" && echo '{"claudeAiOauth":"e2e-fake-login"}' > "$1/.claude/.credentials.json"`, "sh", store); err != nil {
		t.Fatal(err)
	}
	before := outsideState(e)
	storeBefore := harness.Tree(store)

	r := e.Probe("claude", nil, "plant-home-links")["plant-home-links"]
	home := e.ToolHome("claude")
	skillsLink, credsLink := filepath.Join(home, ".claude", "skills"), filepath.Join(home, ".claude", ".credentials.json")
	if !r.HasFact("link", "/home/agent/.claude/skills") || !r.HasFact("link", "/home/agent/.claude/.credentials.json") {
		t.Fatalf("plant-home-links did not take effect (the home is the agent's): %s", r.Detail)
	}
	e.StopIn(e.Project)
	if got := harness.Tree(store); got != storeBefore {
		t.Errorf("the session's end changed the login store:\nbefore:\n%s\nafter:\n%s", storeBefore, got)
	}
	requireOutsideUnchanged(t, e, before)

	// The next launch refuses the linked login file...
	l := e.Run(sandboxRun(e, "claude", "__sleep", "0")...)
	if l.Code == 0 || !strings.Contains(l.Stderr, "ai-sandbox: error: ") || !strings.Contains(l.Stderr, credsLink) ||
		!strings.Contains(l.Stderr, "symbolic link") {
		t.Errorf("want the launch refused with an error naming the linked %s\n%s", credsLink, l)
	}
	requireOutsideUnchanged(t, e, before)

	// ... and once the user removed that link, does not install the
	// bundled skills through the linked skills folder: it says so.
	if err := os.Remove(credsLink); err != nil {
		t.Fatal(err)
	}
	l = e.Run(sandboxRun(e, "claude", "__sleep", "0")...)
	if !strings.Contains(l.Stderr, skillsLink) || !strings.Contains(l.Stderr, "symbolic link") ||
		!strings.Contains(l.Stderr, "ai-sandbox: error: ") && !strings.Contains(l.Stderr, "ai-sandbox: warning: ") {
		t.Errorf("want an error or a warning naming the linked %s\n%s", skillsLink, l)
	}
	t.Logf("the launch with the skills folder linked:\n%s", l)
	e.StopIn(e.Project)
	requireOutsideUnchanged(t, e, before)
	if data, err := os.ReadFile(filepath.Join(home, ".claude", ".credentials.json")); err != nil || containsAny(string(data), e.Markers) {
		t.Errorf("the home's login file after the launch: %v (a secret: %v)", err, containsAny(string(data), e.Markers))
	}
}

// TestHostTrustHomeIsolation: what project A's claude session plants in
// its home (/home/agent) is not in project B's claude session, even in
// the same workspace.
func TestHostTrustHomeIsolation(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	b := filepath.Join(e.Workspace, "project-b")
	e.GitInit(b)
	marker := "e2e-home-marker-" + harness.Random()
	plant := "echo 'echo " + marker + "' >> ~/.profile; echo 'echo " + marker + "' >> ~/.bashrc; mkdir -p ~/.claude; echo " + marker + " > ~/.claude/planted; echo planted\n"
	r := e.RunWith(harness.RunOpts{Stdin: strings.NewReader(plant)}, sandboxRun(e, "--shell", "claude")...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "planted") {
		t.Fatalf("planting in project A's home:\n%s", r)
	}
	if files := harness.FilesWith(e.ToolHome("claude"), []string{marker}); len(files) == 0 {
		t.Fatalf("the plant is not in project A's home %s", e.ToolHome("claude"))
	}
	look := "cat ~/.profile ~/.bashrc ~/.claude/planted 2>&1; echo looked\n"
	r = e.RunIn(b, harness.RunOpts{Stdin: strings.NewReader(look)}, sandboxRun(e, "--shell", "claude")...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "looked") {
		t.Fatalf("project B's claude session:\n%s", r)
	}
	if strings.Contains(r.Stdout+r.Stderr, marker) {
		t.Errorf("project A's plant reached project B's home:\n%s", r)
	}
}

// TestHostTrustOtherOrigin: a folder whose .git was planted (from inside
// its sandbox) with the origin of another project gets the same project
// id, but never that project's OpenCode database: it gets its own
// (<id>-<8 hex>), in its own container. A project moved away from its
// database is refused with the rebind hint.
func TestHostTrustOtherOrigin(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	const url = "https://example.invalid/x.git"
	if _, err := e.HostRun(e.Project, "git", "remote", "add", "origin", url); err != nil {
		t.Fatal(err)
	}
	bin := e.ProbeAs("opencode")
	opencode := []string{"run", "--image", e.S.Image, "--idle-timeout", "5m", "--mount", bin + ":/usr/local/bin:ro", "opencode", "__sleep", "0"}
	if r := e.Run(opencode...); r.Code != 0 {
		t.Fatalf("opencode in the first project:\n%s", r)
	}

	plain := filepath.Join(e.Other, "plain")
	e.HostSh(e.Other, "mkdir plain")
	plant := `mkdir -p .git/objects .git/refs/heads && echo 'ref: refs/heads/main' > .git/HEAD && printf '[remote "origin"]\n\turl = ` + url + `\n' > .git/config`
	if r := e.RunIn(plain, harness.RunOpts{}, "run", "--image", e.S.Image, "--idle-timeout", "0", "sh", "-c", plant); r.Code != 0 {
		t.Fatalf("planting the .git:\n%s", r)
	}
	e.StopIn(plain)
	r := e.RunIn(plain, harness.RunOpts{}, opencode...)
	if r.Code != 0 {
		t.Fatalf("opencode in the planted folder:\n%s", r)
	}
	t.Logf("opencode in the planted folder:\n%s", r.Stderr)

	a, b := e.ContainersOf(e.Project, "opencode"), e.ContainersOf(plain, "opencode")
	if len(a) != 1 || len(b) != 1 || a[0] == b[0] {
		t.Fatalf("want one opencode container for each folder, distinct: %v %v", a, b)
	}
	label := func(id string) string {
		return strings.TrimSpace(e.S.DockerOut(t, "inspect", "--format", `{{index .Config.Labels "ai-sandbox.project"}}`, id))
	}
	id := label(a[0])
	if label(b[0]) != id {
		t.Fatalf("the planted origin did not give the same project id (%s, %s): the test proves nothing", id, label(b[0]))
	}
	dbs := filepath.Join(e.State, "opencode-dbs")
	if got := dbMount(t, e, a[0]); got != filepath.Join(dbs, id) {
		t.Errorf("the first project's database is %s, want %s", got, filepath.Join(dbs, id))
	}
	got := dbMount(t, e, b[0])
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(filepath.Join(dbs, id)) + `-[0-9a-f]{8}$`).MatchString(got) {
		t.Errorf("the planted folder's database is %s, want its own %s-<8 hex>", got, filepath.Join(dbs, id))
	}
	for _, m := range mounts(t, e, b[0]) {
		if m.Source == filepath.Join(dbs, id) || strings.HasPrefix(m.Source, filepath.Join(dbs, id)+"/") {
			t.Errorf("the planted folder's container mounts the first project's database: %+v", m)
		}
	}

	// The first project moves: its database belongs to a folder that is
	// gone, and the move is refused until the user rebinds.
	e.StopIn(e.Project)
	e.StopIn(plain)
	moved := filepath.Join(e.Workspace, "moved")
	e.HostSh(e.Workspace, `mv project moved`)
	r = e.RunIn(moved, harness.RunOpts{}, opencode...)
	if r.Code != 1 || !strings.Contains(r.Stderr, "no longer exists") || !strings.Contains(r.Stderr, "ai-sandbox project rebind") {
		t.Errorf("want the moved project refused with the rebind hint\n%s", r)
	}
	if r := e.RunIn(moved, harness.RunOpts{}, "project", "rebind"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	if r := e.RunIn(moved, harness.RunOpts{}, opencode...); r.Code != 0 {
		t.Fatalf("opencode after rebind:\n%s", r)
	}
	if ids := e.ContainersOf(moved, "opencode"); len(ids) != 1 || dbMount(t, e, ids[0]) != filepath.Join(dbs, id) {
		t.Errorf("after rebind the moved project does not get its database %s", filepath.Join(dbs, id))
	}
	e.StopIn(moved)
}

type mount struct{ Source, Destination string }

func mounts(t *testing.T, e *harness.Env, id string) []mount {
	t.Helper()
	var ms []mount
	if err := json.Unmarshal([]byte(e.S.DockerOut(t, "inspect", "--format", "{{json .Mounts}}", id)), &ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// dbMount is the host folder a container mounts as the agent's database
// folder ("" when none).
func dbMount(t *testing.T, e *harness.Env, id string) string {
	t.Helper()
	for _, m := range mounts(t, e, id) {
		if m.Destination == sandbox.DBDir {
			return m.Source
		}
	}
	return ""
}

// TestHostTrustExitReport: a session that writes host-executed files
// ends with a warning block naming them, 'ai-sandbox report --json' lists
// them, and a following quiet session prints no such block.
func TestHostTrustExitReport(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	shell := []string{"run", "--image", e.S.Image, "--idle-timeout", "0"}
	r := e.Run(append(shell, "sh", "-c", `echo x > .envrc; mkdir -p sub/.git/hooks; echo "[core]" > sub/.git/config`)...)
	block := "ai-sandbox: warning: while the sandbox ran, files that run on your host changed in " + e.Project + ":"
	if r.Code != 0 || !strings.Contains(r.Stderr, block) {
		t.Fatalf("want the warning block %q\n%s", block, r)
	}
	// One line per file, one per repository naming its changed files.
	for _, re := range []string{`(?m)^  \.envrc `, `(?m)^  sub/\.git +your git obeys this repository \(changed: [^)]*config`} {
		if !regexp.MustCompile(re).MatchString(r.Stderr) {
			t.Errorf("the warning block does not match %s\n%s", re, r.Stderr)
		}
	}
	requireReported(t, e, ".envrc", "sub/.git/config")

	r = e.Run(append(shell, "true")...)
	if r.Code != 0 || strings.Contains(r.Stderr, "files that run on your host changed") {
		t.Errorf("a quiet session printed the warning block\n%s", r)
	}
}

// TestHostTrustPtraceSibling: with ai-sandbox's seccomp profile a session
// cannot ptrace, nor read the memory of, another session's process in the
// same sandbox; with the engine's default (--seccomp docker) it can,
// which proves the check can fail.
func TestHostTrustPtraceSibling(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	for _, c := range []struct {
		seccomp string
		hole    bool
	}{{"ai-sandbox", false}, {"docker", true}} {
		s := startSession(t, e, "sleeper", sandboxRun(e, "--seccomp", c.seccomp, "claude", "__sleep", "300")...)
		s.expect("ready", time.Minute)
		res := e.Probe("claude", []string{"--seccomp", c.seccomp}, "ptrace-sibling")
		r := res["ptrace-sibling"]
		if n, _ := r.Fact("targets"); n == "" || n == "0" {
			t.Errorf("--seccomp %s: the probe found no other session's process: %s", c.seccomp, r.Detail)
		}
		switch {
		case c.hole && !r.Succeeded:
			t.Errorf("--seccomp docker: ptrace of another session did not work, so the check proves nothing: %s", r.Detail)
		case !c.hole:
			harness.RequireBlocked(t, res, "ptrace-sibling")
			if !strings.Contains(r.Detail, "operation not permitted") {
				t.Errorf("--seccomp %s: want EPERM from seccomp: %s", c.seccomp, r.Detail)
			}
		default:
			t.Logf("--seccomp docker: %q", r.Evidence)
		}
		_ = syscall.Kill(s.cmdPid, syscall.SIGTERM)
		s.wait(30 * time.Second)
		e.StopIn(e.Project)
	}
}
