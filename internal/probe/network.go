package probe

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// metadata is the cloud metadata service, tried by network-reach always.
const metadata = "169.254.169.254:80"

// dnsNames are the public names network-dns tries to resolve (one that
// resolves is enough); -dns-name adds one.
var dnsNames = []string{"example.com", "deb.debian.org", "registry.npmjs.org", "github.com"}

// checkNetworkReach tries each -reach target (host:port; the host's
// services, another sandbox) and the cloud metadata service, directly
// over TCP and through the sandbox's proxy (CONNECT): any connection is a
// hole. It also tries the default gateway's -reach ports.
func checkNetworkReach(ctx context.Context, p *params) Result {
	var n notes
	var targets []string
	if !p.noMetadata {
		targets = append(targets, metadata)
	}
	targets = append(targets, p.reach...)
	if gw := defaultGateway(); gw != "" {
		n.fact("gateway", gw)
		for _, t := range p.reach {
			if _, port, err := net.SplitHostPort(t); err == nil {
				targets = append(targets, net.JoinHostPort(gw, port))
			}
		}
	}
	targets = unique(targets)
	proxy := proxyFromEnv()
	// Every target at once (an unreachable one costs its timeout), then
	// the notes in order.
	type outcome struct {
		direct      error
		status      string
		tunnelError error
	}
	out := make([]outcome, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			c, err := (&net.Dialer{}).DialContext(dctx, "tcp", t)
			cancel()
			if err == nil {
				c.Close()
			}
			out[i].direct = err
			if proxy != "" {
				out[i].status, out[i].tunnelError = connectThrough(ctx, proxy, t)
			}
		}()
	}
	wg.Wait()
	for i, t := range targets {
		o := out[i]
		if o.direct == nil {
			n.success("direct TCP to %s connected", t)
		} else {
			n.add("direct %s: %v", t, shortErr(o.direct))
		}
		if proxy == "" {
			continue
		}
		switch {
		case o.tunnelError != nil:
			n.add("through the proxy to %s: %v", t, shortErr(o.tunnelError))
		case strings.HasPrefix(o.status, "200"):
			n.success("the proxy %s opened a tunnel to %s", proxy, t)
		default:
			n.add("the proxy refused %s: %s", t, o.status)
		}
	}
	if proxy != "" {
		n.fact("proxy", proxy)
	}
	return n.result()
}

// checkNetworkDNS resolves public names with the sandbox's resolver: an
// answer means DNS queries leave the sandbox (a channel out that needs no
// proxy: data in the names asked).
func checkNetworkDNS(ctx context.Context, p *params) Result {
	var n notes
	names := dnsNames
	if p.dnsName != "" {
		names = append([]string{p.dnsName}, names...)
	}
	for _, name := range names {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(lctx, name)
		cancel()
		if err == nil && len(addrs) > 0 {
			n.success("%s resolved to %s", name, strings.Join(addrs, ", "))
			break
		}
		n.add("%s: %v", name, shortErr(err))
	}
	return n.result()
}

// proxyFromEnv is the proxy's host:port from HTTPS_PROXY or HTTP_PROXY.
func proxyFromEnv() string {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if v := os.Getenv(k); v != "" {
			if u, err := url.Parse(v); err == nil && u.Host != "" {
				return u.Host
			}
		}
	}
	return ""
}

// connectThrough asks a proxy for a tunnel and returns its status line.
func connectThrough(ctx context.Context, proxy, target string) (string, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(dctx, "tcp", proxy)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	_, status, _ := strings.Cut(strings.TrimSpace(line), " ")
	return status, nil
}

func shortErr(err error) string {
	if err == nil {
		return "no address"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// unique drops repeated entries, keeping the first of each.
func unique(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
