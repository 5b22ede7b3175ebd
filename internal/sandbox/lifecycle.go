package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/ports"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// Runner is the process runner the lifecycle needs.
type Runner interface {
	Output(ctx context.Context, argv []string) (proc.Result, error)
	Interactive(ctx context.Context, argv []string, stdio proc.Stdio, extraEnv []string, onSignal func(os.Signal) bool) (int, error)
}

// Manager brings sandboxes up and attaches sessions.
type Manager struct {
	Docker  string // the docker CLI: "docker", "podman", a path
	Runner  Runner
	Streams ui.Streams
	// Debug prints every docker command line on stderr before it runs.
	Debug bool
	// StartTimeout bounds how long a launch waits for its container to
	// come up (0 = defaultStartTimeout).
	StartTimeout time.Duration

	// background is what a launch finishes beside the session (the
	// sandbox's address for the egress proxy); Launch waits for it.
	background sync.WaitGroup
}

// State is what docker says about a sandbox container.
type State struct {
	Exists   bool
	Status   string // created, running, restarting, paused, removing, exited, dead
	Running  bool
	SpecHash string
	Git      string // its git mode
	Ports    []int  // the host ports it publishes
	Egress   string // its egress policy
}

// defaultStartTimeout bounds the wait for a container that another
// terminal is starting or stopping at the same moment.
const defaultStartTimeout = 30 * time.Second

func (m *Manager) startTimeout() time.Duration {
	if m.StartTimeout > 0 {
		return m.StartTimeout
	}
	return defaultStartTimeout
}

const inspectFormat = `{{.State.Status}}|{{.State.Running}}|{{index .Config.Labels "` + LabelSpecHash + `"}}|{{index .Config.Labels "` + LabelGit + `"}}|{{json .HostConfig.PortBindings}}|{{index .Config.Labels "` + LabelEgress + `"}}`

func (m *Manager) argv(args []string) []string {
	return append([]string{m.Docker}, args...)
}

func (m *Manager) output(ctx context.Context, args []string) (proc.Result, error) {
	argv := m.argv(args)
	if m.Debug {
		fmt.Fprintf(m.Streams.Err, "+ %s\n", docker.Quote(argv))
	}
	res, err := m.Runner.Output(ctx, argv)
	return res, m.cliMissing(err)
}

// cliMissing adds a hint to the error of a docker CLI that is not there.
func (m *Manager) cliMissing(err error) error {
	if err != nil && (errors.Is(err, syscall.ENOENT) || strings.Contains(err.Error(), "executable file not found")) {
		return ui.WithHint(fmt.Errorf("the docker CLI %q was not found", m.Docker),
			"install Docker Engine or Docker Desktop, or set AI_SANDBOX_DOCKER to your docker-compatible CLI (e.g. podman)")
	}
	return err
}

// engineError turns docker's stderr into an error with a hint.
func engineError(what string, res proc.Result) error {
	msg := strings.TrimSpace(string(res.Stderr))
	if msg == "" {
		msg = fmt.Sprintf("docker exited with code %d", res.ExitCode)
	}
	err := fmt.Errorf("%s: docker said: %s", what, ui.FirstLine(msg))
	if strings.Contains(msg, "Cannot connect to the Docker daemon") || strings.Contains(msg, "Is the docker daemon running") ||
		strings.Contains(msg, "permission denied while trying to connect") || strings.Contains(msg, "error during connect") {
		return ui.WithHint(fmt.Errorf("%s: the Docker engine does not answer (%s)", what, ui.FirstLine(msg)),
			"start the Docker engine (or Docker Desktop) and make sure your user may use it: 'docker info' must work")
	}
	return ui.WithHint(err, "run it again with AI_RUN_DEBUG=1 to see the docker command lines")
}

// Inspect asks docker for a container's state.
func (m *Manager) Inspect(ctx context.Context, name string) (State, error) {
	res, err := m.output(ctx, docker.InspectArgs(name, inspectFormat))
	if err != nil {
		return State{}, err
	}
	if res.ExitCode != 0 {
		if bytes.Contains(res.Stderr, []byte("No such")) {
			return State{}, nil
		}
		return State{}, engineError("inspect "+name, res)
	}
	f := strings.SplitN(strings.TrimSpace(string(res.Stdout)), "|", 6)
	for len(f) < 6 {
		f = append(f, "")
	}
	return State{Exists: true, Status: f[0], Running: f[1] == "true", SpecHash: f[2], Git: f[3], Ports: bindingPorts(f[4]), Egress: f[5]}, nil
}

