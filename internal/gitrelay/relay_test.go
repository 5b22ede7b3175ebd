package gitrelay

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/proc"
)

func TestParseSSH(t *testing.T) {
	tests := []struct {
		args []string
		want sshTarget
		err  string
	}{
		{[]string{"-o", "SendEnv=GIT_PROTOCOL", "git@github.com", "git-upload-pack 'org/repo.git'"},
			sshTarget{User: "git", Host: "github.com", Service: "git-upload-pack", Path: "org/repo.git"}, ""},
		{[]string{"-p", "2222", "-4", "h", "git-receive-pack '/srv/it'\\''s.git'"},
			sshTarget{Host: "h", Port: "2222", Service: "git-receive-pack", Path: "/srv/it's.git"}, ""},
		{[]string{"h", "git-upload-archive '/a'\\!'b'"}, sshTarget{Host: "h", Service: "git-upload-archive", Path: "/a!b"}, ""},
		{[]string{"h", "sh -c 'id'"}, sshTarget{}, "only git-upload-pack"},
		{[]string{"h", "git-upload-pack '/r'; rm -rf ~"}, sshTarget{}, "unquoted"},
		{[]string{"-oProxyCommand=evil", "-F", "/x", "h", "git-upload-pack '/r'"}, sshTarget{}, "not one git uses"},
		{[]string{"-oProxyCommand=evil", "h;id", "git-upload-pack '/r'"}, sshTarget{}, "host"},
		{[]string{"-p", "0", "h", "git-upload-pack '/r'"}, sshTarget{}, "port"},
		{[]string{"h"}, sshTarget{}, "expected a host"},
	}
	for _, tt := range tests {
		got, err := parseSSH(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v %v, want %+v", tt.args, got, err, tt.want)
		}
	}
}

func TestRemotes(t *testing.T) {
	remotes := []string{"git@github.com:org/a.git", "ssh://git@gitlab.example:2222/g/b.git", "https://tok@git.example.com/c.git",
		"http://10.0.0.5:8080/d.git", "/local/path", "file:///x", "git://h/e.git", "github.com-work:org/f.git"}
	for _, host := range []string{"github.com", "GitLab.example", "github.com-work"} {
		if !allowedSSH(remotes, host) {
			t.Errorf("ssh %s refused", host)
		}
	}
	for _, host := range []string{"git.example.com", "10.0.0.5", "h", "evil.example"} {
		if allowedSSH(remotes, host) {
			t.Errorf("ssh %s allowed", host)
		}
	}
	if !allowedHTTP(remotes, "https", "git.example.com") || !allowedHTTP(remotes, "http", "10.0.0.5:8080") ||
		allowedHTTP(remotes, "http", "git.example.com") || allowedHTTP(remotes, "http", "10.0.0.5") {
		t.Error("http hosts")
	}
	if got := strings.Join(HTTPBases(remotes), " "); got != "https://tok@git.example.com/ http://10.0.0.5:8080/" {
		t.Errorf("bases %q", got)
	}
}

// A relay on a real socket, driven by the real perl shims, with a fake
// ssh and a fake git that say what they got.
type fixture struct {
	t       *testing.T
	dir     string
	project string
	sock    string
	shims   string
	scratch string
}

