package main

// The git-relay figure: `git clone` of a ~50 MB repository over ssh, in
// the sandbox through ai-sandbox's git relay (`ai-sandbox run --git-fetch
// git clone …`) against the host's own `git clone` of the same remote.
//
// The remote is a git server container of the harness's own (sshd, a git
// user whose shell is git-shell, one bare repository of random files) on
// a docker network of its own. The bench user gets a key the server
// authorises and the server's host keys, through an `ssh` wrapper first on
// PATH (ssh reads ~/.ssh from the passwd entry, not $HOME, so the wrapper
// points it at the bench's own files with -F); the host's git (B) and the
// relay's ssh (A) both run that wrapper. The bench project's origin is the
// server's repository (ssh URL by IP): only hosts of the project's remotes
// are served by the relay.
//
// The image (git, ssh client, sshd) is built FROM the local test base the
// way the e2e suite builds its git image (same Dockerfile text, so docker's
// layer cache shares the work), under a tag of the bench's own.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ai-sandbox/ai-sandbox/bench"
)

const (
	// gitImageTag is the sandbox and server image of the git figure.
	gitImageTag = "ai-sandbox-bench-git:bookworm"
	// gitLabel marks the image (value: what it was built from) and the
	// server's container and network (value: the bench's temporary folder).
	// Not "ai-sandbox.*": that prefix means a sandbox image to the image
	// size table.
	gitLabel = "aisbx-bench.git"
	// gitTestBase is the image the git image is built FROM when it exists.
	gitTestBase = "ai-sandbox-test-base:bookworm"
)

// gitDockerfile is the e2e suite's git image (e2e/harness/gitserver.go),
// word for word, so that a build there and here share docker's cache.
const gitDockerfile = `ARG BASE
FROM $BASE
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git openssh-client openssh-server >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && find / -xdev -type f -perm /6000 -exec chmod a-s {} +
`

// gitServerScript is the server container's command (as root): the git
// user, the authorised key ($AUTHORIZED_KEY), then sshd in the foreground.
// GIT_PROTOCOL is accepted so that both clients speak protocol v2, as
// they do with the common forges.
const gitServerScript = `set -e
useradd -m -d /srv -s /usr/bin/git-shell git 2>/dev/null
mkdir -p /srv/.ssh /run/sshd
printf '%s\n' "$AUTHORIZED_KEY" >/srv/.ssh/authorized_keys
chmod 700 /srv/.ssh; chmod 600 /srv/.ssh/authorized_keys
chown -R git:git /srv
ssh-keygen -A >/dev/null
exec /usr/sbin/sshd -D -e -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o AcceptEnv=GIT_PROTOCOL
`

// gitRepoScript makes /srv/big.git (run as the git user): $1 commits of
// ten files of random bytes each, $2 bytes a file, then one pack. It
// prints the pack's size in bytes.
const gitRepoScript = `set -e
r=/srv/big.git
git init -q --bare -b main "$r"
w=$(mktemp -d); cd "$w"; git init -q -b main
i=1
while [ "$i" -le "$1" ]; do
  mkdir -p "d$i"
  for f in 0 1 2 3 4 5 6 7 8 9; do head -c "$2" /dev/urandom >"d$i/f$f.bin"; done
  echo "commit $i" >README
  git add -A
  git -c user.name=bench -c user.email=bench@example.invalid commit -q -m "commit $i"
  i=$((i+1))
done
git push -q "$r" main
cd /; rm -rf "$w"
git -C "$r" repack -a -d -q
cat "$r"/objects/pack/*.pack | wc -c
`

// gitServer is the running server and the bench user's client files.
type gitServer struct {
	image     string
	container string
	network   string
	ip        string
	url       string // ssh://git@IP/srv/big.git
	packBytes int64
	clientDir string // key, known_hosts, ssh_config, bin/ssh
	env       []string
}

// gitFigure names the figure; the repository's nominal size goes in.
const gitFigure = "git clone of a %d MB repository over ssh, through the git relay (warm sandbox)"

