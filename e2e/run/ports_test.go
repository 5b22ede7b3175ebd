package run_test

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// freePort asks the kernel for a port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type binding struct{ HostIp, HostPort string }

// publishedOn starts a sandbox with the wrapper flags and returns where
// the port is published, from docker inspect of the running container.
func publishedOn(t *testing.T, e *harness.Env, port int, flags ...string) []binding {
	t.Helper()
	args := append([]string{"run", "--image", e.S.Image, "--idle-timeout", "0", "--expose", strconv.Itoa(port)}, flags...)
	s := startSession(t, e, "ports", append(args, "sh", "-c", "echo ready; sleep 30")...)
	s.expect("ready", time.Minute)
	// Under the allowlist (the default) the sandbox's network is internal
	// and publishes nothing: its forwarder does.
	raw := e.S.DockerOut(t, "container", "inspect", "--format", "{{json .HostConfig.PortBindings}}", "ai-shell-"+e.Key())
	var own map[string][]binding
	if err := json.Unmarshal([]byte(raw), &own); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if len(own) != 0 {
		t.Errorf("the sandbox itself publishes %s", raw)
	}
	raw = e.S.DockerOut(t, "container", "inspect", "--format", "{{json .HostConfig.PortBindings}}", "ai-shell-"+e.Key()+"-ports")
	var pb map[string][]binding
	if err := json.Unmarshal([]byte(raw), &pb); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if r := e.Run("stop"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	s.wait(30 * time.Second)
	harness.WaitFor(20*time.Second, func() bool { return len(e.Containers()) == 0 })
	return pb[strconv.Itoa(port)+"/tcp"]
}

// TestPortsLoopbackByDefault: --expose publishes on 127.0.0.1 only;
// --port-bind all on every interface.
func TestPortsLoopbackByDefault(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	port := freePort(t)
	if b := publishedOn(t, e, port); len(b) != 1 || b[0].HostIp != "127.0.0.1" || b[0].HostPort != strconv.Itoa(port) {
		t.Errorf("--expose %d is published as %+v, want 127.0.0.1:%d only", port, b, port)
	}
	if b := publishedOn(t, e, port, "--port-bind", "all"); len(b) != 1 || b[0].HostIp != "0.0.0.0" {
		t.Errorf("--port-bind all: published as %+v, want 0.0.0.0", b)
	}
}

// TestNoHostGatewayAndSeccomp: no extra host entries (no host-gateway),
// and docker's default seccomp filter is in force inside.
func TestNoHostGatewayAndSeccomp(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	args := []string{"run", "--image", e.S.Image, "--idle-timeout", "0", "sh", "-c", "grep '^Seccomp:' /proc/self/status; echo ready; sleep 30"}
	s := startSession(t, e, "seccomp", args...)
	s.expect("Seccomp:\t2", time.Minute)
	s.expect("ready", time.Minute)
	raw := e.S.DockerOut(t, "container", "inspect", "--format", "{{json .HostConfig.ExtraHosts}}|{{.HostConfig.NetworkMode}}", "ai-shell-"+e.Key())
	hosts, mode, _ := strings.Cut(strings.TrimSpace(raw), "|")
	if hosts != "null" && hosts != "[]" {
		t.Errorf("ExtraHosts = %s, want none", hosts)
	}
	if mode == "host" {
		t.Errorf("NetworkMode = %s", mode)
	}
	if r := e.Run("stop"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	s.wait(30 * time.Second)
}
