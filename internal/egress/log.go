package egress

import (
	"bufio"
	"encoding/json"
	"io"
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
