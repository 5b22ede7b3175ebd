// Package harness runs ai-sandbox end to end against a real Docker engine:
// it builds the binary and the attack probe once, makes sure the local
// test image exists, runs ai-sandbox as an unprivileged user (as root the
// sandbox user would be root too), and gives each test its own home,
// project, second workspace and planted secrets, removing every container
// the test made when it ends.
//
// A test package uses it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
//
// Environment:
//
//	CI                   set: a missing Docker engine is a failure, never a skip
//	AI_SANDBOX_SKIP_E2E  1 (and CI unset): skip the end-to-end tests
//	AI_SANDBOX_TEST_BASE the test image (default ai-sandbox-test-base:bookworm)
//	AI_SANDBOX_E2E_UID   the uid (and gid) to run ai-sandbox as when root (default 12345)
//	AI_SANDBOX_E2E_DIR   where to make the per-run folder (default /home as root, else $TMPDIR)
//	AI_SANDBOX_E2E_KEEP  1: keep the per-run folder (containers are removed all the same)
//	AI_SANDBOX_E2E_BIN   test this ai-sandbox binary instead of building ./cmd/ai-sandbox
package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

// Defaults.
const (
	DefaultImage = "ai-sandbox-test-base:bookworm"
	DefaultUID   = 12345
	// UndeclaredKey is an env-file key that no tool declares.
	UndeclaredKey = "AI_SANDBOX_E2E_UNDECLARED"
	// DeclaredKey is one of claude's declared keys.
	DeclaredKey = "ANTHROPIC_API_KEY"
	// basePrefix names the per-run folder (and finds stale ones).
	basePrefix = "ai-sandbox-e2e-"
)

// Suite is what TestMain prepared, shared by every test.
type Suite struct {
	Root  string // the module's root folder
	Base  string // the per-run folder (0755)
	Bin   string // the ai-sandbox binary
	Probe string // the probe binary
	// ProbeDir holds the probe as "probe" and as "claude", for
	// --mount ProbeDir:/usr/local/bin:ro.
	ProbeDir string
	Image    string
	Docker   string
	// Socket is the docker engine's unix socket on this host.
	Socket   string
	UID, GID int
	// Credential is set when the tests run as root: ai-sandbox then runs
	// as UID:GID with the docker socket's group.
	Credential *syscall.Credential
}

var (
	suiteMu sync.Mutex
	suite   *Suite
)

// Main prepares the suite, runs the tests and cleans up. It returns the
// exit code for os.Exit.
func Main(m *testing.M) int {
	if os.Getenv("AI_SANDBOX_SKIP_E2E") == "1" && os.Getenv("CI") == "" {
		fmt.Fprintln(os.Stderr, "e2e: skipped (AI_SANDBOX_SKIP_E2E=1)")
		return 0
	}
	s, err := setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setup failed: %v\n", err)
		if s != nil {
			s.teardown()
		}
		return 1
	}
	suiteMu.Lock()
	suite = s
	suiteMu.Unlock()
	code := m.Run()
	s.teardown()
	return code
}

// Get returns the suite; tests call it through NewEnv.
func Get(t testing.TB) *Suite {
	t.Helper()
	suiteMu.Lock()
	defer suiteMu.Unlock()
	if suite == nil {
		t.Fatal("e2e: the harness was not set up: call harness.Main from TestMain")
	}
	return suite
}