// Container is a running sandbox, as listed by List.
type Container struct {
	Name, Tool, Project, Path, Owner string
	Created                          time.Time
}

// listFormat reads each container's labels with docker's own template
// function, so label values are never split on commas.
const listFormat = `{{.Names}}	{{.Label "` + LabelTool + `"}}	{{.Label "` + LabelProject + `"}}	{{.Label "` +
	LabelPath + `"}}	{{.Label "` + LabelOwner + `"}}	{{.CreatedAt}}`

// List lists the running sandboxes that match the label filters
// ("label=KEY=VALUE"), besides being sandboxes.
func (m *Manager) List(ctx context.Context, filters ...string) ([]Container, error) {
	res, err := m.output(ctx, docker.PsArgs(listFormat, append([]string{"label=" + LabelTool}, filters...)...))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, engineError("list the sandboxes", res)
	}
	var out []Container
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 {
			continue
		}
		c := Container{Name: f[0], Tool: f[1], Project: f[2], Path: f[3], Owner: f[4]}
		// "2026-11-29 08:00:00 +0000 UTC"
		if t, err := time.Parse("2006-01-02 15:04:05 -0700 MST", f[5]); err == nil {
			c.Created = t
		}
		out = append(out, c)
	}
	return out, nil
}

// Stop stops containers, giving their sessions a few seconds. One that
// is gone already (its keeper stopped it meanwhile) is no failure.
func (m *Manager) Stop(ctx context.Context, names ...string) error {
	res, err := m.output(ctx, docker.StopArgs(3, names...))
	if err != nil {
		return err
	}
	if res.ExitCode == 0 {
		return nil
	}
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stderr)), "\n") {
		if line != "" && !strings.Contains(line, "No such container") {
			return engineError("stop "+strings.Join(names, " "), res)
		}
	}
	return nil
}

// Sessions counts the sessions attached to a running container: the
// processes whose parent is outside it, less docker's init.
func (m *Manager) Sessions(ctx context.Context, name string) (int, error) {
	res, err := m.output(ctx, docker.TopArgs(name))
	if err != nil {
		return 0, err
	}
	if res.ExitCode != 0 {
		return 0, engineError("list the processes of "+name, res)
	}
	return CountSessions(res.Stdout), nil
}

// CountSessions reads `docker top NAME -eo pid,ppid` output.
func CountSessions(top []byte) int {
	type row struct{ pid, ppid int }
	var rows []row
	pids := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(top))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue // header
		}
		rows = append(rows, row{pid, ppid})
		pids[pid] = true
	}
	n := 0
	for _, r := range rows {
		if !pids[r.ppid] {
			n++
		}
	}
	if n > 0 {
		n-- // docker-init (or the keeper, without --init)
	}
	return n
}

// Outcome says how a launch found its container.
type Outcome int

const (
	Created  Outcome = iota // a new container was started
	Attached                // the running container was reused
	Mismatch                // the running container differs from the plan; attached anyway
)

// Ensure makes the plan's container run. A running container with the
// same spec is reused. One with another spec is recreated when no
// session is attached, else kept (Mismatch) so that no session is killed.
func (m *Manager) Ensure(ctx context.Context, p Plan) (Outcome, error) {
	st, err := m.Inspect(ctx, p.Name)
	if err != nil {
		return 0, err
	}
	return m.ensureFrom(ctx, p, st)
}

