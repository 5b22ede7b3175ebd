package harness

// The git server of the git-access tests: one container per test package
// on a user network of its own, serving bare repositories below /srv
// over SSH (git-shell, one authorized ed25519 key generated for the run)
// and over HTTP (e2e/gitserver: git http-backend behind basic auth with a
// random password). Only the host side holds the key and the password:
// the host's ssh gets the key through a wrapper on the PATH of
// ai-sandbox (and so of its relay), the host's git gets the password from
// the test home's credential store.
//
// The image (git, ssh client, sshd) serves as the sandbox image of these
// tests too; it is built once FROM the test base image and kept, tagged
// GitImageTag, with a label that says from what it was built.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	// GitImageTag is the git image (sandbox and server) of the git tests.
	GitImageTag = "ai-sandbox-test-git:bookworm"
	// gitLabel marks the image (its value: what it was built from) and the
	// server's containers and networks (their value: the per-run folder).
	gitLabel = "ai-sandbox-e2e.git"
	// GitUser is the HTTP user of the server.
	GitUser = "tester"
)

// gitDockerfile builds the git image; BASE is the test base image.
const gitDockerfile = `ARG BASE
FROM $BASE
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git openssh-client openssh-server >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && find / -xdev -type f -perm /6000 -exec chmod a-s {} +
`

// gitServerScript runs as the server container's command (as root): a
// git user whose shell is git-shell, the authorized key, sshd without
// passwords, then the HTTP server as the git user.
const gitServerScript = `set -e
useradd -m -d /srv -s /usr/bin/git-shell git
mkdir -p /srv/.ssh /run/sshd
cp /seed/authorized_keys /srv/.ssh/authorized_keys
chmod 700 /srv/.ssh; chmod 600 /srv/.ssh/authorized_keys
chown -R git:git /srv
ssh-keygen -A >/dev/null
/usr/sbin/sshd -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -E /var/log/sshd.log
exec su git -s /bin/sh -c 'exec /seed/gitd 0.0.0.0:8080 /srv'
`

// GitServer is the running server and what the host needs to reach it.
type GitServer struct {
	S *Suite
	// Image is the git image; Container the server's container.
	Image     string
	Container string
	// Network is the server's user network (sandboxes join it: a
	// sandbox reaches the server without the relay, and has no
	// credential for it). Network2 gives the server a second address,
	// IP2, that no project names.
	Network, Network2 string
	IP, IP2           string
	// Password is the HTTP password of GitUser.
	Password string
	// KeyPath is the host's private key (the test user's, 0600);
	// ClientDir holds it with the ssh config, the known hosts and
	// bin/ssh, the wrapper that makes the host's ssh use them.
	KeyPath   string
	ClientDir string
	// Markers are strings that only the key and the password hold: the
	// base64 lines of the key's private part, and the password.
	Markers []string
}

