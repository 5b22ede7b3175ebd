// Command bench is the `make bench` harness: it measures ai-sandbox's launch
// latency, its own CPU per launch, its docker calls per launch and the
// footprint of its quick commands against a real Docker engine, each figure
// paired with bare docker in the same run, and writes the table to
// bench/results/ (latest.md, latest.json and a copy named by date).
//
// Run it through scripts/bench.sh, which builds the product binary the way
// `make build` does. Run as root, it creates nothing but a temporary folder
// and runs every measured command as an unprivileged user (-user) that is in
// the docker group, with HOME in that temporary folder.
//
// It is a benchmark, not a test: it reports figures and marks missed targets,
// and fails only when something could not be measured.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ai-sandbox/ai-sandbox/bench"
)

type options struct {
	bin      string
	out      string
	image    string
	userName string
	runs     int
	settle   time.Duration
	keep     bool
	gitRuns  int    // pairs of the git clone figure (slow: fewer)
	gitMB    int    // the git figure's repository size
	only     string // one figure alone: "git" or "opencode-db"
	// dbSize and dbRuns shape the OpenCode database figure (0 bytes: skip it).
	dbSize int64
	dbRuns int
}

func main() {
	// The proxy throughput figure's server and client, run in containers.
	if len(os.Args) == 3 && os.Args[1] == "__serve" {
		os.Exit(serveChild(os.Args[2]))
	}
	if len(os.Args) == 3 && os.Args[1] == "__fetch" {
		os.Exit(fetchChild(os.Args[2]))
	}
	var o options
	flag.StringVar(&o.bin, "bin", "bin/ai-sandbox", "the ai-sandbox binary to measure (built like `make build`)")
	flag.StringVar(&o.out, "out", "bench/results", "where the results go")
	flag.StringVar(&o.image, "image", "", "the sandbox image (default: ai-sandbox:latest when it exists, else ai-sandbox-test-base:bookworm)")
	flag.StringVar(&o.userName, "user", "aisbx-bench", "the unprivileged user (in the docker group) that runs the measured commands, when run as root")
	flag.IntVar(&o.runs, "n", 31, "pairs per figure (at least 10)")
	flag.DurationVar(&o.settle, "settle", 150*time.Millisecond, "pause before every measured run, so that the engine's clean-up of the previous one is over")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (HOME, project, shim log)")
	flag.IntVar(&o.gitRuns, "git-n", 5, "pairs of the git clone figure (at least 3)")
	flag.IntVar(&o.gitMB, "git-mb", 50, "size of the git clone figure's repository, in MB")
	flag.StringVar(&o.only, "only", "", "measure only this figure (git or opencode-db); writes only-FIGURE.{md,json}, never latest.*")
	flag.Int64Var(&o.dbSize, "db-size", 1e9, "size in bytes of the generated OpenCode database of the migrate-opencode-db figure (0: skip the figure)")
	flag.IntVar(&o.dbRuns, "db-n", 3, "pairs of the migrate-opencode-db figure (each copies the database twice)")
	flag.Parse()
	if o.gitRuns < 3 || o.gitMB < 1 || (o.only != "" && o.only != "git" && o.only != "opencode-db") {
		fmt.Fprintln(os.Stderr, "bench: -git-n must be at least 3, -git-mb at least 1, -only empty, git or opencode-db")
		os.Exit(2)
	}
	if o.runs < 10 {
		fmt.Fprintln(os.Stderr, "bench: -n must be at least 10")
		os.Exit(2)
	}
	h, err := setup(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted; cleaning up")
		h.cleanup()
		os.Exit(130)
	}()
	err = h.measure()
	h.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// harness holds what every measurement needs.
type harness struct {
	o       options
	cred    *syscall.Credential // nil: run as ourselves
	uid     int
	gid     int
	tmp     string
	home    string
	ws      string // the whitelisted workspace
	proj    string // the project (a git work tree), canonical
	bin     string // ai-sandbox, copied where the user may run it
	docker  string // the real docker CLI
	image   string
	env     []string // the user's environment for measured commands
	shimEnv []string // the same with the logging shim first on PATH
	shimLog string
	devnull *os.File
	name    string // the project's sandbox container
	git     *gitServer
	report  bench.Report
}

func setup(o options) (*harness, error) {
	h := &harness{o: o, uid: os.Getuid(), gid: os.Getgid()}
	var err error
	if h.devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
		return nil, err
	}
	if h.docker, err = exec.LookPath("docker"); err != nil {
		return nil, fmt.Errorf("the docker CLI is not on PATH: %w", err)
	}
	if out, err := exec.Command(h.docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker info: %v: %s (start the engine: dockerd)", err, bytes.TrimSpace(out))
	}

	if os.Geteuid() == 0 {
		u, err := user.Lookup(o.userName)
		if err != nil {
			return nil, fmt.Errorf("user %s: %w (scripts/bench.sh creates it; as root the sandbox user would be root)", o.userName, err)
		}
		h.uid, _ = strconv.Atoi(u.Uid)
		h.gid, _ = strconv.Atoi(u.Gid)
		gids, err := u.GroupIds()
		if err != nil {
			return nil, err
		}
		cred := &syscall.Credential{Uid: uint32(h.uid), Gid: uint32(h.gid)}
		for _, g := range gids {
			n, _ := strconv.Atoi(g)
			cred.Groups = append(cred.Groups, uint32(n))
		}
		h.cred = cred
		if h.uid == 0 {
			return nil, fmt.Errorf("user %s is root; use an unprivileged user", o.userName)
		}
	}

	if h.tmp, err = os.MkdirTemp("", "ai-sandbox-bench-"); err != nil {
		return nil, err
	}
	if h.tmp, err = filepath.EvalSymlinks(h.tmp); err != nil {
		return nil, err
	}
	if err := os.Chmod(h.tmp, 0o755); err != nil {
		return nil, err
	}
	h.home = filepath.Join(h.tmp, "home")
	h.ws = filepath.Join(h.home, "code")
	h.proj = filepath.Join(h.ws, "bench-project")
	for _, d := range []string{h.home, h.ws, h.proj} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(d, h.uid, h.gid); err != nil {
			return nil, err
		}
	}
	_ = os.Chmod(h.home, 0o700)

	// The binary, where the user may run it.
	binDir := filepath.Join(h.tmp, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		return nil, err
	}
	h.bin = filepath.Join(binDir, "ai-sandbox")
	if err := copyFile(o.bin, h.bin, 0o755); err != nil {
		return nil, fmt.Errorf("the ai-sandbox binary: %w", err)
	}

	// The logging docker shim, built now with the paths baked in.
	shimDir := filepath.Join(h.tmp, "shim")
	if err := os.Mkdir(shimDir, 0o755); err != nil {
		return nil, err
	}
	h.shimLog = filepath.Join(h.tmp, "shim.log")
	if err := os.WriteFile(h.shimLog, nil, 0o666); err != nil {
		return nil, err
	}
	_ = os.Chown(h.shimLog, h.uid, h.gid)
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(shimDir, "docker"),
		"-ldflags", "-s -w -X main.realDocker="+h.docker+" -X main.logPath="+h.shimLog,
		"github.com/ai-sandbox/ai-sandbox/bench/cmd/dockershim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the docker shim: %v\n%s", err, out)
	}

	// The image: the product's default when it is built, else the test base.
	h.image = o.image
	if h.image == "" {
		h.image = "ai-sandbox:latest"
		if exec.Command(h.docker, "image", "inspect", h.image).Run() != nil {
			h.image = "ai-sandbox-test-base:bookworm"
		}
	}
	if out, err := exec.Command(h.docker, "image", "inspect", h.image).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("image %s: %s (scripts/test-base-image.sh builds the test base)", h.image, firstLine(string(out)))
	}

	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if p := os.Getenv("PATH"); p != "" {
		path = p
	}
	name := o.userName
	if h.cred == nil {
		name = os.Getenv("USER")
	}
	h.env = []string{"HOME=" + h.home, "USER=" + name, "LOGNAME=" + name, "LANG=C.UTF-8"}
	if h.image != "ai-sandbox:latest" {
		// The product's own setting (as a user would export it).
		h.env = append(h.env, "AI_SANDBOX_IMAGE="+h.image)
	}
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"} {
		if v, ok := os.LookupEnv(k); ok {
			h.env = append(h.env, k+"="+v)
		}
	}
	h.shimEnv = append(append([]string{}, h.env...), "PATH="+shimDir+":"+path)
	h.env = append(h.env, "PATH="+path)

	// A whitelisted project that is a git work tree, made by the user.
	if _, err := exec.LookPath("git"); err == nil {
		if res, err := h.runAs(h.env, "git", "init", "-q"); err != nil || res.code != 0 {
			return nil, fmt.Errorf("git init: %v %s", err, res.stderr)
		}
	} else {
		for _, d := range []string{".git", ".git/hooks", ".git/objects", ".git/refs"} {
			if err := os.Mkdir(filepath.Join(h.proj, d), 0o755); err != nil {
				return nil, err
			}
		}
		_ = os.WriteFile(filepath.Join(h.proj, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
		_ = os.WriteFile(filepath.Join(h.proj, ".git", "config"), []byte("[core]\n\trepositoryformatversion = 0\n"), 0o644)
		_ = exec.Command("chown", "-R", strconv.Itoa(h.uid)+":"+strconv.Itoa(h.gid), h.proj).Run()
	}
	if res, err := h.runAs(h.env, h.bin, "workspace", "add", h.ws); err != nil || res.code != 0 {
		return nil, fmt.Errorf("ai-sandbox workspace add: %v %s", err, res.stderr)
	}

	h.report = bench.Report{Date: time.Now().Format(time.RFC3339), Runs: o.runs, Host: h.hostInfo()}
	return h, nil
}

// result is one finished process.
type result struct {
	wall   time.Duration
	ru     *syscall.Rusage
	pid    int
	code   int
	stderr string // only when captured
}

func (r result) ms() float64 { return float64(r.wall.Microseconds()) / 1000 }

// spawn runs argv (argv[0] is the name shown to the program; path is the
// file run) as the bench user in the project, stdin and stdout on
// /dev/null, and times it from start to reaped. With capture, stderr is
// kept (for error messages only: measured runs send it to /dev/null).
func (h *harness) spawn(env []string, path string, argv []string, capture bool) (result, error) {
	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, Dir: h.proj,
		Stdin: h.devnull, Stdout: h.devnull, Stderr: h.devnull}
	var errb bytes.Buffer
	if capture {
		cmd.Stderr = &errb
	}
	if h.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: h.cred}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	err := cmd.Wait()
	wall := time.Since(start)
	res := result{wall: wall, pid: cmd.Process.Pid, stderr: strings.TrimSpace(errb.String())}
	if cmd.ProcessState == nil {
		return res, err
	}
	res.code = cmd.ProcessState.ExitCode()
	res.ru, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, err
	}
	return res, nil
}

