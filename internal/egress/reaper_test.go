package egress

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestReaper(t *testing.T) {
	alive := map[string]bool{}
	r := &Reaper{Grace: time.Minute, Misses: 2, Alive: func(_ context.Context, a netip.Addr) bool { return alive[a.String()] }}
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	one := Config{Sandboxes: []ConfigSandbox{{Name: "ai-a", ProxyAddr: "172.30.0.2", Addr: "172.30.0.3"}}}
	steps := []struct {
		name    string
		c       Config
		changed time.Time
		now     time.Time
		alive   bool
		want    bool
	}{
		{"empty config, just written", Config{}, t0, t0.Add(time.Second), false, false},
		{"empty config, old", Config{}, t0, t0.Add(2 * time.Minute), false, true},
		{"not started yet, within the grace", Config{Sandboxes: []ConfigSandbox{{Name: "ai-a", ProxyAddr: "172.30.0.2"}}}, t0, t0.Add(10 * time.Second), false, false},
		{"never started, after the grace", Config{Sandboxes: []ConfigSandbox{{Name: "ai-a", ProxyAddr: "172.30.0.2"}}}, t0, t0.Add(2 * time.Minute), false, true},
		{"running", one, t0, t0.Add(5 * time.Minute), true, false},
		{"first miss", one, t0, t0.Add(6 * time.Minute), false, false},
		{"answers again", one, t0, t0.Add(7 * time.Minute), true, false},
		{"miss after an answer", one, t0, t0.Add(8 * time.Minute), false, false},
		{"second miss in a row", one, t0, t0.Add(9 * time.Minute), false, true},
		{"gone, but the config just changed", one, t0.Add(9 * time.Minute), t0.Add(9*time.Minute + time.Second), false, false},
	}
	for _, s := range steps {
		alive["172.30.0.3"] = s.alive
		if got := r.Done(ctx, s.c, s.changed, s.now); got != s.want {
			t.Errorf("%s: Done = %v, want %v", s.name, got, s.want)
		}
	}
}

func TestReaperWaitsForEverySandbox(t *testing.T) {
	r := &Reaper{Grace: time.Second, Misses: 1, Alive: func(_ context.Context, a netip.Addr) bool { return a.String() == "10.0.0.2" }}
	c := Config{Sandboxes: []ConfigSandbox{{Name: "gone", Addr: "10.0.0.1"}, {Name: "here", Addr: "10.0.0.2"}}}
	if r.Done(context.Background(), c, time.Time{}, time.Now()) {
		t.Error("done while one sandbox still answers")
	}
}

func TestAliveTCP(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on port 9: the refusal says a host is there.
	if !AliveTCP(ctx, netip.MustParseAddr("127.0.0.1")) {
		t.Error("a refusing host counted as gone")
	}
	// Something listening answers too (an agent may use port 9).
	ln, err := net.Listen("tcp", "127.0.0.2:9")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2:9: %v", err)
	}
	defer ln.Close()
	if !AliveTCP(ctx, netip.MustParseAddr("127.0.0.2")) {
		t.Error("a listening host counted as gone")
	}
}
