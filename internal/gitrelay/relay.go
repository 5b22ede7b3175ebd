package gitrelay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
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
}

// Relay serves one project's sandbox.
type Relay struct {
	cfg Config
	run Runner
	log io.Writer
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
	gitDir, err := r.gitDir(req.GitDir)
	if err != nil {
		r.refuse(out, "%v", err)
		return
	}
	argv := []string{r.cfg.Git, "remote-" + scheme, req.Remote, req.URL}
	env := []string{"GIT_DIR=" + gitDir, "GIT_TERMINAL_PROMPT=0"}
	if req.Protocol != "" {
		env = append(env, "GIT_PROTOCOL="+req.Protocol)
	}
	var filter func(io.Reader) io.Reader
	if !r.cfg.Push {
		filter = func(src io.Reader) io.Reader {
			return &fetchOnly{src: bufio.NewReader(src), r: r, out: out, host: host}
		}
	}
	r.logf("%s %s (%s)", scheme, req.URL, r.mode())
	r.pipe(ctx, argv, env, in, out, filter)
}

// gitDir checks the helper's git dir: inside the project, reached
// without a symbolic link (the host's git may write objects into it).
func (r *Relay) gitDir(dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("git dir %q is not an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	rel, err := filepath.Rel(r.cfg.Project, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("git dir %s is not inside the project %s", dir, r.cfg.Project)
	}
	if err := hostfs.New(r.cfg.Project).CheckDir(rel); err != nil {
		return "", fmt.Errorf("git dir: %w", err)
	}
	return dir, nil
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

// fetchOnly passes git's remote-helper commands to the host's helper and
// refuses the ones that push. Once an upload-pack connection is
// established, the rest is that protocol and passes as it is.
type fetchOnly struct {
	src  *bufio.Reader
	r    *Relay
	out  *frameWriter
	host string
	raw  bool
	buf  []byte
	err  error
}

func (f *fetchOnly) Read(p []byte) (int, error) {
	for len(f.buf) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		if f.raw {
			return f.src.Read(p)
		}
		line, err := f.src.ReadString('\n')
		f.err = err
		cmd := strings.TrimSpace(line)
		switch {
		case pushCommand(cmd):
			f.r.refuse(f.out, "push to %s refused: this sandbox has fetch-only git access (ai-sandbox git full PATH gives it push)", f.host)
			return 0, errors.New("push refused")
		case cmd == "stateless-connect git-upload-pack" || cmd == "connect git-upload-pack" || cmd == "connect git-upload-archive":
			f.raw = true
		}
		f.buf = []byte(line)
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}

// pushCommand reports the remote-helper commands that push.
func pushCommand(cmd string) bool {
	return cmd == "list for-push" || strings.HasPrefix(cmd, "push ") || cmd == "export" ||
		strings.HasSuffix(cmd, "git-receive-pack") && (strings.HasPrefix(cmd, "connect ") || strings.HasPrefix(cmd, "stateless-connect "))
}
