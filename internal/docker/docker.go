// Package docker renders docker CLI argv from plain specs. It does no I/O:
// it imports neither os nor os/exec. Flags come out in a fixed order, maps
// in sorted key order, and secrets only ever by name (--env NAME).
package docker

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Mount is a bind mount. A missing source is an error in docker (never a
// silently created root-owned folder), which is why --mount is used.
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
}

// Tmpfs is a tmpfs mount with its mount options.
type Tmpfs struct {
	Target  string
	Options string // e.g. "rw,nosuid,nodev,exec,mode=1777"
}

// Port publishes a container port on a host address.
type Port struct {
	HostIP        string
	HostPort      int
	ContainerPort int
}

// RunSpec is a detached sandbox container.
type RunSpec struct {
	Name   string
	Image  string
	Labels map[string]string

	User        string // uid:gid
	ReadOnly    bool
	CapDrop     []string
	SecurityOpt []string
	PidsLimit   int64  // 0 = docker's default
	Memory      string // "" = unlimited
	CPUs        string // "" = unlimited
	CPUShares   int64  // 0 = docker's default (1024)
	Init        bool
	Health      *Health

	Tmpfs    []Tmpfs
	Mounts   []Mount
	Env      map[string]string // literal, non-secret values
	Network  string            // "" = docker's default
	DNS      []string          `json:",omitempty"` // resolvers beyond the engine's own names (none = the host's)
	Ports    []Port
	Workdir  string
	Hostname string

	Entrypoint []string // nil = the image's; set with --entrypoint first + args prepended to Cmd
	Cmd        []string
}

// Health is a container health check.
type Health struct {
	Cmd      string // run by /bin/sh -c in the container
	Interval string // e.g. "60s"
	Timeout  string
	Retries  int
}

// RunArgs renders `docker run -d --rm …` for spec.
func RunArgs(s RunSpec) []string {
	a := []string{"run",
		"--detach",        // the container outlives this launch; sessions are execs
		"--rm",            // gone once its keeper stops, nothing left behind
		"--pull", "never", // never fetch an image behind the user's back
	}
	if s.Name != "" {
		a = append(a, "--name", s.Name) // one container per tool and project
	}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		a = append(a, "--label", k+"="+s.Labels[k]) // found again by ps/stop/run
	}
	if s.Hostname != "" {
		a = append(a, "--hostname", s.Hostname)
	}
	if s.User != "" {
		a = append(a, "--user", s.User) // the host user's uid:gid, never root by default
	}
	if s.ReadOnly {
		a = append(a, "--read-only") // the image cannot be changed
	}
	for _, c := range s.CapDrop {
		a = append(a, "--cap-drop", c) // no capabilities at all
	}
	for _, o := range s.SecurityOpt {
		a = append(a, "--security-opt", o) // no-new-privileges (setuid cannot raise privileges), the seccomp profile
	}
	if s.PidsLimit != 0 {
		a = append(a, "--pids-limit", strconv.FormatInt(s.PidsLimit, 10)) // fork bombs stop here
	}
	if s.Memory != "" {
		a = append(a, "--memory", s.Memory) // memory exhaustion stays inside
	}
	if s.CPUs != "" {
		a = append(a, "--cpus", s.CPUs)
	}
	if s.CPUShares != 0 {
		a = append(a, "--cpu-shares", strconv.FormatInt(s.CPUShares, 10)) // a busy sandbox yields the CPU
	}
	if s.Init {
		a = append(a, "--init") // reaps zombies, forwards signals
	}
	if h := s.Health; h != nil {
		a = append(a, "--health-cmd", h.Cmd, // the keeper is alive
			"--health-interval", h.Interval, "--health-timeout", h.Timeout, "--health-retries", strconv.Itoa(h.Retries))
	}
	for _, t := range s.Tmpfs {
		a = append(a, "--tmpfs", t.Target+":"+t.Options) // writable scratch on a read-only root
	}
	for _, m := range s.Mounts {
		a = append(a, "--mount", MountValue(m)) // only what the sandbox may see
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		a = append(a, "--env", k+"="+s.Env[k]) // non-secret settings only
	}
	if s.Network != "" {
		a = append(a, "--network", s.Network)
	}
	for _, d := range s.DNS {
		a = append(a, "--dns", d)
	}
	for _, p := range s.Ports {
		a = append(a, "--publish", PortValue(p)) // loopback unless asked otherwise
	}
	if s.Workdir != "" {
		a = append(a, "--workdir", s.Workdir)
	}
	cmd := s.Cmd
	if len(s.Entrypoint) > 0 {
		a = append(a, "--entrypoint", s.Entrypoint[0])
		cmd = append(append([]string{}, s.Entrypoint[1:]...), s.Cmd...)
	}
	a = append(a, s.Image)
	return append(a, cmd...)
}

// ExecSpec is one session in a running sandbox.
type ExecSpec struct {
	Container   string
	Interactive bool // -i: stdin reaches the command
	TTY         bool // -t: only when stdin and stdout are terminals
	Workdir     string
	Env         map[string]string // literal, non-secret values
	PassEnv     []string          // names whose values come from docker's own environment (secrets)
	Cmd         []string
}