// gitClone measures the figure and adds its row. When it cannot be
// measured it adds a row without samples (n/a, ✗) and says why in the
// notes, and returns the reason; the other figures stand.
func (h *harness) gitClone() error {
	err := h.gitCloneRun()
	if err != nil {
		logf("git clone over the relay: not measured: %v", err)
		r := bench.NewRow("git-clone-relay", fmt.Sprintf(gitFigure, h.o.gitMB), "ai-sandbox run --git-fetch git clone", "`git clone` on the host, same remote", "ms",
			nil, nil, bench.Target{On: "ratio", Op: "<=", Limit: 1.3})
		r.Met = false // no ratio (NewRow leaves it 0 without samples)
		r.Note = "not measured: " + err.Error()
		h.add(r)
		h.report.Notes = append(h.report.Notes, "git clone over the relay: NOT MEASURED: "+err.Error())
	}
	h.removeProjectContainers()
	h.stopGitServer()
	return err
}

func (h *harness) gitCloneRun() error {
	n := h.o.gitRuns
	for _, tool := range []string{"git", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("the host has no %s (needed for the baseline and the relay)", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(h.proj, ".git", "config")); err != nil {
		return fmt.Errorf("the bench project is not a git repository: %w", err)
	}
	img, err := h.gitImage()
	if err != nil {
		return err
	}
	g, err := h.startGitServer(img)
	if err != nil {
		return err
	}
	mb := float64(g.packBytes) / 1e6
	logf("git clone of a %.1f MB repository: ai-sandbox run --git-fetch git clone vs git clone on the host, %d pairs", mb, n)

	// The project's origin: the server's repository.
	if res, err := h.runAs(h.env, "git", "remote", "add", "origin", g.url); err != nil || res.code != 0 {
		return fmt.Errorf("git remote add origin: %v %s", err, res.stderr)
	}
	defer func() { _, _ = h.runAs(h.env, "git", "remote", "remove", "origin") }()

	git, _ := exec.LookPath("git")
	dirA := filepath.Join(h.proj, "clone-relay")
	dirB := filepath.Join(h.proj, "clone-host")
	argvA := []string{"ai-sandbox", "run", "--image", g.image, "--git-fetch", "git", "clone", "--quiet", g.url, dirA}
	argvB := []string{"git", "clone", "--quiet", g.url, dirB}
	dbgN := 0
	run := func(a bool) (result, error) {
		dir, path, argv := dirB, git, argvB
		if a {
			dir, path, argv = dirA, h.bin, argvA
		}
		_ = os.RemoveAll(dir)
		syscall.Sync() // not timed: the previous clone's writes are not in the next one's time
		h.settle()
		res, err := h.spawn(append(g.env, "AI_RUN_DEBUG=1"), path, argv, true)
		dbgN++
		_ = os.WriteFile(filepath.Join(h.tmp, fmt.Sprintf("dbg-%02d-%v.log", dbgN, a)), []byte(res.stderr), 0o644)
		if err == nil && res.code != 0 {
			err = fmt.Errorf("exit %d: %s", res.code, firstLine(res.stderr))
		}
		if err == nil {
			if _, serr := os.Stat(filepath.Join(dir, ".git")); serr != nil {
				err = fmt.Errorf("no clone in %s after the run", dir)
			}
		}
		_ = os.RemoveAll(dir)
		if err != nil {
			return res, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
		return res, nil
	}

	// Unmeasured: the first clone through the relay starts the sandbox
	// and the relay (its time is a note: cold, unpaired), then one host
	// clone (the server's page cache).
	h.removeProjectContainers()
	first, err := run(true)
	if err != nil {
		return fmt.Errorf("first clone through the relay: %w", err)
	}
	if _, err := run(false); err != nil {
		return fmt.Errorf("first host clone: %w", err)
	}
	name, id := h.projectContainer()
	if id == "" {
		return fmt.Errorf("no running sandbox after the first clone through the relay")
	}

	var a, b []float64
	var changed []string
	for i := 0; i < n; i++ {
		for _, isA := range order(i) {
			res, err := run(isA)
			if err != nil {
				return err
			}
			if isA {
				a = append(a, res.ms())
			} else {
				b = append(b, res.ms())
			}
			// Not timed: was that clone in the same sandbox?
			if _, now := h.projectContainer(); now != id {
				changed = append(changed, fmt.Sprintf("after the %s clone of pair %d the sandbox was %q", map[bool]string{true: "A", false: "B"}[isA], i+1, now))
				id = now
			}
		}
	}
	row := bench.NewRow("git-clone-relay", fmt.Sprintf(gitFigure, h.o.gitMB),
		"ai-sandbox run --git-fetch git clone", "`git clone` on the host, same remote", "ms",
		a, b, bench.Target{On: "ratio", Op: "<=", Limit: 1.3})
	if len(changed) > 0 {
		row.Note = "the sandbox was stopped or replaced during the runs (not by the harness), so some clones were not warm: " + strings.Join(changed, "; ")
		h.report.Notes = append(h.report.Notes, "git clone: "+row.Note)
	}
	h.add(row)

	// Proof that A went through the relay: its log has a line per clone.
	served := "unknown (no relay log found)"
	if logs, _ := filepath.Glob(filepath.Join(h.home, ".ai-sandbox", "projects", "*", "git", "fetch-only.log")); len(logs) == 1 {
		if data, err := os.ReadFile(logs[0]); err == nil {
			k := strings.Count(string(data), " git-upload-pack ")
			served = strconv.Itoa(k)
			if k < n+1 {
				h.report.Notes = append(h.report.Notes, fmt.Sprintf("git clone: the relay's log shows %d upload-pack requests for %d clones through it", k, n+1))
			}
		}
	}
	hostGit, _ := exec.Command(git, "--version").Output()
	imgGit, _ := h.engine("run", "--rm", g.image, "git", "--version")
	h.report.Notes = append(h.report.Notes, fmt.Sprintf(
		"git clone: %d pairs (-git-n), alternating; a bare repository of %.1f MB (one pack of random files) served by sshd in a container of the harness's "+
			"(git-shell, protocol v2), `git clone --quiet ssh://git@%s/srv/big.git DIR` into the bench project on the host (B) and in the sandbox %s (A: "+
			"`ai-sandbox run --image %s --git-fetch git clone …`, the sandbox's git → the perl ssh shim → the relay's socket → the host's ssh); "+
			"each clone is removed and `sync` runs before the next (not timed); stderr of both is captured (for errors; --quiet writes none); the host's ssh uses the same key, known_hosts and config for both; "+
			"relay requests logged: %s; git: host %s, image %s; the first clone through the relay, which started the sandbox and the relay, took %.0f ms (not in the figure)",
		n, mb, g.ip, name, g.image, served, strings.TrimSpace(strings.TrimPrefix(string(hostGit), "git version ")),
		strings.TrimSpace(strings.TrimPrefix(imgGit, "git version ")), first.ms()))
	return nil
}

// gitImage returns the git image, building it when the tag is missing or
// was built from another base image or Dockerfile.
func (h *harness) gitImage() (string, error) {
	base := gitTestBase
	if _, err := h.engine("image", "inspect", base); err != nil {
		base = h.image // a Debian-based sandbox image has apt-get too
	}
	baseID, err := h.engine("image", "inspect", "--format", "{{.Id}}", base)
	if err != nil {
		return "", fmt.Errorf("no image to build the git image from (%s): %s", base, firstLine(baseID))
	}
	sum := sha256.Sum256([]byte(gitDockerfile + "\x00" + baseID))
	want := hex.EncodeToString(sum[:])[:16]
	if have, _ := h.engine("image", "inspect", "--format", `{{index .Config.Labels "`+gitLabel+`"}}`, gitImageTag); have == want {
		return gitImageTag, nil
	}
	logf("building %s FROM %s (git, openssh-client, openssh-server from Debian's mirror)", gitImageTag, base)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.docker, "build", "--build-arg", "BASE="+base, "--label", gitLabel+"="+want, "--tag", gitImageTag, "-")
	cmd.Stdin = strings.NewReader(gitDockerfile)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("the git image could not be built (docker build %s FROM %s: %v): %s", gitImageTag, base, err, lastLines(string(out), 3))
	}
	logf("built %s in %s", gitImageTag, time.Since(start).Round(time.Second))
	return gitImageTag, nil
}

