package egress

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Config is what the proxy serves, written by the launches (atomically:
// temp file and rename) and read by the proxy whenever it changes.
type Config struct {
	// Sandboxes by the proxy's address on their network.
	Sandboxes []ConfigSandbox `json:"sandboxes"`
	// Refused is refused for every sandbox on top of the guard's ranges:
	// the engine's bridges and the host's own addresses, in CIDR form.
	Refused []string `json:"refused,omitempty"`
}

// ConfigSandbox is one sandbox in the proxy's config.
type ConfigSandbox struct {
	Name      string `json:"name"`
	ProxyAddr string `json:"proxyAddr"` // the proxy's address on the sandbox's network
	// Addr is the sandbox's own address there, once it runs (the reaper
	// asks it whether it is still there).
	Addr  string   `json:"addr,omitempty"`
	Allow []string `json:"allow"`
	// Workspace is the sandbox's workspace ('ai-sandbox network allow
	// --workspace' changes the allowlists of its running sandboxes).
	Workspace string `json:"workspace,omitempty"`
	// Tool is the sandbox's agent ('shell' for plain commands): 'network
	// allow --tool' changes the allowlists of its running sandboxes.
	Tool string `json:"tool,omitempty"`
	// Since is when a launch last readied it: its network is not pruned
	// while that launch may still be starting it.
	Since time.Time `json:"since,omitzero"`
}

// compiled is a Config ready for lookups.
type compiled struct {
	by    map[netip.Addr]Sandbox
	guard Guard
}

func compile(c Config) (compiled, error) {
	out := compiled{by: map[netip.Addr]Sandbox{}}
	for _, r := range c.Refused {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			a, aerr := netip.ParseAddr(r)
			if aerr != nil {
				return compiled{}, fmt.Errorf("refused range %q: %w", r, err)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out.guard.Extra = append(out.guard.Extra, p.Masked())
	}
	for _, s := range c.Sandboxes {
		a, err := netip.ParseAddr(s.ProxyAddr)
		if err != nil {
			return compiled{}, fmt.Errorf("sandbox %s: proxy address %q: %w", s.Name, s.ProxyAddr, err)
		}
		allow, err := ParseAllowlist(s.Allow)
		if err != nil {
			return compiled{}, fmt.Errorf("sandbox %s: %w", s.Name, err)
		}
		out.by[a.Unmap()] = Sandbox{Name: s.Name, Allow: allow, Guard: out.guard}
	}
	return out, nil
}

// Watched reads a config file again whenever its size or time changes
// (checked at most once per Interval). A file that does not parse keeps
// the last good config and is reported through OnError once per change.
type Watched struct {
	Path     string
	Interval time.Duration
	OnError  func(error)

	mu      sync.Mutex
	checked time.Time
	stamp   string
	cur     compiled
	raw     Config
	changed time.Time // when the file last changed (its time)
}

func (w *Watched) refresh() compiled {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.checked) < w.Interval && w.cur.by != nil {
		return w.cur
	}
	w.checked = time.Now()
	fi, err := os.Stat(w.Path)
	if err != nil {
		if w.cur.by == nil {
			w.cur = compiled{by: map[netip.Addr]Sandbox{}}
		}
		return w.cur
	}
	stamp := fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
	if stamp == w.stamp {
		return w.cur
	}
	w.stamp = stamp
	w.changed = fi.ModTime()
	data, err := os.ReadFile(w.Path)
	var c Config
	if err == nil {
		err = json.Unmarshal(data, &c)
	}
	var next compiled
	if err == nil {
		next, err = compile(c)
	}
	if err != nil {
		if w.OnError != nil {
			w.OnError(fmt.Errorf("%s: %w", w.Path, err))
		}
		if w.cur.by == nil {
			w.cur = compiled{by: map[netip.Addr]Sandbox{}}
		}
		return w.cur
	}
	w.cur = next
	w.raw = c
	return w.cur
}

// Current is the config in force and when its file last changed.
func (w *Watched) Current() (Config, time.Time) {
	w.refresh()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.raw, w.changed
}

// Lookup is the proxy's Lookup from the current config.
func (w *Watched) Lookup(local netip.Addr) (Sandbox, bool) {
	s, ok := w.refresh().by[local.Unmap()]
	return s, ok
}
