package proc

import (
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyWriter collects output and closes ready once "ready" was written.
type readyWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	ready chan struct{}
	once  sync.Once
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "ready") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A resize that reached this process (the terminal's foreground group)
// while the child had not yet installed its handler is sent to the child
// again a moment later.
func TestInteractiveRepeatsSIGWINCH(t *testing.T) {
	out := &readyWriter{ready: make(chan struct{})}
	r := New(os.Environ())
	script := `trap 'echo winch; exit 0' WINCH; echo ready; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo timeout; exit 1`
	go func() {
		// Only this process gets the signal (as if the child had
		// missed it): the repeat must reach the child.
		<-out.ready
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := r.Interactive(ctx, []string{"sh", "-c", script}, Stdio{Out: out, Err: out}, nil, nil)
	if err != nil || code != 0 || !strings.Contains(out.String(), "winch") {
		t.Fatalf("exit %d, err %v, output %q: the child never got SIGWINCH", code, err, out.String())
	}
}
