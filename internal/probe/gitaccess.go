package probe

// key-search: the checks of git access. A sandbox with git access reaches
// the user's remotes through a relay on the host; no credential may be
// inside. The check looks everywhere it can for one.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// keySearchMax is how much of each file key-search reads.
const keySearchMax = 8 << 20

// credentialEnv are variables that hand a process a credential or a way
// to get one.
var credentialEnv = []string{"SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_ASKPASS", "GIT_ASKPASS", "GIT_SSH_COMMAND",
	"GIT_SSH", "GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "GL_TOKEN", "GIT_TOKEN", "GIT_PASSWORD", "BITBUCKET_TOKEN"}

// keySearchMarkers reads -markers for key-search: a marker "hex:HEX" is the
// bytes HEX encodes, so that the secret itself need not be on the probe's
// command line (which the sandbox's processes can read).
func keySearchMarkers(p *params) ([]string, error) {
	var out []string
	for _, m := range p.markers {
		if h, ok := strings.CutPrefix(m, "hex:"); ok {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("marker %q: %v", m, err)
			}
			m = string(b)
		}
		if len(m) < 8 {
			return nil, fmt.Errorf("marker %q is too short to mean anything", m)
		}
		out = append(out, m)
	}
	return out, nil
}

// checkKeySearch looks for a credential anywhere the sandbox can see:
// the markers (-markers: text that only the user's key and password
// hold) in every readable file (/proc, /sys and /dev aside; the first
// 8 MiB of each), at the secrets' own paths (-secrets), in the
// environment and the command line of every process it can see; any ssh agent (a socket named agent.*, in an ssh-*
// folder, or that answers the agent protocol, found on the file system or
// in /proc/net/unix); and its own environment's credential variables. A
// find is a hole. Facts: files, bytes, truncated, socket:PATH for every
// socket found, private-key:PATH for every readable file that holds a
// private key (of anyone).
func checkKeySearch(ctx context.Context, p *params) Result {
	markers, err := keySearchMarkers(p)
	if err != nil {
		return skipped("bad -markers: " + err.Error())
	}
	if len(markers) == 0 {
		return skipped("no -markers given")
	}
	var n notes
	has := func(data []byte) bool { return containsAny(data, markers) }

	// Its own environment.
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if has([]byte(value)) {
			n.success("the environment variable %s holds a secret marker", name)
		}
		if strings.Contains(value, "PRIVATE KEY-----") {
			n.success("the environment variable %s holds a private key", name)
		}
		for _, c := range credentialEnv {
			if name == c && value != "" {
				n.success("the environment has %s", name)
			}
		}
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if keys, ok := agentAnswers(sock); ok {
			n.success("SSH_AUTH_SOCK %s is an ssh agent holding %d keys", sock, keys)
		}
	}

	// The secrets' host paths (-secrets), as they are and below the
	// sandbox's home.
	for _, path := range p.secrets {
		if data, err := readLimited(path, keySearchMax); err == nil && has(data) {
			n.success("read the secret at %s", path)
		} else {
			n.add("%s: %s", path, errText(err))
		}
	}

	// Every process it can see.
	procs := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		procs++
		for _, f := range []string{"environ", "cmdline"} {
			if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f)); err == nil && has(data) {
				n.success("the %s of pid %d holds a secret marker", f, pid)
			}
		}
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err == nil {
			for _, kv := range bytes.Split(data, []byte{0}) {
				if bytes.HasPrefix(kv, []byte("SSH_AUTH_SOCK=")) && len(kv) > len("SSH_AUTH_SOCK=") {
					n.success("pid %d has %s", pid, kv)
				}
			}
		}
	}
	n.fact("processes", strconv.Itoa(procs))

	// Unix sockets the kernel lists (abstract ones too).
	if f, err := os.Open("/proc/net/unix"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 8 {
				continue
			}
			path := fields[len(fields)-1]
			base := filepath.Base(path)
			if strings.HasPrefix(base, "agent.") || strings.Contains(path, "ssh-agent") {
				n.success("an ssh agent's socket is listed in /proc/net/unix: %s", path)
			}
		}
		f.Close()
	}

	// Every readable file.
	skip := map[string]bool{"/proc": true, "/sys": true, "/dev": true}
	files, unreadable := 0, 0
	var total int64
	truncated := false
	_ = filepath.WalkDir("/", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			unreadable++
			return nil
		}
		if ctx.Err() != nil {
			truncated = true
			return fs.SkipAll
		}
		switch t := d.Type(); {
		case d.IsDir():
			if skip[path] {
				return fs.SkipDir
			}
		case t&fs.ModeSocket != 0:
			n.fact("socket", path)
			base := filepath.Base(path)
			if strings.HasPrefix(base, "agent.") || strings.HasPrefix(filepath.Base(filepath.Dir(path)), "ssh-") {
				n.success("an ssh agent's socket: %s", path)
			}
			if keys, ok := agentAnswers(path); ok {
				n.success("%s is an ssh agent holding %d keys", path, keys)
			}
		case t.IsRegular():
			data, err := readLimited(path, keySearchMax)
			if err != nil {
				unreadable++
				return nil
			}
			files++
			total += int64(len(data))
			if has(data) {
				n.success("a secret marker is in %s", path)
			}
			if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN ")) && bytes.Contains(data, []byte("PRIVATE KEY-----")) {
				n.fact("private-key", path)
			}
		}
		return nil
	})
	n.fact("files", strconv.Itoa(files))
	n.fact("bytes", strconv.FormatInt(total, 10))
	n.fact("unreadable", strconv.Itoa(unreadable))
	n.fact("truncated", strconv.FormatBool(truncated))
	n.add("searched %d files (%d bytes; %d unreadable; truncated: %v) and %d processes for %d markers",
		files, total, unreadable, truncated, procs, len(markers))
	res := n.result()
	if truncated {
		res.TimedOut = true
	}
	return res
}

// agentAnswers asks the socket at path for an ssh agent's identities
// (SSH2_AGENTC_REQUEST_IDENTITIES); ok when it answers as an agent does.
func agentAnswers(path string) (keys int, ok bool) {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte{0, 0, 0, 1, 11}); err != nil {
		return 0, false
	}
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return 0, false
	}
	size := binary.BigEndian.Uint32(hdr[:4])
	if hdr[4] != 12 || size < 5 || size > 1<<20 {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(hdr[5:])), true
}
