package gitrelay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A relay's folder can be deep (a long home, a long project name): its
// socket still listens and answers, at its own path.
func TestLongSocketPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-project-name-", 6), "git", "fetch-only")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "relay.sock")
	if len(sock) <= 108 {
		t.Fatalf("the path is not long enough to test: %d", len(sock))
	}
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the socket is not at its path: %v", err)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := Dial(sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Errorf("read %q %v", buf, err)
	}
}
