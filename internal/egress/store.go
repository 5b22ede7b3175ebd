package egress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Store is the proxy's config on the host: ConfFile in its folder below
// the state folder (the folder is mounted read-only into the proxy, which
// re-reads the file when a launch replaces it). Changes are made under a
// lock, and written whole (a temporary file renamed over it).
type Store struct {
	Root hostfs.Root // the egress folder
}

// The files of the egress folder: the config (in conf/, mounted read
// only into the proxy) and the refusal log (in log/, mounted writable).
const (
	ConfDir  = "conf"
	ConfFile = "config.json"
	LogDir   = "log"
	LogFile  = "blocked.jsonl"
)

// maxConfig bounds the config read back (a user's sandboxes, allowlists).
const maxConfig = 4 << 20

// Prepare makes the folders.
func (s Store) Prepare() error {
	for _, d := range []string{ConfDir, LogDir} {
		if err := s.Root.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// Update changes the config under the lock.
func (s Store) Update(change func(*Config)) error {
	if err := s.Prepare(); err != nil {
		return err
	}
	if err := s.Root.CheckDir(""); err != nil {
		return err
	}
	lock := flock.New(s.Root.Join(".lock"))
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	defer lock.Unlock()
	c, err := s.read()
	if err != nil {
		return err
	}
	change(&c)
	slices.SortFunc(c.Sandboxes, func(a, b ConfigSandbox) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return s.Root.WriteFile(filepath.Join(ConfDir, ConfFile), append(data, '\n'), 0o600)
}

// WithNetworkLock runs fn holding the networks' lock: the launches that
// make a sandbox's network and connect the proxy to it, and the pruning
// of the networks whose sandbox is gone, never interleave.
func (s Store) WithNetworkLock(fn func() error) error {
	if err := s.Prepare(); err != nil {
		return err
	}
	if err := s.Root.CheckDir(""); err != nil {
		return err
	}
	lock := flock.New(s.Root.Join(".network.lock"))
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	defer lock.Unlock()
	return fn()
}

// Read is the config as it is (empty when there is none).
func (s Store) Read() (Config, error) { return s.read() }

func (s Store) read() (Config, error) {
	var c Config
	data, err := s.Root.ReadFile(filepath.Join(ConfDir, ConfFile), maxConfig)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s: %w", s.Root.Join(filepath.Join(ConfDir, ConfFile)), err)
	}
	return c, nil
}

// Put adds or replaces a sandbox's entry.
func (c *Config) Put(s ConfigSandbox) {
	c.Drop(s.Name)
	c.Sandboxes = append(c.Sandboxes, s)
}

// Drop removes sandboxes' entries.
func (c *Config) Drop(names ...string) {
	c.Sandboxes = slices.DeleteFunc(c.Sandboxes, func(s ConfigSandbox) bool { return slices.Contains(names, s.Name) })
}

// SetAddr records a sandbox's own address once it runs.
func (c *Config) SetAddr(name, addr string) {
	for i := range c.Sandboxes {
		if c.Sandboxes[i].Name == name {
			c.Sandboxes[i].Addr = addr
		}
	}
}

// Blocked summarizes the refusal log (the one before too) for a
// sandbox since a time; a log that cannot be read gives nothing.
func (s Store) Blocked(sandbox string, since time.Time) []Blocked {
	var buf bytes.Buffer
	for _, f := range []string{LogFile + ".1", LogFile} {
		data, err := s.Root.ReadFile(filepath.Join(LogDir, f), 2*MaxLog)
		if err == nil {
			buf.Write(data)
		}
	}
	return Summarize(&buf, sandbox, since)
}
