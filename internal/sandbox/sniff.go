package sandbox

import (
	"bytes"
	"io"
	"sync"
)

// sniffer passes a stream through, except that it holds back the start
// of the stream while it could still be one of a few known one-line
// messages (docker's "no such container", the guard's spec mismatch).
// When the first line is one of them it is swallowed and recorded; as
// soon as the bytes can no longer match, everything flows unchanged.
type sniffer struct {
	mu       sync.Mutex
	w        io.Writer
	prefixes [][]byte
	match    func(line string) bool
	buf      []byte
	decided  bool
	swallow  bool
	line     string
}

func newSniffer(w io.Writer, prefixes []string, match func(string) bool) *sniffer {
	s := &sniffer{w: w, match: match}
	for _, p := range prefixes {
		s.prefixes = append(s.prefixes, []byte(p))
	}
	return s
}

func (s *sniffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decided {
		if s.swallow {
			return len(p), nil
		}
		return s.w.Write(p)
	}
	s.buf = append(s.buf, p...)
	if i := bytes.IndexByte(s.buf, '\n'); i >= 0 {
		line := string(bytes.TrimRight(s.buf[:i], "\r"))
		if s.possible(s.buf[:i]) && s.match(line) {
			s.decided, s.swallow, s.line = true, true, line
			return len(p), nil
		}
		return len(p), s.flushLocked()
	}
	if !s.possible(s.buf) {
		return len(p), s.flushLocked()
	}
	return len(p), nil
}

// possible reports whether b could still begin one of the messages.
func (s *sniffer) possible(b []byte) bool {
	for _, pre := range s.prefixes {
		n := len(b)
		if n > len(pre) {
			n = len(pre)
		}
		if bytes.Equal(b[:n], pre[:n]) {
			return true
		}
	}
	return false
}

func (s *sniffer) flushLocked() error {
	s.decided = true
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf)
	s.buf = nil
	return err
}

// Finish flushes what is still held and returns the swallowed line.
func (s *sniffer) Finish() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.decided {
		_ = s.flushLocked()
	}
	return s.line
}
