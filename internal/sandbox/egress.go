package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// LabelEgress is a sandbox's egress policy; on the proxy container,
// LabelRole says what it is.
const (
	LabelEgress = "ai-sandbox.egress"
	LabelRole   = "ai-sandbox.role"
	RoleProxy   = "egress-proxy"
)

// EgressPlan is the allowlist policy's part of a plan: the sandbox's own
// internal network, the user's proxy and the sandbox's entry in the
// proxy's config.
type EgressPlan struct {
	Network string
	Proxy   docker.RunSpec
	Entry   egress.ConfigSandbox // its addresses are filled in by the launch
	Refused []string             // the host's own addresses, refused for every sandbox
	Store   egress.Store
	// Forwarder publishes the sandbox's ports (nil: none asked for).
	Forwarder *docker.RunSpec
}

// LabelEgressDir is the egress folder (below the state folder) that a
// proxy, a port forwarder or a sandbox network belongs to: one proxy per
// user and state folder, since the config it serves lives there.
const LabelEgressDir = "ai-sandbox.egress-dir"

// ProxyName is the name of a user's proxy container for an egress
// folder: "ai-sandbox-egress-UID-HASH".
func ProxyName(uid int, egressDir string) string {
	sum := sha256.Sum256([]byte(egressDir))
	return "ai-sandbox-egress-" + strconv.Itoa(uid) + "-" + hex.EncodeToString(sum[:4])
}

// EgressNetwork is the name of a sandbox's own network.
func EgressNetwork(sandbox string) string { return sandbox + "-net" }

// Paths of the proxy's files inside its container.
const (
	proxyBinary  = "/ai-sandbox"
	proxyConfDir = "/egress/conf"
	proxyLogDir  = "/egress/log"
)

// ProxySpec is a user's proxy container: the ai-sandbox binary (static)
// mounted read-only into an image that is there already (the sandbox's),
// run as the user, hardened like the sandboxes, on the engine's default
// bridge; the sandboxes' networks are joined one by one.
func ProxySpec(uid, gid int, image, binary, egressDir string) docker.RunSpec {
	return docker.RunSpec{
		Name:        ProxyName(uid, egressDir),
		Image:       image,
		Labels:      map[string]string{LabelOwner: strconv.Itoa(uid), LabelRole: RoleProxy, LabelEgressDir: egressDir},
		User:        strconv.Itoa(uid) + ":" + strconv.Itoa(gid),
		ReadOnly:    true,
		CapDrop:     []string{"ALL"},
		SecurityOpt: []string{"no-new-privileges"},
		PidsLimit:   128,
		Memory:      "256m",
		Mounts: []docker.Mount{
			{Source: binary, Target: proxyBinary, ReadOnly: true},
			{Source: filepath.Join(egressDir, egress.ConfDir), Target: proxyConfDir, ReadOnly: true},
			{Source: filepath.Join(egressDir, egress.LogDir), Target: proxyLogDir},
		},
		// Its own bridge, not docker's default one: there the engine's DNS
		// answers the proxy (names of the containers on the networks it
		// joins among them).
		Network:    ProxyName(uid, egressDir),
		Entrypoint: []string{proxyBinary},
		Cmd: []string{"__egress-proxy",
			"--config", proxyConfDir + "/" + egress.ConfFile,
			"--log", proxyLogDir + "/" + egress.LogFile,
			"--listen", ":" + strconv.Itoa(egress.ProxyPort)},
	}
}

// RoleForwarder marks a sandbox's port forwarder.
const RoleForwarder = "port-forwarder"

// ForwarderName is the name of a sandbox's port forwarder.
func ForwarderName(sandbox string) string { return sandbox + "-ports" }

