package egress

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestForwarderRelaysAndStopsWhenTheSandboxIsGone(t *testing.T) {
	// The "sandbox": an echo server on loopback.
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	upPort := up.Addr().(*net.TCPAddr).Port

	var alive atomic.Bool
	alive.Store(true)
	f := &Forwarder{
		Target: "sandbox", Ports: []int{0},
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if host != "sandbox" {
				t.Errorf("dialled %s", addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(upPort))
		},
		Alive: func(context.Context) bool { return alive.Load() },
		Check: 20 * time.Millisecond, Misses: 2,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Serve(context.Background(), []net.Listener{ln}) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("relayed %q, %v", buf, err)
	}
	c.Close()

	select {
	case err := <-done:
		t.Fatalf("stopped while the sandbox is there: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	alive.Store(false)
	select {
	case err := <-done:
		if !IsGone(err) {
			t.Errorf("ended with %v, want the sandbox gone", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still serving after the sandbox went away")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the port still accepts connections")
	}
}
