package sandbox

import (
	"bytes"
	"io"
	"sync"
)

// gate sits between a docker exec's stdout and stderr and the user's. It
// holds everything back until the guard's start token arrives on the
// stream that carries it (stderr, or stdout when a terminal merges the
// two), strips the token and lets the rest flow unchanged. An exec that
// ends without the token never ran its command: whatever it printed is
// docker's own complaint, kept for the error message and never shown.
// No docker wording is matched: the token alone says "started".
type gate struct {
	mu      sync.Mutex
	token   []byte
	carrier int // index of the stream that carries the token
	started bool
	streams [2]*gateStream
}

// maxHeld bounds what is held back before the token: past it the gate
// opens (nothing docker says before a start is that long).
const maxHeld = 1 << 20

type gateStream struct {
	g   *gate
	idx int
	w   io.Writer
	buf []byte
}

// newGate wraps out and errw. tokenOnStdout is true when docker runs the
// session on a terminal (stderr then reaches us through stdout).
func newGate(out, errw io.Writer, sessionID string, tokenOnStdout bool) *gate {
	g := &gate{token: []byte(StartToken + sessionID)}
	if tokenOnStdout {
		g.carrier = 0
	} else {
		g.carrier = 1
	}
	g.streams[0] = &gateStream{g: g, idx: 0, w: out}
	g.streams[1] = &gateStream{g: g, idx: 1, w: errw}
	return g
}

func (g *gate) Stdout() io.Writer { return g.streams[0] }
func (g *gate) Stderr() io.Writer { return g.streams[1] }

// Started reports whether the guard's token was seen.
func (g *gate) Started() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started
}

// Held returns the last non-empty line held back (docker's message of an
// exec that did not start), or "".
func (g *gate) Held() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	last := ""
	for _, s := range g.streams {
		for _, l := range bytes.Split(s.buf, []byte("\n")) {
			if t := bytes.TrimSpace(l); len(t) > 0 {
				last = string(t)
			}
		}
	}
	return last
}

func (s *gateStream) Write(p []byte) (int, error) {
	g := s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return s.w.Write(p)
	}
	s.buf = append(s.buf, p...)
	if s.idx == g.carrier {
		if i := s.tokenEnd(); i >= 0 {
			// What came before the token on this stream is docker's own
			// output for a session that did start: pass it on.
			lineStart := i - len(g.token) - 1
			s.buf = append(s.buf[:lineStart:lineStart], s.buf[i:]...)
			return len(p), g.openLocked()
		}
	}
	if len(g.streams[0].buf)+len(g.streams[1].buf) > maxHeld {
		return len(p), g.openLocked()
	}
	return len(p), nil
}

// tokenEnd finds a whole line equal to the token (a terminal may add
// "\r") and returns the index just after its newline, or -1.
func (s *gateStream) tokenEnd() int {
	start := 0
	for {
		nl := bytes.IndexByte(s.buf[start:], '\n')
		if nl < 0 {
			return -1
		}
		line := bytes.TrimSuffix(s.buf[start:start+nl], []byte("\r"))
		if bytes.Equal(line, s.g.token) {
			end := start + nl + 1
			// Normalise so that the caller can cut len(token)+1 (+"\r").
			if nl > 0 && s.buf[start+nl-1] == '\r' {
				s.buf = append(s.buf[:start+nl-1], s.buf[start+nl:]...)
				end--
			}
			return end
		}
		start += nl + 1
	}
}

// openLocked marks the session started and flushes what was held, the
// carrier's other stream first.
func (g *gate) openLocked() error {
	g.started = true
	var first error
	for _, i := range []int{1 - g.carrier, g.carrier} {
		s := g.streams[i]
		if len(s.buf) > 0 {
			if _, err := s.w.Write(s.buf); err != nil && first == nil {
				first = err
			}
			s.buf = nil
		}
	}
	return first
}
