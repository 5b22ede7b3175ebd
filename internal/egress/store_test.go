package egress

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

func TestStoreUpdates(t *testing.T) {
	dir := t.TempDir()
	s := Store{Root: hostfs.New(dir)}
	var wg sync.WaitGroup
	for _, n := range []string{"ai-b", "ai-a", "ai-c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Update(func(c *Config) { c.Put(ConfigSandbox{Name: n, ProxyAddr: "10.0.0.2", Allow: []string{"example.org"}}) }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.Update(func(c *Config) { c.SetAddr("ai-a", "10.0.0.3"); c.Drop("ai-c") }); err != nil {
		t.Fatal(err)
	}
	c, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sandboxes) != 2 || c.Sandboxes[0].Name != "ai-a" || c.Sandboxes[0].Addr != "10.0.0.3" || c.Sandboxes[1].Name != "ai-b" {
		t.Errorf("config %+v", c)
	}
	// The proxy reads what the store writes.
	w := &Watched{Path: filepath.Join(dir, ConfDir, ConfFile)}
	got, _ := w.Current()
	if len(got.Sandboxes) != 2 {
		t.Errorf("the proxy read %+v", got)
	}
	fi, err := os.Stat(filepath.Join(dir, ConfDir, ConfFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config file %v %v", fi, err)
	}
}

func TestStoreRefusesALinkedConfig(t *testing.T) {
	dir := t.TempDir()
	s := Store{Root: hostfs.New(dir)}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	os.WriteFile(target, []byte(`{"sandboxes":[]}`), 0o600)
	if err := os.Symlink(target, filepath.Join(dir, ConfDir, ConfFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(); err == nil {
		t.Error("read a config through a symbolic link")
	}
}

func TestRotatingFileKeepsTwoGenerations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LogFile)
	r := &RotatingFile{Path: path, Max: 100}
	line := []byte(strings.Repeat("x", 39) + "\n")
	for range 7 {
		if _, err := r.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if len(cur) != len(line) || len(old) != 2*len(line) { // lines 5-6 and 7 of 7
		t.Errorf("current %d bytes, previous %d bytes", len(cur), len(old))
	}
	if len(cur)%len(line) != 0 || len(old)%len(line) != 0 {
		t.Errorf("a line was split: %d and %d bytes", len(cur), len(old))
	}
}