// ForwarderSpec is a sandbox's port forwarder under the allowlist
// policy: on the engine's bridge, publishing the sandbox's ports, and
// relaying them to the sandbox by name once it joins the sandbox's
// network; hardened like the proxy. It stops when the sandbox is gone.
func ForwarderSpec(sandbox string, uid, gid int, image, binary, egressDir string, ports []docker.Port) docker.RunSpec {
	list := make([]string, len(ports))
	for i, p := range ports {
		list[i] = strconv.Itoa(p.ContainerPort)
	}
	return docker.RunSpec{
		Name:        ForwarderName(sandbox),
		Image:       image,
		Labels:      map[string]string{LabelOwner: strconv.Itoa(uid), LabelRole: RoleForwarder, LabelEgressDir: egressDir},
		User:        strconv.Itoa(uid) + ":" + strconv.Itoa(gid),
		ReadOnly:    true,
		CapDrop:     []string{"ALL"},
		SecurityOpt: []string{"no-new-privileges"},
		PidsLimit:   64,
		Memory:      "64m",
		Mounts:      []docker.Mount{{Source: binary, Target: proxyBinary, ReadOnly: true}},
		Ports:       append([]docker.Port(nil), ports...),
		Entrypoint:  []string{proxyBinary},
		Cmd:         []string{"__port-forward", "--to", sandbox, "--ports", strings.Join(list, ",")},
	}
}

// startForwarder starts the sandbox's port forwarder (replacing one left
// from an earlier run) and joins it to the sandbox's network.
func (m *Manager) startForwarder(ctx context.Context, p Plan) error {
	fwd := p.Egress.Forwarder
	if err := m.remove(ctx, fwd.Name); err != nil {
		return err
	}
	res, err := m.output(ctx, docker.RunArgs(*fwd))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return engineError("publish the ports of "+p.Name, res)
	}
	res, err = m.output(ctx, docker.NetworkConnectArgs(p.Egress.Network, fwd.Name))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		_ = m.remove(ctx, fwd.Name)
		return engineError("connect the port forwarder of "+p.Name, res)
	}
	return nil
}

// ensureEgress readies a sandbox's way out before it starts: its own
// internal network, the user's proxy running and joined to it under
// egress.ProxyAlias, and its entry in the proxy's config. It holds the
// networks' lock throughout, so that no pruning removes the network in
// between; once created, the sandbox itself keeps it.
func (m *Manager) ensureEgress(ctx context.Context, p Plan) error {
	e := p.Egress
	created := false
	err := e.Store.WithNetworkLock(func() error {
		// The usual case, in one call: the proxy runs and is on the
		// network already (so the network is there, and is the one
		// ai-sandbox made and checked when it joined the proxy to it).
		if addr := m.proxyOn(ctx, e.Proxy.Name, e.Network); addr != "" {
			return m.putEntry(e, addr)
		}
		var err error
		if created, err = m.ensureNetwork(ctx, e.Network, e.Proxy.Labels); err != nil {
			return err
		}
		return m.joinProxy(ctx, e)
	})
	if err != nil || !created {
		return err
	}
	// A new network: the ones whose sandbox is gone go now, so that
	// they do not pile up.
	if err := m.PruneNetworks(ctx, e.Store, e.Proxy.Labels[LabelEgressDir], e.Proxy.Name); err != nil {
		m.Streams.Warnf("%v", err)
	}
	return nil
}

// renewEgress is the cold launch's quick way: when the proxy's config
// still holds the sandbox's entry from its last run, the entry is
// renewed (so that no pruning takes the network meanwhile) and the
// proxy's address it holds is returned; the caller then starts the
// sandbox while verifyEgress checks the proxy, in parallel. "" means no
// entry: ensureEgress must run first.
func (m *Manager) renewEgress(p Plan) (had string, err error) {
	e := p.Egress
	err = e.Store.WithNetworkLock(func() error {
		c, err := e.Store.Read()
		if err != nil {
			return err
		}
		for _, s := range c.Sandboxes {
			if s.Name == e.Entry.Name && s.ProxyAddr != "" {
				had = s.ProxyAddr
				return m.putEntry(e, s.ProxyAddr)
			}
		}
		return nil
	})
	return had, err
}

// verifyEgress checks, beside the sandbox's start, that the proxy runs on
// the sandbox's network at the address its entry holds; it returns the
// address it found ("" when the proxy is not there).
func (m *Manager) verifyEgress(ctx context.Context, p Plan) string {
	return m.proxyOn(ctx, p.Egress.Proxy.Name, p.Egress.Network)
}

// settleEgress follows verifyEgress once the sandbox runs: the entry takes
// the proxy's present address, or, when the proxy is not on the network
// (it stopped, or was restarted), ensureEgress brings it there; until
// then the sandbox has no way out, never an open one.
func (m *Manager) settleEgress(ctx context.Context, p Plan, addr, had string) error {
	if addr == "" {
		return m.ensureEgress(ctx, p)
	}
	if addr == had {
		return nil
	}
	return p.Egress.Store.WithNetworkLock(func() error { return m.putEntry(p.Egress, addr) })
}

