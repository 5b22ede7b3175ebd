package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
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
}

// State is what docker says about a sandbox container.
type State struct {
	Exists   bool
	Status   string // created, running, restarting, paused, removing, exited, dead
	Running  bool
	SpecHash string
}

// startTimeout bounds the wait for a container that another terminal is
// starting at the same moment.
const startTimeout = 30 * time.Second

const inspectFormat = `{{.State.Status}}|{{.State.Running}}|{{index .Config.Labels "` + LabelSpecHash + `"}}`

func (m *Manager) argv(args []string) []string {
	return append([]string{m.Docker}, args...)
}

func (m *Manager) output(ctx context.Context, args []string) (proc.Result, error) {
	argv := m.argv(args)
	if m.Debug {
		fmt.Fprintf(m.Streams.Err, "+ %s\n", docker.Quote(argv))
	}
	res, err := m.Runner.Output(ctx, argv)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || strings.Contains(err.Error(), "executable file not found") {
			return res, ui.WithHint(fmt.Errorf("the docker CLI %q was not found", m.Docker),
				"install Docker Engine or Docker Desktop, or set AI_SANDBOX_DOCKER to your docker-compatible CLI (e.g. podman)")
		}
		return res, err
	}
	return res, nil
}

// engineError turns docker's stderr into an error with a hint.
func engineError(what string, res proc.Result) error {
	msg := strings.TrimSpace(string(res.Stderr))
	if msg == "" {
		msg = fmt.Sprintf("docker exited with code %d", res.ExitCode)
	}
	err := fmt.Errorf("%s: %s", what, firstLine(msg))
	if strings.Contains(msg, "Cannot connect to the Docker daemon") || strings.Contains(msg, "Is the docker daemon running") ||
		strings.Contains(msg, "permission denied while trying to connect") {
		return ui.WithHint(err, "start the Docker engine (or Docker Desktop) and make sure your user may use it: 'docker info' must work")
	}
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
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
	f := strings.SplitN(strings.TrimSpace(string(res.Stdout)), "|", 3)
	for len(f) < 3 {
		f = append(f, "")
	}
	return State{Exists: true, Status: f[0], Running: f[1] == "true", SpecHash: f[2]}, nil
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
	deadline := time.Now().Add(startTimeout)
	for {
		switch {
		case st.Status == "paused":
			return 0, ui.WithHint(fmt.Errorf("the sandbox %s is paused", p.Name), "resume it with 'docker unpause "+p.Name+"'")
		case st.Running && st.SpecHash == p.SpecHash:
			return Attached, nil
		case st.Running:
			n, err := m.Sessions(ctx, p.Name)
			if err != nil {
				return 0, err
			}
			if n > 0 {
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

// pause waits a moment, or fails once the deadline has passed.
func (m *Manager) pause(ctx context.Context, deadline time.Time, name string) error {
	if time.Now().After(deadline) {
		return fmt.Errorf("the sandbox %s did not start within %s", name, startTimeout)
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
	res, err := m.output(ctx, docker.RunArgs(p.Run))
	if err != nil {
		return false, err
	}
	if res.ExitCode != 0 {
		stderr := string(res.Stderr)
		switch {
		case strings.Contains(stderr, "is already in use"):
			return true, nil
		case strings.Contains(stderr, "No such image") || strings.Contains(stderr, "image not known") ||
			strings.Contains(stderr, "not found: manifest unknown"):
			return false, ui.WithHint(fmt.Errorf("the image %s does not exist", p.Run.Image),
				"build it with 'ai-sandbox image build' (or pull one with 'ai-sandbox image pull'), or run 'ai-sandbox setup'",
				"a different image can be chosen with --image or AI_SANDBOX_IMAGE")
		}
		return false, engineError("start the sandbox "+p.Name, res)
	}
	for _, n := range p.ExtraNetworks {
		res, err := m.output(ctx, docker.NetworkConnectArgs(n, p.Name))
		if err != nil {
			return false, err
		}
		if res.ExitCode != 0 {
			return false, engineError("connect "+p.Name+" to network "+n, res)
		}
	}
	return false, nil
}

// Launch runs the plan's session in its container, creating the
// container when needed, and returns the session's exit code.
//
// When retrying is safe (stdin is a terminal, /dev/null or closed, so no
// piped input can be lost), the session is tried first: a warm launch is
// then a single docker call, and the Guard refuses a container of another
// spec. Otherwise the container is inspected first.
func (m *Manager) Launch(ctx context.Context, p Plan, tool string, stdio proc.Stdio, secretEnv []string, retrySafe bool) (int, error) {
	if !retrySafe {
		out, err := m.Ensure(ctx, p)
		if err != nil {
			return 0, err
		}
		if out == Mismatch {
			return m.joinMismatched(ctx, p, tool, stdio, secretEnv)
		}
		code, _, err := m.exec(ctx, p, p.Exec, stdio, secretEnv, false)
		return code, err
	}
	code, missing, err := m.exec(ctx, p, p.Exec, stdio, secretEnv, true)
	if err != nil || (!missing && code != GuardExit) {
		return code, err
	}
	var out Outcome
	if missing {
		conflict, err := m.create(ctx, p)
		if err != nil {
			return 0, err
		}
		out = Created
		if conflict { // another launch is starting it: wait and look
			if out, err = m.Ensure(ctx, p); err != nil {
				return 0, err
			}
		}
	} else {
		st, err := m.Inspect(ctx, p.Name)
		if err != nil {
			return 0, err
		}
		if st.Running && st.SpecHash == p.SpecHash {
			return code, nil // the command itself exited with that code
		}
		if out, err = m.ensureFrom(ctx, p, st); err != nil {
			return 0, err
		}
	}
	if out == Mismatch {
		return m.joinMismatched(ctx, p, tool, stdio, secretEnv)
	}
	// A container that has only just started may refuse an exec for a
	// moment; the command has not run then, so trying again is safe.
	for try := 0; ; try++ {
		code, missing, err = m.exec(ctx, p, p.Exec, stdio, secretEnv, true)
		if err != nil || !missing {
			return code, err
		}
		if try == 4 {
			return 0, fmt.Errorf("the sandbox %s stopped right after it started; see 'docker logs %s' or run with AI_RUN_DEBUG=1", p.Name, p.Name)
		}
		if _, err := m.Ensure(ctx, p); err != nil {
			return 0, err
		}
	}
}

// joinMismatched attaches to a running container of another spec that
// has sessions: it is not killed under them.
func (m *Manager) joinMismatched(ctx context.Context, p Plan, tool string, stdio proc.Stdio, secretEnv []string) (int, error) {
	m.Streams.Warnf("%s is running with other settings (image, mounts, limits, ports or networks) and has sessions attached; this session joins it as it is", p.Name)
	m.Streams.Hintf("to apply the new settings, end its sessions or run 'ai-sandbox stop %s', then run again", tool)
	unguarded := p.Exec
	unguarded.Cmd = p.Cmd
	code, _, err := m.exec(ctx, p, unguarded, stdio, secretEnv, false)
	return code, err
}

// exec runs one docker exec attached to stdio. With sniff, docker's own
// "no such container" / "not running" message is held back and reported
// as missing instead of being shown.
func (m *Manager) exec(ctx context.Context, p Plan, spec docker.ExecSpec, stdio proc.Stdio, secretEnv []string, sniff bool) (int, bool, error) {
	argv := m.argv(docker.ExecArgs(spec))
	if m.Debug {
		fmt.Fprintf(m.Streams.Err, "+ %s\n", docker.Quote(argv))
	}
	var sn *sniffer
	if sniff {
		sn = newSniffer(stdio.Err, missingPrefixes, func(line string) bool { return isMissing(line, p.Name) })
		stdio.Err = sn
	}
	forward := func(sig os.Signal) bool { return m.forward(p, sig) }
	code, err := m.Runner.Interactive(ctx, argv, stdio, secretEnv, forward)
	missing := false
	if sn != nil {
		missing = sn.Finish() != ""
	}
	return code, missing, err
}

// missingPrefixes begin the messages docker and podman print when the
// container to exec into does not exist or does not run.
var missingPrefixes = []string{
	"Error: No such container: ",
	"Error response from daemon: No such container: ",
	"Error response from daemon: Container ",
	"Error: no container with name or ID ",
	"Error: can only create exec sessions on running containers",
	"Error: unable to upgrade to tcp",
	"unable to upgrade to tcp",
	"OCI runtime exec failed",
}

func isMissing(line, name string) bool {
	switch {
	case strings.HasSuffix(line, "No such container: "+name):
		return true
	case strings.HasPrefix(line, "Error response from daemon: Container ") && strings.HasSuffix(line, " is not running"):
		return true
	case strings.HasPrefix(line, "Error: no container with name or ID ") && strings.Contains(line, `"`+name+`"`):
		return true
	case strings.HasPrefix(line, "Error: can only create exec sessions on running containers"):
		return true
	// A container still starting: the exec did not begin.
	case strings.Contains(line, "unable to upgrade to tcp, received 500"):
		return true
	case strings.HasPrefix(line, "OCI runtime exec failed") && strings.Contains(line, "setns process"):
		return true
	}
	return false
}

// forward delivers a signal caught by ai-sandbox to the session's
// processes inside the container (docker exec does not forward signals).
func (m *Manager) forward(p Plan, sig os.Signal) bool {
	id := p.Exec.Env["AI_SANDBOX_SESSION"]
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
