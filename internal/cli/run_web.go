package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/ports"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// webRun is an agent's web or server command found in its arguments.
type webRun struct {
	tool string
	sub  string // web, serve
	port int
	spec *tools.Web
	// loopback is a --hostname of the user's that only the container
	// itself reaches (127.0.0.1, localhost, ::1).
	loopback string
}

// detectWeb finds an agent's web command (its first word that is not a
// flag: opencode web, kilo serve) and returns the arguments the agent
// gets: with --port PORT when none was given (opencode's own default is a
// random port) and --hostname 0.0.0.0 when none was given, so that the
// server listens on the container's interface that docker publishes.
func detectWeb(agent *tools.Tool, args []string) (*webRun, []string, error) {
	if agent == nil || agent.Web == nil {
		return nil, args, nil
	}
	w := agent.Web
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	sub := ""
	for _, a := range args[:end] {
		if !strings.HasPrefix(a, "-") {
			sub = a
			break
		}
	}
	if !slices.Contains(w.Commands, sub) {
		return nil, args, nil
	}
	web := &webRun{tool: agent.Name, sub: sub, port: w.Port, spec: w}
	hasPort, hasHost := false, false
	for i := 0; i < end; i++ {
		name, value, eq := strings.Cut(args[i], "=")
		switch name {
		case w.PortFlag:
			if !eq {
				if i+1 >= end {
					return nil, nil, &ui.UsageError{Err: fmt.Errorf("%s %s %s: the port is missing", agent.Name, sub, w.PortFlag)}
				}
				value = args[i+1]
			}
			p, err := ports.Parse(agent.Name+" "+sub+" "+w.PortFlag, []string{value})
			if err != nil || len(p) != 1 {
				if err == nil {
					err = fmt.Errorf("%s %s %s %q: a port is a number from 1 to 65535", agent.Name, sub, w.PortFlag, value)
				}
				return nil, nil, &ui.UsageError{Err: err}
			}
			web.port, hasPort = p[0], true
		case w.HostFlag:
			hasHost = true
			if !eq && i+1 < end {
				value = args[i+1]
			}
			if ip := net.ParseIP(value); value == "localhost" || (ip != nil && ip.IsLoopback()) {
				web.loopback = value
			}
		}
	}
	var add []string
	if !hasPort {
		add = append(add, w.PortFlag, strconv.Itoa(web.port))
	}
	if !hasHost {
		add = append(add, w.HostFlag, "0.0.0.0")
	}
	out := append(append(append([]string{}, args[:end]...), add...), args[end:]...)
	return web, out, nil
}

// url is where the host reaches the server.
func (w *webRun) url(bind string) string {
	host := "127.0.0.1"
	if bind == "all" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(w.port)) + "/"
}

// portFacts gathers the ports to publish: --expose, AI_SANDBOX_EXPOSE, the
// legacy PORT (with a note) and the web command's port.
func portFacts(deps *Deps, o *runOptions, web *webRun) ([]int, error) {
	fromFlag, err := ports.Parse("--expose", o.expose)
	if err != nil {
		return nil, &ui.UsageError{Err: err}
	}
	fromEnv, err := ports.Parse("AI_SANDBOX_EXPOSE", []string{deps.Getenv("AI_SANDBOX_EXPOSE")})
	if err != nil {
		return nil, &ui.UsageError{Err: err}
	}
	legacy, err := ports.Parse("PORT", []string{deps.Getenv("PORT")})
	if err != nil {
		return nil, ui.WithHint(&ui.UsageError{Err: err}, "PORT is the original's way to publish ports; unset it or use AI_SANDBOX_EXPOSE")
	}
	if len(legacy) > 0 && !o.quiet {
		deps.Streams.Infof("note: PORT=%s publishes port %s; PORT is deprecated for this, use AI_SANDBOX_EXPOSE=%s (or --expose)",
			deps.Getenv("PORT"), ports.Join(legacy), deps.Getenv("PORT"))
	}
	all := ports.Merge(fromFlag, fromEnv, legacy)
	if web != nil {
		all = ports.Merge(all, []int{web.port})
	}
	return all, nil
}

// checkPorts runs before anything starts: a port that another container
// publishes or a host process listens on is an error naming it. A port
// this launch's own running sandbox publishes is no conflict. When the
// web command's port is published by the sandbox and a server listens
// there already, it returns that server's URL: the web UI runs.
func checkPorts(ctx context.Context, deps *Deps, m *sandbox.Manager, rf *runFacts, name string) (running string, err error) {
	f := &rf.facts
	if len(f.Ports) == 0 {
		return "", nil
	}
	published, err := m.Published(ctx)
	if err != nil {
		return "", err
	}
	bind := "127.0.0.1"
	if f.PortBind == "all" {
		bind = "0.0.0.0"
	}
	for _, port := range f.Ports {
		owner := ""
		for c, ps := range published {
			if slices.Contains(ps, port) {
				owner = c
			}
		}
		switch {
		case owner == name:
			continue
		case owner != "":
			return "", ui.WithHint(fmt.Errorf("port %d is already published by the container %s", port, owner),
				fmt.Sprintf("stop it ('docker stop %s') or publish another port", owner))
		case ports.Free(bind, port):
			continue
		}
		return "", ui.WithHint(fmt.Errorf("port %d is already in use by %s", port, portUser(ctx, deps, port)),
			"stop it, or publish another port")
	}
	if w := rf.web; w != nil && slices.Contains(published[name], w.port) && m.ListensOn(ctx, name, w.port) {
		return w.url(f.PortBind), nil
	}
	return "", nil
}