// joinProxy makes the user's proxy run, joins it to the sandbox's network
// and writes the sandbox's entry in its config.
func (m *Manager) joinProxy(ctx context.Context, e *EgressPlan) error {
	deadline := time.Now().Add(m.startTimeout())
	for {
		fresh, err := m.ensureProxy(ctx, e.Proxy, deadline)
		if err != nil {
			return err
		}
		if fresh {
			// A new proxy: forget the sandboxes that are gone.
			if err := m.pruneEgress(ctx, e); err != nil {
				return err
			}
		}
		res, err := m.output(ctx, docker.NetworkConnectArgs(e.Network, e.Proxy.Name, egress.ProxyAlias))
		if err != nil {
			return err
		}
		if res.ExitCode == 0 || bytes.Contains(res.Stderr, []byte("already exists")) {
			break
		}
		// The proxy stopped in between (its reaper found no sandbox):
		// start it again.
		if stopped(res.Stderr) {
			if err := m.pause(ctx, deadline, e.Proxy.Name); err != nil {
				return engineError("connect the egress proxy to "+e.Network, res)
			}
			continue
		}
		return engineError("connect the egress proxy to "+e.Network, res)
	}
	addr, err := m.addressOn(ctx, e.Proxy.Name, e.Network)
	if err != nil {
		return err
	}
	return m.putEntry(e, addr)
}

// putEntry writes the sandbox's entry in the proxy's config, with the
// proxy's address on its network.
func (m *Manager) putEntry(e *EgressPlan, proxyAddr string) error {
	entry := e.Entry
	entry.ProxyAddr = proxyAddr
	entry.Since = time.Now().UTC()
	return e.Store.Update(func(c *egress.Config) {
		c.Put(entry)
		c.Refused = e.Refused
	})
}

// proxyOn is the proxy's address on a network when it runs and is on it,
// else "".
func (m *Manager) proxyOn(ctx context.Context, proxy, network string) string {
	format := `{{.State.Running}} {{with index .NetworkSettings.Networks ` + strconv.Quote(network) + `}}{{.IPAddress}}{{end}}`
	res, err := m.output(ctx, docker.InspectArgs(proxy, format))
	if err != nil || res.ExitCode != 0 {
		return ""
	}
	running, addr, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), " ")
	if running != "true" {
		return ""
	}
	return addr
}

// recordEgress writes the sandbox's own address into the proxy's config
// once it runs (the proxy's reaper asks it whether it is still there).
func (m *Manager) recordEgress(ctx context.Context, p Plan) error {
	addr, err := m.addressOn(ctx, p.Name, p.Egress.Network)
	if err != nil {
		return err
	}
	return p.Egress.Store.Update(func(c *egress.Config) { c.SetAddr(p.Name, addr) })
}

func stopped(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("No such container")) || bytes.Contains(stderr, []byte("is not running"))
}

// noHostAddress keeps the host off a sandbox's network: an internal
// network stops forwarding, but the host keeps an address on its bridge
// (the gateway), and through it every service of the host that listens
// on all addresses would answer the sandbox.
const noHostAddress = "com.docker.network.bridge.inhibit_ipv4"

// RoleNetwork marks a sandbox's own network.
const RoleNetwork = "egress-network"

// EgressNetworkArgs creates a sandbox's network, in subnet ("" lets the
// engine pick one), with the owner and egress folder of its proxy's labels.
func EgressNetworkArgs(name, subnet string, proxyLabels map[string]string) []string {
	return docker.NetworkCreateArgs(name, subnet, true,
		map[string]string{LabelRole: RoleNetwork, LabelOwner: proxyLabels[LabelOwner], LabelEgressDir: proxyLabels[LabelEgressDir]},
		map[string]string{noHostAddress: "true"})
}

// subnetTries bounds the subnets a new network tries before it lets the
// engine pick.
const subnetTries = 64

