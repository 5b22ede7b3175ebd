package run_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

// The git access of the issue "Git access: per-workspace modes, and a
// fetch-only mode the agent cannot undo", end to end: a real git server
// (a container on a user network: sshd with git-shell and one authorized
// key, and git http-backend behind basic auth), a host user who holds the
// key and the password, and sandboxes of the git image that join the
// server's network — so that every attempt that fails, fails for want of
// a credential, never for want of a route.
//
// One server for all of them (TestGit starts it and removes it when its
// subtests are done); one repository on it per subtest.

// probeMount is where the git tests mount the probe: not /usr/local/bin,
// where the shims are.
const probeMount = "/opt/e2e-probe"

// TestGit runs the git-access tests against one git server.
func TestGit(t *testing.T) {
	t.Parallel()
	g := harness.StartGitServer(t)
	t.Run("Status", func(t *testing.T) { t.Parallel(); testGitStatus(t) })
	t.Run("FetchOnly", func(t *testing.T) { t.Parallel(); testGitFetchOnly(t, g) })
	t.Run("FetchOnlyFlag", func(t *testing.T) { t.Parallel(); testGitFetchOnlyFlag(t, g) })
	t.Run("FetchOnlyHostGitDir", func(t *testing.T) { t.Parallel(); testGitFetchOnlyHostGitDir(t, g) })
	t.Run("Full", func(t *testing.T) { t.Parallel(); testGitFull(t, g) })
	t.Run("Off", func(t *testing.T) { t.Parallel(); testGitOff(t, g) })
	t.Run("Print", func(t *testing.T) { t.Parallel(); testGitPrint(t, g) })
	t.Run("NotARemote", func(t *testing.T) { t.Parallel(); testGitNotARemote(t, g) })
	t.Run("KeySearchDetects", func(t *testing.T) { t.Parallel(); testGitKeySearchDetects(t, g) })
	t.Run("LongStatePath", func(t *testing.T) { t.Parallel(); testGitLongStatePath(t, g) })
}

// gitEnv is one git test's world: the harness's, a repository on the
// server that is the project's origin (ssh) and web (http), and the host
// user's credentials for it.
type gitEnv struct {
	*harness.Env
	t    *testing.T
	g    *harness.GitServer
	repo string
	host harness.HostGit
	// flags are the wrapper flags of every run (e.g. --git-fetch).
	flags []string
	start string // the server's refs when the test began
	// state is the state folder (AI_SANDBOX_HOME: short, see
	// harness.ShortState); e.State links to it.
	state string
}

func newGitEnv(t *testing.T, g *harness.GitServer, flags ...string) *gitEnv {
	t.Helper()
	e := harness.NewEnv(t)
	ge := &gitEnv{Env: e, t: t, g: g, flags: flags}
	ge.repo = g.NewRepo(t, harness.RepoName(t))
	ge.host = g.SetupHost(e)
	short := e.ShortState()
	ge.host.Env = append(ge.host.Env, short...)
	ge.state = strings.TrimPrefix(short[0], "AI_SANDBOX_HOME=")
	g.AddRemotes(e, ge.repo)
	ge.start = g.Refs(t, ge.repo)
	t.Cleanup(ge.logRelay)
	return ge
}

// args are `ai-sandbox run` with the git image, the server's networks,
// the probe and the test's flags, then more.
func (ge *gitEnv) args(more ...string) []string {
	a := []string{"run", "--image", ge.g.Image, "--idle-timeout", "0", "--network", ge.g.Network + "," + ge.g.Network2,
		"--mount", ge.S.ProbeDir + ":" + probeMount + ":ro"}
	a = append(a, ge.flags...)
	return append(a, more...)
}

// run runs ai-sandbox ARGS as the test user, with the host's ssh setup
// on its PATH.
func (ge *gitEnv) run(args ...string) harness.Result {
	ge.t.Helper()
	return ge.RunWith(harness.RunOpts{Env: ge.host.Env, Timeout: 3 * time.Minute}, args...)
}

// sh runs a shell script in the project's sandbox.
func (ge *gitEnv) sh(script string) harness.Result {
	ge.t.Helper()
	return ge.run(ge.args("sh", "-c", script)...)
}

// mustSh runs a script in the sandbox; a failure fails the test.
func (ge *gitEnv) mustSh(script string) string {
	ge.t.Helper()
	r := ge.sh(script)
	if r.Code != 0 {
		ge.t.Fatalf("in the sandbox: %s\n%s", script, r)
	}
	return r.Stdout
}

// keep holds the sandbox (and so its relay) up for the test: a session
// that sleeps until the test ends. Every run of the test joins it.
func (ge *gitEnv) keep() {
	ge.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	cmd := ge.Command(ctx, ge.Project, ge.args("sh", "-c", "echo keep-ready; exec sleep 1200")...)
	cmd.Env = append(cmd.Env, ge.host.Env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		ge.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		ge.t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == "keep-ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	ge.t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	select {
	case ok := <-ready:
		if !ok {
			ge.t.Fatalf("the keeping session ended before it was ready:\n%s", stderr.String())
		}
	case <-time.After(2 * time.Minute):
		ge.t.Fatalf("the keeping session was not ready within 2 minutes:\n%s", stderr.String())
	}
}

