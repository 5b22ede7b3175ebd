package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ai-sandbox/ai-sandbox/bench"
)

// The proxy throughput figure: a download of dlBytes from a server
// container on a bridge of its own, by the same client (this bench
// binary, mounted) run with docker exec in a container on that bridge
// (directly) and in the project's sandbox (through the egress proxy,
// whose variables the sandbox carries; the proxy joins the bridge).
const dlBytes = 200 << 20

// serveChild serves dlBytes of zeros at every path: bench __serve ADDR.
func serveChild(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	block := make([]byte, 1<<20)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(dlBytes))
		for sent := 0; sent < dlBytes; sent += len(block) {
			if _, err := w.Write(block); err != nil {
				return
			}
		}
	})}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fetchChild downloads a URL and fails unless it got all of dlBytes:
// bench __fetch URL. With HTTP_PROXY set it goes as an HTTPS client does,
// through a CONNECT tunnel (without the TLS), which is how agents reach
// their APIs and registries.
func fetchChild(rawURL string) int {
	if err := fetch(rawURL, os.Getenv("HTTP_PROXY")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func fetch(rawURL, proxy string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	addr := u.Host
	if proxy != "" {
		pu, err := url.Parse(proxy)
		if err != nil {
			return err
		}
		addr = pu.Host
	}
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	br := bufio.NewReaderSize(c, 256<<10)
	if proxy != "" {
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host, u.Host)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("CONNECT %s through %s: %s", u.Host, addr, resp.Status)
		}
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", u.RequestURI(), u.Host)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || n != dlBytes {
		return fmt.Errorf("%s: %d bytes, status %s, %v", rawURL, n, resp.Status, err)
	}
	return nil
}

func (h *harness) proxyThroughput() error {
	n := 5
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Join(h.tmp, "dl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench"), data, 0o755); err != nil {
		return err
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	network, server, client := "aisbx-bench-dl-"+suffix, "aisbx-bench-dlsrv-"+suffix, "aisbx-bench-dlcli-"+suffix
	mount := "type=bind,source=" + dir + ",target=/opt/b,readonly"
	proxyName := ""
	defer func() {
		_, _ = h.engine("rm", "-f", server, client)
		if proxyName != "" {
			_, _ = h.engine("network", "disconnect", "--force", network, proxyName) // else the network stays
		}
		_, _ = h.engine("network", "rm", network)
	}()
	if out, err := h.engine("network", "create", network); err != nil {
		return fmt.Errorf("network create: %v %s", err, out)
	}
	if out, err := h.engine("run", "-d", "--rm", "--pull", "never", "--name", server, "--network", network, "--mount", mount,
		"--entrypoint", "/opt/b/bench", h.image, "__serve", ":8080"); err != nil {
		return fmt.Errorf("start the server: %v %s", err, out)
	}
	if out, err := h.engine("run", "-d", "--rm", "--pull", "never", "--name", client, "--network", network, "--mount", mount,
		"--user", strconv.Itoa(h.uid)+":"+strconv.Itoa(h.gid), "--entrypoint", "sleep", h.image, "3600"); err != nil {
		return fmt.Errorf("start the direct client: %v %s", err, out)
	}
	// The sandbox, with the client mounted and the server allowed.
	url := "http://" + server + ":8080/"
	if _, err := h.sandbox(h.env, "run", "--idle-timeout", "10m", "--mount", dir+":/opt/b:ro", "--allow", server+":8080", "true"); err != nil {
		return err
	}
	proxy, err := h.engine("ps", "--filter", "label=ai-sandbox.role=egress-proxy", "--filter", "label=ai-sandbox.egress-dir="+h.egressDir(), "--format", "{{.Names}}")
	if err != nil || proxy == "" {
		return fmt.Errorf("find the egress proxy: %q %v", proxy, err)
	}
	proxyName = proxy
	if out, err := h.engine("network", "connect", network, proxy); err != nil {
		return fmt.Errorf("connect the proxy to %s: %v %s", network, err, out)
	}
	sb, err := h.engine("ps", "--filter", "label=ai-sandbox.path="+h.proj, "--format", "{{.Names}}")
	if err != nil || sb == "" || strings.Contains(sb, "\n") {
		return fmt.Errorf("find the sandbox: %q %v", sb, err)
	}
	logf("egress proxy throughput: %d MB from %s, docker exec %s (through %s) vs docker exec %s (direct)", dlBytes>>20, server, sb, proxy, client)
	var a, b []float64
	for i := 0; i < n; i++ {
		for _, first := range order(i) {
			h.settle()
			var res result
			if first {
				res, err = h.bare("exec", sb, "/opt/b/bench", "__fetch", url)
			} else {
				res, err = h.bare("exec", client, "/opt/b/bench", "__fetch", url)
			}
			if err != nil {
				return fmt.Errorf("download: %w", err)
			}
			if first {
				a = append(a, res.ms())
			} else {
				b = append(b, res.ms())
			}
		}
	}
	row := bench.NewRow("egress-proxy-download", fmt.Sprintf("%d MB download through the egress proxy (time)", dlBytes>>20),
		"docker exec SANDBOX bench __fetch (a CONNECT tunnel through the proxy, as HTTPS goes)", "the same client in a container on the server's bridge, directly", "ms",
		a, b, bench.Target{On: "ratio", Op: "<=", Limit: 1.25})
	row.Note = fmt.Sprintf("throughput through the proxy %.0f MB/s, direct %.0f MB/s (a time ratio ≤ 1.25 is ≥ 80%% of the direct throughput)",
		float64(dlBytes>>20)/(bench.Median(a)/1000), float64(dlBytes>>20)/(bench.Median(b)/1000))
	h.add(row)
	h.report.Notes = append(h.report.Notes, "egress proxy download: "+row.Note)
	return nil
}