// ensureNetwork creates a sandbox's network unless it exists: internal,
// and with no address of the host on it. It takes a small subnet of
// egress.SubnetPool that neither another network nor a route of the host
// holds; when none is free, the engine picks one.
func (m *Manager) ensureNetwork(ctx context.Context, name string, proxyLabels map[string]string) (created bool, err error) {
	res, err := m.output(ctx, docker.NetworkInspectArgs(`{{.Internal}} {{index .Options "`+noHostAddress+`"}}`, name))
	if err != nil {
		return false, err
	}
	if res.ExitCode == 0 {
		if strings.TrimSpace(string(res.Stdout)) != "true true" {
			return false, ui.WithHint(fmt.Errorf("the network %s exists but is not one ai-sandbox made (internal, without the host on it): a sandbox on it could reach more than its allowlist", name),
				"remove it ('docker network rm "+name+"') and run again")
		}
		return false, nil
	}
	if !bytes.Contains(res.Stderr, []byte("No such network")) && !bytes.Contains(res.Stderr, []byte("not found")) {
		return false, engineError("inspect the network "+name, res)
	}
	if err := m.createNetwork(ctx, name, func(subnet string) []string { return EgressNetworkArgs(name, subnet, proxyLabels) }); err != nil {
		return false, err
	}
	return true, nil
}

// createNetwork creates a network with the args for a subnet, trying the
// pool's subnets from the network's own place on; when none is free, the
// engine picks one. One that exists already (another launch made it) is
// no failure.
func (m *Manager) createNetwork(ctx context.Context, name string, args func(subnet string) []string) error {
	var routes []netip.Prefix
	if f, err := os.Open("/proc/net/route"); err == nil {
		routes = egress.HostRoutes(f)
		f.Close()
	}
	var res proc.Result
	for _, subnet := range append(egress.SubnetCandidates(name, routes, subnetTries), netip.Prefix{}) {
		arg := ""
		if subnet.IsValid() {
			arg = subnet.String()
		}
		var err error
		res, err = m.output(ctx, args(arg))
		if err != nil {
			return err
		}
		if res.ExitCode == 0 || bytes.Contains(res.Stderr, []byte("already exists")) {
			return nil
		}
		if !bytes.Contains(res.Stderr, []byte("overlaps")) {
			break
		}
	}
	return ui.WithHint(engineError("create the network "+name, res),
		"stopped sandboxes' networks are removed by 'ai-sandbox stop' and 'ai-sandbox clean'; 'docker network ls' shows them all")
}

// RoleProxyNetwork marks the network a proxy reaches out on.
const RoleProxyNetwork = "egress-proxy-network"

// ProxyNetworkArgs creates the network a proxy reaches out on: a bridge of
// its own (not docker's default one), whose DNS also answers the names of
// the containers on the networks the proxy joins.
func ProxyNetworkArgs(proxy docker.RunSpec, subnet string) []string {
	return docker.NetworkCreateArgs(proxy.Network, subnet, false,
		map[string]string{LabelRole: RoleProxyNetwork, LabelOwner: proxy.Labels[LabelOwner], LabelEgressDir: proxy.Labels[LabelEgressDir]}, nil)
}

// networkGrace is how long a sandbox's network outlives its entry's last
// launch without a container: that launch may still be starting it.
const networkGrace = 2 * time.Minute