// requireRefsUnchanged fails the test when the server's refs moved since
// the test began.
func (ge *gitEnv) requireRefsUnchanged(what string) {
	ge.t.Helper()
	if now := ge.g.Refs(ge.t, ge.repo); now != ge.start {
		ge.t.Errorf("PUSH GOT THROUGH: after %s the server's refs changed:\nbefore:\n%s\nafter:\n%s", what, ge.start, now)
		ge.start = now // report each attempt that moved them once
	}
}

// serverMain is the commit of the server's main.
func (ge *gitEnv) serverMain() string {
	ge.t.Helper()
	for _, line := range strings.Split(ge.g.Refs(ge.t, ge.repo), "\n") {
		if sha, ref, ok := strings.Cut(line, " "); ok && ref == "refs/heads/main" {
			return sha
		}
	}
	ge.t.Fatalf("the server's repository %s has no main", ge.repo)
	return ""
}

// logRelay logs the relay's log (on the host, beside its folder).
func (ge *gitEnv) logRelay() {
	dir := filepath.Join(ge.state, "projects", ge.Key(), "git")
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		ge.t.Logf("relay log %s:\n%s", l, data)
	}
}

// keySearch runs the probe's key-search in the sandbox with the markers
// of the key and the password (hex-encoded: they must not be on any
// command line in there) and the key's host path, and requires that it
// found nothing. It returns the report.
func (ge *gitEnv) keySearch() harness.ProbeResult {
	ge.t.Helper()
	r := ge.run(ge.args(probeMount+"/probe", "-markers", hexMarkers(ge.g.Markers), "-secrets", ge.g.KeyPath, "key-search")...)
	if r.Code != 0 {
		ge.t.Fatalf("the probe did not run:\n%s", r)
	}
	res, err := harness.ParseProbe(r.Stdout)
	if err != nil {
		ge.t.Fatalf("the probe's output: %v\n%s", err, r)
	}
	kr := harness.RequireBlocked(ge.t, res, "key-search")
	if v, _ := kr.Fact("truncated"); v != "false" {
		ge.t.Errorf("key-search did not search everything: %s", kr.Detail)
	}
	if v, _ := kr.Fact("files"); v == "" || v == "0" {
		ge.t.Errorf("key-search read no file: %s", kr.Detail)
	}
	for _, f := range kr.Facts {
		if strings.HasPrefix(f, "private-key:") {
			ge.t.Errorf("a private key is readable in the sandbox: %s", f)
		}
	}
	return kr
}

func hexMarkers(markers []string) string {
	var out []string
	for _, m := range markers {
		out = append(out, "hex:"+hex.EncodeToString([]byte(m)))
	}
	return strings.Join(out, ",")
}

// requireNoSecret fails the test when out holds the key or the password.
func (ge *gitEnv) requireNoSecret(what, out string) {
	ge.t.Helper()
	for _, m := range ge.g.Markers {
		if strings.Contains(out, m) {
			ge.t.Errorf("A CREDENTIAL REACHED THE SANDBOX: %s printed a secret marker:\n%s", what, out)
			return
		}
	}
}

// attempt is a try to push from the sandbox.
type attempt struct {
	name   string
	script string
	// want is in the output of a refusal (alternatives separated by
	// " || "; empty: any failure).
	want string
}

// tryPushes runs each attempt in the sandbox; each must fail, print
// want, leak nothing, and leave the server's refs as they were.
func (ge *gitEnv) tryPushes(attempts []attempt) {
	ge.t.Helper()
	for _, a := range attempts {
		r := ge.sh(a.script)
		out := r.Stdout + r.Stderr
		switch {
		case strings.Contains(out, setupFailed):
			ge.t.Errorf("%s: the attempt could not be set up:\n%s", a.name, r)
		case r.Code == 0:
			ge.t.Errorf("%s: exit 0, want a failure:\n%s", a.name, r)
		case a.want != "" && !containsOneOf(out, a.want):
			ge.t.Errorf("%s: failed, but without %q:\n%s", a.name, a.want, r)
		default:
			ge.t.Logf("%s: refused (exit %d): %s", a.name, r.Code, why(out))
		}
		ge.requireNoSecret(a.name, out)
		ge.requireRefsUnchanged(a.name)
	}
}

// setupFailed is printed by an attempt whose preparation failed.
const setupFailed = "E2E-SETUP-FAILED"

