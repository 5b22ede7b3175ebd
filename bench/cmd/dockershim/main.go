// Command dockershim is the logging `docker` that `make bench` puts first on
// PATH while it measures the wrapper's own CPU and counts its docker calls.
// It runs the real docker CLI as its child with the same arguments and
// stdio, then appends one JSON line to the log: its argv, its parent's pid,
// and the CPU of its own process tree (getrusage SELF and CHILDREN, read
// just before it exits), so that the harness can take every docker call
// away from what wait4 reports for ai-sandbox. It exits with docker's code.
//
// The real docker path and the log path are set at build time by the
// harness (-ldflags -X), so nothing is added to the environment that
// ai-sandbox sees.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

var (
	realDocker = "/usr/bin/docker"
	logPath    = ""
)

func main() {
	cmd := exec.Command(realDocker, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Signals meant for docker reach it; the shim itself keeps running
	// until docker is done so that the log line is always written.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := 0
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "dockershim: %v\n", err)
		code = 127
	} else {
		go func() {
			for s := range sigs {
				_ = cmd.Process.Signal(s)
			}
		}()
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
			if code < 0 {
				code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
			}
		case err != nil:
			code = 127
		}
	}
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	line, _ := json.Marshal(map[string]any{
		"pid":         os.Getpid(),
		"ppid":        os.Getppid(),
		"self_us":     micros(self),
		"children_us": micros(children),
		"exit":        code,
		"argv":        os.Args[1:],
	})
	if logPath != "" {
		// One write of one line with O_APPEND: lines of concurrent calls
		// do not interleave.
		if f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666); err == nil {
			_, _ = f.Write(append(line, '\n'))
			_ = f.Close()
		}
	}
	os.Exit(code)
}

func micros(ru syscall.Rusage) int64 {
	return int64(ru.Utime.Sec)*1e6 + int64(ru.Utime.Usec) + int64(ru.Stime.Sec)*1e6 + int64(ru.Stime.Usec)
}
