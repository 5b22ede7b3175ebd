package sandbox

import (
	"context"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/ports"
)

// Published lists the host ports that running containers publish, by
// container name (every container the engine runs, not only sandboxes).
// A port forwarder's ports (the allowlist policy's) are its sandbox's.
func (m *Manager) Published(ctx context.Context) (map[string][]int, error) {
	res, err := m.output(ctx, docker.PsArgs("{{.Names}}\t{{.Ports}}\t{{.Label \""+LabelRole+"\"}}"))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, engineError("list the published ports", res)
	}
	out := map[string][]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		name := f[0]
		if len(f) < 2 || name == "" {
			continue
		}
		if len(f) > 2 && f[2] == RoleForwarder {
			name = strings.TrimSuffix(name, "-ports")
		}
		out[name] = append(out[name], ports.HostPorts(f[1])...)
		if len(out[name]) == 0 {
			delete(out, name)
		}
	}
	return out, nil
}

// ListensOn reports whether a process in the running container listens
// on the TCP port (inside it). Any failure (the container stops
// meanwhile, no cat in the image) reads as no.
func (m *Manager) ListensOn(ctx context.Context, name string, port int) bool {
	res, err := m.output(ctx, docker.ReadFilesArgs(name, "/proc/net/tcp", "/proc/net/tcp6"))
	if err != nil || len(res.Stdout) == 0 {
		return false
	}
	return ports.Listening(res.Stdout, port)
}