// containsOneOf reports whether s holds one of the " || "-separated
// alternatives of want.
func containsOneOf(s, want string) bool {
	for _, w := range strings.Split(want, " || ") {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// why picks the lines of a failure that say why: the relay's, else
// the last two.
func why(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ai-sandbox: ") && !strings.Contains(l, "is running with other settings") && !strings.HasPrefix(l, "ai-sandbox: hint:") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return lastLines(out, 2)
	}
	return strings.Join(lines, " | ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// relayClient is a client of the relay's socket written by hand (the
// shims' framing): perl -e relayClient REQUEST [STDIN-LINE…]. It sends
// the request line, each stdin line as a frame, the end of stdin, and
// prints what comes back; it exits with the relay's exit code.
const relayClient = `use strict; use warnings; use IO::Socket::UNIX;
my ($req, @lines) = @ARGV;
my $path = $ENV{AI_SANDBOX_GIT_RELAY} || '/run/ai-sandbox-git/relay.sock';
my $s = IO::Socket::UNIX->new(Peer => $path) or die "connect $path: $!\n";
binmode $s; binmode STDOUT; $SIG{PIPE} = 'IGNORE'; $s->autoflush(1);
print $s "$req\n";
for my $l (@lines) { my $d = "$l\n"; print $s pack('a N', 'i', length $d) . $d; }
print $s pack('a N', 'c', 0);
my $buf = '';
while (1) {
  my $n = sysread($s, $buf, 65536, length $buf); last unless $n;
  while (length($buf) >= 5) {
    my ($t, $len) = unpack('a N', $buf); last if length($buf) < 5 + $len;
    my $d = substr($buf, 5, $len); $buf = substr($buf, 5 + $len);
    if ($t eq 'o') { print STDOUT $d } elsif ($t eq 'e') { print STDERR $d } elsif ($t eq 'x') { exit unpack('N', $d) }
  }
}
print STDERR "e2e: the relay closed without an exit code\n"; exit 255;
`

// relayAttempt is an attempt that talks to the relay's socket directly.
func relayAttempt(name, want, request string, stdin ...string) attempt {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	script := "perl -e " + q(relayClient) + " " + q(request)
	for _, l := range stdin {
		script += " " + q(l)
	}
	// A relay that ran receive-pack would advertise its capabilities.
	script += " >/tmp/relay.out; rc=$?; cat /tmp/relay.out; if grep -q report-status /tmp/relay.out; then echo 'e2e: receive-pack ANSWERED'; exit 0; fi; exit $rc"
	return attempt{name: name, script: script, want: want}
}

// strictSSH is an ssh that fails only for want of a key (never at a
// host-key question).
const strictSSH = "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=20"

// commitWork makes a new commit on a branch "work" from origin/main, in
// the sandbox.
func (ge *gitEnv) commitWork() {
	ge.t.Helper()
	ge.mustSh(`set -e; git fetch -q origin; git checkout -q -b work origin/main; echo "work $$" >work.txt
git add work.txt; git -c user.name=agent -c user.email=agent@example.invalid commit -q -m work`)
}

// testGitStatus: `ai-sandbox git MODE` saves the mode of the project's
// folder and `ai-sandbox git status` lists it (and the default when none
// is saved); a subfolder inherits it.
func testGitStatus(t *testing.T) {
	e := harness.NewEnv(t)
	status := func(dir string) string {
		t.Helper()
		r := e.RunIn(dir, harness.RunOpts{}, "git", "status")
		if r.Code != 0 {
			t.Fatalf("ai-sandbox git status:\n%s", r)
		}
		return r.Stdout
	}
	if out := status(e.Project); !strings.Contains(out, e.Project+": off (the default)") || !strings.Contains(out, "no folder has a saved mode") {
		t.Errorf("git status with nothing saved:\n%s", out)
	}
	sub := filepath.Join(e.Project, "sub")
	e.HostSh(e.Project, "mkdir sub")
	for _, c := range []struct{ set, want string }{{"fetch-only", "fetch-only"}, {"full", "full"}, {"fetch", "fetch-only"}} {
		if r := e.Run("git", c.set); r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, c.want) {
			t.Fatalf("ai-sandbox git %s:\n%s", c.set, r)
		}
		out := status(e.Project)
		if !strings.Contains(out, e.Project+": "+c.want+" (saved for "+e.Project+")") ||
			!strings.Contains(out, "saved modes:") || !strings.Contains(out, "  "+c.want+"  ") || !strings.Contains(out, e.Project+"\n") {
			t.Errorf("git status after git %s does not list %s for the project:\n%s", c.set, c.want, out)
		}
		if out := status(sub); !strings.Contains(out, sub+": "+c.want+" (saved for "+e.Project+")") {
			t.Errorf("git status in a subfolder after git %s:\n%s", c.set, out)
		}
		if n := strings.Count(out, e.Project+"\n"); n != 1 {
			t.Errorf("the project is listed %d times, want once:\n%s", n, out)
		}
	}
	if r := e.Run("git", "off"); r.Code != 0 {
		t.Fatalf("ai-sandbox git off:\n%s", r)
	}
	if out := status(e.Project); !strings.Contains(out, e.Project+": off (the default)") || !strings.Contains(out, "no folder has a saved mode") {
		t.Errorf("git status after git off:\n%s", out)
	}
	data, err := os.ReadFile(filepath.Join(e.State, "config.json"))
	if err != nil || strings.Contains(string(data), e.Project) {
		t.Errorf("config.json after git off still names the project (%v):\n%s", err, data)
	}
}

// testGitFetchOnly: with fetch-only saved for the project, fetch and
// clone work over SSH and over HTTP; every way to push fails, and no ref
// on the server moves; nothing in the sandbox holds the key or the
// password.
func testGitFetchOnly(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g)
	if r := ge.run("git", "fetch-only"); r.Code != 0 {
		t.Fatalf("ai-sandbox git fetch-only:\n%s", r)
	}
	ge.keep()
	main := ge.serverMain()

	// Fetch and clone work, over both.
	out := ge.mustSh(`set -e; git fetch -q origin; git fetch -q web; git rev-parse origin/main web/main
git clone -q ` + g.SSHURL(ge.repo) + ` clones/ssh; git clone -q ` + g.HTTPURL(ge.repo) + ` clones/http
cat clones/ssh/README clones/http/README; git -C clones/http pull -q; git -C clones/ssh fetch -q`)
	if want := main + "\n" + main + "\nseed of " + ge.repo + "\nseed of " + ge.repo + "\n"; out != want {
		t.Errorf("fetch and clone: got\n%s\nwant\n%s", out, want)
	}
	ge.requireNoSecret("fetch and clone", out)
	// A clone outside the project (its git dir is not the project's):
	// only said here, not required.
	r := ge.sh("git clone -q " + g.HTTPURL(ge.repo) + " /tmp/outside-http; git clone -q " + g.SSHURL(ge.repo) + " /tmp/outside-ssh")
	t.Logf("clones outside the project (/tmp), for the record: exit %d: %s", r.Code, lastLines(r.Stdout+r.Stderr, 4))

	ge.commitWork()
	refused := "push to " + g.IP + " refused: this sandbox has fetch-only git access"
	refusedHTTP := "push to " + g.IP + ":8080 refused: this sandbox has fetch-only git access"
	ssh, http := g.SSHURL(ge.repo), g.HTTPURL(ge.repo)
	push := "git push origin work:refs/heads/e2e-pushed"
	pushWeb := "GIT_TERMINAL_PROMPT=0 git push web work:refs/heads/e2e-pushed"
	srvPath := "/srv/" + ge.repo + ".git"
	withGlobal := func(set, cmd string) string { // set a ~/.gitconfig key, try, then remove ~/.gitconfig
		return "git config --global " + set + " || { echo " + setupFailed + "; exit 99; }; " + cmd + `; rc=$?; rm -f "$HOME/.gitconfig"; exit $rc`
	}
	noPassword := "could not read Username || " + refusedHTTP
	ge.tryPushes([]attempt{
		{"git push (ssh remote)", push, refused},
		{"git push (http remote)", pushWeb, refusedHTTP},
		{"git push SSH-URL", "git push " + ssh + " work:refs/heads/e2e-pushed", refused},
		{"git push HTTP-URL", "GIT_TERMINAL_PROMPT=0 git push " + http + " work:refs/heads/e2e-pushed", refusedHTTP},
		{"git push --force --all (ssh)", "git push --force --all origin", refused},
		{"git push --mirror (http)", "GIT_TERMINAL_PROMPT=0 git push --mirror web", refusedHTTP},
		{"git push --delete main (ssh)", "git push origin --delete main", refused},
		{"GIT_CONFIG_GLOBAL=/dev/null git push (ssh)", "GIT_CONFIG_GLOBAL=/dev/null " + push, refused},
		{"GIT_CONFIG_GLOBAL=/dev/null git push (http)", "GIT_CONFIG_GLOBAL=/dev/null " + pushWeb, refusedHTTP},
		{"GIT_CONFIG_NOSYSTEM=1 git push (ssh)", "GIT_CONFIG_NOSYSTEM=1 GIT_SSH_COMMAND='" + strictSSH + "' " + push, "Permission denied"},
		{"GIT_CONFIG_NOSYSTEM=1 git push (http)", "GIT_CONFIG_NOSYSTEM=1 " + pushWeb, "could not read Username"},
		{"GIT_CONFIG_SYSTEM=/dev/null git push (ssh)", "GIT_CONFIG_SYSTEM=/dev/null GIT_SSH_COMMAND='" + strictSSH + "' " + push, "Permission denied"},
		{"git -c core.sshCommand=ssh push", "git -c core.sshCommand='" + strictSSH + "' push origin work:refs/heads/e2e-pushed", "Permission denied"},
		{"GIT_SSH_COMMAND=ssh git push", "GIT_SSH_COMMAND='" + strictSSH + "' " + push, "Permission denied"},
		{"git -c url.insteadOf (http, back to the server)", "GIT_TERMINAL_PROMPT=0 git -c url." + http + ".insteadOf=" + http + " push web work:refs/heads/e2e-pushed", noPassword},
		{"raw ssh git-receive-pack", strictSSH + " git@" + g.IP + " \"git-receive-pack '" + srvPath + "'\" </dev/null", "Permission denied"},
		{"the ssh shim by hand: git-receive-pack", "/usr/local/bin/ai-sandbox-git-ssh git@" + g.IP + " \"git-receive-pack '" + srvPath + "'\" </dev/null", refused},
		{"~/.gitconfig core.sshCommand", withGlobal("core.sshCommand '"+strictSSH+"'", push), "Permission denied"},
		{"~/.gitconfig url.insteadOf back to the http URL", withGlobal("url."+http+".insteadOf "+http, pushWeb), noPassword},
		{"~/.gitconfig url.pushInsteadOf back to the http URL", withGlobal("url."+http+".pushInsteadOf "+http, pushWeb), noPassword},
		{"~/.gitconfig remote.web.pushurl", withGlobal("remote.web.pushurl "+http, pushWeb), noPassword},
		{"~/.gitconfig include of a config of its own", `printf '[core]\n\tsshCommand = ` + strictSSH + `\n' >/tmp/inc; ` + withGlobal("include.path /tmp/inc", push), "Permission denied"},
		{"write the system gitconfig", "git config --system core.sshCommand ssh 2>/dev/null; echo '[core] sshCommand = ssh' 2>/dev/null >>/run/ai-sandbox-git/gitconfig; " + push, refused},
		{"replace the ssh shim", "cp /bin/sh /usr/local/bin/ai-sandbox-git-ssh 2>/dev/null; " + push, refused},
		{"another relay socket", "AI_SANDBOX_GIT_RELAY=/tmp/none.sock " + push, "no git access to remotes"},
		relayAttempt("the relay by hand: ssh git-receive-pack", refused,
			fmt.Sprintf(`{"kind":"ssh","args":["git@%s","git-receive-pack '%s'"]}`, g.IP, srvPath)),
		relayAttempt("the relay by hand: ssh -o … -p 22 host git-receive-pack  (two spaces)", "refused",
			fmt.Sprintf(`{"kind":"ssh","args":["-o","SendEnv=GIT_PROTOCOL","-p","22","git@%s","git-receive-pack  '%s'"]}`, g.IP, srvPath)),
		relayAttempt("the relay by hand: ssh -- git-receive-pack", "refused",
			fmt.Sprintf(`{"kind":"ssh","args":["--","git@%s","git-receive-pack '%s'"]}`, g.IP, srvPath)),
		relayAttempt("the relay by hand: ssh with a shell command", "ai-sandbox:",
			fmt.Sprintf(`{"kind":"ssh","args":["git@%s","sh -c 'git-receive-pack %s'"]}`, g.IP, srvPath)),
		relayAttempt("the relay by hand: helper list for-push", refusedHTTP, helperRequest(ge, "web", http), "capabilities", "list for-push"),
		relayAttempt("the relay by hand: helper push", refusedHTTP, helperRequest(ge, "web", http),
			"capabilities", "list", "push refs/heads/work:refs/heads/e2e-pushed", ""),
		relayAttempt("the relay by hand: helper stateless-connect git-receive-pack", refusedHTTP, helperRequest(ge, "web", http),
			"capabilities", "stateless-connect git-receive-pack"),
		relayAttempt("the relay by hand: helper connect git-receive-pack", refusedHTTP, helperRequest(ge, "web", http),
			"capabilities", "connect git-receive-pack"),
	})
	ge.requireRefsUnchanged("every attempt")

	// Nothing in the sandbox holds the key, the password or an agent.
	kr := ge.keySearch()
	if !kr.HasFact("socket", "/run/ai-sandbox-git/relay.sock") {
		t.Errorf("key-search did not see the relay's socket (did it search /run?): %v", kr.Facts)
	}
}

// helperRequest is the remote helper's request for the project's git
// dir.
func helperRequest(ge *gitEnv, remote, url string) string {
	return fmt.Sprintf(`{"kind":"helper","remote":%q,"url":%q,"gitdir":%q}`, remote, url, filepath.Join(ge.Project, ".git"))
}

// testGitFetchOnlyFlag: `ai-sandbox run --git-fetch` gives fetch-only
// for the run (nothing saved): fetch works over both, push is refused
// over both, and nothing in the sandbox holds a credential.
func testGitFetchOnlyFlag(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g, "--git-fetch")
	ge.keep()
	main := ge.serverMain()
	out := ge.mustSh("set -e; git fetch -q origin; git fetch -q web; git rev-parse origin/main web/main")
	if want := main + "\n" + main + "\n"; out != want {
		t.Errorf("fetch: got %q, want %q", out, want)
	}
	ge.commitWork()
	ge.tryPushes([]attempt{
		{"git push (ssh remote)", "git push origin work:refs/heads/e2e-pushed", "push to " + g.IP + " refused"},
		{"git push (http remote)", "GIT_TERMINAL_PROMPT=0 git push web work:refs/heads/e2e-pushed", "push to " + g.IP + ":8080 refused"},
	})
	ge.keySearch()
	if r := ge.run("git", "status"); !strings.Contains(r.Stdout, ge.Project+": off (the default)") {
		t.Errorf("--git-fetch saved a mode:\n%s", r)
	}
}

