package egress

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDNS answers from a table; other names do not resolve.
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range f[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no such host %s", host)
	}
	return out, nil
}

// world is a proxy on 127.0.0.1 serving one sandbox ("sb") with the
// rules given, a fake DNS, and a dialer that sends the public address
// 93.184.216.34 to a local upstream (so that the guard, which refuses
// loopback, is exercised as in production) and records every address it
// was asked to dial.
type world struct {
	t      *testing.T
	proxy  string // host:port of the proxy
	denied []Denial
	dialed []string
	mu     sync.Mutex
}

const public = "93.184.216.34"

func newWorld(t *testing.T, upstream string, rules ...string) *world {
	t.Helper()
	allow, err := ParseAllowlist(rules)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t}
	_, upPort, _ := net.SplitHostPort(upstream)
	p := &Proxy{
		Lookup: func(local netip.Addr) (Sandbox, bool) {
			if local == netip.MustParseAddr("127.0.0.1") {
				return Sandbox{Name: "sb", Allow: allow}, true
			}
			return Sandbox{}, false
		},
		Resolver: fakeDNS{
			"allowed.example": {public},
			"rebind.example":  {"127.0.0.1"},
			"meta.example":    {"169.254.169.254"},
			"mixed.example":   {"169.254.169.254", "10.0.0.1", public},
			"local.example":   {"127.0.0.1"},
			"other.example":   {public},
		},
		Deny: func(d Denial) { w.mu.Lock(); w.denied = append(w.denied, d); w.mu.Unlock() },
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			w.mu.Lock()
			w.dialed = append(w.dialed, addr)
			w.mu.Unlock()
			host, _, _ := net.SplitHostPort(addr)
			if host == public {
				addr = net.JoinHostPort("127.0.0.1", upPort)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.Server()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	w.proxy = l.Addr().String()
	return w
}

func (w *world) client() *http.Client {
	u, _ := url.Parse("http://" + w.proxy)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}, Timeout: 10 * time.Second}
}

// connect sends a CONNECT (plus extra bytes in the same write) and
// returns the connection and the proxy's status line.
func (w *world) connect(target string, extra []byte) (net.Conn, *bufio.Reader, string) {
	w.t.Helper()
	c, err := net.Dial("tcp", w.proxy)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := append([]byte("CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n"), extra...)
	if _, err := c.Write(req); err != nil {
		w.t.Fatal(err)
	}
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil {
		w.t.Fatalf("CONNECT %s: %v", target, err)
	}
	// Skip the headers.
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
	}
	return c, br, strings.TrimSpace(status)
}

// echo is a TCP server that echoes lines back, upper-cased.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "%s\n", strings.ToUpper(sc.Text()))
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestConnectAllowedTunnels(t *testing.T) {
	up := echo(t)
	w := newWorld(t, up, "allowed.example")
	c, br, status := w.connect("allowed.example:443", []byte("eager hello\n"))
	if !strings.Contains(status, " 200 ") {
		t.Fatalf("CONNECT to an allowed host: %q", status)
	}
	// The bytes sent with the CONNECT (a TLS hello sent eagerly) arrive.
	if line, err := br.ReadString('\n'); err != nil || line != "EAGER HELLO\n" {
		t.Fatalf("eager bytes: %q %v", line, err)
	}
	fmt.Fprintf(c, "second\n")
	if line, err := br.ReadString('\n'); err != nil || line != "SECOND\n" {
		t.Fatalf("through the tunnel: %q %v", line, err)
	}
	if len(w.denied) != 0 {
		t.Errorf("denials: %v", w.denied)
	}
	if len(w.dialed) != 1 || w.dialed[0] != public+":443" {
		t.Errorf("dialed %v, want the address the proxy resolved", w.dialed)
	}
}

func TestPlainHTTPForwarded(t *testing.T) {
	var gotHost, gotAuth string
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		gotHost, gotAuth = r.Host, r.Header.Get("Proxy-Authorization")
		fmt.Fprintf(rw, "hello from %s", r.URL.Path)
	}))
	defer up.Close()
	w := newWorld(t, up.Listener.Addr().String(), "allowed.example")
	req, _ := http.NewRequest("GET", "http://allowed.example/pkg", nil)
	req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
	resp, err := w.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from /pkg" {
		t.Fatalf("GET through the proxy: %d %q", resp.StatusCode, body)
	}
	if gotHost != "allowed.example" || gotAuth != "" {
		t.Errorf("upstream saw Host %q, Proxy-Authorization %q", gotHost, gotAuth)
	}
}

