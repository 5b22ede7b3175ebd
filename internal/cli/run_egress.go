package cli

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// egressPolicy is the launch's policy: --egress, AI_SANDBOX_EGRESS, the
// workspace's (config.json egress.workspaces), settings.egress, else the
// allowlist. from says which.
func egressPolicy(cfg *config.Config, settings config.Resolved, ws string) (p egress.Policy, from string, err error) {
	from = settings.Source["egress"]
	if from == "flag" || from == "env" {
		return settings.Egress, from, nil
	}
	if v, ok := cfg.Egress.Workspaces[ws]; ok {
		p, err := egress.ParsePolicy(v)
		if err != nil {
			return "", "", fmt.Errorf("egress of the workspace %s (config.json): %w", ws, err)
		}
		return p, "workspace", nil
	}
	return settings.Egress, from, nil
}

// allowedHosts is a sandbox's allowlist: the agent's hosts, the common
// registries, the user's for every sandbox and for the workspace, and
// --allow; each checked, none twice.
func allowedHosts(cfg *config.Config, ws string, agent *tools.Tool, extra []string) ([]string, error) {
	var list []string
	if agent != nil {
		list = append(list, agent.EgressHosts()...)
	}
	list = append(list, tools.CommonHosts...)
	list = append(list, cfg.Egress.Allow...)
	list = append(list, cfg.Egress.AllowIn[ws]...)
	tool := "shell"
	if agent != nil {
		tool = agent.Name
	}
	list = append(list, cfg.Egress.AllowTools[tool]...)
	list = append(list, extra...)
	var out []string
	for _, h := range list {
		r, err := egress.ParseRule(h)
		if err != nil {
			return nil, err
		}
		if s := r.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// egressFacts fills the sandbox's egress facts, and refuses what would
// open a way around the policy.
func egressFacts(deps *Deps, cfg *config.Config, settings config.Resolved, o *runOptions, ws string, agent *tools.Tool, f *sandbox.Facts) error {
	pol, from, err := egressPolicy(cfg, settings, ws)
	if err != nil {
		return &ui.UsageError{Err: err}
	}
	for _, n := range f.Networks {
		if sandbox.IsOwnNetwork(n) {
			return ui.WithHint(&ui.UsageError{Err: fmt.Errorf("%s is ai-sandbox's own network (a sandbox's, or an egress proxy's): joining it would reach that sandbox or bypass its proxy", n)},
				"join a network of your own ('docker network ls'), or reach the other sandbox's service through a published port")
		}
	}
	if pol == egress.PolicyAllowlist && from == "default" && len(f.Networks) > 0 {
		// Nobody chose the allowlist, and a network to join was asked
		// for: joining a network opens the sandbox (it reaches the
		// network's members directly and, through its route, the rest),
		// so this launch is open, and says so.
		if !o.quiet && !o.print {
			deps.Streams.Warnf("joining the network %s opens this sandbox's egress: it reaches that network directly and, through it, everything else (the allowlist applies only without networks)", strings.Join(f.Networks, ", "))
			deps.Streams.Hintf("say so with --egress open; 'ai-sandbox network list' shows where the network was saved")
		}
		f.Egress = egress.PolicyOpen
		return nil
	}
	f.Egress = pol
	switch pol {
	case egress.PolicyOpen:
		if !o.quiet && !o.print {
			deps.Streams.Warnf("egress open (from %s): this sandbox reaches the whole network, your host's services and other sandboxes included (--egress allowlist limits it to the hosts its agent needs)", from)
		}
		return nil
	case egress.PolicyNone:
		if len(f.Ports) > 0 {
			return ui.WithHint(&ui.UsageError{Err: fmt.Errorf("egress none (from %s) has no network, so port %s cannot be published", from, strconv.Itoa(f.Ports[0]))},
				"publish it with --egress allowlist (the default) or --egress open")
		}
		if len(f.Networks) > 0 {
			return ui.WithHint(&ui.UsageError{Err: fmt.Errorf("egress none (from %s) has no network, so the network %s cannot be joined", from, f.Networks[0])},
				"join it with --egress open")
		}
		return nil
	}
	if len(f.Networks) > 0 {
		return ui.WithHint(&ui.UsageError{Err: fmt.Errorf("egress allowlist (from %s): joining the network %s would give this sandbox a way out around the proxy", from, f.Networks[0])},
			"join it with --egress open for this run ('ai-sandbox network list' shows where it was saved)")
	}
	f.Allow, err = allowedHosts(cfg, ws, agent, o.allow)
	if err != nil {
		return &ui.UsageError{Err: err}
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return fmt.Errorf("the egress proxy runs this program, which cannot be found: %w", err)
	}
	f.Binary = exe
	f.Refused = hostAddresses()
	return nil
}

// hostAddresses are the host's own addresses (loopback and link-local
// ones are refused by the proxy anyway), as /32 or /128 ranges.
func hostAddresses() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := pfx.Addr().Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()).String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