// testGitFetchOnlyHostGitDir: the remote helper's git dir is the
// sandbox's to choose (any folder of the project), and the host's git
// reads that repository's config. A repository the agent makes in the
// project, whose config names a credential helper, must not run
// anything on the host, show the password, or push.
func testGitFetchOnlyHostGitDir(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g, "--git-fetch")
	ge.keep()
	ge.commitWork()
	ran := filepath.Join(ge.Project, "helper-ran-on-the-host")
	helper := fmt.Sprintf(`!f() { echo "e2e: helper $1 ran as $(id -u) on $(cat /etc/hostname)" >&2; echo "$1 $(cat /etc/hostname)" >>%s; cat >&2; `+
		`env -u GIT_DIR -u GIT_PROTOCOL git -C %s push %s work:refs/heads/e2e-pushed-by-helper >&2 2>&1; }; f`, ran, ge.Project, g.SSHURL(ge.repo))
	script := fmt.Sprintf(`set -e; git init -q --bare evil.git; git -C evil.git config credential.helper '%s'
cd evil.git; GIT_TERMINAL_PROMPT=0 git ls-remote %s; exit 0`, strings.ReplaceAll(helper, "'", `'\''`), g.HTTPURL(ge.repo))
	r := ge.sh(script)
	t.Logf("ls-remote from a repository the agent made:\n%s", r)
	ge.requireNoSecret("a credential helper of the agent's repository", r.Stdout+r.Stderr)
	if data, err := os.ReadFile(ran); err == nil {
		// Written in the project: if the sandbox wrote it, /etc/hostname
		// in the line is the sandbox's; the host's is the host's.
		host, _ := os.Hostname()
		t.Errorf("A COMMAND OF THE AGENT'S REPOSITORY RAN (host's hostname %s): %s", host, data)
	}
	if strings.Contains(r.Stderr, "e2e: helper") {
		t.Errorf("the agent's credential helper ran (on the host, through the relay):\n%s", r.Stderr)
	}
	ge.requireRefsUnchanged("a credential helper of the agent's repository")
}