func setup() (*Suite, error) {
	s := &Suite{Docker: "docker", Image: DefaultImage, Socket: dockerSocket()}
	if v := os.Getenv("AI_SANDBOX_DOCKER"); v != "" {
		s.Docker = v
	}
	if v := os.Getenv("AI_SANDBOX_TEST_BASE"); v != "" {
		s.Image = v
	}

	// (a) An engine must answer.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	out, err := exec.CommandContext(ctx, s.Docker, "version", "--format", "{{.Server.Version}}").CombinedOutput()
	cancel()
	if err != nil {
		hint := "start a Docker engine (dockerd) and make sure 'docker info' works"
		if os.Getenv("CI") == "" {
			hint += ", or set AI_SANDBOX_SKIP_E2E=1 to skip these tests"
		}
		return nil, fmt.Errorf("no Docker engine answers (%v: %s); %s", err, strings.TrimSpace(string(out)), hint)
	}

	// (b) Build the binary and the probe.
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return nil, fmt.Errorf("cannot find the module root (go env GOMOD: %v)", err)
	}
	s.Root = filepath.Dir(strings.TrimSpace(string(gomod)))
	if err := s.makeBase(); err != nil {
		return s, err
	}
	s.Bin = filepath.Join(s.Base, "bin", "ai-sandbox")
	s.Probe = filepath.Join(s.Base, "bin", "probe")
	builds := []struct{ out, pkg string }{{s.Bin, "./cmd/ai-sandbox"}, {s.Probe, "./e2e/probe"}}
	if bin := os.Getenv("AI_SANDBOX_E2E_BIN"); bin != "" {
		if err := copyFile(bin, s.Bin, 0o755); err != nil {
			return s, fmt.Errorf("AI_SANDBOX_E2E_BIN: %w", err)
		}
		builds = builds[1:]
	}
	for _, b := range builds {
		cmd := exec.Command("go", "build", "-trimpath", "-o", b.out, b.pkg)
		cmd.Dir = s.Root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return s, fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	s.ProbeDir = filepath.Join(s.Base, "probe-bin")
	if err := os.MkdirAll(s.ProbeDir, 0o755); err != nil {
		return s, err
	}
	for _, name := range []string{"probe", "claude", "opencode"} {
		if err := copyFile(s.Probe, filepath.Join(s.ProbeDir, name), 0o755); err != nil {
			return s, err
		}
	}

	// (c) The test image.
	if err := exec.Command(s.Docker, "image", "inspect", s.Image).Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building the test image %s with scripts/test-base-image.sh\n", s.Image)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		cmd := exec.CommandContext(ctx, filepath.Join(s.Root, "scripts", "test-base-image.sh"), s.Image)
		cmd.Dir = s.Root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			return s, fmt.Errorf("scripts/test-base-image.sh: %v", err)
		}
	}

	// (d) The unprivileged user.
	if err := s.setupUser(); err != nil {
		return s, err
	}
	s.removeStaleContainers()
	return s, nil
}

// makeBase creates the per-run folder, traversable by the test user.
// As root it lives under /home, where users' projects usually are; its
// parents must not be a tmpfs in the container for the test of "other
// workspace" to be meaningful, and /home is not.
func (s *Suite) makeBase() error {
	parent := os.Getenv("AI_SANDBOX_E2E_DIR")
	if parent == "" {
		parent = os.TempDir()
		if os.Geteuid() == 0 {
			if st, err := os.Stat("/home"); err == nil && st.IsDir() {
				parent = "/home"
			}
		}
	}
	removeStale(parent)
	dir, err := os.MkdirTemp(parent, basePrefix)
	if err != nil {
		return fmt.Errorf("create the per-run folder: %w", err)
	}
	s.Base = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
}

// removeStale deletes per-run folders of runs that died more than a day
// ago (a killed `go test` leaves them).
func removeStale(parent string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), basePrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			_ = os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

func (s *Suite) setupUser() error {
	if os.Geteuid() != 0 {
		s.UID, s.GID = os.Getuid(), os.Getgid()
		return nil
	}
	s.UID = DefaultUID
	if v := os.Getenv("AI_SANDBOX_E2E_UID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("AI_SANDBOX_E2E_UID=%q: not a positive number", v)
		}
		s.UID = n
	}
	s.GID = s.UID
	// ai-sandbox needs no passwd entry (it uses $HOME), but tools like
	// git and ps show names; add one when the uid has none.
	if out, err := exec.Command("getent", "passwd", strconv.Itoa(s.UID)).Output(); err != nil || len(out) == 0 {
		args := []string{"--uid", strconv.Itoa(s.UID), "--no-create-home", "--shell", "/bin/sh"}
		if exec.Command("getent", "group", strconv.Itoa(s.GID)).Run() == nil {
			args = append(args, "--gid", strconv.Itoa(s.GID), "--no-user-group")
		} else {
			args = append(args, "--user-group")
		}
		if out, err := exec.Command("useradd", append(args, "aisbx-e2e")...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: note: useradd: %v %s (going on without a passwd entry)\n", err, strings.TrimSpace(string(out)))
		}
	}
	groups, err := dockerGroups()
	if err != nil {
		return err
	}
	s.Credential = &syscall.Credential{Uid: uint32(s.UID), Gid: uint32(s.GID), Groups: groups}
	// The user must be able to use the engine.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Docker, "version", "--format", "{{.Server.Version}}")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.Credential}
	cmd.Env = append(minimalEnv(), "HOME="+s.Base)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("uid %d cannot use the Docker engine (groups %v): %v: %s", s.UID, groups, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// dockerGroups finds the group that may use the docker socket: the
// socket's own group, else the "docker" group of /etc/group.
func dockerGroups() ([]uint32, error) {
	var out []uint32
	if st, err := os.Stat(dockerSocket()); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Gid != 0 {
			out = append(out, sys.Gid)
		}
	}
	if data, err := os.ReadFile("/etc/group"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 3 && f[0] == "docker" {
				if gid, err := strconv.Atoi(f[2]); err == nil && (len(out) == 0 || out[0] != uint32(gid)) {
					out = append(out, uint32(gid))
				}
			}
		}
	}
	return out, nil
}

