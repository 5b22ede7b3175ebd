package gitrelay

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
)

// Runner runs a host command with the given stdio.
type Runner interface {
	Run(ctx context.Context, argv []string, stdio proc.Stdio, extraEnv []string) (int, error)
}

// Config is what one relay serves.
type Config struct {
	// Project is the project folder (canonical): a helper's git dir must
	// lie in it, and its remotes say which hosts are served.
	Project string
	// Push allows git-receive-pack and the helper's push commands (the
	// "full" mode); without it the relay serves fetch only.
	Push bool
	// SSH is the host's ssh command (default: ssh); Git the host's git.
	SSH []string
	Git string
	// Remotes lists the project's remote URLs, read at each request
	// (default: from the project's git config on the host).
	Remotes func() []string
	// Scratch is a folder of the relay's, out of the sandbox's reach, for
	// the scratch repositories of https requests (default: a temporary one).
	Scratch string
}

// Relay serves one project's sandbox.
type Relay struct {
	cfg      Config
	run      Runner
	log      io.Writer
	lastPing atomic.Int64 // unix nanoseconds of the last ping
}

// LastPing is when a launch last asked for the relay (zero: never): a
// launch pings right before it brings its container up.
func (r *Relay) LastPing() time.Time {
	if n := r.lastPing.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// New returns a relay; log gets a line per request (nil = none).
func New(cfg Config, run Runner, log io.Writer) *Relay {
	if len(cfg.SSH) == 0 {
		cfg.SSH = []string{"ssh"}
	}
	if cfg.Git == "" {
		cfg.Git = "git"
	}
	if cfg.Remotes == nil {
		dir := cfg.Project
		cfg.Remotes = func() []string { return project.RemoteURLs(dir) }
	}
	if log == nil {
		log = io.Discard
	}
	if cfg.Scratch == "" {
		cfg.Scratch = filepath.Join(os.TempDir(), fmt.Sprintf("ai-sandbox-relay-%d", os.Getuid()))
	}
	return &Relay{cfg: cfg, run: run, log: log}
}

// Serve answers connections until ctx ends.
func (r *Relay) Serve(ctx context.Context, ln net.Listener) error {
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			r.Handle(ctx, conn)
		}()
	}
}

// Handle serves one request on conn.
func (r *Relay) Handle(ctx context.Context, conn io.ReadWriter) {
	in := bufio.NewReaderSize(conn, 64<<10)
	out := &frameWriter{w: conn}
	req, err := readRequest(in)
	if err != nil {
		r.refuse(out, "bad request: %v", err)
		return
	}
	switch req.Kind {
	case "ping":
		r.lastPing.Store(time.Now().UnixNano())
		b, _ := json.Marshal(Pong{Project: r.cfg.Project, Push: r.cfg.Push, PID: os.Getpid()})
		conn.Write(append(b, '\n'))
	case "ssh":
		r.ssh(ctx, req, in, out)
	case "helper":
		r.helper(ctx, req, in, out)
	default:
		r.refuse(out, "unknown request %q", req.Kind)
	}
}

// refuse tells the sandbox's git why, and ends the request.
func (r *Relay) refuse(out *frameWriter, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(r.log, "%s refused: %s\n", time.Now().Format(time.RFC3339), msg)
	out.frame(frameStderr, []byte("ai-sandbox: "+msg+"\n"))
	out.exit(128)
}

func (r *Relay) logf(format string, a ...any) {
	fmt.Fprintf(r.log, "%s %s\n", time.Now().Format(time.RFC3339), fmt.Sprintf(format, a...))
}

// mode names the relay's access, for messages.
func (r *Relay) mode() string {
	if r.cfg.Push {
		return "full"
	}
	return "fetch-only"
}