// startGitServer starts the server with its repository and gives the
// bench user what reaches it. The harness's cleanup removes it all.
func (h *harness) startGitServer(img string) (*gitServer, error) {
	h.removeStaleGitServers()
	g := &gitServer{image: img, clientDir: filepath.Join(h.tmp, "git-client")}
	h.git = g

	// The bench user's key, made by that user.
	binDir := filepath.Join(g.clientDir, "bin")
	for _, d := range []string{g.clientDir, binDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
		if err := os.Chown(d, h.uid, h.gid); err != nil {
			return nil, err
		}
	}
	key := filepath.Join(g.clientDir, "id_ed25519")
	if res, err := h.runAs(h.env, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ai-sandbox-bench", "-f", key); err != nil || res.code != 0 {
		return nil, fmt.Errorf("ssh-keygen: %v %s", err, res.stderr)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		return nil, err
	}

	// The network and the server.
	var rb [5]byte
	_, _ = rand.Read(rb[:])
	suffix := hex.EncodeToString(rb[:])
	g.network, g.container = "aisbx-bench-git-"+suffix, "aisbx-bench-gitsrv-"+suffix
	if out, err := h.engine("network", "create", "--label", gitLabel+"="+h.tmp, g.network); err != nil {
		g.network = ""
		return nil, fmt.Errorf("docker network create: %s", firstLine(out))
	}
	if out, err := h.engine("run", "-d", "--name", g.container, "--network", g.network, "--label", gitLabel+"="+h.tmp,
		"-e", "AUTHORIZED_KEY="+strings.TrimSpace(string(pub)), img, "sh", "-c", gitServerScript); err != nil {
		return nil, fmt.Errorf("start the git server: %s", firstLine(out))
	}
	ip, err := h.engine("inspect", "--format", fmt.Sprintf(`{{(index .NetworkSettings.Networks %q).IPAddress}}`, g.network), g.container)
	if err != nil || net.ParseIP(ip) == nil {
		return nil, fmt.Errorf("the git server has no address on %s: %q", g.network, ip)
	}
	g.ip, g.url = ip, "ssh://git@"+ip+"/srv/big.git"
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", ip+":22", time.Second)
		if err == nil {
			c.Close()
			break
		}
		running, _ := h.engine("container", "inspect", "--format", "{{.State.Running}}", g.container)
		if running != "true" || time.Now().After(deadline) {
			logs, _ := h.engine("logs", "--tail", "5", g.container)
			return nil, fmt.Errorf("the git server does not answer on %s:22 (running: %s): %s", ip, running, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The repository: ten files a commit, five commits.
	perFile := h.o.gitMB * 1e6 / 50
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, h.docker, "exec", "-u", "git", "-e", "HOME=/srv", g.container,
		"sh", "-c", gitRepoScript, "sh", "5", strconv.Itoa(perFile)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("create the repository on the server: %v: %s", err, lastLines(string(out), 3))
	}
	if g.packBytes, err = strconv.ParseInt(strings.TrimSpace(lastLines(string(out), 1)), 10, 64); err != nil {
		return nil, fmt.Errorf("the repository's pack size: %q", out)
	}

	// The bench user's ssh: the key, the server's host keys, nothing else.
	hostKeys, err := h.engine("exec", g.container, "sh", "-c", "cat /etc/ssh/ssh_host_*_key.pub")
	if err != nil {
		return nil, fmt.Errorf("the server's host keys: %s", firstLine(hostKeys))
	}
	var known strings.Builder
	for _, line := range strings.Split(hostKeys, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			fmt.Fprintf(&known, "%s %s %s\n", ip, f[0], f[1])
		}
	}
	ssh, _ := exec.LookPath("ssh")
	sshConfig := filepath.Join(g.clientDir, "ssh_config")
	files := []struct {
		path, content string
		mode          os.FileMode
	}{
		{filepath.Join(g.clientDir, "known_hosts"), known.String(), 0o600},
		{sshConfig, fmt.Sprintf("Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  IdentityAgent none\n"+
			"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n"+
			"  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n  ConnectTimeout 20\n",
			key, filepath.Join(g.clientDir, "known_hosts")), 0o600},
		{filepath.Join(binDir, "ssh"), fmt.Sprintf("#!/bin/sh\n# bench: the host's ssh with the bench user's key and known hosts\nexec %s -F %s \"$@\"\n",
			ssh, sshConfig), 0o755},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, []byte(f.content), f.mode); err != nil {
			return nil, err
		}
		if err := os.Chown(f.path, h.uid, h.gid); err != nil {
			return nil, err
		}
	}
	// binDir must be searchable by the user only; the client folder too.
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if p := os.Getenv("PATH"); p != "" {
		path = p
	}
	for _, kv := range h.env {
		if !strings.HasPrefix(kv, "PATH=") {
			g.env = append(g.env, kv)
		}
	}
	g.env = append(g.env, "PATH="+binDir+":"+path)

	// The host reaches it (not timed).
	if res, err := h.runAs(g.env, "git", "ls-remote", g.url); err != nil || res.code != 0 {
		return nil, fmt.Errorf("git ls-remote %s on the host: %v %s", g.url, err, res.stderr)
	}
	return g, nil
}

