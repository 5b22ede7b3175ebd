// Package ptyterm runs a command on a pseudo-terminal for tests: it keeps
// what the command shows, answers the terminal's cursor-position queries,
// and waits for text to appear.
package ptyterm

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// Term is a command running on a pseudo-terminal.
type Term struct {
	Cmd  *exec.Cmd
	PTY  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// Start runs cmd on a new terminal of the given size, as the leader of a
// session with that terminal as its controlling terminal. A Credential
// already set on cmd is kept.
func Start(cmd *exec.Cmd, rows, cols uint16) (*Term, error) {
	attrs := &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if cmd.SysProcAttr != nil {
		attrs.Credential = cmd.SysProcAttr.Credential
	}
	cmd.SysProcAttr = attrs
	f, err := pty.StartWithAttrs(cmd, &pty.Winsize{Rows: rows, Cols: cols}, attrs)
	if err != nil {
		return nil, err
	}
	t := &Term{Cmd: cmd, PTY: f, done: make(chan struct{})}
	go t.read()
	return t, nil
}

func (t *Term) read() {
	defer close(t.done)
	buf := make([]byte, 4096)
	for {
		n, err := t.PTY.Read(buf)
		t.mu.Lock()
		t.out.Write(buf[:n])
		t.mu.Unlock()
		// Answer the cursor-position queries a terminal would answer.
		for i := bytes.Count(buf[:n], []byte("\x1b[6n")); i > 0; i-- {
			_, _ = t.PTY.Write([]byte("\x1b[1;1R"))
		}
		if err != nil {
			return
		}
	}
}

// Output is everything the terminal has shown so far.
func (t *Term) Output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.String()
}

// Expect waits until the output matches the regular expression re.
func (t *Term) Expect(re string, timeout time.Duration) error {
	rx, err := regexp.Compile(re)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		if rx.MatchString(t.Output()) {
			return nil
		}
		if time.Now().After(deadline) {
			return &TimeoutError{Want: re, Shown: t.Output()}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TimeoutError says what was awaited and what the terminal showed.
type TimeoutError struct{ Want, Shown string }

func (e *TimeoutError) Error() string {
	return "timed out waiting for " + e.Want + "; the terminal shows:\n" + e.Shown
}

// Send types text.
func (t *Term) Send(text string) error {
	_, err := t.PTY.Write([]byte(text))
	return err
}

// Resize changes the terminal's size (the command gets SIGWINCH).
func (t *Term) Resize(rows, cols uint16) error {
	return pty.Setsize(t.PTY, &pty.Winsize{Rows: rows, Cols: cols})
}

// Wait waits for the command and returns its exit code.
func (t *Term) Wait() (int, error) {
	err := t.Cmd.Wait()
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}

// Close closes the terminal and kills the command if it still runs.
func (t *Term) Close() {
	t.PTY.Close()
	if t.Cmd.ProcessState == nil && t.Cmd.Process != nil {
		_ = t.Cmd.Process.Kill()
	}
}