// runAs runs a command by name (looked up on the harness's PATH), with stderr captured.
func (h *harness) runAs(env []string, name string, args ...string) (result, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return result{}, err
	}
	return h.spawn(env, path, append([]string{filepath.Base(name)}, args...), true)
}

// measured runs one measured command; on failure it runs it again with
// stderr captured, to say why.
func (h *harness) measured(env []string, path string, argv []string) (result, error) {
	res, err := h.spawn(env, path, argv, false)
	if err == nil && res.code == 0 {
		return res, nil
	}
	again, _ := h.spawn(env, path, argv, true)
	return res, fmt.Errorf("%s exited with %d (%v): %s", strings.Join(argv, " "), res.code, err, again.stderr)
}

func (h *harness) sandbox(env []string, args ...string) (result, error) {
	return h.measured(env, h.bin, append([]string{"ai-sandbox"}, args...))
}

func (h *harness) bare(args ...string) (result, error) {
	return h.measured(h.env, h.docker, append([]string{"docker"}, args...))
}

// engine runs a docker command of the harness's own (not measured).
func (h *harness) engine(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, h.docker, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// coldPairs times n pairs of cold launches, 'ai-sandbox run true' (A)
// and bare 'docker run --rm --init IMG true' (B), alternating, the
// project's container removed before each and before (not timed) each A.
func (h *harness) coldPairs(n int, beforeA func()) (a, b []float64, err error) {
	for i := 0; i < n; i++ {
		for _, first := range order(i) {
			if err := h.removeSandbox(); err != nil {
				return nil, nil, err
			}
			if first && beforeA != nil {
				beforeA()
			}
			h.settle()
			var res result
			if first {
				res, err = h.sandbox(h.env, "run", "true")
			} else {
				res, err = h.bare("run", "--rm", "--init", h.image, "true")
			}
			if err != nil {
				return nil, nil, err
			}
			if first {
				a = append(a, res.ms())
			} else {
				b = append(b, res.ms())
			}
		}
	}
	return a, b, h.removeSandbox()
}

// egressDir is the egress folder of the bench's home (the proxy's label).
func (h *harness) egressDir() string {
	return filepath.Join(h.home, ".ai-sandbox", "egress")
}

// removeSandbox removes the project's container and waits until it is gone.
func (h *harness) removeSandbox() error {
	if h.name == "" {
		return nil
	}
	_, _ = h.engine("rm", "-f", h.name)
	for i := 0; i < 200; i++ {
		if _, err := h.engine("container", "inspect", "--format", "{{.Id}}", h.name); err != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s is still there after docker rm -f", h.name)
}

// sandboxID is the id of the running sandbox container, "" when none runs.
func (h *harness) sandboxID() string {
	out, err := h.engine("container", "inspect", "--format", "{{if .State.Running}}{{.Id}}{{end}}", h.name)
	if err != nil {
		return ""
	}
	return out
}

func (h *harness) cleanup() {
	h.stopGitServer()
	// Every container of the bench's own project (its path is unique).
	if out, err := h.engine("ps", "-aq", "--filter", "label=ai-sandbox.path="+h.proj); err == nil && out != "" {
		_, _ = h.engine(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	// The egress proxy and forwarders of the bench's home, then its networks.
	if out, err := h.engine("ps", "-aq", "--filter", "label=ai-sandbox.egress-dir="+h.egressDir()); err == nil && out != "" {
		_, _ = h.engine(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	if out, err := h.engine("network", "ls", "-q", "--filter", "label=ai-sandbox.egress-dir="+h.egressDir()); err == nil && out != "" {
		_, _ = h.engine(append([]string{"network", "rm"}, strings.Fields(out)...)...)
	}
	if !h.o.keep {
		_ = os.RemoveAll(h.tmp)
	} else {
		fmt.Fprintf(os.Stderr, "bench: kept %s\n", h.tmp)
	}
}

func (h *harness) settle() { time.Sleep(h.o.settle) }

func (h *harness) measure() error {
	if h.o.only == "opencode-db" {
		if err := h.dbFigure(); err != nil {
			return err
		}
		return h.write()
	}
	n := h.o.runs
	img := h.image
	if h.o.only == "git" {
		h.report.Runs = h.o.gitRuns
		if err := h.gitClone(); err != nil {
			_ = h.write()
			return err
		}
		return h.write()
	}
	logf("image %s, %d pairs per figure, project %s", img, n, h.proj)

	// A first launch, not measured: it names the container and warms caches.
	if _, err := h.sandbox(h.env, "run", "true"); err != nil {
		return fmt.Errorf("first launch: %w", err)
	}
	out, err := h.engine("ps", "-a", "--filter", "label=ai-sandbox.path="+h.proj, "--format", "{{.Names}}")
	if err != nil || out == "" || strings.Contains(out, "\n") {
		return fmt.Errorf("find the project's sandbox container: %q %v", out, err)
	}
	h.name = out
	if _, err := h.bare("run", "--rm", "--init", img, "true"); err != nil {
		return fmt.Errorf("baseline warm-up: %w", err)
	}

	// 1. Cold launch.
	logf("cold launch: ai-sandbox run true vs docker run --rm --init %s true", img)
	coldA, coldB, err := h.coldPairs(n, nil)
	if err != nil {
		return fmt.Errorf("cold launch: %w", err)
	}
	h.add(bench.NewRow("cold-launch", "Cold launch (egress allowlist, the proxy up)", "ai-sandbox run true",
		"`docker run --rm --init "+img+" true`", "ms", coldA, coldB, bench.Target{On: "ratio", Op: "<=", Limit: 1.35}))

	// 1b. Cold launch that must start the user's egress proxy first.
	proxy, err := h.engine("ps", "--filter", "label=ai-sandbox.role=egress-proxy", "--filter", "label=ai-sandbox.egress-dir="+h.egressDir(), "--format", "{{.Names}}")
	if err != nil || proxy == "" || strings.Contains(proxy, "\n") {
		return fmt.Errorf("find the egress proxy: %q %v", proxy, err)
	}
	logf("cold launch with the proxy started: ai-sandbox run true (%s removed first) vs docker run --rm --init %s true", proxy, img)
	startA, startB, err := h.coldPairs(n, func() { _, _ = h.engine("rm", "-f", proxy) })
	if err != nil {
		return fmt.Errorf("cold launch with the proxy started: %w", err)
	}
	h.add(bench.NewRow("cold-launch-proxy-start", "Cold launch that starts the egress proxy", "ai-sandbox run true",
		"`docker run --rm --init "+img+" true`", "ms", startA, startB, bench.Target{}))

	// 2. Warm launch.
	logf("warm launch: ai-sandbox run true vs docker exec %s true", h.name)
	if _, err := h.sandbox(h.env, "run", "true"); err != nil {
		return err
	}
	id := h.sandboxID()
	if id == "" {
		return fmt.Errorf("%s does not run after a launch", h.name)
	}
	if _, err := h.bare("exec", h.name, "true"); err != nil {
		return err
	}
	var warmA, warmB []float64
	for i := 0; i < n; i++ {
		for _, first := range order(i) {
			h.settle()
			var res result
			if first {
				res, err = h.sandbox(h.env, "run", "true")
			} else {
				res, err = h.bare("exec", h.name, "true")
			}
			if err != nil {
				return fmt.Errorf("warm launch: %w", err)
			}
			if first {
				warmA = append(warmA, res.ms())
			} else {
				warmB = append(warmB, res.ms())
			}
		}
	}
	warmRow := bench.NewRow("warm-launch", "Warm launch", "ai-sandbox run true",
		"`docker exec "+h.name+" true`", "ms", warmA, warmB, bench.Target{On: "ratio", Op: "<=", Limit: 1.2})
	if now := h.sandboxID(); now != id {
		warmRow.Note = "the container changed during the warm runs: some were not warm"
		h.report.Notes = append(h.report.Notes, "warm launch: "+warmRow.Note)
	}
	h.add(warmRow)

	// 3. The egress proxy's throughput.
	if err := h.proxyThroughput(); err != nil {
		logf("egress proxy throughput: not measured: %v", err)
		r := bench.NewRow("egress-proxy-download", fmt.Sprintf("%d MB download through the egress proxy (time)", dlBytes>>20), "", "", "ms",
			nil, nil, bench.Target{On: "ratio", Op: "<=", Limit: 1.25})
		r.Met = false
		r.Note = "not measured: " + err.Error()
		h.add(r)
		h.report.Notes = append(h.report.Notes, "egress proxy download: NOT MEASURED: "+err.Error())
	}

	// 3 and 4. The wrapper's own CPU and its docker calls, through the shim.
	cold, err := h.shimmed(n, true)
	if err != nil {
		return err
	}
	warm, err := h.shimmed(n, false)
	if err != nil {
		return err
	}
	if err := h.removeSandbox(); err != nil {
		return err
	}
	h.add(bench.NewRow("wrapper-cpu-cold", "Wrapper CPU (user+sys of ai-sandbox itself), cold",
		"ai-sandbox run true", "docker CLI's own CPU, same launches", "ms", cold.wrapper, cold.docker, bench.Target{On: "value", Op: "<", Limit: 15}))
	h.add(bench.NewRow("wrapper-cpu-warm", "Wrapper CPU (user+sys of ai-sandbox itself), warm",
		"ai-sandbox run true", "docker CLI's own CPU, same launches", "ms", warm.wrapper, warm.docker, bench.Target{On: "value", Op: "<", Limit: 15}))
	// Under the allowlist a cold launch also reads the proxy's state and
	// address (one call) and, after the start, the sandbox's address.
	callsCold := bench.NewRow("docker-calls-cold", "docker CLI calls per launch (largest seen), cold",
		"ai-sandbox run true", "(bare `docker run`)", "calls", cold.calls, ones(n), bench.Target{On: "value", Op: "<=", Limit: 5})
	callsCold.Note = cold.sequence
	h.add(callsCold)
	callsWarm := bench.NewRow("docker-calls-warm", "docker CLI calls per launch (largest seen), warm",
		"ai-sandbox run true", "(bare `docker exec`)", "calls", warm.calls, ones(n), bench.Target{On: "value", Op: "<=", Limit: 2})
	callsWarm.Note = warm.sequence
	h.add(callsWarm)
	h.report.Notes = append(h.report.Notes,
		"docker calls, cold launch: "+cold.sequence,
		"docker calls, warm launch: "+warm.sequence)

	// 5. Quick commands: wall time and peak RSS, against docker's own quick command.
	for _, c := range []struct{ id, label string }{{"version", "version"}, {"workspace-list", "workspace list"}} {
		args := strings.Fields(c.label)
		logf("ai-sandbox %s vs docker --version", c.label)
		for i := 0; i < 3; i++ { // warm the page cache
			if _, err := h.sandbox(h.env, args...); err != nil {
				return err
			}
			if _, err := h.bare("--version"); err != nil {
				return err
			}
		}
		var wallA, wallB, rssA, rssB []float64
		for i := 0; i < n; i++ {
			for _, first := range order(i) {
				var res result
				if first {
					res, err = h.sandbox(h.env, args...)
				} else {
					res, err = h.bare("--version")
				}
				if err != nil {
					return err
				}
				mb := float64(bench.MaxRSSBytes(res.ru)) / 1e6
				if first {
					wallA, rssA = append(wallA, res.ms()), append(rssA, mb)
				} else {
					wallB, rssB = append(wallB, res.ms()), append(rssB, mb)
				}
			}
		}
		h.add(bench.NewRow(c.id+"-wall", "Wall time", "ai-sandbox "+c.label, "`docker --version`", "ms",
			wallA, wallB, bench.Target{On: "value", Op: "<", Limit: 10}))
		h.add(bench.NewRow(c.id+"-rss", "Peak RSS (ru_maxrss)", "ai-sandbox "+c.label, "`docker --version`", "MB",
			rssA, rssB, bench.Target{On: "value", Op: "<", Limit: 30}))
	}

	// 6. git clone through the git relay (its own failure is a note).
	_ = h.gitClone()

	// 7. Image sizes.
	h.images()

	// 7. Splitting an OpenCode database.
	if h.o.dbSize > 0 {
		if err := h.dbFigure(); err != nil {
			return err
		}
	}

	h.report.Notes = append(h.report.Notes,
		"every measured command runs as an unprivileged user in the docker group, in a whitelisted git project, stdin and stdout on /dev/null, stderr on /dev/null",
		"cold: the project's container is removed (docker rm -f, not timed) before every cold run of either kind; a "+h.o.settle.String()+" pause precedes every measured run",
		"wrapper CPU = wait4 rusage of ai-sandbox (itself + the children it reaped) − the CPU of every docker call's process tree, as recorded by a logging docker shim first on PATH (separate runs from the wall-time ones)")
	return h.write()
}

// order says which of a pair runs first: A (true) first on even pairs,
// B first on odd ones, so neither always follows the other.
func order(i int) []bool {
	if i%2 == 0 {
		return []bool{true, false}
	}
	return []bool{false, true}
}

func ones(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

type shimmedRuns struct {
	wrapper, docker, calls []float64
	sequence               string
}

// shimmed launches `ai-sandbox run true` n times with the logging shim
// first on PATH, cold (container removed before each) or warm.
func (h *harness) shimmed(n int, cold bool) (shimmedRuns, error) {
	kind := "warm"
	if cold {
		kind = "cold"
	}
	logf("wrapper CPU and docker calls, %s", kind)
	var out shimmedRuns
	if !cold {
		if _, err := h.sandbox(h.env, "run", "true"); err != nil {
			return out, err
		}
	}
	seqs := map[string]int{}
	for i := 0; i < n; i++ {
		if cold {
			if err := h.removeSandbox(); err != nil {
				return out, err
			}
		}
		h.settle()
		if err := os.Truncate(h.shimLog, 0); err != nil {
			return out, err
		}
		res, err := h.sandbox(h.shimEnv, "run", "true")
		if err != nil {
			return out, fmt.Errorf("%s launch through the shim: %w", kind, err)
		}
		data, err := os.ReadFile(h.shimLog)
		if err != nil {
			return out, err
		}
		calls, err := bench.ParseShimLog(data)
		if err != nil {
			return out, err
		}
		var seq []string
		for _, c := range calls {
			if c.PPID != res.pid {
				return out, fmt.Errorf("a docker call not made by ai-sandbox (pid %d, parent %d): %v", c.PID, c.PPID, c.Argv)
			}
			seq = append(seq, fmt.Sprintf("%s (exit %d)", c.Subcommand(), c.Exit))
		}
		seqs[strings.Join(seq, " → ")]++
		out.wrapper = append(out.wrapper, ms(bench.WrapperCPU(bench.CPU(res.ru), calls)))
		out.docker = append(out.docker, ms(bench.DockerCPU(calls)))
		out.calls = append(out.calls, float64(len(calls)))
	}
	var parts []string
	for s, k := range seqs {
		parts = append(parts, fmt.Sprintf("%s ×%d", s, k))
	}
	out.sequence = strings.Join(parts, "; ")
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (h *harness) add(r bench.Row) {
	mark := "ok"
	if !r.Met {
		mark = "MISSED"
	}
	if len(r.BaselineSamp) > 0 {
		logf("  %-22s %8.2f %-5s baseline %8.2f  ratio %.2f  [%s %s]", r.ID, r.Value, r.Unit, r.BaselineValue, r.Ratio, r.Target.String(r.Unit), mark)
	} else {
		logf("  %-22s %8.2f %-5s [%s %s]", r.ID, r.Value, r.Unit, r.Target.String(r.Unit), mark)
	}
	h.report.Rows = append(h.report.Rows, r)
}

// images reports the sandbox images' sizes: scripts/bench-image-sizes.sh
// when it exists, else every ai-sandbox:* image and every image labelled
// ai-sandbox.*.
func (h *harness) images() {
	if st, err := os.Stat("scripts/bench-image-sizes.sh"); err == nil && !st.IsDir() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "bash", "scripts/bench-image-sizes.sh").Output()
		if err == nil && strings.TrimSpace(string(out)) != "" {
			h.report.ImageScript = string(out)
			return
		}
		h.report.Notes = append(h.report.Notes, fmt.Sprintf("scripts/bench-image-sizes.sh failed (%v); sizes from docker image inspect", err))
	}
	ids, err := h.engine("image", "ls", "-q", "--no-trunc")
	if err != nil || ids == "" {
		h.report.ImageNote = "not built"
		return
	}
	args := append([]string{"image", "inspect", "--format", "{{json .RepoTags}}\t{{.Size}}\t{{json .Config.Labels}}"}, uniq(strings.Fields(ids))...)
	out, err := h.engine(args...)
	if err != nil {
		h.report.ImageNote = "not measured: docker image inspect failed"
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		var tags []string
		var labels map[string]string
		_ = json.Unmarshal([]byte(f[0]), &tags)
		_ = json.Unmarshal([]byte(f[2]), &labels)
		size, _ := strconv.ParseInt(f[1], 10, 64)
		if im, ok := bench.SandboxImage(tags, labels, size); ok {
			h.report.Images = append(h.report.Images, im)
		}
	}
	if len(h.report.Images) == 0 {
		h.report.ImageNote = "not built (no ai-sandbox:* image and no image labelled ai-sandbox.*)"
	}
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (h *harness) write() error {
	if err := os.MkdirAll(h.o.out, 0o755); err != nil {
		return err
	}
	md := h.report.Markdown()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<=" stays readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(h.report); err != nil {
		return err
	}
	js := buf.Bytes()
	day := time.Now().Format("2006-01-02")
	files := map[string][]byte{
		"latest.md": []byte(md), "latest.json": js,
		day + ".md": []byte(md), day + ".json": js,
	}
	if h.o.only != "" { // a partial run never replaces the full table
		day = "only-" + h.o.only
		files = map[string][]byte{day + ".md": []byte(md), day + ".json": js}
	}
	for name, data := range files {
		p := filepath.Join(h.o.out, name)
		if err := os.WriteFile(p+".tmp", data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return err
		}
	}
	fmt.Print(md)
	if h.o.only != "" {
		logf("wrote %s/%s.md and %s.json", h.o.out, day, day)
		return nil
	}
	logf("wrote %s/latest.md and latest.json (and %s.*)", h.o.out, day)
	return nil
}

func (h *harness) hostInfo() map[string]string {
	info := map[string]string{
		"go":    runtime.Version(),
		"cores": strconv.Itoa(runtime.NumCPU()),
		"image": h.image,
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		info["kernel"] = strings.TrimSpace(string(rel))
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				info["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if v, err := h.engine("version", "--format", "client {{.Client.Version}}, engine {{.Server.Version}}"); err == nil {
		info["docker"] = v + " (" + h.docker + ")"
	}
	if out, err := exec.Command(h.bin, "version").Output(); err == nil {
		info["ai-sandbox"] = strings.TrimSpace(strings.TrimPrefix(string(out), "ai-sandbox "))
	}
	return info
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