// testGitFull: with full saved, push works over SSH and over HTTP (the
// server's refs move to the sandbox's commit), and nothing in the
// sandbox holds a credential.
func testGitFull(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g)
	if r := ge.run("git", "full"); r.Code != 0 {
		t.Fatalf("ai-sandbox git full:\n%s", r)
	}
	ge.keep()
	ge.commitWork()
	head := strings.TrimSpace(ge.mustSh("git rev-parse work"))
	out := ge.mustSh("set -e; git push -q origin work:refs/heads/e2e-ssh 2>&1; GIT_TERMINAL_PROMPT=0 git push -q web work:refs/heads/e2e-http 2>&1")
	ge.requireNoSecret("push", out)
	refs := g.Refs(t, ge.repo)
	for _, want := range []string{head + " refs/heads/e2e-ssh", head + " refs/heads/e2e-http"} {
		if !strings.Contains(refs, want) {
			t.Errorf("after the pushes the server lacks %q:\n%s", want, refs)
		}
	}
	// Fetch and clone work too.
	ge.mustSh("set -e; git fetch -q origin; git fetch -q web; git clone -q " + g.HTTPURL(ge.repo) + " clones/http; git clone -q " + g.SSHURL(ge.repo) + " clones/ssh")
	ge.keySearch()
}

