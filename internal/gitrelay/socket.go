package gitrelay

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// maxSocketPath is below the smallest sun_path (104 bytes on macOS, 108
// on Linux, both with the terminating NUL).
const maxSocketPath = 100

// shortPath returns a path to the socket that fits a unix socket address
// however deep the relay's folder is (a long home, a long project name):
// on Linux through /proc/self/fd of the folder, elsewhere through a link
// in /tmp named by the folder. done releases what it holds.
func shortPath(sock string) (path string, done func(), err error) {
	if len(sock) <= maxSocketPath {
		return sock, func() {}, nil
	}
	dir, name := filepath.Dir(sock), filepath.Base(sock)
	if path, done, ok, err := procFDPath(dir, name); ok || err != nil {
		return path, done, err
	}
	sum := sha256.Sum256([]byte(dir))
	link := filepath.Join("/tmp", fmt.Sprintf("ai-sandbox-%d-%s", os.Getuid(), hex.EncodeToString(sum[:6])))
	if target, err := os.Readlink(link); err != nil || target != dir {
		os.Remove(link)
		if err := os.Symlink(dir, link); err != nil {
			return "", nil, fmt.Errorf("a short path for the socket %s: %w", sock, err)
		}
	}
	return filepath.Join(link, name), func() {}, nil
}

// Listen listens on the unix socket sock, whatever its length. The
// socket file is not removed on Close: the caller removes it.
func Listen(sock string) (*net.UnixListener, error) {
	path, done, err := shortPath(sock)
	if err != nil {
		return nil, err
	}
	defer done()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", sock, err)
	}
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

// Dial connects to the unix socket sock, whatever its length.
func Dial(sock string, timeout time.Duration) (net.Conn, error) {
	path, done, err := shortPath(sock)
	if err != nil {
		return nil, err
	}
	defer done()
	return net.DialTimeout("unix", path, timeout)
}