func TestRefusals(t *testing.T) {
	up := echo(t)
	_, upPort, _ := net.SplitHostPort(up)
	w := newWorld(t, up, "allowed.example", "rebind.example", "meta.example", "169.254.169.254", "local.example:"+upPort)
	tests := []struct {
		target string
		reason string
	}{
		{"other.example:443", "not on the allowlist"},
		{"allowed.example:22", "not on the allowlist"},
		{"rebind.example:443", "resolves to 127.0.0.1, a loopback address"},
		{"meta.example:80", "link-local"},
		{"169.254.169.254:443", "link-local"},
		{"local.example:443", "not on the allowlist"},
	}
	for _, tt := range tests {
		_, _, status := w.connect(tt.target, nil)
		if !strings.Contains(status, " 403 ") {
			t.Errorf("CONNECT %s: %q, want 403", tt.target, status)
		}
	}
	if len(w.denied) != len(tests) {
		t.Fatalf("denials logged: %+v", w.denied)
	}
	for i, tt := range tests {
		d := w.denied[i]
		host, _, _ := net.SplitHostPort(tt.target)
		if d.Sandbox != "sb" || d.Host != host || !strings.Contains(d.Reason, tt.reason) || d.Time.IsZero() {
			t.Errorf("denial %d = %+v, want host %s and reason %q", i, d, host, tt.reason)
		}
	}
	if len(w.dialed) != 0 {
		t.Errorf("a refused request dialed %v", w.dialed)
	}

	// A plain request that is refused says why and how to allow it.
	resp, err := w.client().Get("http://other.example:8080/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "blocked other.example port 8080") ||
		!strings.Contains(string(body), "'ai-sandbox network allow other.example:8080'") {
		t.Errorf("refusal: %d %q", resp.StatusCode, body)
	}
	// A name that resolves to a private address needs the exact rule.
	resp, err = w.client().Get("http://rebind.example/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "'ai-sandbox network allow rebind.example:80'") {
		t.Errorf("refusal of a private address: %d %q", resp.StatusCode, body)
	}
	if d := w.denied[len(w.denied)-1]; !d.Exact {
		t.Errorf("the log does not say that the exact rule is needed: %+v", d)
	}
	if resp.Header.Get("X-Ai-Sandbox-Blocked") != "rebind.example:80" {
		t.Errorf("X-Ai-Sandbox-Blocked = %q", resp.Header.Get("X-Ai-Sandbox-Blocked"))
	}
}

// An explicit rule (exact name and port) reaches a private address: a
// model server on the user's machine, for example.
func TestExplicitRuleReachesLocal(t *testing.T) {
	up := echo(t)
	_, upPort, _ := net.SplitHostPort(up)
	w := newWorld(t, up, "local.example:"+upPort, "127.0.0.1:"+upPort)
	for _, target := range []string{"local.example:" + upPort, "127.0.0.1:" + upPort} {
		c, br, status := w.connect(target, nil)
		if !strings.Contains(status, " 200 ") {
			t.Fatalf("CONNECT %s: %q", target, status)
		}
		fmt.Fprintf(c, "hi\n")
		if line, _ := br.ReadString('\n'); line != "HI\n" {
			t.Errorf("%s: %q", target, line)
		}
	}
}

// A name whose answers are partly refused (a rebinding answer mixed with
// a public one) is dialed only at the addresses that pass.
func TestMixedAnswersKeepOnlyPublic(t *testing.T) {
	up := echo(t)
	w := newWorld(t, up, "mixed.example")
	_, _, status := w.connect("mixed.example:443", nil)
	if !strings.Contains(status, " 200 ") {
		t.Fatalf("CONNECT: %q", status)
	}
	if len(w.dialed) != 1 || w.dialed[0] != public+":443" {
		t.Errorf("dialed %v, want only %s:443", w.dialed, public)
	}
}

func TestUnknownNetworkAndBadRequests(t *testing.T) {
	up := echo(t)
	w := newWorld(t, up, "allowed.example")
	// A relative URL was not meant for a proxy.
	resp, err := http.Get("http://" + w.proxy + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "absolute http:// URL") {
		t.Errorf("relative URL: %d %q", resp.StatusCode, body)
	}

	// A connection on an address no sandbox owns is refused.
	p := &Proxy{Lookup: func(netip.Addr) (Sandbox, bool) { return Sandbox{}, false }, Resolver: fakeDNS{}}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("CONNECT", "http://allowed.example:443", nil)
	p.ServeHTTP(rec, req)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "serves only ai-sandbox sandboxes") {
		t.Errorf("unknown network: %d %q", rec.Code, rec.Body.String())
	}
}

func TestLogAndSummarize(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(&buf)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, d := range []Denial{
		{Sandbox: "a", Host: "evil.example", Port: 443, Reason: "not on the allowlist"},
		{Sandbox: "a", Host: "evil.example", Port: 443, Reason: "not on the allowlist"},
		{Sandbox: "a", Host: "models.local", Port: 11434, Reason: "not on the allowlist"},
		{Sandbox: "b", Host: "evil.example", Port: 443, Reason: "not on the allowlist"},
		{Sandbox: "a", Host: "old.example", Port: 443, Reason: "not on the allowlist"},
	} {
		d.Time = t0.Add(time.Duration(i) * time.Minute)
		if d.Host == "old.example" {
			d.Time = t0.Add(-time.Hour)
		}
		l.Deny(d)
	}
	buf.WriteString("not json\n")
	got := Summarize(bytes.NewReader(buf.Bytes()), "a", t0)
	var lines []string
	for _, b := range got {
		lines = append(lines, b.String()+" → "+b.Hint())
	}
	want := "evil.example (2×) → ai-sandbox network allow evil.example|models.local:11434 (1×) → ai-sandbox network allow models.local:11434"
	if strings.Join(lines, "|") != want {
		t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(lines, "|"), want)
	}
	if all := Summarize(bytes.NewReader(buf.Bytes()), "", time.Time{}); len(all) != 3 || all[0].Count != 3 {
		t.Errorf("all sandboxes: %+v", all)
	}
}