// StartGitServer builds what is missing (the git image, the server
// binary), generates the key and the password, and starts the server on
// two new networks; all of it but the image is removed when t ends. Call
// it from a parent test whose subtests use the server.
func StartGitServer(t *testing.T) *GitServer {
	t.Helper()
	s := Get(t)
	start := time.Now()
	g := &GitServer{S: s, Password: "pw-" + Random() + Random()}
	s.removeStaleGitServers()
	g.Image = s.gitImage(t)

	// The server's binary and seed (authorized key), and the host's key.
	seed := filepath.Join(s.Base, "git-server")
	g.ClientDir = filepath.Join(s.Base, "git-client")
	for _, d := range []string{seed, g.ClientDir, filepath.Join(g.ClientDir, "bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(g.ClientDir, 0o700); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(seed, "gitd"), "./e2e/gitserver")
	build.Dir = s.Root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./e2e/gitserver: %v\n%s", err, out)
	}
	g.KeyPath = filepath.Join(g.ClientDir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ai-sandbox-e2e-git", "-f", g.KeyPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	key, err := os.ReadFile(g.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	g.Markers = append(keyMarkers(string(key)), g.Password)
	if len(g.Markers) < 3 {
		t.Fatalf("the generated key has too few lines to mark it:\n%d markers", len(g.Markers))
	}
	if err := copyFile(g.KeyPath+".pub", filepath.Join(seed, "authorized_keys"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The networks and the server.
	id := Random()[:10]
	g.Network, g.Network2 = "aisbx-e2e-git-"+id, "aisbx-e2e-git2-"+id
	g.Container = "aisbx-e2e-gitsrv-" + id
	t.Cleanup(g.stop)
	for _, n := range []string{g.Network, g.Network2} {
		s.DockerOut(t, "network", "create", "--label", gitLabel+"="+s.Base, n)
	}
	s.DockerOut(t, "run", "-d", "--name", g.Container, "--network", g.Network, "--label", gitLabel+"="+s.Base,
		"-e", "GITD_PASSWORD="+g.Password, "-v", seed+":/seed:ro", g.Image, "sh", "-c", gitServerScript)
	s.DockerOut(t, "network", "connect", g.Network2, g.Container)
	g.IP = g.ipOn(t, g.Network)
	g.IP2 = g.ipOn(t, g.Network2)
	for _, addr := range []string{g.IP + ":22", g.IP + ":8080", g.IP2 + ":22", g.IP2 + ":8080"} {
		if !WaitFor(time.Minute, func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err == nil
		}) {
			logs, _ := s.DockerTry("logs", g.Container)
			t.Fatalf("the git server does not answer on %s within a minute; its log:\n%s", addr, logs)
		}
	}

	// The host's ssh: the key, the server's host keys, nothing else.
	hostKeys := s.DockerOut(t, "exec", g.Container, "sh", "-c", "cat /etc/ssh/ssh_host_*_key.pub")
	var known strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(hostKeys), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			fmt.Fprintf(&known, "%s,%s %s %s\n", g.IP, g.IP2, f[0], f[1])
		}
	}
	files := []struct {
		name, content string
		mode          os.FileMode
	}{
		{"known_hosts", known.String(), 0o600},
		{"ssh_config", fmt.Sprintf("Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  IdentityAgent none\n"+
			"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n"+
			"  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n  ConnectTimeout 20\n",
			g.KeyPath, filepath.Join(g.ClientDir, "known_hosts")), 0o600},
		{filepath.Join("bin", "ssh"), fmt.Sprintf("#!/bin/sh\n# e2e: the host's ssh with the test user's key and known hosts\nexec /usr/bin/ssh -F %s \"$@\"\n",
			filepath.Join(g.ClientDir, "ssh_config")), 0o755},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(g.ClientDir, f.name), []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := chownTree(g.ClientDir, s.UID, s.GID); err != nil {
		t.Fatal(err)
	}
	t.Logf("git server %s at %s (and %s) on %s, ready in %s", g.Container, g.IP, g.IP2, g.Network, time.Since(start).Round(time.Millisecond))
	return g
}

// keyMarkers are the base64 lines of an OpenSSH private key but the
// first (which every ed25519 key shares): the public and the private key.
func keyMarkers(key string) []string {
	var out []string
	lines := strings.Split(strings.TrimSpace(key), "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if i <= 1 || strings.HasPrefix(l, "-----") || len(l) < 24 {
			continue
		}
		out = append(out, l)
	}
	return out
}

func (g *GitServer) ipOn(t *testing.T, network string) string {
	t.Helper()
	ip := strings.TrimSpace(g.S.DockerOut(t, "inspect", "--format",
		fmt.Sprintf(`{{(index .NetworkSettings.Networks %q).IPAddress}}`, network), g.Container))
	if net.ParseIP(ip) == nil {
		t.Fatalf("the git server has no address on %s: %q", network, ip)
	}
	return ip
}

func (g *GitServer) stop() {
	_, _ = g.S.DockerTry("rm", "--force", g.Container)
	for _, n := range []string{g.Network, g.Network2} {
		_, _ = g.S.DockerTry("network", "rm", n)
	}
}

// removeStaleGitServers removes the servers and networks of earlier runs
// whose per-run folder is gone.
func (s *Suite) removeStaleGitServers() {
	for _, kind := range [][]string{
		{"ps", "--all", "--filter", "label=" + gitLabel, "--format", `{{.ID}} {{.Label "` + gitLabel + `"}}`},
		{"network", "ls", "--filter", "label=" + gitLabel, "--format", `{{.ID}} {{.Label "` + gitLabel + `"}}`},
	} {
		out, _ := s.DockerTry(kind...)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			id, base, ok := strings.Cut(line, " ")
			if !ok || !strings.Contains(base, "/"+basePrefix) {
				continue
			}
			if _, err := os.Stat(base); os.IsNotExist(err) {
				if kind[0] == "ps" {
					_, _ = s.DockerTry("rm", "--force", id)
				} else {
					_, _ = s.DockerTry("network", "rm", id)
				}
			}
		}
	}
}