func dockerSocket() string {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		return strings.TrimPrefix(h, "unix://")
	}
	return "/var/run/docker.sock"
}

func minimalEnv() []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "AI_SANDBOX_DOCKER"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// teardown removes every container made under the per-run folder, then
// the folder.
func (s *Suite) teardown() {
	if s.Base == "" {
		return
	}
	s.removeContainersUnder(s.Base)
	if os.Getenv("AI_SANDBOX_E2E_KEEP") != "1" {
		_ = os.RemoveAll(s.Base)
	} else {
		fmt.Fprintf(os.Stderr, "e2e: kept %s\n", s.Base)
	}
}

// removeStaleContainers removes the containers of earlier runs whose
// per-run folder is gone.
func (s *Suite) removeStaleContainers() {
	stale := func(dir string) bool {
		_, err := os.Stat(dir)
		return strings.Contains(dir, "/"+basePrefix) && errors.Is(err, os.ErrNotExist)
	}
	for id, ws := range s.sandboxContainers() {
		if stale(ws) {
			_ = exec.Command(s.Docker, "rm", "--force", id).Run()
		}
	}
	for id, ed := range s.labelled("container", "ai-sandbox.egress-dir") {
		if stale(ed) {
			_ = exec.Command(s.Docker, "rm", "--force", id).Run()
		}
	}
	for id, ed := range s.labelled("network", "ai-sandbox.egress-dir") {
		if stale(ed) {
			_ = exec.Command(s.Docker, "network", "rm", id).Run()
		}
	}
}

func (s *Suite) removeContainersUnder(dir string) {
	var ids []string
	for id, ws := range s.sandboxContainers() {
		if ws == dir || strings.HasPrefix(ws, dir+"/") {
			ids = append(ids, id)
		}
	}
	// The egress proxies and port forwarders of homes below dir.
	for id, ed := range s.labelled("container", "ai-sandbox.egress-dir") {
		if strings.HasPrefix(ed, dir+"/") {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		_ = exec.Command(s.Docker, append([]string{"rm", "--force"}, ids...)...).Run()
	}
	// Then the sandboxes' own networks.
	var nets []string
	for id, ed := range s.labelled("network", "ai-sandbox.egress-dir") {
		if strings.HasPrefix(ed, dir+"/") {
			nets = append(nets, id)
		}
	}
	if len(nets) > 0 {
		_ = exec.Command(s.Docker, append([]string{"network", "rm"}, nets...)...).Run()
	}
}

// RemoveNetwork removes a network the test made, after taking off it the
// containers still joined (an egress proxy joined to a stand-in's network
// would otherwise keep it).
func (s *Suite) RemoveNetwork(name string) {
	out, _ := exec.Command(s.Docker, "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", name).Output()
	for _, c := range strings.Fields(string(out)) {
		_ = exec.Command(s.Docker, "network", "disconnect", "--force", name, c).Run()
	}
	_ = exec.Command(s.Docker, "network", "rm", name).Run()
}

// labelled maps the id of every container (running or not) or network
// with a label to its value.
func (s *Suite) labelled(kind, label string) map[string]string {
	args := []string{kind, "ls", "--no-trunc", "--filter", "label=" + label, "--format", `{{.ID}} {{.Label "` + label + `"}}`}
	if kind == "container" {
		args = append(args[:2], append([]string{"--all"}, args[2:]...)...)
	}
	out, err := exec.Command(s.Docker, args...).Output()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if id, v, ok := strings.Cut(line, " "); ok {
			m[id] = v
		}
	}
	return m
}

