package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sandbox is what the proxy knows of one sandbox: the name shown in logs
// and reports, its rules, and the addresses it never reaches unless a rule
// names them exactly.
type Sandbox struct {
	Name  string
	Allow Allowlist
	Guard Guard
}

// Lookup finds the sandbox a connection belongs to from the proxy's own
// address it arrived on (one internal network per sandbox, so one address
// of the proxy per sandbox). ok is false for a network the proxy does not
// serve: such a connection is refused.
type Lookup func(local netip.Addr) (Sandbox, bool)

// Resolver resolves a name; net.DefaultResolver fits.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Denial is one refused connection, as logged.
type Denial struct {
	Time    time.Time `json:"time"`
	Sandbox string    `json:"sandbox"`
	Host    string    `json:"host"`
	Port    int       `json:"port"`
	Reason  string    `json:"reason"`
	Exact   bool      `json:"exact,omitempty"` // only a rule naming the host and port allows it
}

// Proxy serves CONNECT and plain HTTP requests for the sandboxes,
// allowing only what their rules allow, to addresses it resolves itself
// and checks (no name the sandbox resolved is ever trusted).
type Proxy struct {
	Lookup   Lookup
	Resolver Resolver
	// Deny records a refusal (the log); it must not block for long.
	Deny func(Denial)
	// Dial connects to a vetted address; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTimeout bounds resolving and connecting; 0 means 30 seconds.
	DialTimeout time.Duration

	once      sync.Once
	transport *http.Transport
	buffers   bufferPool
}

// Server is an http.Server for the proxy, with timeouts fit for it.
func (p *Proxy) Server() *http.Server {
	return &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
}

type vettedKey struct{}

func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.Dial != nil {
		return p.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (p *Proxy) timeout() time.Duration {
	if p.DialTimeout > 0 {
		return p.DialTimeout
	}
	return 30 * time.Second
}

// dialVetted tries the vetted addresses in order.
func (p *Proxy) dialVetted(ctx context.Context, addrs []netip.AddrPort) (net.Conn, error) {
	var errs []error
	for _, ap := range addrs {
		c, err := p.dial(ctx, "tcp", ap.String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (p *Proxy) init() {
	p.once.Do(func() {
		p.transport = &http.Transport{
			Proxy: nil,
			// Plain HTTP only (https goes through CONNECT): the
			// address is the one vetted for this request.
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				addrs, _ := ctx.Value(vettedKey{}).([]netip.AddrPort)
				if len(addrs) == 0 {
					return nil, errors.New("no vetted address")
				}
				return p.dialVetted(ctx, addrs)
			},
			DisableKeepAlives:     true, // a connection is vetted per request
			ResponseHeaderTimeout: 5 * time.Minute,
		}
	})
}

// ServeHTTP handles one request from a sandbox.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	local := localAddr(r)
	sb, ok := p.Lookup(local)
	if !ok {
		http.Error(w, "ai-sandbox: this proxy serves only ai-sandbox sandboxes\n", http.StatusForbidden)
		return
	}
	host, port, err := target(r)
	if err != nil {
		http.Error(w, "ai-sandbox: "+err.Error()+"\n", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout())
	defer cancel()
	addrs, reason, exact := p.vet(ctx, sb, host, port)
	if reason != "" {
		p.refuse(w, sb, host, port, reason, exact)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(ctx, w, addrs)
		return
	}
	p.forward(w, r.WithContext(context.WithValue(r.Context(), vettedKey{}, addrs)))
}

func localAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Addr().Unmap()
		}
	}
	return netip.Addr{}
}

// target is the host and port a request asks for: CONNECT's authority,
// or the absolute URL of a plain HTTP request (a request with a relative
// URL was not meant for a proxy).
func target(r *http.Request) (string, int, error) {
	hostport := r.Host
	if r.Method != http.MethodConnect {
		if !r.URL.IsAbs() || r.URL.Scheme != "http" {
			return "", 0, fmt.Errorf("a proxy request needs an absolute http:// URL (https goes through CONNECT), not %q", r.RequestURI)
		}
		hostport = r.URL.Host
	}
	host, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		if r.Method == http.MethodConnect {
			return "", 0, fmt.Errorf("CONNECT needs host:port, not %q", hostport)
		}
		host, ps = strings.Trim(hostport, "[]"), "80"
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("bad host or port in %q", hostport)
	}
	return host, port, nil
}