// gitImage returns the git image, building it when the tag is missing or
// was built from another base image or Dockerfile.
func (s *Suite) gitImage(t *testing.T) string {
	t.Helper()
	baseID := strings.TrimSpace(s.DockerOut(t, "image", "inspect", "--format", "{{.Id}}", s.Image))
	sum := sha256.Sum256([]byte(gitDockerfile + "\x00" + baseID))
	want := hex.EncodeToString(sum[:])[:16]
	have, _ := s.DockerTry("image", "inspect", "--format", `{{index .Config.Labels "`+gitLabel+`"}}`, GitImageTag)
	if strings.TrimSpace(have) == want {
		return GitImageTag
	}
	t.Logf("building %s FROM %s (git, openssh-client, openssh-server from Debian's mirror)", GitImageTag, s.Image)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Docker, "build", "--build-arg", "BASE="+s.Image, "--label", gitLabel+"="+want,
		"--tag", GitImageTag, "-")
	cmd.Stdin = strings.NewReader(gitDockerfile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", GitImageTag, err, out)
	}
	t.Logf("built %s in %s", GitImageTag, time.Since(start).Round(time.Second))
	return GitImageTag
}

// RepoName makes a repository name of a test's name.
func RepoName(t *testing.T) string {
	return strings.Trim(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"), "-") + "-" + Random()[:6]
}

// NewRepo creates the bare repository /srv/NAME.git on the server with
// one commit on main, and returns NAME.
func (g *GitServer) NewRepo(t *testing.T, name string) string {
	t.Helper()
	script := `set -e; r=/srv/$1.git; git init -q --bare -b main "$r"; git -C "$r" config http.receivepack true
w=$(mktemp -d); git -C "$w" init -q -b main; echo "seed of $1" >"$w/README"; git -C "$w" add README
git -C "$w" -c user.name=seed -c user.email=seed@example.invalid commit -q -m seed; git -C "$w" push -q "$r" main; rm -rf "$w"`
	if out, err := g.S.DockerTry("exec", "-u", "git", g.Container, "sh", "-c", script, "sh", name); err != nil {
		t.Fatalf("create the repository %s on the server: %v\n%s", name, err, out)
	}
	return name
}

// Refs lists the refs of the server's repository NAME with their
// commits, as its owner sees them on the server.
func (g *GitServer) Refs(t *testing.T, name string) string {
	t.Helper()
	return g.S.DockerOut(t, "exec", "-u", "git", g.Container, "git", "-C", "/srv/"+name+".git",
		"for-each-ref", "--format=%(objectname) %(refname)")
}

// SSHURL and HTTPURL are the repository's URLs at the server's first
// address; SSHURL2 and HTTPURL2 at its second, which no project names.
func (g *GitServer) SSHURL(name string) string  { return "ssh://git@" + g.IP + "/srv/" + name + ".git" }
func (g *GitServer) HTTPURL(name string) string { return "http://" + g.IP + ":8080/" + name + ".git" }
func (g *GitServer) SSHURL2(name string) string {
	return "ssh://git@" + g.IP2 + "/srv/" + name + ".git"
}
func (g *GitServer) HTTPURL2(name string) string {
	return "http://" + g.IP2 + ":8080/" + name + ".git"
}

// HostGit is a test user's git setup on the host.
type HostGit struct {
	// Env is for ai-sandbox's environment (RunOpts.Env): the PATH that
	// finds the ssh wrapper.
	Env []string
	// Name and Email are the identity of the host's global git config.
	Name, Email string
}

// SetupHost gives e's user the server's credentials, as a user has them:
// the ssh wrapper on the PATH, and in the home a global git config with
// an identity and the credential store, and ~/.git-credentials with the
// password.
func (g *GitServer) SetupHost(e *Env) HostGit {
	e.T.Helper()
	h := HostGit{
		Env:   []string{"PATH=" + filepath.Join(g.ClientDir, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Name:  "E2E Host User " + Random()[:6],
		Email: "host-" + Random()[:10] + "@example.invalid",
	}
	files := map[string]string{
		".gitconfig":       fmt.Sprintf("[user]\n\tname = %s\n\temail = %s\n[credential]\n\thelper = store\n", h.Name, h.Email),
		".git-credentials": fmt.Sprintf("http://%s:%s@%s:8080\nhttp://%s:%s@%s:8080\n", GitUser, g.Password, g.IP, GitUser, g.Password, g.IP2),
	}
	for name, content := range files {
		p := filepath.Join(e.Home, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			e.T.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Chown(p, e.S.UID, e.S.GID); err != nil {
				e.T.Fatal(err)
			}
		}
	}
	return h
}

// AddRemotes makes the server's repository NAME the remotes of e's
// project, on the host: origin over SSH, web over HTTP.
func (g *GitServer) AddRemotes(e *Env, name string) {
	e.T.Helper()
	e.HostSh(e.Project, fmt.Sprintf("git remote add origin %s && git remote add web %s", g.SSHURL(name), g.HTTPURL(name)))
}

// ShortState moves e's state folder (~/.ai-sandbox) to a folder with a
// short path below the per-run folder (see MoveState) and returns the
// AI_SANDBOX_HOME=… setting that every ai-sandbox run of the test must
// use (RunOpts.Env).
//
// Why: the git relay's socket lies in the state folder
// (projects/<key>/git/<mode>/relay.sock), and a unix socket's path is at
// most 107 bytes; below a test's home it is longer, and the relay cannot
// start ("bind: invalid argument"). The tests of git access that are not
// about that use a short state folder.
func (e *Env) ShortState() []string {
	e.T.Helper()
	dir, err := os.MkdirTemp(e.S.Base, "st-")
	if err != nil {
		e.T.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		e.T.Fatal(err)
	}
	return e.MoveState(dir)
}

// MoveState moves e's state folder to dir (which must not exist; its
// parent must), leaves a link to it at e.State (so that e.State still
// reads it), removes dir when the test ends, and returns the
// AI_SANDBOX_HOME=dir setting for RunOpts.Env.
func (e *Env) MoveState(dir string) []string {
	e.T.Helper()
	if err := os.Rename(e.State, dir); err != nil {
		e.T.Fatal(err)
	}
	if err := os.Symlink(dir, e.State); err != nil {
		e.T.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Lchown(e.State, e.S.UID, e.S.GID); err != nil {
			e.T.Fatal(err)
		}
	}
	e.T.Cleanup(func() {
		e.S.removeContainersUnder(e.Dir)
		if os.Getenv("AI_SANDBOX_E2E_KEEP") != "1" && !e.T.Failed() {
			_ = os.RemoveAll(dir)
		}
	})
	return []string{"AI_SANDBOX_HOME=" + dir}
}