// ensureFrom is Ensure once the container's state is known. Another
// terminal may be starting or removing the same container at the same
// moment: such a container is waited for, never removed under it.
func (m *Manager) ensureFrom(ctx context.Context, p Plan, st State) (Outcome, error) {
	deadline := time.Now().Add(m.startTimeout())
	for {
		switch {
		case st.Status == "paused":
			return 0, ui.WithHint(fmt.Errorf("the sandbox %s is paused", p.Name), "resume it with 'docker unpause "+p.Name+"'")
		case st.Running && st.SpecHash == p.SpecHash:
			return Attached, nil
		case st.Running:
			n, err := m.Sessions(ctx, p.Name)
			if err != nil {
				// A container that is stopping (its keeper ended it, or
				// 'ai-sandbox stop') can fail docker top ("ttrpc:
				// closed"): look at it again until it is gone or the
				// deadline has passed.
				if perr := m.pause(ctx, deadline, p.Name); perr != nil {
					return 0, err
				}
				next, ierr := m.Inspect(ctx, p.Name)
				if ierr != nil {
					return 0, ierr
				}
				st = next
				continue
			}
			if n > 0 {
				if want := p.Run.Labels[LabelGit]; lessGit(want, st.Git) {
					return 0, ui.WithHint(fmt.Errorf("%s runs with git access %s and has sessions attached; this launch asks for %s, so it does not join it", p.Name, st.Git, want),
						"end its sessions or stop it ('ai-sandbox stop'), then run again")
				}
				if want := p.Run.Labels[LabelEgress]; lessEgress(want, st.Egress) {
					return 0, ui.WithHint(fmt.Errorf("%s runs with egress %s and has sessions attached; this launch asks for %s, so it does not join it", p.Name, egressName(st.Egress), want),
						"end its sessions or stop it ('ai-sandbox stop'), then run again")
				}
				return Mismatch, nil
			}
			if err := m.remove(ctx, p.Name); err != nil {
				return 0, err
			}
		case st.Status == "created" || st.Status == "restarting":
			// Being started by another launch: wait for it.
			if err := m.pause(ctx, deadline, p.Name); err != nil {
				return 0, err
			}
			next, err := m.Inspect(ctx, p.Name)
			if err != nil {
				return 0, err
			}
			st = next
			continue
		case st.Exists:
			// Exited, dead or being removed: make room.
			if err := m.remove(ctx, p.Name); err != nil {
				return 0, err
			}
		}
		conflict, err := m.create(ctx, p)
		if err != nil {
			return 0, err
		}
		if !conflict {
			return Created, nil
		}
		// Another launch created it (or its old self is still being
		// removed): look again.
		if err := m.pause(ctx, deadline, p.Name); err != nil {
			return 0, err
		}
		next, err := m.Inspect(ctx, p.Name)
		if err != nil {
			return 0, err
		}
		st = next
	}
}

// lessGit reports whether git mode want grants less than has: a launch
// never joins a sandbox with more git access than it asked for.
func lessGit(want, has string) bool {
	rank := func(m string) int {
		switch m {
		case "full":
			return 2
		case "fetch-only":
			return 1
		}
		return 0
	}
	return rank(want) < rank(has)
}

// lessEgress reports whether egress policy want is stricter than has: a
// launch never joins a sandbox that reaches more than it asked for. A
// sandbox with no label predates the policies: it is open.
func lessEgress(want, has string) bool {
	rank := func(p string) int {
		switch p {
		case "none":
			return 0
		case "allowlist":
			return 1
		}
		return 2
	}
	return want != "" && rank(want) < rank(has)
}

func egressName(p string) string {
	if p == "" {
		return "open"
	}
	return p
}

// pause waits a moment, or fails once the deadline has passed.
func (m *Manager) pause(ctx context.Context, deadline time.Time, name string) error {
	if time.Now().After(deadline) {
		return fmt.Errorf("the sandbox %s did not start within %s", name, m.startTimeout())
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(100 * time.Millisecond):
		return nil
	}
}

func (m *Manager) remove(ctx context.Context, name string) error {
	res, err := m.output(ctx, docker.RemoveArgs(name))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 && !bytes.Contains(res.Stderr, []byte("No such")) && !bytes.Contains(res.Stderr, []byte("already in progress")) {
		return engineError("remove "+name, res)
	}
	return nil
}

