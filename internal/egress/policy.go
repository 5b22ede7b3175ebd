package egress

import (
	"fmt"
	"strconv"
	"strings"
)

// Policy is what a sandbox may reach.
type Policy string

const (
	// PolicyAllowlist: only the hosts of its allowlist, through the proxy; the
	// sandbox sits on an internal network of its own with no other way
	// out. The default.
	PolicyAllowlist Policy = "allowlist"
	// PolicyOpen: the engine's default bridge, the whole network (the host's
	// services and the other sandboxes included).
	PolicyOpen Policy = "open"
	// PolicyNone: no network at all.
	PolicyNone Policy = "none"
)

// Policies are the policies, in the order help lists them.
var Policies = []Policy{PolicyAllowlist, PolicyOpen, PolicyNone}

// ParsePolicy reads a policy as the user writes it ("" is the default).
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PolicyAllowlist, nil
	case PolicyAllowlist, PolicyOpen, PolicyNone:
		return p, nil
	}
	names := make([]string, len(Policies))
	for i, p := range Policies {
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown egress policy %q: use %s", s, strings.Join(names, ", "))
}

// ProxyAlias is the proxy's name on every sandbox's network (the
// engine's DNS answers it; no address is written into a sandbox's spec).
const ProxyAlias = "ai-sandbox-proxy"

// ProxyPort is the port the proxy listens on.
const ProxyPort = 3128

// ClientEnv are the variables that point a sandbox's programs at the
// proxy: the usual pair in both cases (curl, git, pip, Python, Go, Rust
// and most CLIs read them), NO_PROXY for the sandbox itself, npm's own
// settings, and the opt-in that makes Node's built-in fetch use them
// (Node 24 and later; older ones ignore it, and their agents are checked
// one by one in the tool table).
func ClientEnv() map[string]string {
	url := "http://" + ProxyAlias + ":" + strconv.Itoa(ProxyPort)
	noProxy := "localhost,127.0.0.1,::1"
	return map[string]string{
		"HTTP_PROXY":             url,
		"HTTPS_PROXY":            url,
		"http_proxy":             url,
		"https_proxy":            url,
		"NO_PROXY":               noProxy,
		"no_proxy":               noProxy,
		"npm_config_proxy":       url,
		"npm_config_https_proxy": url,
		"NODE_USE_ENV_PROXY":     "1",
	}
}

// NoResolver is the resolver a sandbox on the allowlist policy is given
// beyond the engine's own names (the proxy's alias): an address of
// TEST-NET-1 (RFC 5737), never routed, so a name lookup that bypasses
// the proxy fails inside the sandbox's own network. The engine's
// resolver asks it from the sandbox's namespace; a loopback resolver
// inherited from the host would be asked from the host's on engines
// before 26.0 (CVE-2024-29018), a way out.
const NoResolver = "192.0.2.1"