// testGitOff: with no mode saved and no terminal, git access is off:
// fetching the repository (which needs the key or the password) fails
// over both — the server is reached, the credential is missing — and the
// sandbox has no relay, no shim and no relay socket.
func testGitOff(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g)
	r := ge.sh("GIT_SSH_COMMAND='" + strictSSH + "' git fetch origin")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Permission denied") {
		t.Errorf("git fetch over ssh with git access off: want a failure for want of a key:\n%s", r)
	}
	r = ge.sh("GIT_TERMINAL_PROMPT=0 git fetch web")
	if r.Code == 0 || !strings.Contains(r.Stderr, "could not read Username") {
		t.Errorf("git fetch over http with git access off: want a failure for want of a password:\n%s", r)
	}
	ge.requireNoSecret("fetch with git access off", r.Stdout+r.Stderr)
	out := ge.mustSh(`for f in /run/ai-sandbox-git /usr/local/bin/ai-sandbox-git-ssh /usr/local/bin/git-remote-ai-sandbox; do [ -e "$f" ] && echo "present: $f"; done
echo "GIT_CONFIG_SYSTEM=${GIT_CONFIG_SYSTEM-unset} AI_SANDBOX_GIT_RELAY=${AI_SANDBOX_GIT_RELAY-unset}"
git config --show-origin --get-regexp '^(core\.sshcommand|url\.)' || true`)
	if want := "GIT_CONFIG_SYSTEM=unset AI_SANDBOX_GIT_RELAY=unset\n"; out != want {
		t.Errorf("git access off: the sandbox has git access's parts:\n%s", out)
	}
	kr := ge.keySearch()
	for _, f := range kr.Facts {
		if strings.HasPrefix(f, "socket:") {
			t.Errorf("git access off: a socket in the sandbox: %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(ge.state, "projects", ge.Key(), "git")); err == nil {
		t.Errorf("git access off: a relay folder was made on the host")
	}
}

// testGitPrint: `ai-sandbox run --print` in fetch-only mode shows the
// relay's folder mounted at /run/ai-sandbox-git and GIT_CONFIG_SYSTEM,
// and no credential; in the sandbox, git's identity is the host's.
func testGitPrint(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g)
	if r := ge.run("git", "fetch-only"); r.Code != 0 {
		t.Fatalf("ai-sandbox git fetch-only:\n%s", r)
	}
	r := ge.run(ge.args("--print", "sh")...)
	if r.Code != 0 {
		t.Fatalf("ai-sandbox run --print:\n%s", r)
	}
	relayDir := filepath.Join(ge.state, "projects", ge.Key(), "git", "fetch-only")
	for _, want := range []string{relayDir, "/run/ai-sandbox-git", "GIT_CONFIG_SYSTEM=/run/ai-sandbox-git/gitconfig",
		"/usr/local/bin/ai-sandbox-git-ssh", "/usr/local/bin/git-remote-ai-sandbox"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("--print does not show %s:\n%s", want, r.Stdout)
		}
	}
	if !regexpMount(r.Stdout, relayDir, "/run/ai-sandbox-git") {
		t.Errorf("--print does not mount %s read-only at /run/ai-sandbox-git:\n%s", relayDir, r.Stdout)
	}
	ge.requireNoSecret("--print", r.Stdout+r.Stderr)
	for _, bad := range []string{"SSH_AUTH_SOCK", ".git-credentials", g.ClientDir, "id_ed25519"} {
		if strings.Contains(r.Stdout+r.Stderr, bad) {
			t.Errorf("--print shows %s:\n%s", bad, r.Stdout)
		}
	}
	if n := len(ge.Containers()); n != 0 {
		t.Errorf("--print started %d containers", n)
	}
	if _, err := os.Stat(filepath.Join(relayDir, "relay.sock")); err == nil {
		t.Errorf("--print started a relay")
	}
	// The identity.
	out := ge.mustSh("git config user.name; git config user.email; git config --show-origin user.email")
	want := ge.host.Name + "\n" + ge.host.Email + "\nfile:/run/ai-sandbox-git/gitconfig\t" + ge.host.Email + "\n"
	if out != want {
		t.Errorf("git's identity in the sandbox: got\n%s\nwant the host's\n%s", out, want)
	}
}

