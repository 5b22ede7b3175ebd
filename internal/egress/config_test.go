package egress

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatchedConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proxy.json")
	var errs []string
	w := &Watched{Path: path, OnError: func(err error) { errs = append(errs, err.Error()) }}
	a := netip.MustParseAddr("172.30.0.2")

	// No file yet: no sandbox is served.
	if _, ok := w.Lookup(a); ok {
		t.Fatal("a sandbox without a config")
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path+".tmp", []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		// A later time than the last write: the watcher compares stamps.
		future := time.Now().Add(time.Duration(len(errs)+1) * time.Second)
		os.Chtimes(path+".tmp", future, future)
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"sandboxes":[{"name":"ai-opencode-app-1","proxyAddr":"172.30.0.2","allow":["api.example.com"]}],"refused":["172.17.0.0/16","203.0.113.7"]}`)
	sb, ok := w.Lookup(a)
	if !ok || sb.Name != "ai-opencode-app-1" || !sb.Allow.Allows("api.example.com", 443).Allowed {
		t.Fatalf("lookup: %+v %v", sb, ok)
	}
	if sb.Guard.Refuses(netip.MustParseAddr("203.0.113.7")) == "" || sb.Guard.Refuses(netip.MustParseAddr("203.0.113.8")) != "" {
		t.Errorf("the refused ranges: %+v", sb.Guard)
	}
	if _, ok := w.Lookup(netip.MustParseAddr("172.30.0.3")); ok {
		t.Error("an address of no sandbox is served")
	}

	// A change is seen; a bad file keeps the last good config and says so.
	write(`{"sandboxes":[{"name":"ai-opencode-app-1","proxyAddr":"172.30.0.2","allow":["api.example.com","*.npmjs.org"]}]}`)
	if sb, _ := w.Lookup(a); !sb.Allow.Allows("registry.npmjs.org", 443).Allowed {
		t.Errorf("the new rule is not seen: %+v", sb)
	}
	write(`{"sandboxes":[{"name":"x","proxyAddr":"172.30.0.2","allow":["https://bad"]}]}`)
	if sb, ok := w.Lookup(a); !ok || sb.Name != "ai-opencode-app-1" {
		t.Errorf("a bad config replaced the good one: %+v", sb)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "https://bad") {
		t.Errorf("errors: %q", errs)
	}
	write(`{not json`)
	if _, ok := w.Lookup(a); !ok || len(errs) != 2 {
		t.Errorf("after a file that does not parse: %v %q", ok, errs)
	}
}
