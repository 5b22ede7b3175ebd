// Package egress is the allowlist policy's proxy: what a sandbox may reach
// (rules), which addresses are never reached unless a rule names them
// exactly (addrs), the proxy itself (CONNECT and plain HTTP) and the log
// of what it refused. It runs in a container of its own, outside the
// sandboxes, which sit on internal networks with no other way out.
package egress

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Rule allows one host: an exact name ("api.anthropic.com"), every name
// under a domain ("*.githubusercontent.com", not the domain itself), or an
// address ("10.0.0.5", "[fd00::1]"). Port 0 means the web's ports, 443
// and 80; a rule with a port allows that port only.
type Rule struct {
	Host     string // lower case, no trailing dot; for a wildcard the domain after "*."
	Wildcard bool
	Port     int
}

// String is the rule as the user writes it.
func (r Rule) String() string {
	h := r.Host
	if r.Wildcard {
		h = "*." + h
	} else if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if r.Port != 0 {
		return h + ":" + strconv.Itoa(r.Port)
	}
	return h
}

// Explicit reports whether the rule names one host and one port: only such
// a rule lets the sandbox reach a private, loopback or host address (a
// model server on the user's machine, for example).
func (r Rule) Explicit() bool { return !r.Wildcard && r.Port != 0 }

// ParseRule reads "host", "host:port", "*.domain", "*.domain:port",
// "1.2.3.4:port" or "[v6]:port".
func ParseRule(s string) (Rule, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Rule{}, fmt.Errorf("an empty host")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#@ \t") {
		return Rule{}, fmt.Errorf("%q is not a host: write the name alone, such as api.example.com or api.example.com:8443", in)
	}
	host, port := s, 0
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Rule{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", in)
		}
		host, port = h, n
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	} else if strings.Count(s, ":") == 1 {
		return Rule{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", in)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return Rule{Host: a.Unmap().String(), Port: port}, nil
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	wild := false
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		wild, host = true, rest
	}
	if !validName(host) || (wild && !strings.Contains(host, ".")) {
		return Rule{}, fmt.Errorf("%q is not a host name (names are letters, digits, '-' and '.'; '*.' only in front of a domain such as *.example.com)", in)
	}
	return Rule{Host: host, Wildcard: wild, Port: port}, nil
}

func validName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Allowlist is a sandbox's rules.
type Allowlist []Rule

// ParseAllowlist reads rules, naming the first one that does not parse.
func ParseAllowlist(list []string) (Allowlist, error) {
	var out Allowlist
	for _, s := range list {
		r, err := ParseRule(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Match is the verdict of the allowlist on a host and port.
type Match struct {
	Allowed  bool
	Explicit bool // an explicit rule (exact host and port) allowed it
	Rule     Rule // the rule that allowed it
}

// Allows says whether host:port may be reached. host is a name or an
// address as the client asked for it.
func (l Allowlist) Allows(host string, port int) Match {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	var best Match
	for _, r := range l {
		if r.Port == 0 && port != 80 && port != 443 {
			continue
		}
		if r.Port != 0 && r.Port != port {
			continue
		}
		hit := host == r.Host
		if r.Wildcard {
			hit = strings.HasSuffix(host, "."+r.Host)
		}
		if !hit {
			continue
		}
		m := Match{Allowed: true, Explicit: r.Explicit(), Rule: r}
		if m.Explicit {
			return m
		}
		if !best.Allowed {
			best = m
		}
	}
	return best
}