// regexpMount reports whether the printed docker command mounts src at
// dst read-only (as -v or --mount).
func regexpMount(out, src, dst string) bool {
	for _, f := range strings.Fields(out) {
		f = strings.Trim(f, `'"`)
		if f == src+":"+dst+":ro" {
			return true
		}
		if strings.Contains(f, "source="+src+",") && strings.Contains(f, "target="+dst) && (strings.Contains(f, "readonly") || strings.Contains(f, "ro=true")) {
			return true
		}
	}
	return false
}

// testGitNotARemote: the relay serves only the hosts of the project's
// remotes: the same server at its second address (which the host's ssh
// and credential store know as well) is refused over ssh and over the
// helper, saying it is not a remote of this project, while the remote's
// own address works in the same sandbox.
func testGitNotARemote(t *testing.T, g *harness.GitServer) {
	ge := newGitEnv(t, g, "--git-fetch")
	ge.keep()
	main := ge.serverMain()
	if out := ge.mustSh("git ls-remote " + g.SSHURL(ge.repo) + " refs/heads/main"); !strings.HasPrefix(out, main) {
		t.Errorf("ls-remote of the project's remote: %q, want %s", out, main)
	}
	notRemote := "not a remote of this project"
	for _, c := range []struct{ name, script, want string }{
		{"ssh to the second address", "git ls-remote " + g.SSHURL2(ge.repo), "git over ssh to " + g.IP2 + ": " + notRemote},
		{"ssh to the second address, by scp syntax", "git ls-remote git@" + g.IP2 + ":/srv/" + ge.repo + ".git", notRemote},
		{"helper to the second address", "git ls-remote ai-sandbox::" + g.HTTPURL2(ge.repo), "git over http to " + g.IP2 + ":8080: " + notRemote},
		{"helper to the remote's host on another port", "git ls-remote ai-sandbox::http://" + g.IP + ":22/x.git", notRemote},
		{"helper to https at the remote's host", "git ls-remote ai-sandbox::https://" + g.IP + ":8080/" + ge.repo + ".git", notRemote},
		{"http to the second address (no rewrite: straight to the server, no password)", "GIT_TERMINAL_PROMPT=0 git ls-remote " + g.HTTPURL2(ge.repo), "could not read Username"},
	} {
		r := ge.sh(c.script)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) || strings.Contains(r.Stdout, main) {
			t.Errorf("%s: want a failure saying %q:\n%s", c.name, c.want, r)
		} else {
			t.Logf("%s: %s", c.name, why(r.Stderr))
		}
		ge.requireNoSecret(c.name, r.Stdout+r.Stderr)
	}
}

