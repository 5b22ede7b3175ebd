package sandbox

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
)

// ComposeLabel marks the networks docker compose made, with the project.
const ComposeLabel = "com.docker.compose.project"

// Network is a docker network a sandbox may join.
type Network struct {
	Name       string
	Compose    string   // the compose project that made it, if any
	Containers []string // the containers on it now
}

// ownNetwork matches the names of the networks ai-sandbox makes for
// itself: a sandbox's own (ai-TOOL-PROJECT-HASH-net) and an egress
// proxy's (ai-sandbox-egress-UID-HASH).
var ownNetwork = regexp.MustCompile(`^(ai-.+-[0-9a-f]{8}-net|ai-sandbox-egress-[0-9]+-[0-9a-f]{8})$`)

// IsOwnNetwork reports whether a network name is one ai-sandbox makes for
// itself. A sandbox never joins one of those: it would reach that sandbox,
// or go around its proxy.
func IsOwnNetwork(name string) bool { return ownNetwork.MatchString(name) }

// builtinNetworks are docker's own, never offered.
var builtinNetworks = []string{"bridge", "host", "none"}

// Networks lists the user networks (not bridge, host or none), with the
// containers on each.
func (m *Manager) Networks(ctx context.Context) ([]Network, error) {
	res, err := m.output(ctx, docker.NetworkListArgs(`{{.Name}}	{{.Label "`+ComposeLabel+`"}}	{{.Label "`+LabelRole+`"}}`))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, engineError("list the docker networks", res)
	}
	var out []Network
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		name, compose, role := f[0], "", ""
		if len(f) > 1 {
			compose = f[1]
		}
		if len(f) > 2 {
			role = f[2]
		}
		// Never offered: docker's own, and ai-sandbox's (a sandbox's own
		// network, a proxy's: joining one would reach that sandbox).
		if name == "" || slices.Contains(builtinNetworks, name) || role != "" || IsOwnNetwork(name) {
			continue
		}
		out = append(out, Network{Name: name, Compose: compose})
	}
	if len(out) == 0 {
		return nil, nil
	}
	names := make([]string, len(out))
	for i, n := range out {
		names[i] = n.Name
	}
	res, err = m.output(ctx, docker.NetworkInspectArgs(`{{.Name}}	{{range .Containers}}{{.Name}} {{end}}`, names...))
	if err != nil {
		return nil, err
	}
	members := map[string][]string{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		name, list, _ := strings.Cut(line, "\t")
		f := strings.Fields(list)
		slices.Sort(f)
		members[name] = f
	}
	for i := range out {
		out[i].Containers = members[out[i].Name]
	}
	slices.SortFunc(out, func(a, b Network) int {
		if (a.Compose == "") != (b.Compose == "") {
			if a.Compose != "" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
