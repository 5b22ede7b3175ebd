// Package ports knows the host's TCP ports: it parses the ports a user
// asks to publish, reads which ports docker's containers publish, and
// finds the process that listens on a port (from /proc on Linux, from
// lsof's output elsewhere). It runs nothing itself.
package ports

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Parse reads comma-separated ports from one source (named in errors:
// "--expose", "AI_SANDBOX_EXPOSE", "PORT"). A port is a decimal number
// from 1 to 65535; ranges are not ports.
func Parse(source string, items []string) ([]int, error) {
	var out []int
	for _, item := range items {
		for _, f := range strings.Split(item, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 || n > 65535 || strings.HasPrefix(f, "+") {
				return nil, fmt.Errorf("%s %q: a port is a number from 1 to 65535", source, f)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// Merge joins port lists, without repeats, sorted.
func Merge(lists ...[]int) []int {
	var out []int
	for _, l := range lists {
		for _, p := range l {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Join writes ports as "3000, 4096".
func Join(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// HostPorts reads the host ports of docker ps's Ports column:
// "127.0.0.1:4096->4096/tcp, :::3000->3000/tcp, 8080/tcp" gives 4096 and
// 3000 (8080 is exposed, not published). Ranges are expanded.
func HostPorts(col string) []int {
	var out []int
	for _, item := range strings.Split(col, ",") {
		host, _, ok := strings.Cut(strings.TrimSpace(item), "->")
		if !ok {
			continue
		}
		i := strings.LastIndex(host, ":")
		if i < 0 {
			continue
		}
		lo, hi, isRange := strings.Cut(host[i+1:], "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 65535 {
				continue
			}
		}
		for p := a; p <= b; p++ {
			out = append(out, p)
		}
	}
	return Merge(out)
}

// Free reports whether a TCP port can be bound on the host address ip
// (what docker will do to publish it): false when another socket holds
// it. An address the host does not have counts as free.
func Free(ip string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return !errors.Is(err, syscall.EADDRINUSE)
	}
	l.Close()
	return true
}

// Listener is a process that listens on a port.
type Listener struct {
	PID     int
	Command string
}

func (l Listener) String() string {
	if l.PID == 0 {
		return l.Command
	}
	return fmt.Sprintf("%s (PID %d)", l.Command, l.PID)
}

// listenState is TCP_LISTEN in /proc/net/tcp's st column.
const listenState = "0A"

// ListeningInodes reads /proc/net/tcp or tcp6 and returns the socket
// inodes that listen on port.
func ListeningInodes(table []byte, port int) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != listenState {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
			out = append(out, f[9])
		}
	}
	return out
}

// Listening reports whether /proc/net/tcp or tcp6 text (one table or
// both, one after the other) has a socket listening on port.
func Listening(tables []byte, port int) bool {
	return len(ListeningInodes(tables, port)) > 0
}

// FromProc finds the processes listening on a TCP port through a procfs
// mounted at root ("/proc"). Processes of other users cannot be read: a
// listener whose process is not found is reported with PID 0.
func FromProc(root string, port int) ([]Listener, error) {
	var inodes []string
	for _, t := range []string{"net/tcp", "net/tcp6"} {
		b, err := os.ReadFile(filepath.Join(root, t))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		inodes = append(inodes, ListeningInodes(b, port)...)
	}
	if len(inodes) == 0 {
		return nil, nil
	}
	want := map[string]bool{}
	for _, in := range inodes {
		want["socket:["+in+"]"] = true
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []Listener
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join(root, e.Name(), "fd"))
		if err != nil {
			continue // another user's process, or gone
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(root, e.Name(), "fd", fd.Name()))
			if err != nil || !want[target] {
				continue
			}
			comm, _ := os.ReadFile(filepath.Join(root, e.Name(), "comm"))
			out = append(out, Listener{PID: pid, Command: strings.TrimSpace(string(comm))})
			break
		}
	}
	if len(out) == 0 {
		out = append(out, Listener{Command: "a process of another user"})
	}
	return out, nil
}

// LsofArgs are the arguments of lsof that list a port's listeners in
// its field format (for ParseLsof).
func LsofArgs(port int) []string {
	return []string{"lsof", "-nP", "-iTCP:" + strconv.Itoa(port), "-sTCP:LISTEN", "-Fpc"}
}

// ParseLsof reads lsof -Fpc output: "p<pid>" then "c<command>" lines.
func ParseLsof(out []byte) []Listener {
	var ls []Listener
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "p"):
			pid, err := strconv.Atoi(line[1:])
			if err == nil {
				ls = append(ls, Listener{PID: pid})
			}
		case strings.HasPrefix(line, "c") && len(ls) > 0:
			ls[len(ls)-1].Command = line[1:]
		}
	}
	return ls
}