// vet resolves the host and keeps the addresses the sandbox may reach:
// the allowlist must allow the host, and every address must pass the
// guard unless an explicit rule names the host and port. A name whose
// answers are partly refused keeps only the others (a rebinding answer
// never gets through); none left is a refusal.
//
// exact is true when only an explicit rule (host and port) would allow
// it: the refusal's hint names the port then.
func (p *Proxy) vet(ctx context.Context, sb Sandbox, host string, port int) (addrs []netip.AddrPort, reason string, exact bool) {
	m := sb.Allow.Allows(host, port)
	if !m.Allowed {
		return nil, "not on the allowlist", false
	}
	var ips []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ips = []netip.Addr{a.Unmap()}
	} else {
		found, err := p.Resolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(found) == 0 {
			return nil, "its name does not resolve", false
		}
		ips = found
	}
	var out []netip.AddrPort
	var why string
	for _, a := range ips {
		a = a.Unmap()
		if r := sb.Guard.Refuses(a); r != "" && !m.Explicit {
			why = "it resolves to " + a.String() + ", " + r
			continue
		}
		out = append(out, netip.AddrPortFrom(a, uint16(port)))
	}
	if len(out) == 0 {
		return nil, why, true
	}
	return out, "", false
}

// Hint is what a refusal tells the agent and the user: the command that
// allows the host (with its port when exact: a private or local address
// is reached only through a rule that names the host and the port).
func Hint(host string, port int, exact bool) string {
	h := host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if exact || (port != 80 && port != 443) {
		h += ":" + strconv.Itoa(port)
	}
	return "ai-sandbox network allow " + h
}

func (p *Proxy) refuse(w http.ResponseWriter, sb Sandbox, host string, port int, reason string, exact bool) {
	if p.Deny != nil {
		p.Deny(Denial{Time: time.Now().UTC(), Sandbox: sb.Name, Host: host, Port: port, Reason: reason, Exact: exact})
	}
	w.Header().Set("X-Ai-Sandbox-Blocked", host+":"+strconv.Itoa(port))
	msg := fmt.Sprintf("ai-sandbox: blocked %s port %d: %s; allow it with '%s'\n", host, port, reason, Hint(host, port, exact))
	http.Error(w, msg, http.StatusForbidden)
}

// tunnel answers CONNECT: a connection to a vetted address, then bytes
// both ways until either side closes.
func (p *Proxy) tunnel(ctx context.Context, w http.ResponseWriter, addrs []netip.AddrPort) {
	up, err := p.dialVetted(ctx, addrs)
	if err != nil {
		http.Error(w, "ai-sandbox: could not connect: "+err.Error()+"\n", http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "ai-sandbox: CONNECT is not supported here\n", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		up.Close()
		down.Close()
		return
	}
	// Bytes the client sent after its CONNECT request (a TLS hello sent
	// eagerly) are already in the reader's buffer.
	if n := buf.Reader.Buffered(); n > 0 {
		b, _ := buf.Reader.Peek(n)
		if _, err := up.Write(b); err != nil {
			up.Close()
			down.Close()
			return
		}
	}
	splice(down, up)
}

// splice copies both ways; when one direction ends, the other's write
// side is closed so that the peer sees the end, and both close when both
// are done.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if c, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = c.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Add(2)
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}

// bufferPool lends the plain-HTTP relay 256 KiB buffers (httputil's
// default is 32 KiB: a large download then costs eight times the calls).
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 256<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// forward relays a plain HTTP request to the vetted address.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = r.URL
			pr.Out.Host = r.Host
			pr.Out.Header.Del("Proxy-Authorization")
		},
		Transport:  p.transport,
		BufferPool: &p.buffers,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "ai-sandbox: could not reach the server: "+err.Error()+"\n", http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}
