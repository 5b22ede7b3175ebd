package sandbox

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
)

// scripted is a fake docker CLI: each call is answered by the first
// rule whose words all appear in it, in order.
type scripted struct {
	t     *testing.T
	rules []rule
	mu    sync.Mutex
	calls []string
}

type rule struct {
	match []string
	res   proc.Result
}

func (s *scripted) Output(_ context.Context, argv []string) (proc.Result, error) {
	line := strings.Join(argv[1:], " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, line)
	for _, r := range s.rules {
		ok := true
		for _, m := range r.match {
			if !strings.Contains(line, m) {
				ok = false
				break
			}
		}
		if ok {
			return r.res, nil
		}
	}
	s.t.Fatalf("unexpected docker call: %s", line)
	return proc.Result{}, nil
}

func (s *scripted) Interactive(context.Context, []string, proc.Stdio, []string, func(os.Signal) bool) (int, error) {
	s.t.Fatal("no session expected")
	return 0, nil
}

func egressPlanFor(t *testing.T) Plan {
	f := baseFacts()
	f.State = t.TempDir()
	f.Egress = egress.PolicyAllowlist
	f.Allow = []string{"api.example.org"}
	f.Binary = "/usr/local/bin/ai-sandbox"
	f.Refused = []string{"192.0.2.10/32"}
	p := NewPlan(f)
	// What the plan's host operations make.
	for _, d := range []string{"egress/conf", "egress/log"} {
		if err := hostfs.New(f.State).MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func ok(out string) proc.Result { return proc.Result{Stdout: []byte(out + "\n")} }
func fails(stderr string) proc.Result {
	return proc.Result{Stderr: []byte(stderr + "\n"), ExitCode: 1}
}

func TestEnsureEgressFromNothing(t *testing.T) {
	p := egressPlanFor(t)
	net := EgressNetwork(p.Name)
	dir := p.Egress.Proxy.Labels[LabelEgressDir]
	fake := &scripted{t: t, rules: []rule{
		{[]string{"network inspect", net}, fails("Error: No such network: " + net)},
		{[]string{"network create", "--subnet 172.16.", "/28 --internal", "--opt com.docker.network.bridge.inhibit_ipv4=true", "--label ai-sandbox.owner=1000 --label ai-sandbox.role=egress-network", net}, ok("abc")},
		// The networks left: this one (its launch is readying it), one
		// whose sandbox still runs, one whose sandbox is gone, another
		// state folder's, one with a container on it, and one that is not
		// a sandbox's.
		{[]string{"network ls"}, ok(net + "\tegress-network\t" + dir + "\n" +
			"ai-shell-other-1-net\tegress-network\t" + dir + "\n" +
			"ai-shell-gone-2-net\tegress-network\t" + dir + "\n" +
			"ai-shell-theirs-3-net\tegress-network\t/home/them/.ai-sandbox/egress\n" +
			"ai-shell-busy-4-net\tegress-network\t" + dir + "\n" +
			"mynet\t\t")},
		{[]string{"container inspect", "ai-shell-other-1"}, ok("running|true||||")},
		{[]string{"container inspect", "ai-shell-gone-2"}, fails("Error: No such container: ai-shell-gone-2")},
		{[]string{"container inspect", "ai-shell-busy-4"}, fails("Error: No such container: ai-shell-busy-4")},
		{[]string{"network inspect", "ai-shell-busy-4-net"}, ok(p.Egress.Proxy.Name + " a-container-just-started ")},
		{[]string{"network inspect", "ai-shell-gone-2-net"}, ok("ai-sandbox-egress-1000-" + p.Egress.Proxy.Name[len("ai-sandbox-egress-1000-"):] + " ai-shell-gone-2-ports ")},
		{[]string{"rm --force ai-shell-gone-2-ports"}, fails("Error: No such container: ai-shell-gone-2-ports")},
		{[]string{"network disconnect --force ai-shell-gone-2-net ai-sandbox-egress-1000"}, ok("")},
		{[]string{"network rm ai-shell-gone-2-net"}, ok("ai-shell-gone-2-net")},
		{[]string{"container inspect", ".State.Status", "ai-sandbox-egress-1000"}, fails("Error: No such container: ai-sandbox-egress-1000")},
		{[]string{"run --detach", "--name ai-sandbox-egress-1000", "--read-only", "--cap-drop ALL", "__egress-proxy"}, ok("id")},
		{[]string{"ps", "label=ai-sandbox.egress=allowlist", "label=ai-sandbox.owner=1000"}, ok("ai-shell-other-1\tshell\tother\t/x\t1000\t2026-12-02 04:00:00 +0000 UTC")},
		{[]string{"network connect --alias ai-sandbox-proxy", net, "ai-sandbox-egress-1000"}, ok("")},
		{[]string{"container inspect", net, "ai-sandbox-egress-1000"}, ok("192.168.64.2")},
	}}
	m := &Manager{Docker: "docker", Runner: fake}
	// Left by an earlier proxy: one that still runs, one that is gone.
	if err := p.Egress.Store.Update(func(c *egress.Config) {
		c.Put(egress.ConfigSandbox{Name: "ai-shell-other-1", ProxyAddr: "192.168.80.2"})
		c.Put(egress.ConfigSandbox{Name: "ai-shell-gone-2", ProxyAddr: "192.168.96.2"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.ensureEgress(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	c, err := p.Egress.Store.Read()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range c.Sandboxes {
		names = append(names, s.Name)
		if s.Name == p.Name && (s.ProxyAddr != "192.168.64.2" || !slices.Equal(s.Allow, []string{"api.example.org"})) {
			t.Errorf("entry %+v", s)
		}
	}
	if !slices.Equal(names, []string{"ai-shell-app-5e6f7a8b", "ai-shell-other-1"}) {
		t.Errorf("sandboxes %v, want this one and the one still running", names)
	}
	if !slices.Equal(c.Refused, []string{"192.0.2.10/32"}) {
		t.Errorf("refused %v", c.Refused)
	}
	removed := 0
	for _, call := range fake.calls {
		if strings.HasPrefix(call, "network rm") {
			removed++
			if call != "network rm ai-shell-gone-2-net" {
				t.Errorf("removed a network it should not: %s", call)
			}
		}
	}
	if removed != 1 {
		t.Errorf("the gone sandbox's network was not removed: %q", fake.calls)
	}
}

// A subnet that another network or a route of the host holds is passed
// over for the next one.
func TestEnsureNetworkTakesTheNextFreeSubnet(t *testing.T) {
	p := egressPlanFor(t)
	net := EgressNetwork(p.Name)
	var subnets []string
	fake := &scripted{t: t}
	fake.rules = []rule{
		{[]string{"network inspect", net}, fails("Error: No such network: " + net)},
	}
	m := &Manager{Docker: "docker", Runner: runnerFunc(func(ctx context.Context, argv []string) (proc.Result, error) {
		line := strings.Join(argv[1:], " ")
		if strings.HasPrefix(line, "network create") {
			i := slices.Index(argv, "--subnet")
			subnets = append(subnets, argv[i+1])
			if len(subnets) < 3 {
				return fails("Error response from daemon: Pool overlaps with other one on this address space"), nil
			}
			return ok("abc"), nil
		}
		return fake.Output(ctx, argv)
	})}
	created, err := m.ensureNetwork(context.Background(), net, p.Egress.Proxy.Labels)
	if err != nil || !created {
		t.Fatalf("created %v, err %v", created, err)
	}
	if len(subnets) != 3 || subnets[0] == subnets[1] || subnets[1] == subnets[2] {
		t.Errorf("subnets tried %v", subnets)
	}
}

type runnerFunc func(ctx context.Context, argv []string) (proc.Result, error)

func (f runnerFunc) Output(ctx context.Context, argv []string) (proc.Result, error) {
	return f(ctx, argv)
}
func (f runnerFunc) Interactive(context.Context, []string, proc.Stdio, []string, func(os.Signal) bool) (int, error) {
	return 0, nil
}

func TestEnsureEgressRefusesANetworkItDidNotMake(t *testing.T) {
	p := egressPlanFor(t)
	for _, out := range []string{"false ", "true ", "false true"} {
		fake := &scripted{t: t, rules: []rule{
			{[]string{"container inspect", ".State.Running}} {{with"}, fails("Error: No such container")},
			{[]string{"network inspect"}, ok(out)},
		}}
		m := &Manager{Docker: "docker", Runner: fake}
		err := m.ensureEgress(context.Background(), p)
		if err == nil || !strings.Contains(err.Error(), "is not one ai-sandbox made") {
			t.Errorf("network %q: %v", out, err)
		}
	}
}

func TestEnsureEgressRestartsAProxyThatStopped(t *testing.T) {
	p := egressPlanFor(t)
	net := EgressNetwork(p.Name)
	connects := 0
	fake := &scripted{t: t}
	fake.rules = []rule{
		{[]string{"network inspect", net}, ok("true true")},
		{[]string{"container inspect", ".State.Status", "ai-sandbox-egress-1000"}, ok("running|true|||null|")},
		{[]string{"container inspect", net, "ai-sandbox-egress-1000"}, ok("192.168.64.2")},
	}
	m := &Manager{Docker: "docker", Runner: &connectOnce{scripted: fake, n: &connects}}
	if err := m.ensureEgress(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if connects != 2 {
		t.Errorf("%d connects, want a retry after the proxy stopped under the first", connects)
	}
}

// connectOnce fails the first network connect the way docker does when
// the container has just stopped.
type connectOnce struct {
	*scripted
	n *int
}

func (c *connectOnce) Output(ctx context.Context, argv []string) (proc.Result, error) {
	if len(argv) > 2 && argv[1] == "network" && argv[2] == "connect" {
		*c.n++
		if *c.n == 1 {
			return fails("Error response from daemon: container 1234 is not running"), nil
		}
		return ok(""), nil
	}
	return c.scripted.Output(ctx, argv)
}

// The proxy's first start makes its own network, then starts it.
func TestEnsureProxyMakesItsNetwork(t *testing.T) {
	p := egressPlanFor(t)
	spec := p.Egress.Proxy
	runs := 0
	fake := &scripted{t: t, rules: []rule{
		{[]string{"container inspect", spec.Name}, fails("Error: No such container: " + spec.Name)},
		{[]string{"network create --driver bridge --subnet 172.16.", "--label ai-sandbox.role=egress-proxy-network", spec.Name}, ok("abc")},
	}}
	m := &Manager{Docker: "docker", Runner: runnerFunc(func(ctx context.Context, argv []string) (proc.Result, error) {
		if argv[1] == "run" {
			runs++
			if !slices.Contains(argv, "--network") || argv[slices.Index(argv, "--network")+1] != spec.Name {
				t.Errorf("the proxy is not on its own network: %q", argv)
			}
			if runs == 1 {
				return fails("docker: Error response from daemon: network " + spec.Name + " not found."), nil
			}
			return ok("id"), nil
		}
		return fake.Output(ctx, argv)
	})}
	started, err := m.ensureProxy(context.Background(), spec, time.Now().Add(time.Minute))
	if err != nil || !started || runs != 2 {
		t.Fatalf("started %v after %d runs: %v", started, runs, err)
	}
	if slices.ContainsFunc(fake.calls, func(c string) bool { return strings.Contains(c, "--internal") }) {
		t.Errorf("the proxy's network is internal: %q", fake.calls)
	}
}

// With the proxy running and on the network, a launch readies its egress
// in one call.
func TestEnsureEgressWhenAllIsThere(t *testing.T) {
	p := egressPlanFor(t)
	fake := &scripted{t: t, rules: []rule{
		{[]string{"container inspect", ".State.Running}} {{with index .NetworkSettings.Networks \"" + EgressNetwork(p.Name) + "\"}}", p.Egress.Proxy.Name}, ok("true 172.16.9.2")},
	}}
	m := &Manager{Docker: "docker", Runner: fake}
	if err := m.ensureEgress(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(fake.calls) != 1 {
		t.Errorf("calls %q, want one", fake.calls)
	}
	c, err := p.Egress.Store.Read()
	if err != nil || len(c.Sandboxes) != 1 || c.Sandboxes[0].ProxyAddr != "172.16.9.2" || c.Sandboxes[0].Since.IsZero() {
		t.Errorf("config %+v, %v", c, err)
	}
}

// A sandbox that ran before starts while its proxy is checked: no network
// call before the start, and the entry follows the proxy's address.
func TestColdStartChecksTheProxyBesideTheStart(t *testing.T) {
	p := egressPlanFor(t)
	if err := p.Egress.Store.Update(func(c *egress.Config) {
		c.Put(egress.ConfigSandbox{Name: p.Name, ProxyAddr: "172.16.9.2", Allow: []string{"old.example"}})
	}); err != nil {
		t.Fatal(err)
	}
	net := EgressNetwork(p.Name)
	fake := &scripted{t: t, rules: []rule{
		{[]string{"container inspect", ".State.Running}} {{with", p.Egress.Proxy.Name}, ok("true 172.16.9.3")},
		{[]string{"run --detach", "--name " + p.Name + " "}, ok("id")},
		{[]string{"container inspect", net, p.Name}, ok("172.16.9.4")},
	}}
	m := &Manager{Docker: "docker", Runner: fake}
	if conflict, err := m.create(context.Background(), p); err != nil || conflict {
		t.Fatalf("conflict %v, err %v", conflict, err)
	}
	m.background.Wait()
	for _, c := range fake.calls {
		if strings.HasPrefix(c, "network ") {
			t.Errorf("a network call on the quick way: %s", c)
		}
	}
	c, err := p.Egress.Store.Read()
	if err != nil || len(c.Sandboxes) != 1 {
		t.Fatalf("config %+v %v", c, err)
	}
	if s := c.Sandboxes[0]; s.ProxyAddr != "172.16.9.3" || s.Addr != "172.16.9.4" || !slices.Equal(s.Allow, []string{"api.example.org"}) {
		t.Errorf("entry %+v: want the proxy's new address, the sandbox's, and this launch's allowlist", s)
	}
}

// When the proxy is not there any more, the quick way falls back to
// readying it all once the sandbox runs.
func TestColdStartBringsBackAProxyThatIsGone(t *testing.T) {
	p := egressPlanFor(t)
	if err := p.Egress.Store.Update(func(c *egress.Config) {
		c.Put(egress.ConfigSandbox{Name: p.Name, ProxyAddr: "172.16.9.2"})
	}); err != nil {
		t.Fatal(err)
	}
	net := EgressNetwork(p.Name)
	proxy := p.Egress.Proxy.Name
	started := false
	fake := &scripted{t: t}
	fake.rules = []rule{
		{[]string{"container inspect", "{{with index .NetworkSettings.Networks", net, proxy}, ok("172.16.9.5")},
		{[]string{"run --detach", "--name " + p.Name + " "}, ok("id")},
		{[]string{"container inspect", net, p.Name}, ok("172.16.9.4")},
		{[]string{"network inspect", net}, ok("true true")},
		{[]string{"run --detach", "--name " + proxy}, ok("id")},
		{[]string{"ps", "label=ai-sandbox.egress=allowlist"}, ok("")},
		{[]string{"network connect --alias ai-sandbox-proxy", net, proxy}, ok("")},
	}
	m := &Manager{Docker: "docker", Runner: runnerFunc(func(ctx context.Context, argv []string) (proc.Result, error) {
		line := strings.Join(argv[1:], " ")
		if strings.Contains(line, ".State.Running}} {{with") {
			return fails("Error: No such container: " + proxy), nil
		}
		if strings.Contains(line, ".State.Status") && strings.HasSuffix(line, proxy) {
			if started {
				return ok("running|true||||"), nil
			}
			return fails("Error: No such container: " + proxy), nil
		}
		if strings.HasPrefix(line, "run --detach") && strings.Contains(line, "--name "+proxy) {
			started = true
		}
		return fake.Output(ctx, argv)
	})}
	if conflict, err := m.create(context.Background(), p); err != nil || conflict {
		t.Fatalf("conflict %v, err %v", conflict, err)
	}
	m.background.Wait()
	c, _ := p.Egress.Store.Read()
	if len(c.Sandboxes) != 1 || c.Sandboxes[0].ProxyAddr != "172.16.9.5" {
		t.Errorf("config %+v: want the new proxy's address", c)
	}
	if !started {
		t.Errorf("the proxy was not started again: %q", fake.calls)
	}
}

func TestIsOwnNetwork(t *testing.T) {
	for name, own := range map[string]bool{
		"ai-shell-app-5e6f7a8b-net": true, "ai-claude-my-app-0123abcd-net": true, "ai-sandbox-egress-1000-9273980e": true,
		"ai-research-net": false, "mynet": false, "ai-sandbox-egress": false, "db_default": false,
	} {
		if got := IsOwnNetwork(name); got != own {
			t.Errorf("%s: %v, want %v", name, got, own)
		}
	}
	if !IsOwnNetwork(EgressNetwork(ContainerName("shell", "app-5e6f7a8b"))) {
		t.Errorf("a sandbox's own network is not recognised: %s", EgressNetwork(ContainerName("shell", "app-5e6f7a8b")))
	}
	if !IsOwnNetwork(ProxyName(1000, "/home/u/.ai-sandbox/egress")) {
		t.Error("a proxy's network is not recognised")
	}
}

// A forwarder's ports count as its sandbox's; another container's named
// like one do not.
func TestPublishedCountsTheForwarderAsItsSandbox(t *testing.T) {
	fake := &scripted{t: t, rules: []rule{{[]string{"ps"}, ok(
		"ai-shell-app-5e6f7a8b-ports\t127.0.0.1:3000->3000/tcp\tport-forwarder\n" +
			"web-ports\t0.0.0.0:8080->80/tcp\t\n" +
			"db\t\t")}}}
	m := &Manager{Docker: "docker", Runner: fake}
	got, err := m.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got["ai-shell-app-5e6f7a8b"], []int{3000}) || !slices.Equal(got["web-ports"], []int{8080}) || len(got) != 2 {
		t.Errorf("published %v", got)
	}
}