// sandboxContainers maps the id of every container with an
// ai-sandbox.workspace label (running or not) to that label.
func (s *Suite) sandboxContainers() map[string]string {
	out, err := exec.Command(s.Docker, "ps", "--all", "--no-trunc", "--filter", "label=ai-sandbox.workspace",
		"--format", `{{.ID}} {{.Label "ai-sandbox.workspace"}}`).Output()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		id, ws, ok := strings.Cut(sc.Text(), " ")
		if ok {
			m[id] = ws
		}
	}
	return m
}

// ---------------------------------------------------------------------------
// Per-test environment

// Env is one test's world: a home with planted secrets and an env file,
// a whitelisted workspace holding a git project, and a second whitelisted
// workspace.
type Env struct {
	T *testing.T
	S *Suite

	Dir       string // the test's folder (0755, root's)
	Home      string // $HOME of the user
	State     string // ~/.ai-sandbox
	Workspace string // the whitelisted workspace
	Project   string // a git repository inside it
	Other     string // a second whitelisted workspace
	// Secrets are the planted secret files; Markers the strings that only
	// they contain.
	Secrets []string
	Markers []string
	// DeclaredValue is claude's ANTHROPIC_API_KEY in the env file;
	// UndeclaredValue is AI_SANDBOX_E2E_UNDECLARED's.
	DeclaredValue   string
	UndeclaredValue string
	// ProcessMarker is in the command line of the host process that
	// StartHostMarker starts ("" until then).
	ProcessMarker string
}

