// Package proc is the only package that starts processes (os/exec).
// Everything else describes what to run and hands it to a Runner.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// Result is what a finished, captured command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// Stdio is the stdio handed to an interactive command.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Runner starts commands. Env, when not nil, is the whole environment of
// every child (secrets are added per call with ExtraEnv).
type Runner struct {
	Env []string
}

// New returns a Runner whose children inherit env.
func New(env []string) *Runner { return &Runner{Env: env} }

// Output runs argv with captured output. A non-zero exit is not an error:
// it is reported in Result.ExitCode. err is set only when the command
// could not be started.
func (r *Runner) Output(ctx context.Context, argv []string) (Result, error) {
	if len(argv) == 0 {
		return Result{}, errors.New("empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = r.Env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = exitCode(ee)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("run %s: %w", argv[0], err)
	}
	return res, nil
}

// Interactive runs argv attached to stdio and returns its exit code.
// extraEnv is appended to the runner's environment (secret values travel
// this way, never on argv). While the child runs, SIGINT, SIGTERM and
// SIGHUP are caught instead of killing this process; each one is passed
// to onSignal, which forwards it to where it belongs and reports whether
// it did; when it did not, the child itself gets the signal.
func (r *Runner) Interactive(ctx context.Context, argv []string, stdio Stdio, extraEnv []string, onSignal func(os.Signal) bool) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("empty command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append([]string{}, r.Env...), extraEnv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	// A terminal's resize reaches the child from the kernel; docker
	// installs its SIGWINCH handler only after the session has started,
	// so a resize in between would be lost. It is sent again a moment
	// later (a repeated SIGWINCH only makes docker read the size again).
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var repeats []*time.Timer
	defer func() {
		for _, t := range repeats {
			t.Stop()
		}
	}()
	for {
		select {
		case <-winch:
			for _, d := range []time.Duration{time.Second, 5 * time.Second} {
				repeats = append(repeats, time.AfterFunc(d, func() { _ = cmd.Process.Signal(syscall.SIGWINCH) }))
			}
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return exitCode(ee), nil
			}
			if err != nil {
				return 0, fmt.Errorf("wait %s: %w", argv[0], err)
			}
			return 0, nil
		case s := <-sigs:
			if onSignal == nil || !onSignal(s) {
				_ = cmd.Process.Signal(s)
			}
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}

// Run runs argv with the given stdio (nil = none) and extraEnv appended
// to the runner's environment, and returns its exit code. Cancelling ctx
// kills it.
func (r *Runner) Run(ctx context.Context, argv []string, stdio Stdio, extraEnv []string) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append([]string{}, r.Env...), extraEnv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCode(ee), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", argv[0], err)
	}
	return 0, nil
}

// StartDetached starts argv in a session of its own, with no terminal,
// stdin from /dev/null and stdout and stderr appended to logPath, and
// does not wait for it: it outlives this process.
func (r *Runner) StartDetached(argv []string, logPath string) error {
	if len(argv) == 0 {
		return errors.New("empty command")
	}
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", logPath, err)
	}
	defer log.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = r.Env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	return cmd.Process.Release()
}

func exitCode(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// LookPath finds a program on PATH, as starting it would.
func LookPath(name string) (string, error) { return exec.LookPath(name) }
