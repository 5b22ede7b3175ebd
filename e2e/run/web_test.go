package run_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// hostAddress is a non-loopback IPv4 address of this machine (docker0's
// at least, where an engine runs).
func hostAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	t.Fatalf("this machine has no non-loopback IPv4 address (%v)", addrs)
	return ""
}

func httpStatus(url, user, pass string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestWebModePublishedWithPassword: opencode web (the probe stands in
// for it) is published on 127.0.0.1 only, listens on the container's
// interface (--hostname 0.0.0.0 added), asks for the password given with
// --password (401 without, 200 with), and the password is on no docker
// argv and nowhere in docker inspect. A second opencode web reports the
// first's URL.
func TestWebModePublishedWithPassword(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	port := freePort(t)
	pw := "e2e-web-pw-" + harness.Random()
	s := startSession(t, e, "web", sandboxRun(e, "opencode", "web", "--port", strconv.Itoa(port), "--password", pw)...)
	s.expect("listening on 0.0.0.0:"+strconv.Itoa(port)+" (password set: true)", time.Minute)

	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	var code int
	var err error
	harness.WaitFor(20*time.Second, func() bool {
		code, err = httpStatus(url, "", "")
		return err == nil
	})
	if err != nil || code != http.StatusUnauthorized {
		t.Errorf("GET %s without the password: %d, %v; want 401", url, code, err)
	}
	if code, err := httpStatus(url, "opencode", "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("GET %s with a wrong password: %d, %v; want 401", url, code, err)
	}
	if code, err := httpStatus(url, "opencode", pw); err != nil || code != http.StatusOK {
		t.Errorf("GET %s with the password: %d, %v; want 200", url, code, err)
	}
	other := "http://" + net.JoinHostPort(hostAddress(t), strconv.Itoa(port)) + "/"
	if code, err := httpStatus(other, "opencode", pw); err == nil {
		t.Errorf("GET %s (not loopback) answered %d: the port is published beyond 127.0.0.1", other, code)
	}

	name := "ai-opencode-" + e.Key()
	if inspect := e.S.DockerOut(t, "container", "inspect", name); strings.Contains(inspect, pw) {
		t.Errorf("the password is in docker inspect %s", name)
	}
	for _, argv := range dockerArgvs(t) {
		if strings.Contains(argv, pw) {
			t.Errorf("the password is on a docker argv: %s", argv)
		}
	}

	r := e.Run(sandboxRun(e, "opencode", "web", "--port", strconv.Itoa(port))...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "opencode web runs already in this project's sandbox: "+url) {
		t.Errorf("a second opencode web: %s", r)
	}
	if r := e.Run("stop"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	s.wait(30 * time.Second)
}

// dockerArgvs are the command lines of the docker CLI processes running
// now.
func dockerArgvs(t *testing.T) []string {
	t.Helper()
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "docker" {
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join(d, "cmdline")); err == nil {
			out = append(out, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	if len(out) == 0 {
		t.Fatal("no docker CLI process is running during the session")
	}
	return out
}

// TestPortInUseNamesTheProcess: a host process of the user listening on
// the port is named with its PID, and nothing starts.
func TestPortInUseNamesTheProcess(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	port := strconv.Itoa(freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	l := exec.CommandContext(ctx, e.S.Probe, "__listen", "127.0.0.1:"+port)
	l.SysProcAttr = &syscall.SysProcAttr{Credential: e.S.Credential}
	stdout, err := l.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		l.Wait()
	}()
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the listener did not start: %q %v", buf, err)
	}
	r := e.Run(sandboxRun(e, "--expose", port, "true")...)
	want := "error: port " + port + " is already in use by probe (PID " + strconv.Itoa(l.Process.Pid) + ")"
	if r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("want exit 1 and %q:\n%s", want, r)
	}
	if ids := e.Containers(); len(ids) != 0 {
		t.Errorf("a sandbox started: %v", ids)
	}
}

// TestNetworkReachByName: two sandboxes on a user network reach each
// other by container name (here the claude sandbox asks the project's
// shell sandbox, with the seed's form: claude --network NAME); a sandbox
// not on it cannot.
func TestNetworkReachByName(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	network := "aisbx-e2e-" + harness.Random()
	e.S.DockerOut(t, "network", "create", network)
	t.Cleanup(func() { e.S.DockerTry("network", "rm", network) })

	server := startSession(t, e, "server", sandboxRun(e, "--network", network, "probe", "__listen", "0.0.0.0:8080")...)
	server.expect("ready", time.Minute)
	url := "http://ai-shell-" + e.Key() + ":8080/"

	r := e.Run(sandboxRun(e, "claude", "--network", network, "__get", url)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "hello from ") {
		t.Errorf("the claude sandbox on %s could not reach %s:\n%s", network, url, r)
	}
	if r := e.Run("stop", "claude"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	harness.WaitFor(20*time.Second, func() bool { return len(e.Containers()) == 1 })
	r = e.Run(sandboxRun(e, "claude", "__get", url)...)
	if r.Code == 0 {
		t.Errorf("a sandbox on no shared network reached %s:\n%s", url, r)
	}
	if r := e.Run("stop"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	server.wait(30 * time.Second)
}