// create starts the container. conflict is true when a container of that
// name exists already (another launch won the race).
func (m *Manager) create(ctx context.Context, p Plan) (conflict bool, err error) {
	// Under the allowlist, a sandbox that ran before starts while its
	// proxy is checked (renewEgress, verifyEgress); one that did not
	// readies its egress first.
	had := ""
	var verified chan string
	if p.Egress != nil {
		if had, err = m.renewEgress(p); err != nil {
			return false, err
		}
		if had != "" {
			verified = make(chan string, 1)
			go func() { verified <- m.verifyEgress(ctx, p) }()
		} else if err := m.ensureEgress(ctx, p); err != nil {
			return false, err
		}
	}
	res, err := m.output(ctx, docker.RunArgs(p.Run))
	if verified != nil {
		addr := <-verified
		if err == nil && res.ExitCode == 0 {
			if serr := m.settleEgress(ctx, p, addr, had); serr != nil {
				_ = m.remove(ctx, p.Name)
				return false, serr
			}
		}
	}
	if err != nil {
		return false, err
	}
	if res.ExitCode != 0 && p.Egress != nil && networkMissing(string(res.Stderr)) && strings.Contains(string(res.Stderr), p.Egress.Network) {
		// The network is gone ('ai-sandbox stop' pruned it, or someone
		// removed it): ready it all, and once more.
		if err := m.ensureEgress(ctx, p); err != nil {
			return false, err
		}
		if res, err = m.output(ctx, docker.RunArgs(p.Run)); err != nil {
			return false, err
		}
	}
	if res.ExitCode != 0 {
		stderr := string(res.Stderr)
		switch {
		case strings.Contains(stderr, "is already in use"):
			return true, nil
		case imageMissing(stderr):
			return false, missingImage(p.Run.Image)
		case networkMissing(stderr):
			return false, missingNetwork(p.Run.Network)
		}
		return false, engineError("start the sandbox "+p.Name, res)
	}
	for _, n := range p.ExtraNetworks {
		res, err := m.output(ctx, docker.NetworkConnectArgs(n, p.Name))
		if err == nil && res.ExitCode == 0 {
			continue
		}
		// Never leave a sandbox running without a network it was asked for.
		_ = m.remove(ctx, p.Name)
		if err != nil {
			return false, err
		}
		if networkMissing(string(res.Stderr)) {
			return false, missingNetwork(n)
		}
		return false, engineError("connect "+p.Name+" to the network "+n, res)
	}
	if p.Egress != nil && p.Egress.Forwarder != nil {
		err := m.recordEgress(ctx, p)
		if err == nil {
			err = m.startForwarder(ctx, p)
		}
		if err != nil {
			// Without its address the proxy would stop under it;
			// without its forwarder its ports are not published.
			_ = m.remove(ctx, p.Name)
			return false, err
		}
	} else if p.Egress != nil {
		// The sandbox's address matters to the proxy's reaper only (a
		// minute from now): read it beside the session's start.
		m.background.Add(1)
		go func() {
			defer m.background.Done()
			if err := m.recordEgress(ctx, p); err != nil {
				m.Streams.Warnf("the egress proxy does not know the address of %s, so it may stop under it: %v", p.Name, err)
				m.Streams.Hintf("stop the sandbox ('ai-sandbox stop') and run again")
			}
		}()
	}
	return false, nil
}

// imageMissing reads docker's and podman's "no such image" replies.
func imageMissing(stderr string) bool {
	return strings.Contains(stderr, "No such image") || strings.Contains(stderr, "image not known") ||
		strings.Contains(stderr, "not found: manifest unknown")
}

func missingImage(image string) error {
	return ui.WithHint(fmt.Errorf("the image %s does not exist", image),
		"build it with 'ai-sandbox image build' (or pull one with 'ai-sandbox image pull'), or run 'ai-sandbox setup'",
		"a different image can be chosen with --image or AI_SANDBOX_IMAGE")
}

// networkMissing reads docker's and podman's "no such network" replies.
func networkMissing(stderr string) bool {
	return strings.Contains(stderr, "network") && strings.Contains(stderr, "not found")
}

func missingNetwork(name string) error {
	return ui.WithHint(fmt.Errorf("the docker network %s does not exist", name),
		"create it with 'docker network create "+name+"', or see the networks there are with 'docker network ls'",
		"if it was saved for this workspace or for all, 'ai-sandbox network list' shows where and 'ai-sandbox network remove "+name+"' forgets it")
}

