package sandbox

import (
	"context"
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

// builtinNetworks are docker's own, never offered.
var builtinNetworks = []string{"bridge", "host", "none"}

// Networks lists the user networks (not bridge, host or none), with the
// containers on each.
func (m *Manager) Networks(ctx context.Context) ([]Network, error) {
	res, err := m.output(ctx, docker.NetworkListArgs(`{{.Name}}	{{.Label "`+ComposeLabel+`"}}`))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, engineError("list the docker networks", res)
	}
	var out []Network
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		name, compose, _ := strings.Cut(line, "\t")
		if name == "" || slices.Contains(builtinNetworks, name) {
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
