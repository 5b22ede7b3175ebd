package egress

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Log writes refusals as JSON lines, one per refusal, to w (a file opened
// for appending: lines from one write never interleave).
type Log struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLog writes to w.
func NewLog(w io.Writer) *Log { return &Log{w: w} }

// Deny records d; errors are dropped (a full disk must not stop the proxy
// from refusing).
func (l *Log) Deny(d Denial) {
	b, err := json.Marshal(d)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(append(b, '\n'))
}

// Blocked is a host the proxy refused, with how often and when last.
type Blocked struct {
	Host   string    `json:"host"`
	Port   int       `json:"port"`
	Count  int       `json:"count"`
	Last   time.Time `json:"last"`
	Reason string    `json:"reason"`
	Exact  bool      `json:"exact,omitempty"`
}

// Hint is the command that allows it.
func (b Blocked) Hint() string { return Hint(b.Host, b.Port, b.Exact) }

// String is the report's line: "api.example.com (3×)".
func (b Blocked) String() string {
	h := b.Host
	if b.Port != 80 && b.Port != 443 {
		h += ":" + strconv.Itoa(b.Port)
	}
	return h + " (" + strconv.Itoa(b.Count) + "×)"
}

// Summarize reads a log and returns the refusals of the sandbox named
// (all sandboxes when empty) at or after since, one entry per host and
// port, the most frequent first. Lines that do not parse are skipped.
func Summarize(r io.Reader, sandbox string, since time.Time) []Blocked {
	by := map[string]*Blocked{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var d Denial
		if json.Unmarshal(sc.Bytes(), &d) != nil || d.Host == "" {
			continue
		}
		if (sandbox != "" && d.Sandbox != sandbox) || d.Time.Before(since) {
			continue
		}
		k := d.Host + "\x00" + strconv.Itoa(d.Port)
		b := by[k]
		if b == nil {
			b = &Blocked{Host: d.Host, Port: d.Port}
			by[k] = b
		}
		b.Count++
		if !d.Time.Before(b.Last) {
			b.Last, b.Reason, b.Exact = d.Time, d.Reason, d.Exact
		}
	}
	out := make([]Blocked, 0, len(by))
	for _, b := range by {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// MaxLog is the size at which the proxy starts a new refusal log; the
// one before is kept as LogFile+".1", so the log takes at most twice it.
const MaxLog = 8 << 20

// RotatingFile appends to Path and, before a write would take it past
// Max, renames it to Path+".1" (replacing the one before) and starts
// again: an agent that retries a refused host forever cannot fill the
// user's disk.
type RotatingFile struct {
	Path string
	Max  int64

	f    *os.File
	size int64
}

// Write appends p (one whole line: a write is never split).
func (r *RotatingFile) Write(p []byte) (int, error) {
	if r.f == nil {
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	if r.size > 0 && r.size+int64(len(p)) > r.Max {
		r.f.Close()
		r.f = nil
		if err := os.Rename(r.Path, r.Path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// Close closes the file.
func (r *RotatingFile) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}
