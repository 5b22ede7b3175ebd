package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
		err  string
	}{
		{in: "api.anthropic.com", want: Rule{Host: "api.anthropic.com"}},
		{in: "API.Anthropic.COM.", want: Rule{Host: "api.anthropic.com"}},
		{in: "*.githubusercontent.com", want: Rule{Host: "githubusercontent.com", Wildcard: true}},
		{in: "localhost:11434", want: Rule{Host: "localhost", Port: 11434}},
		{in: "*.corp.example:8443", want: Rule{Host: "corp.example", Wildcard: true, Port: 8443}},
		{in: "10.0.0.5:8080", want: Rule{Host: "10.0.0.5", Port: 8080}},
		{in: "[fd00::1]:8080", want: Rule{Host: "fd00::1", Port: 8080}},
		{in: "[fd00::1]", want: Rule{Host: "fd00::1"}},
		{in: "::ffff:10.0.0.5", want: Rule{Host: "10.0.0.5"}},
		{in: "", err: "empty"},
		{in: "https://api.example.com", err: "not a host"},
		{in: "api.example.com/v1", err: "not a host"},
		{in: "user@example.com", err: "not a host"},
		{in: "example.com:0", err: "port"},
		{in: "example.com:70000", err: "port"},
		{in: "example.com:http", err: "port"},
		{in: "*.com", err: "not a host name"},
		{in: "*", err: "not a host name"},
		{in: "a..b", err: "not a host name"},
		{in: "-a.b", err: "not a host name"},
		{in: "exa mple.com", err: "not a host"},
		{in: "ex*ample.com", err: "not a host name"},
	}
	for _, tt := range tests {
		got, err := ParseRule(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRule(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		// The rule reads back as itself.
		again, err := ParseRule(got.String())
		if err != nil || again != got {
			t.Errorf("ParseRule(%q).String() = %q does not read back (%+v, %v)", tt.in, got.String(), again, err)
		}
	}
}

func TestAllows(t *testing.T) {
	l, err := ParseAllowlist([]string{"api.anthropic.com", "*.githubusercontent.com", "models.local:11434", "10.1.2.3:8080", "registry.npmjs.org", "registry.npmjs.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 5 {
		t.Errorf("duplicates are kept once: %v", l)
	}
	tests := []struct {
		host     string
		port     int
		allowed  bool
		explicit bool
	}{
		{"api.anthropic.com", 443, true, false},
		{"API.anthropic.com.", 443, true, false},
		{"api.anthropic.com", 80, true, false},
		{"api.anthropic.com", 22, false, false},       // the web's ports only
		{"evil-api.anthropic.com", 443, false, false}, // exact means exact
		{"anthropic.com", 443, false, false},
		{"raw.githubusercontent.com", 443, true, false},
		{"a.b.githubusercontent.com", 443, true, false},
		{"githubusercontent.com", 443, false, false}, // "*." is below the domain only
		{"evilgithubusercontent.com", 443, false, false},
		{"models.local", 11434, true, true},
		{"models.local", 443, false, false},
		{"10.1.2.3", 8080, true, true},
		{"[10.1.2.3]", 8080, true, true},
		{"::ffff:10.1.2.3", 8080, true, true},
		{"10.1.2.3", 443, false, false},
		{"example.org", 443, false, false},
	}
	for _, tt := range tests {
		m := l.Allows(tt.host, tt.port)
		if m.Allowed != tt.allowed || m.Explicit != tt.explicit {
			t.Errorf("Allows(%q, %d) = %+v; want allowed %v explicit %v", tt.host, tt.port, m, tt.allowed, tt.explicit)
		}
	}
	if _, err := ParseAllowlist([]string{"ok.example", "https://bad"}); err == nil || !strings.Contains(err.Error(), "https://bad") {
		t.Errorf("a bad rule is named: %v", err)
	}
}

func TestGuardRefuses(t *testing.T) {
	g := Guard{Extra: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32"), netip.MustParsePrefix("2001:db8:5::/64")}}
	refused := []string{
		"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1",
		"10.0.0.1", "172.16.0.1", "172.17.0.1", "172.31.255.254", "192.168.1.1", "fd00::1", "fc00::5",
		"169.254.169.254", "169.254.0.1", "fe80::1",
		"0.0.0.0", "::", "0.1.2.3",
		"100.64.0.1", "100.127.255.254",
		"224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",
		"2002:7f00:1::", "2002:a9fe:a9fe::1", // 6to4 of 127.0.0.1 and 169.254.169.254
		"64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", // NAT64 of the metadata service and loopback
		"203.0.113.7", "2001:db8:5::9", // the host's own addresses
	}
	for _, s := range refused {
		if r := g.Refuses(netip.MustParseAddr(s)); r == "" {
			t.Errorf("%s is not refused", s)
		}
	}
	allowed := []string{"1.1.1.1", "140.82.112.3", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "2002:0101:0101::", "64:ff9b::101:101", "203.0.113.8"}
	for _, s := range allowed {
		if r := g.Refuses(netip.MustParseAddr(s)); r != "" {
			t.Errorf("%s is refused: %s", s, r)
		}
	}
	if r := g.Refuses(netip.MustParseAddr("169.254.169.254")); !strings.Contains(r, "metadata") {
		t.Errorf("the metadata service's reason says so: %q", r)
	}
}