// ExecArgs renders `docker exec …` for spec.
func ExecArgs(s ExecSpec) []string {
	a := []string{"exec"}
	if s.Interactive {
		a = append(a, "--interactive")
	}
	if s.TTY {
		a = append(a, "--tty")
	}
	if s.Workdir != "" {
		a = append(a, "--workdir", s.Workdir) // the user's cwd, at the same path
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		a = append(a, "--env", k+"="+s.Env[k])
	}
	names := append([]string(nil), s.PassEnv...)
	sort.Strings(names)
	for _, n := range names {
		a = append(a, "--env", n) // by name: the value never appears on argv
	}
	a = append(a, s.Container)
	return append(a, s.Cmd...)
}

// MountValue renders a --mount value, CSV-quoting fields that need it
// (commas, quotes, spaces, newlines), as docker's CSV parser expects.
func MountValue(m Mount) string {
	fields := []string{"type=bind", "source=" + m.Source, "target=" + m.Target}
	if m.ReadOnly {
		fields = append(fields, "readonly")
	}
	for i, f := range fields {
		fields[i] = csvField(f)
	}
	return strings.Join(fields, ",")
}

func csvField(f string) string {
	if !strings.ContainsAny(f, ",\"\r\n") && strings.TrimSpace(f) == f {
		return f
	}
	return `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
}

// PortValue renders a --publish value.
func PortValue(p Port) string {
	host := p.HostIP
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if host != "" {
		return fmt.Sprintf("%s:%d:%d", host, p.HostPort, p.ContainerPort)
	}
	return fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
}

// Simple argv for the small management calls, so that every docker argv
// comes from this package.

// InspectArgs asks for one container's state, labels and session facts.
func InspectArgs(name, format string) []string {
	return []string{"container", "inspect", "--format", format, name}
}

// RemoveArgs force-removes containers.
func RemoveArgs(names ...string) []string {
	return append([]string{"rm", "--force"}, names...)
}

// StopArgs stops containers, giving them timeout seconds.
func StopArgs(timeout int, names ...string) []string {
	return append([]string{"stop", "--time", strconv.Itoa(timeout)}, names...)
}

// PsArgs lists running containers in a Go-template format, filtered.
func PsArgs(format string, filters ...string) []string {
	a := []string{"ps", "--no-trunc", "--format", format}
	for _, f := range filters {
		a = append(a, "--filter", f)
	}
	return a
}

// TopArgs lists a container's processes (with PID and PPID).
func TopArgs(name string) []string { return []string{"top", name, "-eo", "pid,ppid"} }

// NetworkConnectArgs joins a running container to one more network,
// where the engine's DNS also answers it by the aliases.
func NetworkConnectArgs(network, container string, aliases ...string) []string {
	a := []string{"network", "connect"}
	for _, al := range aliases {
		a = append(a, "--alias", al)
	}
	return append(a, network, container)
}

// NetworkCreateArgs creates a bridge network; an internal one has no
// route out of it (its members reach each other only). Options are the
// driver's (-o KEY=VALUE); an empty subnet lets the engine pick one.
func NetworkCreateArgs(name, subnet string, internal bool, labels, options map[string]string) []string {
	a := []string{"network", "create", "--driver", "bridge"}
	if subnet != "" {
		a = append(a, "--subnet", subnet)
	}
	if internal {
		a = append(a, "--internal")
	}
	for _, k := range slices.Sorted(maps.Keys(options)) {
		a = append(a, "--opt", k+"="+options[k])
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		a = append(a, "--label", k+"="+labels[k])
	}
	return append(a, name)
}

// NetworkDisconnectArgs takes a container off a network.
func NetworkDisconnectArgs(network, container string) []string {
	return []string{"network", "disconnect", "--force", network, container}
}

// NetworkRemoveArgs removes networks.
func NetworkRemoveArgs(names ...string) []string {
	return append([]string{"network", "rm"}, names...)
}

// ImageInspectArgs checks that an image exists locally.
func ImageInspectArgs(image, format string) []string {
	return []string{"image", "inspect", "--format", format, image}
}

// Quote renders argv as one shell-safe line (for --print and debug).
func Quote(argv []string) string {
	out := make([]string, len(argv))
	for i, s := range argv {
		out[i] = quoteWord(s)
	}
	return strings.Join(out, " ")
}

func quoteWord(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NetworkListArgs lists the networks in a Go-template format.
func NetworkListArgs(format string) []string {
	return []string{"network", "ls", "--format", format}
}

// NetworkInspectArgs reads networks in a Go-template format (one line each).
func NetworkInspectArgs(format string, names ...string) []string {
	return append([]string{"network", "inspect", "--format", format}, names...)
}

// ReadFilesArgs prints files of a running container with cat, outside
// any session (no guard, no keeper involved).
func ReadFilesArgs(container string, paths ...string) []string {
	return append([]string{"exec", container, "cat"}, paths...)
}

// PsAllArgs lists containers in any state (running, stopped, created) in
// a Go-template format, filtered; filters of one key are alternatives.
func PsAllArgs(format string, filters ...string) []string {
	a := []string{"ps", "--all", "--no-trunc", "--format", format}
	for _, f := range filters {
		a = append(a, "--filter", f)
	}
	return a
}

// ImageRemoveArgs removes images by id or name; an image a container
// uses is refused by docker, never forced.
func ImageRemoveArgs(images ...string) []string {
	return append([]string{"image", "rm"}, images...)
}

// VersionArgs asks the client and the engine for their versions.
func VersionArgs(format string) []string { return []string{"version", "--format", format} }

// InfoArgs asks the engine about itself (rootless, runtimes, security
// options) in a Go-template format.
func InfoArgs(format string) []string { return []string{"info", "--format", format} }