// Launch runs the plan's session in its container, creating the
// container when needed, and returns the session's exit code. A command is
// never half-run and never run twice:
//
//   - With stdin that holds no data (/dev/null or closed) and no terminal,
//     the session is tried first (a warm launch is one docker call). Its
//     output passes through a gate that opens on the guard's start token;
//     an exec that ends without the token ran nothing, so the container is
//     brought up and the session tried again.
//   - With a terminal or piped input, the launch first holds the container
//     (a short exec the keeper honours: it will not stop for 30 seconds),
//     bringing it up when needed, and then runs the session once.
func (m *Manager) Launch(ctx context.Context, p Plan, tool string, stdio proc.Stdio, secretEnv []string, retrySafe bool) (int, error) {
	defer m.background.Wait()
	deadline := time.Now().Add(m.startTimeout())
	if p.Exec.TTY || !retrySafe {
		spec, err := m.hold(ctx, p, tool, deadline)
		if err != nil {
			return 0, err
		}
		if p.Exec.TTY {
			// The terminal belongs to docker (raw mode, resizes): no gate.
			return m.interactive(ctx, p, p.session(spec, true, false), stdio, secretEnv)
		}
		res, err := m.gated(ctx, p, p.session(spec, true, true), stdio, secretEnv)
		if err != nil || res.started {
			return res.code, err
		}
		return 0, ui.WithHint(notStarted(p, res.said), "its input may have been read in part, so it was not tried again: run it again")
	}
	spec := p.SpecHash
	for {
		res, err := m.gated(ctx, p, p.session(spec, false, true), stdio, secretEnv)
		if err != nil || res.started {
			return res.code, err
		}
		if time.Now().After(deadline) {
			return 0, ui.WithHint(notStarted(p, res.said), "see 'docker logs "+p.Name+"' or run with AI_RUN_DEBUG=1")
		}
		out, err := m.recover(ctx, p, res.code, deadline)
		if err != nil {
			return 0, err
		}
		if out == Mismatch && spec != "-" {
			m.warnMismatch(ctx, p, tool)
			spec = "-"
		}
	}
}

func notStarted(p Plan, said string) error {
	if said == "" {
		return fmt.Errorf("the session did not start in the sandbox %s", p.Name)
	}
	return fmt.Errorf("the session did not start in the sandbox %s: docker said: %s", p.Name, said)
}

// hold reserves the running container for a session, bringing it up when
// needed. It returns the spec the session's guard must check: the plan's,
// or "-" when the session joins a container of other settings that has
// sessions attached.
func (m *Manager) hold(ctx context.Context, p Plan, tool string, deadline time.Time) (string, error) {
	spec := p.SpecHash
	for {
		res, err := m.output(ctx, docker.ExecArgs(p.hold(spec)))
		if err != nil {
			return "", err
		}
		if res.ExitCode == 0 {
			return spec, nil
		}
		if time.Now().After(deadline) {
			return "", ui.WithHint(notStarted(p, ui.FirstLine(strings.TrimSpace(string(res.Stderr)))), "see 'docker logs "+p.Name+"' or run with AI_RUN_DEBUG=1")
		}
		out, err := m.recover(ctx, p, res.ExitCode, deadline)
		if err != nil {
			return "", err
		}
		if out == Mismatch && spec != "-" {
			m.warnMismatch(ctx, p, tool)
			spec = "-"
		}
	}
}

// recover brings the container up after a session (or a hold) that did
// not start, given the exit code it ended with.
func (m *Manager) recover(ctx context.Context, p Plan, code int, deadline time.Time) (Outcome, error) {
	switch code {
	case GuardExit: // a container of another spec
		return m.Ensure(ctx, p)
	case StoppingExit: // its keeper is stopping it: let it go first
		if err := m.pause(ctx, deadline, p.Name); err != nil {
			return 0, err
		}
		return m.Ensure(ctx, p)
	}
	// Missing or not running (docker's code): a cold start is one docker
	// run; a name in use means it exists, so look at it.
	conflict, err := m.create(ctx, p)
	if err != nil || !conflict {
		return Created, err
	}
	if err := m.pause(ctx, deadline, p.Name); err != nil {
		return 0, err
	}
	return m.Ensure(ctx, p)
}

