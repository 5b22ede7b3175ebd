package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Reaper decides when the proxy may exit: once its config has not
// changed for Grace (a launch writes it before its sandbox starts) and
// none of the sandboxes it names has answered Misses times in a row. The
// proxy has no access to the engine; it asks each sandbox's address
// instead. The launch that comes next starts a new proxy.
type Reaper struct {
	Grace  time.Duration
	Misses int
	// Alive reports whether an address answers.
	Alive func(ctx context.Context, a netip.Addr) bool

	missed map[string]int
}

// Done reports whether the proxy serves no sandbox any more.
func (r *Reaper) Done(ctx context.Context, c Config, changed, now time.Time) bool {
	if r.missed == nil {
		r.missed = map[string]int{}
	}
	recent := now.Sub(changed) < r.Grace
	done := !recent
	seen := map[string]bool{}
	for _, s := range c.Sandboxes {
		key := s.Name + " " + s.Addr
		seen[key] = true
		a, err := netip.ParseAddr(s.Addr)
		if err == nil && r.Alive(ctx, a) {
			r.missed[key] = 0
			done = false
			continue
		}
		if err != nil {
			// Not started yet (or its launch failed): alive within the
			// grace only.
			continue
		}
		r.missed[key]++
		if r.missed[key] < max(r.Misses, 1) {
			done = false
		}
	}
	for key := range r.missed {
		if !seen[key] {
			delete(r.missed, key)
		}
	}
	return done
}

// AliveTCP asks an address for a TCP connection to the discard port: a
// connection or a refusal means a host is there; no answer within two
// seconds, or no route, means it is gone.
func AliveTCP(ctx context.Context, a netip.Addr) bool {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), strconv.Itoa(9)))
	if err == nil {
		c.Close()
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