// portUser names the host process listening on a port: from /proc on
// Linux, from lsof elsewhere.
func portUser(ctx context.Context, deps *Deps, port int) string {
	var found []ports.Listener
	if runtime.GOOS == "linux" {
		found, _ = ports.FromProc("/proc", port)
	} else if res, err := deps.Runner.Output(ctx, ports.LsofArgs(port)); err == nil {
		found = ports.ParseLsof(res.Stdout)
	}
	if len(found) == 0 {
		return "another program"
	}
	names := make([]string, len(found))
	for i, l := range found {
		names[i] = l.String()
	}
	return strings.Join(names, ", ")
}

// portNotes says what a launch publishes: the web command it found and
// the URL, and a warning when ports listen on every interface.
func portNotes(s ui.Streams, f *sandbox.Facts, web *webRun) {
	if web != nil {
		s.Infof("%s %s: publishing port %d (%s)", web.tool, web.sub, web.port, mapping(f.PortBind, web.port))
	}
	if others := slices.DeleteFunc(slices.Clone(f.Ports), func(p int) bool { return web != nil && p == web.port }); len(others) > 0 {
		list := make([]string, len(others))
		for i, p := range others {
			list[i] = mapping(f.PortBind, p)
		}
		s.Infof("publishing %s", strings.Join(list, ", "))
	}
	if f.PortBind == "all" && len(f.Ports) > 0 {
		s.Warnf("port %s listens on every interface of this machine (port-bind all): anyone who can reach it over the network can use it", ports.Join(f.Ports))
	}
	if web != nil && web.loopback != "" {
		s.Warnf("%s %s %s %s listens inside the sandbox only: the published port will not answer; leave --hostname out (ai-sandbox then gives 0.0.0.0)",
			web.tool, web.sub, web.spec.HostFlag, web.loopback)
	}
	if web != nil {
		s.Infof("the web UI: %s", web.url(f.PortBind))
	}
}

func mapping(bind string, port int) string {
	host := "127.0.0.1"
	if bind == "all" {
		host = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d -> %d in the sandbox", host, port, port)
}

// serverAuth decides the web server's password, highest first: --password,
// --password-env VAR, the server's variable (OPENCODE_SERVER_PASSWORD)
// from the env file or the environment, --allow-unsecured (none, quietly),
// a menu on a terminal, else none with a warning. The password reaches the
// session by name, like the API keys: never on an argv.
func serverAuth(deps *Deps, o *runOptions, rf *runFacts) error {
	s := deps.Streams
	w := rf.web
	if w == nil {
		if (o.password != "" || o.passwordEnv != "" || o.allowUnsecured) && !o.quiet {
			s.Warnf("--password, --password-env and --allow-unsecured are for a web server (opencode web or serve, kilo web or serve); this run has none, so they are not used")
		}
		return nil
	}
	name := w.spec.PasswordEnv
	switch {
	case o.password != "":
		setSecret(rf, name, o.password)
		return nil
	case o.passwordEnv != "":
		v, ok := rf.env.Lookup(o.passwordEnv)
		if !ok || v == "" {
			v = deps.Getenv(o.passwordEnv)
		}
		if v == "" {
			return ui.WithHint(fmt.Errorf("--password-env %s: %s is not set", o.passwordEnv, o.passwordEnv),
				"set it in your environment or in ~/.ai-sandbox/env")
		}
		setSecret(rf, name, v)
		return nil
	case hasSecret(rf, name):
		return nil
	case o.allowUnsecured:
		return nil
	case o.print:
		return nil // nothing is asked for a print
	}
	if s.Interactive() {
		return askPassword(deps, rf, name)
	}
	if !o.quiet {
		s.Warnf("the %s server runs without a password: anyone who can reach %s can use %s with your keys in this project", w.tool, w.url(rf.facts.PortBind), w.tool)
		s.Hintf("set %s in ~/.ai-sandbox/env, or pass --password-env VAR; --allow-unsecured runs without one and without this warning", name)
	}
	return nil
}

// askPassword offers to generate a password, to enter one, or none.
func askPassword(deps *Deps, rf *runFacts, name string) error {
	s := deps.Streams
	w := rf.web
	i, err := s.Choose(fmt.Sprintf("%s %s has no password: anyone who can reach %s can use it.", w.tool, w.sub, w.url(rf.facts.PortBind)),
		[]string{"generate a random password (shown once, not stored)", "enter a password (hidden)", "no password"}, 1)
	if err != nil {
		return fmt.Errorf("the password question: %w", err)
	}
	user := deps.Getenv(w.spec.UserEnv)
	if v, ok := rf.env.Lookup(w.spec.UserEnv); ok && v != "" {
		user = v
	}
	if user == "" {
		user = w.spec.DefaultUser
	}
	switch i {
	case 0:
		pw, err := randomPassword(24)
		if err != nil {
			return err
		}
		setSecret(rf, name, pw)
		s.Infof("the password of %s (user %s): %s", w.url(rf.facts.PortBind), user, pw)
		s.Hintf("it is shown only now; to attach from another terminal: %s=<it> %s attach %s", name, w.tool, strings.TrimSuffix(w.url(rf.facts.PortBind), "/"))
	case 1:
		pw, err := s.ReadSecret("Password: ")
		if err != nil {
			return fmt.Errorf("read the password: %w", err)
		}
		if pw == "" {
			return fmt.Errorf("the password is empty")
		}
		setSecret(rf, name, pw)
		s.Infof("the server asks for user %s and this password", user)
	}
	return nil
}

const passwordChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomPassword makes n characters from a 62-letter alphabet (about 143
// bits for 24), uniformly.
func randomPassword(n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(passwordChars)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate a password: %w", err)
		}
		b[i] = passwordChars[k.Int64()]
	}
	return string(b), nil
}