func (m *Manager) warnMismatch(ctx context.Context, p Plan, tool string) {
	if missing := m.missingPorts(ctx, p); len(missing) > 0 {
		m.Streams.Warnf("%s runs without port %s and has sessions attached: ports are fixed when a sandbox starts, so this session joins it without them", p.Name, ports.Join(missing))
		m.Streams.Hintf("to publish them, end its sessions or run 'ai-sandbox stop %s' (which ends them), then run again", tool)
		return
	}
	m.Streams.Warnf("%s is running with other settings (image, mounts, limits, ports or networks) and has sessions attached; this session joins it as it is", p.Name)
	m.Streams.Hintf("to apply the new settings, end its sessions or run 'ai-sandbox stop %s', then run again", tool)
}

// missingPorts are the plan's host ports that the running container does
// not publish.
func (m *Manager) missingPorts(ctx context.Context, p Plan) []int {
	ports, name := p.Run.Ports, p.Name
	forwarded := p.Egress != nil && p.Egress.Forwarder != nil
	if forwarded {
		// Under the allowlist its forwarder publishes them.
		ports, name = p.Egress.Forwarder.Ports, p.Egress.Forwarder.Name
	}
	if len(ports) == 0 {
		return nil
	}
	st, err := m.Inspect(ctx, name)
	if err != nil || (!st.Exists && !forwarded) {
		return nil
	}
	var missing []int
	for _, pp := range ports {
		if !slices.Contains(st.Ports, pp.HostPort) {
			missing = append(missing, pp.HostPort)
		}
	}
	return missing
}

// bindingPorts reads the host ports of docker inspect's
// {{json .HostConfig.PortBindings}}.
func bindingPorts(raw string) []int {
	var pb map[string][]struct{ HostPort string }
	if json.Unmarshal([]byte(raw), &pb) != nil {
		return nil
	}
	var out []int
	for _, bs := range pb {
		for _, b := range bs {
			if n, err := strconv.Atoi(b.HostPort); err == nil {
				out = append(out, n)
			}
		}
	}
	return ports.Merge(out)
}

// sessionResult is how a gated session ended.
type sessionResult struct {
	code    int
	started bool   // the guard's start token was seen
	said    string // docker's last words when it did not start
}

// gated runs one docker exec whose output goes through a gate.
func (m *Manager) gated(ctx context.Context, p Plan, spec docker.ExecSpec, stdio proc.Stdio, secretEnv []string) (sessionResult, error) {
	g := newGate(stdio.Out, stdio.Err, p.SessionID, spec.TTY)
	code, err := m.interactive(ctx, p, spec, proc.Stdio{In: stdio.In, Out: g.Stdout(), Err: g.Stderr()}, secretEnv)
	return sessionResult{code: code, started: g.Started(), said: g.Held()}, err
}

// interactive runs one docker exec attached to stdio, forwarding the
// signals ai-sandbox catches to the session's processes.
func (m *Manager) interactive(ctx context.Context, p Plan, spec docker.ExecSpec, stdio proc.Stdio, secretEnv []string) (int, error) {
	argv := m.argv(docker.ExecArgs(spec))
	if m.Debug {
		fmt.Fprintf(m.Streams.Err, "+ %s\n", docker.Quote(argv))
	}
	forward := func(sig os.Signal) bool { return m.forward(p, sig) }
	code, err := m.Runner.Interactive(ctx, argv, stdio, secretEnv, forward)
	return code, m.cliMissing(err)
}

// forward delivers a signal caught by ai-sandbox to the session's
// processes inside the container (docker exec does not forward signals).
func (m *Manager) forward(p Plan, sig os.Signal) bool {
	id := p.SessionID
	s, ok := sig.(syscall.Signal)
	if id == "" || !ok {
		return false
	}
	name := signalName(s)
	if name == "" {
		return false
	}
	args := docker.ExecArgs(docker.ExecSpec{Container: p.Name, Cmd: []string{"/bin/sh", "-c", forwardScript, "ai-sandbox-signal", id, name}})
	// Use a fresh context: the launch's may be cancelled by now.
	res, err := m.output(context.Background(), args)
	return err == nil && res.ExitCode == 0
}

// forwardScript signals every process of one session ($1) with $2.
const forwardScript = `found=1
for p in /proc/[0-9]*; do
  if tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "AI_SANDBOX_SESSION=$1"; then
    kill -s "$2" "${p#/proc/}" 2>/dev/null && found=0
  fi
done
exit $found`

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "INT"
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGQUIT:
		return "QUIT"
	}
	return ""
}
