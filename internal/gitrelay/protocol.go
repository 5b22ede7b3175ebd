// Package gitrelay lets git in a sandbox reach the user's remotes without
// any credential entering the sandbox. A relay runs on the host, listening
// on a unix socket that only that project's sandbox gets; git in the
// sandbox reaches it through two small shims (see Shims):
//
//   - ssh: core.sshCommand is the ssh shim, which hands git's ssh request
//     (host, port, user, the remote command) to the relay; the relay checks
//     the command — git-upload-pack and git-upload-archive always,
//     git-receive-pack only with push allowed — and the host, and runs the
//     host's own ssh (the user's keys, agent, known_hosts and config);
//   - https: an insteadOf rewrite sends https remotes to the remote helper
//     shim ("ai-sandbox::https://…"), which hands git's remote-helper
//     protocol to the host's own git remote-https (the user's credential
//     helpers), run in a scratch repository of the relay's so that the
//     host's git never reads the sandbox's repository config; the relay
//     passes only the commands it serves (see helper.go), and without push
//     refuses the push commands.
//
// Only hosts of the project's own remotes (its host-side git config, which
// the sandbox cannot write) are served. Anything else is refused with a
// message that reaches the agent's git.
package gitrelay

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Frame types on the socket, after the request line. From the sandbox:
// stdin data and its end; from the relay: stdout, stderr, the exit code.
const (
	frameStdin  = 'i'
	frameEOF    = 'c'
	frameStdout = 'o'
	frameStderr = 'e'
	frameExit   = 'x'
)

// maxFrame bounds one frame's data.
const maxFrame = 1 << 20

// Request is the first line a shim sends, as JSON.
type Request struct {
	// Kind is "ssh", "helper" or "ping".
	Kind string `json:"kind"`
	// Args are the ssh shim's arguments, as git gave them.
	Args []string `json:"args,omitempty"`
	// Remote, URL and GitDir are the remote helper's: the remote's name,
	// its URL (after "ai-sandbox::") and the repository's git dir.
	Remote string `json:"remote,omitempty"`
	URL    string `json:"url,omitempty"`
	GitDir string `json:"gitdir,omitempty"`
	// Protocol is git's GIT_PROTOCOL (e.g. "version=2").
	Protocol string `json:"protocol,omitempty"`
}

// Pong answers a ping.
type Pong struct {
	Project string `json:"project"`
	Push    bool   `json:"push"`
	PID     int    `json:"pid"`
}

// frameWriter writes frames; safe for concurrent use (stdout and stderr
// are copied at the same time).
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) frame(t byte, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		n := min(len(data), maxFrame)
		if err := f.write(t, data[:n]); err != nil {
			return err
		}
		if data = data[n:]; len(data) == 0 {
			return nil
		}
	}
}

func (f *frameWriter) write(t byte, data []byte) error {
	var hdr [5]byte
	hdr[0] = t
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(data)))
	if _, err := f.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := f.w.Write(data)
	return err
}

// stream is an io.Writer of one frame type.
type stream struct {
	f *frameWriter
	t byte
}

func (s stream) Write(p []byte) (int, error) {
	if err := s.f.frame(s.t, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// exit sends the exit code.
func (f *frameWriter) exit(code int) error {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(code))
	return f.frame(frameExit, b[:])
}

// readFrame reads one frame.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, err
	}
	return hdr[0], data, nil
}

// readRequest reads the request line.
func readRequest(r *bufio.Reader) (Request, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return Request{}, errors.New("request line too long")
	}
	if err != nil {
		return Request{}, err
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Request{}, fmt.Errorf("request: %w", err)
	}
	return req, nil
}