func newFixture(t *testing.T, push bool, remotes []string) *fixture {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Fatal("perl is needed (every Debian system has it)")
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, project: filepath.Join(dir, "project"), sock: filepath.Join(dir, "relay.sock"), shims: filepath.Join(dir, "shims")}
	os.MkdirAll(filepath.Join(f.project, ".git"), 0o755)
	os.MkdirAll(f.shims, 0o755)
	for _, sh := range Shims() {
		os.WriteFile(filepath.Join(f.shims, sh.Name), []byte(sh.Body), 0o755)
	}
	fakeSSH := filepath.Join(dir, "fake-ssh")
	os.WriteFile(fakeSSH, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\" >&2; done; echo \" proto=$GIT_PROTOCOL\" >&2\ncat\nexit 3\n"), 0o755)
	fakeGit := filepath.Join(dir, "fake-git")
	os.WriteFile(fakeGit, []byte(`#!/bin/sh
echo "helper $1 $2 $3 dir=$GIT_DIR obj=$GIT_OBJECT_DIRECTORY prompt=$GIT_TERMINAL_PROMPT" >&2
cat "$GIT_DIR/config" >&2
while IFS= read -r l; do
	echo "got:$l"
	case "$l" in push\ *) r=${l#push }; r=${r#+}; r=${r%%:*}; echo "ref:$(cat "$GIT_DIR/$r")";; esac
done
`), 0o755)
	ln, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.scratch = filepath.Join(dir, "scratch")
	r := New(Config{Project: f.project, Push: push, SSH: []string{fakeSSH}, Git: fakeGit, Remotes: func() []string { return remotes }, Scratch: f.scratch},
		proc.New(os.Environ()), nil)
	done := make(chan struct{})
	go func() { r.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// shim runs a shim as git would, in dir, and returns its outputs.
func (f *fixture) shim(name, dir, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	cmd := exec.Command(filepath.Join(f.shims, name), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{SocketEnv + "=" + f.sock}, env...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		f.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestRelaySSH(t *testing.T) {
	f := newFixture(t, false, []string{"ssh://git@git.example:2222/srv/repo.git"})
	out, errs, code := f.shim(SSHShim, f.project, "pack data\n", []string{"GIT_PROTOCOL=version=2"},
		"-o", "SendEnv=GIT_PROTOCOL", "-p", "2222", "git@git.example", "git-upload-pack '/srv/it'\\''s.git'")
	if code != 3 || out != "pack data\n" {
		t.Errorf("exit %d stdout %q (stdin must reach ssh and its exit code come back)", code, out)
	}
	want := "[-o][BatchMode=yes][-o][SendEnv=GIT_PROTOCOL][-p][2222][--][git@git.example][git-upload-pack '/srv/it'\\''s.git'] proto=version=2"
	if !strings.Contains(errs, want) {
		t.Errorf("ssh got %q, want %q", errs, want)
	}

	_, errs, code = f.shim(SSHShim, f.project, "", nil, "git@git.example", "git-receive-pack '/srv/repo.git'")
	if code != 128 || !strings.Contains(errs, "ai-sandbox: push to git.example refused: this sandbox has fetch-only git access") {
		t.Errorf("push in fetch-only: exit %d %q", code, errs)
	}
	_, errs, code = f.shim(SSHShim, f.project, "", nil, "git@evil.example", "git-upload-pack '/x'")
	if code != 128 || !strings.Contains(errs, "not a remote of this project") {
		t.Errorf("another host: exit %d %q", code, errs)
	}
	_, errs, code = f.shim(SSHShim, f.project, "", nil, "git@git.example", "bash -i")
	if code != 128 || !strings.Contains(errs, "only git-upload-pack") {
		t.Errorf("a shell: exit %d %q", code, errs)
	}
}

func TestRelaySSHPushInFullMode(t *testing.T) {
	f := newFixture(t, true, []string{"git@git.example:repo.git"})
	_, errs, code := f.shim(SSHShim, f.project, "", nil, "git@git.example", "git-receive-pack 'repo.git'")
	if code != 3 || !strings.Contains(errs, "[git-receive-pack 'repo.git']") {
		t.Errorf("push in full mode: exit %d %q", code, errs)
	}
}

// The host's helper runs in a scratch repository of the relay's, never
// in the sandbox's (whose config the host's git would obey), and only the
// commands the relay serves reach it.
func TestRelayHelper(t *testing.T) {
	f := newFixture(t, false, []string{"https://git.example/r.git"})
	os.WriteFile(filepath.Join(f.project, ".git", "config"), []byte("[credential]\n\thelper = !evil\n"), 0o644)
	fetch := "capabilities\noption progress false\noption pushcert if-asked\nstateless-connect git-upload-pack\n0014command=ls-refs\n"
	out, errs, code := f.shim(HelperShim, f.project, fetch, nil, "origin", "https://git.example/r.git")
	if code != 0 || !strings.Contains(out, "unsupported\n") || !strings.Contains(out, "got:option progress false\ngot:stateless-connect git-upload-pack\ngot:0014command=ls-refs\n") {
		t.Errorf("fetch: exit %d stdout %q stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, "helper remote-https origin https://git.example/r.git dir="+f.scratch+"/req-") || !strings.Contains(errs, " obj= prompt=0") {
		t.Errorf("the host's helper got %q", errs)
	}
	if strings.Contains(errs, "evil") || strings.Contains(out, "pushcert") {
		t.Errorf("the sandbox's repository config or a signed push reached the host's helper: %q %q", out, errs)
	}
	// Removed once the request has ended (just after its exit code is sent).
	var left []os.DirEntry
	for i := 0; i < 100; i++ {
		if left, _ = os.ReadDir(f.scratch); len(left) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) != 0 {
		t.Errorf("scratch repositories left: %v", left)
	}
	// A clone outside the project fetches too: no repository of the
	// sandbox's is used for a fetch.
	if out, errs, code := f.shim(HelperShim, f.dir, "capabilities\nstateless-connect git-upload-pack\n", []string{"GIT_DIR=" + f.dir + "/clone/.git"}, "origin", "https://git.example/r.git"); code != 0 || !strings.Contains(out, "got:stateless-connect") {
		t.Errorf("a fetch outside the project: exit %d %q %q", code, out, errs)
	}
	for _, push := range []string{"capabilities\nlist for-push\n", "capabilities\npush refs/heads/x:refs/heads/x\n\n", "stateless-connect git-receive-pack\n"} {
		out, errs, code = f.shim(HelperShim, f.project, push, nil, "origin", "https://git.example/r.git")
		if code != 128 || !strings.Contains(errs, "push to git.example refused") || strings.Contains(out, "got:push") || strings.Contains(out, "for-push") {
			t.Errorf("%q in fetch-only: exit %d stdout %q stderr %q", push, code, out, errs)
		}
	}
	refused := map[string]string{
		"fetch 0123456789012345678901234567890123456789 refs/heads/main\n": "answers only git's old protocol (v0)",
		"get https://git.example/x /home/agent/.bashrc\n":                  `"get" is not served`,
		"import refs/heads/main\n":                                         `"import" is not served`,
		"connect git-upload-pack\n":                                        "is not served",
	}
	for cmd, want := range refused {
		out, errs, code = f.shim(HelperShim, f.project, "capabilities\n"+cmd, nil, "origin", "https://git.example/r.git")
		if code != 128 || !strings.Contains(errs, want) || strings.Contains(out, "got:"+strings.Fields(cmd)[0]) {
			t.Errorf("%q: exit %d stdout %q stderr %q, want %q", cmd, code, out, errs, want)
		}
	}
	_, errs, code = f.shim(HelperShim, f.project, "capabilities\n", nil, "x", "https://evil.example/r.git")
	if code != 128 || !strings.Contains(errs, "not a remote of this project") {
		t.Errorf("another host: exit %d %q", code, errs)
	}
}

// A push over https (full mode): the host's git reads the sandbox's
// objects (GIT_OBJECT_DIRECTORY) and the pushed ref as resolved by the
// relay, loose or packed; links and alternates are refused.
func TestRelayHelperPush(t *testing.T) {
	f := newFixture(t, true, []string{"https://git.example/r.git"})
	gd := filepath.Join(f.project, ".git")
	oid, packed := strings.Repeat("a", 40), strings.Repeat("b", 40)
	os.MkdirAll(filepath.Join(gd, "objects", "info"), 0o755)
	os.MkdirAll(filepath.Join(gd, "refs", "heads"), 0o755)
	os.WriteFile(filepath.Join(gd, "refs", "heads", "main"), []byte(oid+"\n"), 0o644)
	os.WriteFile(filepath.Join(gd, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(gd, "packed-refs"), []byte("# pack-refs with: peeled\n"+packed+" refs/heads/old\n"), 0o644)
	push := "capabilities\nlist for-push\npush +refs/heads/main:refs/heads/main\npush refs/heads/old:refs/heads/old\npush HEAD:refs/heads/h\npush :refs/heads/gone\n\n"
	out, errs, code := f.shim(HelperShim, f.project, push, nil, "origin", "https://git.example/r.git")
	if code != 0 || !strings.Contains(errs, " obj="+gd+"/objects ") {
		t.Fatalf("push: exit %d stdout %q stderr %q", code, out, errs)
	}
	for _, want := range []string{"got:push +refs/heads/main:refs/heads/main\nref:" + oid, "got:push refs/heads/old:refs/heads/old\nref:" + packed, "got:push HEAD:refs/heads/h\nref:" + oid, "got:push :refs/heads/gone"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// A ref that is a link, a ref name that climbs, alternates: refused.
	os.Symlink("/etc/passwd", filepath.Join(gd, "refs", "heads", "link"))
	for spec, want := range map[string]string{"refs/heads/link:refs/heads/x": "symbolic link", "refs/../../x:refs/heads/x": "not a ref name", "refs/heads/none:refs/heads/x": "does not exist"} {
		_, errs, code = f.shim(HelperShim, f.project, "push "+spec+"\n\n", nil, "origin", "https://git.example/r.git")
		if code != 128 || !strings.Contains(errs, want) {
			t.Errorf("push %s: exit %d %q, want %q", spec, code, errs, want)
		}
	}
	os.WriteFile(filepath.Join(gd, "objects", "info", "alternates"), []byte("/home/u/other/.git/objects\n"), 0o644)
	_, errs, code = f.shim(HelperShim, f.project, "push refs/heads/main:refs/heads/main\n\n", nil, "origin", "https://git.example/r.git")
	if code != 128 || !strings.Contains(errs, "objects/info/alternates") {
		t.Errorf("alternates: exit %d %q", code, errs)
	}
	// Outside the project: no push.
	_, errs, code = f.shim(HelperShim, f.dir, "push refs/heads/main:refs/heads/main\n\n", []string{"GIT_DIR=" + f.dir + "/x/.git"}, "origin", "https://git.example/r.git")
	if code != 128 || !strings.Contains(errs, "works from a repository inside the project") {
		t.Errorf("outside the project: exit %d %q", code, errs)
	}
}

func TestRelayPing(t *testing.T) {
	f := newFixture(t, true, nil)
	c, err := net.DialTimeout("unix", f.sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(`{"kind":"ping"}` + "\n"))
	line, _ := bufio.NewReader(c).ReadBytes('\n')
	var p Pong
	if err := json.Unmarshal(line, &p); err != nil || p.Project != f.project || !p.Push {
		t.Errorf("pong %s: %+v %v", line, p, err)
	}
}
