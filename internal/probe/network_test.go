package probe

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
)

// proxyStub answers every CONNECT with status.
func proxyStub(t *testing.T, status string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				c.Write([]byte("HTTP/1.1 " + status + "\r\n\r\n"))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestNetworkReachSeesEachWayOut(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	// A listening target, no proxy: the direct connection is the hole.
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("https_proxy", "")
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "")
	r := checkNetworkReach(context.Background(), &params{noMetadata: true, reach: []string{open.Addr().String()}})
	if !r.Succeeded || !strings.Contains(strings.Join(r.Evidence, ";"), "direct TCP to "+open.Addr().String()) {
		t.Errorf("a listening target was not seen: %+v", r)
	}
	// Nothing listening, a proxy that refuses: no hole.
	t.Setenv("HTTPS_PROXY", "http://"+proxyStub(t, "403 Forbidden"))
	if r := checkNetworkReach(context.Background(), &params{noMetadata: true, reach: []string{closedAddr}}); r.Succeeded {
		t.Errorf("a hole without a way out: %+v", r)
	}
	// A proxy that opens the tunnel: the hole.
	t.Setenv("HTTPS_PROXY", "http://"+proxyStub(t, "200 Connection established"))
	r = checkNetworkReach(context.Background(), &params{noMetadata: true, reach: []string{closedAddr}})
	if !r.Succeeded || !strings.Contains(strings.Join(r.Evidence, ";"), "opened a tunnel to "+closedAddr) {
		t.Errorf("the tunnel was not seen: %+v", r)
	}
}
