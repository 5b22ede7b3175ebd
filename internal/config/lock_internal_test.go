package config

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// A waiter queued behind holders that pass the lock on waits as long as
// it changes hands; one holder that keeps it past the timeout fails it,
// naming its pid.
func TestLockWaitsWhileTheLockChangesHands(t *testing.T) {
	old := lockTimeout
	lockTimeout = 300 * time.Millisecond
	t.Cleanup(func() { lockTimeout = old })
	p := Paths{Root: t.TempDir()}

	// Others hold it one after the other for 1.2 s in all, four times
	// the timeout.
	held := make(chan struct{})
	go func() {
		l := flock.New(p.LockFile())
		if err := l.Lock(); err != nil {
			t.Error(err)
			return
		}
		close(held)
		for i := 0; i < 6; i++ {
			writeHolder(p.LockFile() + ".holder")
			time.Sleep(200 * time.Millisecond)
		}
		l.Unlock()
	}()
	<-held
	start := time.Now()
	unlock, err := Lock(p)
	if err != nil {
		t.Fatalf("failed while the lock kept changing hands: %v", err)
	}
	unlock()
	if time.Since(start) < time.Second {
		t.Errorf("took the lock after %s, while it was held", time.Since(start))
	}

	// One holder that keeps it.
	l := flock.New(p.LockFile())
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	writeHolder(p.LockFile() + ".holder")
	_, err = Lock(p)
	if err == nil || !strings.Contains(err.Error(), "(pid "+strconv.Itoa(os.Getpid())+") holds it for over 300ms") {
		t.Errorf("a stuck holder: %v", err)
	}
}