// setSecret passes name=value to the session by name, replacing a value
// the env file gave.
func setSecret(rf *runFacts, name, value string) {
	rf.secretEnv = slices.DeleteFunc(rf.secretEnv, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	rf.secretEnv = append(rf.secretEnv, name+"="+value)
	if !slices.Contains(rf.facts.SecretNames, name) {
		rf.facts.SecretNames = append(rf.facts.SecretNames, name)
	}
}

func hasSecret(rf *runFacts, name string) bool {
	for _, kv := range rf.secretEnv {
		if v, ok := strings.CutPrefix(kv, name+"="); ok && v != "" {
			return true
		}
	}
	return false
}

// envVarOf names the variable that does what a wrapper flag does, for
// the hint after an agent got one.
var envVarOf = map[string]string{
	"expose": "AI_SANDBOX_EXPOSE", "network": "AI_SANDBOX_NETWORK", "image": "AI_SANDBOX_IMAGE",
	"memory": "AI_SANDBOX_MEMORY", "idle-timeout": "AI_SANDBOX_IDLE_TIMEOUT", "port-bind": "AI_SANDBOX_PORT_BIND",
	"egress": "AI_SANDBOX_EGRESS",
}

var longOf = map[string]string{"-e": "expose", "-n": "network", "-s": "shell", "-q": "quiet", "-p": "password"}

// shadowedHints says, once per agent and flag, how to give the wrapper a
// flag of its that reached the agent, when the agent then failed.
func shadowedHints(deps *Deps, rf *runFacts, o *runOptions, code int) {
	if code == 0 || len(o.shadowed) == 0 || o.quiet || rf.agent == nil {
		return
	}
	tool := rf.agent.Name
	var keys []string
	for _, a := range o.shadowed {
		flag, _, _ := strings.Cut(a, "=")
		keys = append(keys, "shadowed "+tool+" "+flag)
	}
	for _, k := range firstTimes(rf.paths, dedupe(keys)) {
		flag := strings.TrimPrefix(k, "shadowed "+tool+" ")
		long := strings.TrimPrefix(flag, "--")
		if l, ok := longOf[flag]; ok {
			long = l
		}
		why := "after the tool's name the short forms are the tool's own"
		if strings.HasPrefix(flag, "--") {
			why = fmt.Sprintf("%s has a flag of that name", tool)
			if rf.agent.FlagsChecked == "" {
				why = fmt.Sprintf("the flags of %s are not known to ai-sandbox, so after its name all of them are its own", tool)
			}
			if !slices.Contains(tools.WrapperFlags(), long) {
				why = "after the tool's name only " + strings.Join(prefixed(tools.WrapperFlags()), ", ") + " are the wrapper's"
			}
		}
		how := fmt.Sprintf("ai-sandbox run --%s ... %s", long, tool)
		if v, ok := envVarOf[long]; ok {
			how += fmt.Sprintf(", or through the alias: %s=... %s", v, tool)
		}
		deps.Streams.Infof("note: %s got %s and exited with %d: %s. If %s was meant for ai-sandbox, put it before the tool: %s", tool, flag, code, why, flag, how)
	}
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return out
}

// webFacts finds the agent's web command in the session's command (not
// in a shell: --shell runs no agent).
func webFacts(agent *tools.Tool, o *runOptions, cmd []string) (*webRun, []string, error) {
	if agent == nil || o.shell || len(cmd) == 0 {
		return nil, cmd, nil
	}
	web, args, err := detectWeb(agent, cmd[1:])
	if err != nil || web == nil {
		return nil, cmd, err
	}
	return web, append([]string{cmd[0]}, args...), nil
}
