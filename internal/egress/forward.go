package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Forwarder publishes a sandbox's ports under the allowlist policy: the
// sandbox's internal network publishes nothing, so a small container on
// the engine's bridge publishes them and relays each connection to the
// sandbox, which it reaches by name on the sandbox's network. It stops
// once the sandbox is gone.
type Forwarder struct {
	Target string // the sandbox's name on its network
	Ports  []int
	// Dial reaches the sandbox (net.Dialer's by default).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Alive reports whether the sandbox is still there (its name still
	// resolves on the network, by default).
	Alive func(ctx context.Context) bool
	// Check is how often Alive is asked; Misses in a row stop it.
	Check  time.Duration
	Misses int
}

// Listen opens the ports (":PORT", every address of the forwarder).
func (f *Forwarder) Listen() ([]net.Listener, error) {
	var out []net.Listener
	for _, p := range f.Ports {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("listen on port %d: %w", p, err)
		}
		out = append(out, ln)
	}
	return out, nil
}

// Serve relays connections until ctx ends or the sandbox is gone.
func (f *Forwarder) Serve(ctx context.Context, lns []net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dial := f.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	var wg sync.WaitGroup
	for i, ln := range lns {
		port := f.Ports[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
					up, err := dial(dctx, "tcp", net.JoinHostPort(f.Target, strconv.Itoa(port)))
					dcancel()
					if err != nil {
						c.Close()
						return
					}
					splice(c, up)
				}()
			}
		}()
	}
	go func() {
		<-ctx.Done()
		for _, ln := range lns {
			ln.Close()
		}
	}()
	err := f.watch(ctx)
	cancel()
	wg.Wait()
	return err
}

// errGone ends Serve when the sandbox is gone.
var errGone = errors.New("the sandbox is gone")

// IsGone reports whether Serve ended because the sandbox went away.
func IsGone(err error) bool { return errors.Is(err, errGone) }

func (f *Forwarder) watch(ctx context.Context) error {
	alive := f.Alive
	if alive == nil {
		alive = func(ctx context.Context) bool {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := net.DefaultResolver.LookupNetIP(lctx, "ip4", f.Target)
			return err == nil
		}
	}
	every := f.Check
	if every <= 0 {
		every = 10 * time.Second
	}
	missed := 0
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if alive(ctx) {
				missed = 0
				continue
			}
			missed++
			if missed >= max(f.Misses, 1) {
				return errGone
			}
		}
	}
}