// PruneNetworks removes the sandbox networks of an egress folder whose
// sandbox is gone (no container of its name, and no launch readying it
// within the grace), with their port forwarders and their entries in the
// proxy's config.
//
// The sandboxes in stopped were just stopped by the user: their networks
// go without the grace.
func (m *Manager) PruneNetworks(ctx context.Context, st egress.Store, egressDir, proxy string, stopped ...string) error {
	return st.WithNetworkLock(func() error {
		res, err := m.output(ctx, docker.NetworkListArgs(`{{.Name}}	{{.Label "`+LabelRole+`"}}	{{.Label "`+LabelEgressDir+`"}}`))
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return engineError("list the networks", res)
		}
		conf, err := st.Read()
		if err != nil {
			return err
		}
		since := map[string]time.Time{}
		for _, s := range conf.Sandboxes {
			since[s.Name] = s.Since
		}
		var gone []string
		for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 3 || f[1] != RoleNetwork || f[2] != egressDir {
				continue
			}
			name, ok := strings.CutSuffix(f[0], "-net")
			if !ok || (time.Since(since[name]) < networkGrace && !slices.Contains(stopped, name)) {
				continue
			}
			c, err := m.Inspect(ctx, name)
			if err != nil {
				return err
			}
			if c.Exists {
				continue
			}
			// Anything on it besides the proxy and the forwarder is in use.
			res, err := m.output(ctx, docker.NetworkInspectArgs(`{{range .Containers}}{{.Name}} {{end}}`, f[0]))
			if err != nil {
				return err
			}
			if res.ExitCode != 0 || slices.ContainsFunc(strings.Fields(string(res.Stdout)), func(c string) bool {
				return c != proxy && c != ForwarderName(name)
			}) {
				continue
			}
			if err := m.remove(ctx, ForwarderName(name)); err != nil {
				return err
			}
			_, _ = m.output(ctx, docker.NetworkDisconnectArgs(f[0], proxy))
			res, err = m.output(ctx, docker.NetworkRemoveArgs(f[0]))
			if err != nil {
				return err
			}
			if res.ExitCode != 0 && !bytes.Contains(res.Stderr, []byte("No such network")) && !bytes.Contains(res.Stderr, []byte("not found")) {
				return engineError("remove the network "+f[0], res)
			}
			gone = append(gone, name)
		}
		if len(gone) == 0 {
			return nil
		}
		return st.Update(func(c *egress.Config) { c.Drop(gone...) })
	})
}

// ensureProxy starts the user's proxy unless it runs; started says it
// did.
func (m *Manager) ensureProxy(ctx context.Context, spec docker.RunSpec, deadline time.Time) (started bool, err error) {
	for {
		st, err := m.Inspect(ctx, spec.Name)
		if err != nil {
			return false, err
		}
		switch {
		case st.Running:
			return false, nil
		case st.Exists && (st.Status == "created" || st.Status == "restarting"):
			// another launch is starting it
		case st.Exists:
			if err := m.remove(ctx, spec.Name); err != nil {
				return false, err
			}
		default:
			res, err := m.output(ctx, docker.RunArgs(spec))
			if err != nil {
				return false, err
			}
			if res.ExitCode == 0 {
				return true, nil
			}
			if imageMissing(string(res.Stderr)) {
				// The proxy runs in the sandbox's image.
				return false, missingImage(spec.Image)
			}
			if networkMissing(string(res.Stderr)) {
				// Its own network first (the proxy's first start, or
				// one removed since).
				if err := m.createNetwork(ctx, spec.Network, func(subnet string) []string { return ProxyNetworkArgs(spec, subnet) }); err != nil {
					return false, err
				}
				continue
			}
			if !bytes.Contains(res.Stderr, []byte("is already in use")) {
				return false, engineError("start the egress proxy "+spec.Name, res)
			}
		}
		if err := m.pause(ctx, deadline, spec.Name); err != nil {
			return false, fmt.Errorf("the egress proxy %s did not start: %w", spec.Name, err)
		}
	}
}

// pruneEgress drops from the proxy's config the sandboxes that no longer
// run (a proxy that stopped left them there).
func (m *Manager) pruneEgress(ctx context.Context, e *EgressPlan) error {
	running, err := m.List(ctx, "label="+LabelEgress+"=allowlist", "label="+LabelOwner+"="+e.Proxy.Labels[LabelOwner])
	if err != nil {
		return err
	}
	keep := map[string]bool{e.Entry.Name: true}
	for _, c := range running {
		keep[c.Name] = true
	}
	return e.Store.Update(func(c *egress.Config) {
		c.Sandboxes = slices.DeleteFunc(c.Sandboxes, func(s egress.ConfigSandbox) bool { return !keep[s.Name] })
	})
}

// addressOn reads a container's IPv4 address on a network.
func (m *Manager) addressOn(ctx context.Context, container, network string) (string, error) {
	format := `{{with index .NetworkSettings.Networks ` + strconv.Quote(network) + `}}{{.IPAddress}}{{end}}`
	res, err := m.output(ctx, docker.InspectArgs(container, format))
	if err != nil {
		return "", err
	}
	addr := strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 || addr == "" {
		return "", engineError(fmt.Sprintf("read the address of %s on %s", container, network), res)
	}
	return addr, nil
}

// EgressStore is the proxy's config store below the state folder.
func EgressStore(state string) egress.Store {
	return egress.Store{Root: hostfs.New(filepath.Join(state, "egress"))}
}