// NewEnv makes a fresh environment for t and removes what it leaves
// behind (containers, processes) when t ends.
func NewEnv(t *testing.T) *Env {
	t.Helper()
	s := Get(t)
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	dir, err := os.MkdirTemp(s.Base, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &Env{
		T: t, S: s, Dir: dir,
		Home:      filepath.Join(dir, "home"),
		Workspace: filepath.Join(dir, "ws"),
		Other:     filepath.Join(dir, "other-ws"),
	}
	e.Project = filepath.Join(e.Workspace, "project")
	e.State = filepath.Join(e.Home, ".ai-sandbox")
	e.DeclaredValue = "sk-ant-e2e-declared-" + Random()
	e.UndeclaredValue = "e2e-undeclared-" + Random()
	sshMarker, awsMarker := "e2e-ssh-secret-"+Random(), "e2e-aws-secret-"+Random()
	e.Markers = []string{sshMarker, awsMarker}
	e.Secrets = []string{filepath.Join(e.Home, ".ssh", "id_rsa"), filepath.Join(e.Home, ".aws", "credentials")}

	files := []struct {
		path, content string
		mode          os.FileMode
	}{
		{e.Secrets[0], "-----BEGIN OPENSSH PRIVATE KEY-----\n" + sshMarker + "\n-----END OPENSSH PRIVATE KEY-----\n", 0o600},
		{e.Secrets[1], "[default]\naws_access_key_id = AKIAE2E\naws_secret_access_key = " + awsMarker + "\n", 0o600},
		{filepath.Join(e.State, "env"), "# e2e\n" + DeclaredKey + "=" + e.DeclaredValue + "\n" + UndeclaredKey + "=" + e.UndeclaredValue + "\n", 0o600},
		{filepath.Join(e.Project, "README.md"), "e2e project\n", 0o644},
		{filepath.Join(e.Other, "notes.txt"), "the other workspace's notes\n", 0o644},
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{e.Workspace, e.Project, e.Other} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	git := exec.Command("git", "init", "-q", e.Project)
	git.Env = append(minimalEnv(), "HOME="+e.Home)
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if err := chownTree(e.Home, s.UID, s.GID); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{e.Workspace, e.Other} {
		if err := chownTree(d, s.UID, s.GID); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(e.cleanup)

	for _, ws := range []string{e.Workspace, e.Other} {
		r := e.RunIn(e.Dir, RunOpts{}, "workspace", "add", ws)
		if r.Code != 0 {
			t.Fatalf("ai-sandbox workspace add %s: exit %d\n%s", ws, r.Code, r)
		}
	}
	return e
}

func (e *Env) cleanup() {
	e.S.removeContainersUnder(e.Dir)
	if os.Getenv("AI_SANDBOX_E2E_KEEP") != "1" && !e.T.Failed() {
		_ = os.RemoveAll(e.Dir)
	}
}

// Result is how a command ended.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int // -1: killed (timeout)
}

func (r Result) String() string {
	return fmt.Sprintf("$ ai-sandbox %s\n[exit %d]\n--- stdout\n%s\n--- stderr\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// RunOpts adjusts one ai-sandbox run.
type RunOpts struct {
	Stdin   io.Reader
	Env     []string      // more NAME=value for ai-sandbox's environment
	Timeout time.Duration // default 2 minutes
}

// Run runs ai-sandbox ARGS as the test user in the project folder.
func (e *Env) Run(args ...string) Result {
	e.T.Helper()
	return e.RunIn(e.Project, RunOpts{}, args...)
}

// RunWith is Run with options.
func (e *Env) RunWith(o RunOpts, args ...string) Result {
	e.T.Helper()
	return e.RunIn(e.Project, o, args...)
}

// RunIn runs ai-sandbox ARGS as the test user in dir.
func (e *Env) RunIn(dir string, o RunOpts, args ...string) Result {
	e.T.Helper()
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := e.Command(ctx, dir, args...)
	cmd.Env = append(cmd.Env, o.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if o.Stdin != nil {
		cmd.Stdin = o.Stdin
	}
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.Code = -1
		r.Stderr += fmt.Sprintf("\n[e2e: killed after %s]", timeout)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default: // not started; no Fatal here: RunIn may run in a goroutine
		r.Code = -1
		r.Stderr += fmt.Sprintf("\n[e2e: could not start ai-sandbox: %v]", err)
	}
	return r
}

// Command prepares ai-sandbox ARGS as the test user in dir, in its own
// process group (killed whole when ctx ends).
func (e *Env) Command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.S.Bin, args...)
	cmd.Dir = dir
	cmd.Env = append(minimalEnv(), "HOME="+e.Home, "USER=aisbx-e2e", "LOGNAME=aisbx-e2e")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: e.S.Credential}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// StartHostMarker starts a long-running process on the host, as the test
// user, whose command line holds e.ProcessMarker; it is killed when the
// test ends.
func (e *Env) StartHostMarker() string {
	e.T.Helper()
	e.ProcessMarker = "ai-sandbox-e2e-marker-" + Random()
	cmd := exec.Command("sleep", "600")
	cmd.Args[0] = e.ProcessMarker
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.S.Credential}
	if err := cmd.Start(); err != nil {
		e.T.Fatalf("start the host marker process: %v", err)
	}
	e.T.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return e.ProcessMarker
}

// ---------------------------------------------------------------------------
// The probe

// ProbeResult is one check's report (see internal/probe).
type ProbeResult struct {
	Succeeded bool     `json:"succeeded"`
	Detail    string   `json:"detail"`
	Evidence  []string `json:"evidence"`
	Facts     []string `json:"facts"`
	Skipped   bool     `json:"skipped"`
	TimedOut  bool     `json:"timed_out"`
}

// Fact returns the value of a "key:value" fact, and whether it is there.
func (r ProbeResult) Fact(key string) (string, bool) {
	for _, f := range r.Facts {
		if k, v, ok := strings.Cut(f, ":"); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// HasFact reports whether "key:value" is among the facts.
func (r ProbeResult) HasFact(key, value string) bool {
	for _, f := range r.Facts {
		if f == key+":"+value {
			return true
		}
	}
	return false
}

// ProbeFlags are the probe's parameters for this environment.
func (e *Env) ProbeFlags() []string {
	flags := []string{
		"-secrets", strings.Join(e.Secrets, ","),
		"-markers", strings.Join(e.Markers, ","),
		"-host-home", e.Home,
		"-other", e.Other,
		"-project", e.Project,
		"-env", UndeclaredKey,
	}
	if e.ProcessMarker != "" {
		flags = append(flags, "-process-marker", e.ProcessMarker)
	}
	return flags
}

// SandboxFlags are the wrapper flags every e2e run uses: the test image,
// no idle grace, and the probe on the PATH (as probe, as claude, and as
// opencode: a stand-in for its web server, see internal/probe/web.go).
func (e *Env) SandboxFlags() []string {
	return []string{"--image", e.S.Image, "--idle-timeout", "0", "--mount", e.S.ProbeDir + ":/usr/local/bin:ro"}
}

// Probe runs the probe in a sandbox through ai-sandbox run: as tool
// ("claude": the claude sandbox with claude's keys; "probe": an unknown
// command, the shell sandbox), with extra wrapper flags, running checks.
// A failed run or unreadable output fails the test.
func (e *Env) Probe(tool string, wrapper []string, checks ...string) map[string]ProbeResult {
	e.T.Helper()
	args := append([]string{"run"}, e.SandboxFlags()...)
	args = append(args, wrapper...)
	args = append(args, tool)
	args = append(args, e.ProbeFlags()...)
	args = append(args, checks...)
	r := e.RunWith(RunOpts{Timeout: 3 * time.Minute}, args...)
	if r.Code != 0 {
		e.T.Fatalf("the probe did not run:\n%s", r)
	}
	res, err := ParseProbe(r.Stdout)
	if err != nil {
		e.T.Fatalf("the probe's output: %v\n%s", err, r)
	}
	for _, c := range checks {
		if c == "all" {
			continue
		}
		if _, ok := res[c]; !ok {
			e.T.Fatalf("the probe did not report %s:\n%s", c, r)
		}
	}
	e.T.Logf("probe %s %v: stderr:\n%s", tool, checks, r.Stderr)
	return res
}

// ParseProbe reads the probe's JSON output.
func ParseProbe(out string) (map[string]ProbeResult, error) {
	var res map[string]ProbeResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, err
	}
	return res, nil
}

// RequireBlocked fails t unless the check ran and its attack failed.
func RequireBlocked(t *testing.T, res map[string]ProbeResult, check string) ProbeResult {
	t.Helper()
	r, ok := res[check]
	switch {
	case !ok:
		t.Fatalf("%s: not reported", check)
	case r.Skipped:
		t.Fatalf("%s: skipped: %s", check, r.Detail)
	case r.TimedOut:
		t.Fatalf("%s: did not complete: %s", check, r.Detail)
	case r.Succeeded:
		t.Errorf("%s: the attack SUCCEEDED: %s\nevidence: %q", check, r.Detail, r.Evidence)
	default:
		t.Logf("%s: blocked: %s", check, r.Detail)
	}
	return r
}

// ---------------------------------------------------------------------------
// Docker

// DockerOut runs the docker CLI (as the test process) and returns stdout;
// a failure fails t.
func (s *Suite) DockerOut(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.DockerTry(args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// DockerTry runs the docker CLI and returns stdout, or an error with stderr.
func (s *Suite) DockerTry(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Docker, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Containers lists the ids of the containers (running or not) whose
// ai-sandbox.path label is the project.
func (e *Env) Containers() []string {
	e.T.Helper()
	out := e.S.DockerOut(e.T, "ps", "--all", "--quiet", "--no-trunc", "--filter", "label=ai-sandbox.path="+e.Project)
	return strings.Fields(out)
}

// Container returns the id of the project's container for tool ("shell"
// for commands that are not agents), failing t when there is none.
func (e *Env) Container(tool string) string {
	e.T.Helper()
	out := e.S.DockerOut(e.T, "ps", "--all", "--quiet", "--no-trunc",
		"--filter", "label=ai-sandbox.path="+e.Project, "--filter", "label=ai-sandbox.tool="+tool)
	ids := strings.Fields(out)
	if len(ids) != 1 {
		e.T.Fatalf("expected one %s container for %s, found %d", tool, e.Project, len(ids))
	}
	return ids[0]
}

// WaitFor polls cond every 200ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Small helpers

// Random returns 16 random hex digits.
func Random() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func chownTree(root string, uid, gid int) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// Key is the project's key: it names its containers and its state folder.
func (e *Env) Key() string { return project.Key(e.Project) }

// ToolHome is a tool's home for the project, on the host.
func (e *Env) ToolHome(tool string) string {
	return filepath.Join(e.State, "projects", e.Key(), "homes", tool)
}

// ReadProjectFile returns a file of the project as the host sees it; a
// missing file fails t.
func (e *Env) ReadProjectFile(rel string) string {
	e.T.Helper()
	data, err := os.ReadFile(filepath.Join(e.Project, rel))
	if err != nil {
		e.T.Fatalf("read %s: %v", rel, err)
	}
	return string(data)
}