// testGitKeySearchDetects: key-search can fail — in a plain container
// with the key mounted, an ssh agent holding it and the password in a
// variable, it sees each.
func testGitKeySearchDetects(t *testing.T, g *harness.GitServer) {
	e := harness.NewEnv(t)
	s := e.S
	name := "ai-sandbox-e2e-keysearch-" + harness.Random()
	t.Cleanup(func() { _ = exec.Command(s.Docker, "rm", "--force", name).Run() })
	script := `set -e; mkdir -p /tmp/ssh-e2e; eval "$(ssh-agent -s -a /tmp/ssh-e2e/agent.1)" >/dev/null
ssh-add -q /keys/id_ed25519 2>/dev/null; cp /keys/id_ed25519 /tmp/copied-key
exec ` + probeMount + `/probe "$@"`
	args := []string{"run", "--rm", "--name", name, "--pull", "never", "--user", fmt.Sprintf("%d:%d", s.UID, s.GID),
		"--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--mount=type=bind,source=" + s.ProbeDir + ",target=" + probeMount + ",readonly",
		"--mount=type=bind,source=" + g.KeyPath + ",target=/keys/id_ed25519,readonly",
		"-e", "E2E_DEPLOY_TOKEN=" + g.Password, "-e", "HOME=/tmp",
		g.Image, "sh", "-c", script, "sh", "-markers", hexMarkers(g.Markers), "-secrets", g.KeyPath, "key-search"}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, s.Docker, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker run the probe: %v\n%s\n%s", err, out, stderr.String())
	}
	res, err := harness.ParseProbe(string(out))
	if err != nil {
		t.Fatalf("probe output: %v\n%s", err, out)
	}
	r := res["key-search"]
	if !r.Succeeded {
		t.Fatalf("key-search did NOT see the holes: %s", r.Detail)
	}
	ev := strings.Join(r.Evidence, "\n")
	for _, want := range []string{
		"a secret marker is in /keys/id_ed25519",
		"a secret marker is in /tmp/copied-key",
		"the environment variable E2E_DEPLOY_TOKEN holds a secret marker",
		"the environment has SSH_AUTH_SOCK",
		"SSH_AUTH_SOCK /tmp/ssh-e2e/agent.1 is an ssh agent holding 1 keys",
		"an ssh agent's socket: /tmp/ssh-e2e/agent.1",
		"/tmp/ssh-e2e/agent.1 is an ssh agent holding 1 keys",
	} {
		if !strings.Contains(ev, want) {
			t.Errorf("key-search did not report %q; evidence:\n%s", want, ev)
		}
	}
	if !r.HasFact("private-key", "/keys/id_ed25519") {
		t.Errorf("key-search did not list /keys/id_ed25519 as a private key: %v", r.Facts)
	}
	t.Logf("key-search in a weak container: %d holes:\n%s", len(r.Evidence), ev)
}

// testGitLongStatePath: the relay's socket lies in the state folder,
// projects/<key>/git/<mode>/relay.sock, and a unix socket's path has at
// most 107 bytes. A state folder as long as /home/firstname.lastname/
// .ai-sandbox (36 bytes) and a project folder whose name has 30
// characters or more (its key has 39) make it 111: git access must work
// there too.
func testGitLongStatePath(t *testing.T, g *harness.GitServer) {
	e := harness.NewEnv(t)
	repo := g.NewRepo(t, harness.RepoName(t))
	host := g.SetupHost(e)
	state := e.S.Base + "/" + harness.Random()[:4]
	for len(state) < len("/home/firstname.lastname/.ai-sandbox") {
		state += "s"
	}
	env := append(host.Env, e.MoveState(state)...)
	dir := filepath.Join(e.Workspace, "customer-portal-backend-service")
	e.HostSh(e.Workspace, "mkdir "+dir)
	e.GitInit(dir)
	e.HostSh(dir, "git remote add origin "+g.SSHURL(repo))
	sock := filepath.Join(state, "projects", project.Key(dir), "git", "fetch-only", "relay.sock")
	args := []string{"run", "--image", g.Image, "--idle-timeout", "0", "--git-fetch", "git", "ls-remote", "origin", "refs/heads/main"}
	r := e.RunIn(dir, harness.RunOpts{Env: env, Timeout: 3 * time.Minute}, args...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "refs/heads/main") {
		data, _ := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(sock)), "fetch-only.log"))
		t.Errorf("git ls-remote through the relay, whose socket's path has %d bytes (%s): want the remote's main:\n%s\nrelay log:\n%s",
			len(sock), sock, r, data)
	}
}
