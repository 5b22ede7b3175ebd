package run_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// hostService is a server on the host that listens on every address, as
// a developer's database or dev server does: no sandbox may reach it.
func hostService(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "the host's service")
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// hostAddresses are the host's IPv4 addresses, loopback aside (the
// engine's bridges among them).
func hostAddresses(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// standIn starts an HTTP server container (the probe's listener, on 80
// and 8080) on a bridge network of its own: the stand-in for an API host.
// It returns the container's name (also its DNS name there), the network
// and its address.
func standIn(t *testing.T, e *harness.Env) (name, network, ip string) {
	t.Helper()
	r := harness.Random()
	name, network = "aisbx-e2e-api-"+r, "aisbx-e2e-apinet-"+r
	e.S.DockerOut(t, "network", "create", network)
	t.Cleanup(func() {
		e.S.DockerTry("rm", "--force", name)
		e.S.RemoveNetwork(network)
	})
	e.S.DockerOut(t, "run", "--detach", "--rm", "--pull", "never", "--name", name, "--network", network,
		"--mount", "type=bind,source="+e.S.ProbeDir+",target=/opt/probe,readonly", e.S.Image,
		"sh", "-c", "/opt/probe/probe __listen 0.0.0.0:80 & exec /opt/probe/probe __listen 0.0.0.0:8080")
	ip = strings.TrimSpace(e.S.DockerOut(t, "inspect", "--format", `{{with index .NetworkSettings.Networks "`+network+`"}}{{.IPAddress}}{{end}}`, name))
	if !harness.WaitFor(30*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", ip+":8080", time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("the stand-in %s did not listen at %s:8080", name, ip)
	}
	return name, network, ip
}

// netProbe runs the probe's network checks (probeArgs: its flags, then
// the checks) in the project's shell sandbox with the wrapper flags.
func netProbe(t *testing.T, e *harness.Env, wrapper []string, probeArgs ...string) map[string]harness.ProbeResult {
	t.Helper()
	r := e.RunWith(harness.RunOpts{Timeout: 3 * time.Minute}, sandboxRun(e, append(append(wrapper, "probe"), probeArgs...)...)...)
	if r.Code != 0 {
		t.Fatalf("the probe did not run:\n%s", r)
	}
	res, err := harness.ParseProbe(r.Stdout)
	if err != nil {
		t.Fatalf("the probe's output: %v\n%s", err, r)
	}
	return res
}

// proxyOf is the running egress proxy of the test's home.
func proxyOf(t *testing.T, e *harness.Env) string {
	t.Helper()
	out := e.S.DockerOut(t, "ps", "--filter", "label=ai-sandbox.role=egress-proxy", "--format", `{{.Names}} {{.Label "ai-sandbox.egress-dir"}}`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if n, dir, ok := strings.Cut(line, " "); ok && strings.HasPrefix(dir, e.Dir+"/") {
			return n
		}
	}
	t.Fatalf("no egress proxy runs for %s:\n%s", e.Dir, out)
	return ""
}

// TestEgressAllowlist: a default sandbox reaches an allowlisted host
// through the proxy and nothing else. A host not on the list is refused
// with the command that allows it; a name that resolves to a private
// address is refused unless that host:port is listed; the host's services
// (at the engine's bridge and at the host's addresses), the metadata
// service, the stand-in's address directly and a second project's
// sandbox are unreachable; public names do not resolve. Killing the proxy
// leaves the sandbox with no way out.
func TestEgressAllowlist(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	api, apiNet, apiIP := standIn(t, e)
	hostPort := strconv.Itoa(hostService(t))
	// Its listed form: the name with the port (a private address is
	// reached only by an exact host:port rule); the bare name allows 80
	// and 443 only to public addresses.
	flags := []string{"--idle-timeout", "5m", "--allow", api + ":8080," + api}
	run := func(args ...string) harness.Result {
		return e.RunWith(harness.RunOpts{Timeout: 2 * time.Minute}, sandboxRun(e, append(flags, args...)...)...)
	}

	// The first launch starts the proxy; the stand-in's network joins it
	// (as a company's API would be reached through the proxy's own way out).
	if r := run("true"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	proxy := proxyOf(t, e)
	e.S.DockerOut(t, "network", "connect", apiNet, proxy)

	r := run("probe", "__get", "http://"+api+":8080/")
	if r.Code != 0 || !strings.Contains(r.Stdout, "hello from") {
		t.Errorf("the allowlisted %s:8080 was not reached through the proxy:\n%s", api, r)
	}

	r = run("probe", "__get", "http://"+api+"/")
	if r.Code == 0 || !strings.Contains(r.Stdout, "private address") {
		t.Errorf("a listed name that resolves to a private address was not refused:\n%s", r)
	}

	r = run("probe", "__get", "http://not-listed.example/")
	if r.Code == 0 || !strings.Contains(r.Stdout, "ai-sandbox network allow not-listed.example") {
		t.Errorf("a host not on the list: want a 403 naming the command that allows it:\n%s", r)
	}
	if !strings.Contains(r.Stderr, "blocked: not-listed.example (1×) — allow with 'ai-sandbox network allow not-listed.example'") {
		t.Errorf("the session's report does not name the blocked host:\n%s", r)
	}
	if ps := e.Run("ps"); !strings.Contains(ps.Stderr, "blocked: not-listed.example") {
		t.Errorf("ps does not show the blocked host:\n%s", ps)
	}

	// A second project's sandbox, listening.
	other := e.Other + "/second"
	e.HostSh(e.Dir, "mkdir -p '"+other+"'")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := e.Command(ctx, other, sandboxRun(e, "--idle-timeout", "5m", "probe", "__listen", "0.0.0.0:9090")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the second sandbox did not listen: %q %v", buf, err)
	}
	ids := strings.Fields(e.S.DockerOut(t, "ps", "--quiet", "--filter", "label=ai-sandbox.path="+other))
	if len(ids) != 1 {
		t.Fatalf("the second sandbox: %v", ids)
	}
	otherIP := strings.TrimSpace(e.S.DockerOut(t, "inspect", "--format", `{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}`, ids[0]))

	reach := []string{apiIP + ":8080", otherIP + ":9090", "172.17.0.1:" + hostPort}
	for _, a := range hostAddresses(t) {
		reach = append(reach, a+":"+hostPort)
	}
	res := netProbe(t, e, flags, "-reach", strings.Join(reach, ","), "-dns-name", "deb.debian.org", "network-reach", "network-dns")
	harness.RequireBlocked(t, res, "network-reach")
	harness.RequireBlocked(t, res, "network-dns")
	t.Logf("network-reach: %s", res["network-reach"].Detail)

	// The proxy killed under the running sandbox: nothing leaves.
	e.S.DockerOut(t, "kill", proxy)
	harness.WaitFor(20*time.Second, func() bool {
		out, _ := e.S.DockerTry("ps", "--quiet", "--filter", "name=^"+proxy+"$")
		return strings.TrimSpace(out) == ""
	})
	ids = strings.Fields(e.S.DockerOut(t, "ps", "--quiet", "--filter", "label=ai-sandbox.path="+e.Project))
	if len(ids) != 1 {
		t.Fatalf("the sandbox is not running: %v", ids)
	}
	r = run("probe", "__get", "http://"+api+":8080/")
	if r.Code == 0 || strings.Contains(r.Stdout, "hello from") {
		t.Errorf("with its proxy killed, the sandbox still reached %s:\n%s", api, r)
	}
	res = netProbe(t, e, flags, "-reach", strings.Join(reach, ","), "network-reach")
	harness.RequireBlocked(t, res, "network-reach")
}

// TestEgressNoneAndOpen: none reaches nothing; open reaches the host's
// services directly (today's behaviour, with its warning), and the
// probe's network checks see it.
func TestEgressNoneAndOpen(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	hostPort := strconv.Itoa(hostService(t))
	url := "http://172.17.0.1:" + hostPort + "/"

	r := e.Run(sandboxRun(e, "--egress", "none", "probe", "__get", url)...)
	if r.Code == 0 {
		t.Errorf("egress none reached the host's service:\n%s", r)
	}
	res := netProbe(t, e, []string{"--egress", "none"}, "-reach", "172.17.0.1:"+hostPort, "-dns-name", "deb.debian.org", "network-reach", "network-dns")
	harness.RequireBlocked(t, res, "network-reach")
	harness.RequireBlocked(t, res, "network-dns")
	if e.Run("stop").Code != 0 {
		t.Fatal("stop")
	}
	harness.WaitFor(20*time.Second, func() bool { return len(e.Containers()) == 0 })

	r = e.Run(sandboxRun(e, "--egress", "open", "probe", "__get", url)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "the host's service") {
		t.Errorf("egress open did not reach %s directly:\n%s", url, r)
	}
	if !strings.Contains(r.Stderr, "warning: egress open (from flag)") {
		t.Errorf("open without its warning:\n%s", r)
	}
	// The probe's network checks see open's holes: they can fail.
	res = netProbe(t, e, []string{"--egress", "open"}, "-reach", "172.17.0.1:"+hostPort, "-dns-name", "deb.debian.org", "network-reach", "network-dns")
	for _, c := range []string{"network-reach", "network-dns"} {
		if r := res[c]; !r.Succeeded {
			t.Errorf("%s: the probe did NOT see open's hole: %s", c, r.Detail)
		}
	}
}