// stopGitServer removes the server and its network (the key is in the
// temporary folder, which cleanup removes).
func (h *harness) stopGitServer() {
	g := h.git
	if g == nil {
		return
	}
	if g.container != "" {
		_, _ = h.engine("rm", "-f", g.container)
	}
	if g.network != "" {
		_, _ = h.engine("network", "rm", g.network)
	}
	h.git = nil
}

// removeStaleGitServers removes servers and networks of earlier runs
// whose temporary folder is gone (an interrupted run that could not
// clean up).
func (h *harness) removeStaleGitServers() {
	for _, kind := range []string{"ps", "network"} {
		args := []string{kind, "ls", "--filter", "label=" + gitLabel, "--format", `{{.ID}} {{.Label "` + gitLabel + `"}}`}
		if kind == "ps" {
			args = []string{"ps", "--all", "--filter", "label=" + gitLabel, "--format", `{{.ID}} {{.Label "` + gitLabel + `"}}`}
		}
		out, err := h.engine(args...)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(out, "\n") {
			id, dir, ok := strings.Cut(strings.TrimSpace(line), " ")
			if !ok || !strings.Contains(dir, "ai-sandbox-bench-") {
				continue
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				continue
			}
			if kind == "ps" {
				_, _ = h.engine("rm", "-f", id)
			} else {
				_, _ = h.engine("network", "rm", id)
			}
		}
	}
}

// projectContainer is the name and, when it runs, the id of the bench
// project's one sandbox container.
func (h *harness) projectContainer() (name, id string) {
	out, err := h.engine("ps", "--filter", "label=ai-sandbox.path="+h.proj, "--format", "{{.Names}} {{.ID}}")
	if err != nil || out == "" || strings.Contains(out, "\n") {
		return "", ""
	}
	name, id, _ = strings.Cut(out, " ")
	return name, id
}

// removeProjectContainers removes every container of the bench project
// (the figure's sandbox runs another image and git mode than the launch
// figures' one) and waits until they are gone.
func (h *harness) removeProjectContainers() {
	for i := 0; i < 200; i++ {
		out, err := h.engine("ps", "-aq", "--filter", "label=ai-sandbox.path="+h.proj)
		if err != nil || out == "" {
			return
		}
		if i%40 == 0 {
			_, _ = h.engine(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