func (r *Relay) ssh(ctx context.Context, req Request, in *bufio.Reader, out *frameWriter) {
	t, err := parseSSH(req.Args)
	if err != nil {
		r.refuse(out, "git over ssh: %v", err)
		return
	}
	if !allowedSSH(r.cfg.Remotes(), t.Host) {
		r.refuse(out, "git over ssh to %s: not a remote of this project (git access serves only the hosts of %s's remotes)", t.Host, r.cfg.Project)
		return
	}
	if t.Service == "git-receive-pack" && !r.cfg.Push {
		r.refuse(out, "push to %s refused: this sandbox has fetch-only git access (ai-sandbox git full PATH gives it push)", t.Host)
		return
	}
	argv := append(append([]string{}, r.cfg.SSH...), "-o", "BatchMode=yes", "-o", "SendEnv=GIT_PROTOCOL")
	if t.Port != "" {
		argv = append(argv, "-p", t.Port)
	}
	dest := t.Host
	if t.User != "" {
		dest = t.User + "@" + t.Host
	}
	argv = append(argv, "--", dest, t.Service+" "+sqQuote(t.Path))
	var env []string
	if req.Protocol != "" {
		env = append(env, "GIT_PROTOCOL="+req.Protocol)
	}
	r.logf("ssh %s %s %s", dest, t.Service, t.Path)
	r.pipe(ctx, argv, env, in, out, nil)
}

func (r *Relay) helper(ctx context.Context, req Request, in *bufio.Reader, out *frameWriter) {
	scheme, host, ok := httpRemote(req.URL)
	if !ok {
		r.refuse(out, "git over %q: only http and https remotes go through the relay", req.URL)
		return
	}
	if !allowedHTTP(r.cfg.Remotes(), scheme, host) {
		r.refuse(out, "git over %s to %s: not a remote of this project (git access serves only the hosts of %s's remotes)", scheme, host, r.cfg.Project)
		return
	}
	scratch, done, err := r.scratchRepo()
	if err != nil {
		r.refuse(out, "%v", err)
		return
	}
	defer done()
	env := []string{"GIT_DIR=" + scratch, "GIT_TERMINAL_PROMPT=0"}
	if req.Protocol != "" {
		env = append(env, "GIT_PROTOCOL="+req.Protocol)
	}
	filter := &helperFilter{r: r, out: out, host: host, scratch: scratch}
	if r.cfg.Push {
		// The objects a push sends: read by the host's git, never its config.
		repo, err := r.sandboxRepo(req.GitDir)
		if err == nil {
			var objects string
			if objects, err = repo.objects(); err == nil {
				env = append(env, "GIT_OBJECT_DIRECTORY="+objects)
				filter.repo = repo
			}
		}
		filter.repoErr = err
	}
	argv := []string{r.cfg.Git, "remote-" + scheme, req.Remote, req.URL}
	r.logf("%s %s (%s)", scheme, req.URL, r.mode())
	r.pipe(ctx, argv, env, in, out, func(src io.Reader) io.Reader {
		filter.src = bufio.NewReader(src)
		return filter
	})
}

// pipe runs argv with the request's stdin frames (through filter, when
// set) and its stdout and stderr as frames, then sends its exit code.
func (r *Relay) pipe(ctx context.Context, argv, env []string, in *bufio.Reader, out *frameWriter, filter func(io.Reader) io.Reader) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		defer cancel() // the sandbox's end went away: stop
		for {
			t, data, err := readFrame(in)
			if err != nil {
				pw.CloseWithError(io.ErrUnexpectedEOF)
				return
			}
			switch t {
			case frameStdin:
				if _, err := pw.Write(data); err != nil {
					return
				}
			case frameEOF:
				pw.Close()
			}
		}
	}()
	var stdin io.Reader = pr
	if filter != nil {
		stdin = filter(pr)
	}
	code, err := r.run.Run(ctx, argv, proc.Stdio{In: stdin, Out: stream{out, frameStdout}, Err: stream{out, frameStderr}}, env)
	if err != nil {
		out.frame(frameStderr, []byte("ai-sandbox: "+err.Error()+"\n"))
		code = 128
	}
	out.exit(code)
}
