package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
)

// fakeDocker is the `docker` every CLI script finds on its PATH (a script
// may put its own first). It keeps one container's spec hash in
// $WORK/docker.state and plays the guard and hold protocol of
// internal/sandbox the way a real container would, without running
// anything:
//
//	$WORK/docker.log    every call's arguments, one line each
//	$WORK/docker.calls  every call's first argument
//	$WORK/docker.env    NAME=value of each --env NAME passed by name
//	$WORK/docker.ran    "exec ran" for each session that ran
//
// Knobs: FAKE_DOWN (the engine does not answer), FAKE_NO_IMAGE (docker run
// finds no image), FAKE_SESSIONS=N (docker top shows N sessions),
// FAKE_EXEC_EXIT=N (the session's command exits N), FAKE_STOPPING (the
// keeper is stopping: guard and hold refuse), FAKE_NO_NETWORK=NAME (that
// network does not exist), FAKE_PUBLISHED="NAME=PORTS;…" (docker ps's
// Ports column of running containers), FAKE_BINDINGS (the sandbox's
// {{json .HostConfig.PortBindings}}), FAKE_LISTEN=PORT (a server listens
// on it inside the sandbox), FAKE_NETWORKS="NAME:COMPOSE:CONTAINER,…;…"
// (docker network ls and inspect), FAKE_RUNNING="NAME:TOOL:PATH;…" (docker
// ps lists these sandboxes).
func fakeDocker() int {
	work := os.Getenv("WORK")
	args := os.Args[1:]
	appendFile(filepath.Join(work, "docker.log"), strings.Join(args, " ")+"\n")
	if len(args) == 0 {
		return 0
	}
	appendFile(filepath.Join(work, "docker.calls"), args[0]+"\n")
	for i, a := range args {
		if a == "--env" && i+1 < len(args) && !strings.Contains(args[i+1], "=") {
			appendFile(filepath.Join(work, "docker.env"), args[i+1]+"="+os.Getenv(args[i+1])+"\n")
		}
	}
	if os.Getenv("FAKE_DOWN") != "" {
		fmt.Fprintln(os.Stderr, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
		return 1
	}
	statePath := filepath.Join(work, "docker.state")
	state, err := os.ReadFile(statePath)
	running := err == nil
	name := ""
	for _, a := range args {
		if strings.HasPrefix(a, "ai-") && !strings.Contains(a, "=") {
			name = a
			break
		}
	}
	switch args[0] {
	case "container":
		if !running {
			fmt.Fprintf(os.Stderr, "Error: No such container: %s\n", name)
			return 1
		}
		fmt.Printf("running|true|%s||%s\n", state, os.Getenv("FAKE_BINDINGS"))
	case "ps":
		// FAKE_RUNNING="NAME:TOOL:PATH;…": running sandboxes, as listed.
		for _, c := range strings.Split(os.Getenv("FAKE_RUNNING"), ";") {
			if f := strings.Split(c, ":"); len(f) == 3 {
				fmt.Printf("%s\t%s\tproject\t%s\t%d\t2026-11-29 08:00:00 +0000 UTC\n", f[0], f[1], f[2], os.Getuid())
			}
		}
		for _, c := range strings.Split(os.Getenv("FAKE_PUBLISHED"), ";") {
			if n, ports, ok := strings.Cut(c, "="); ok {
				fmt.Printf("%s\t%s\n", n, ports)
			}
		}
	case "network":
		return fakeNetwork(args[1:])
	case "top":
		fmt.Println("PID PPID\n10 0\n11 10")
		if os.Getenv("FAKE_SESSIONS") != "" {
			fmt.Println("12 0")
		}
	case "rm":
		os.Remove(statePath)
	case "run":
		if os.Getenv("FAKE_NO_IMAGE") != "" {
			fmt.Fprintln(os.Stderr, "docker: Error response from daemon: No such image: ai-sandbox:latest.")
			return 125
		}
		for i, a := range args {
			if a == "--network" && i+1 < len(args) && args[i+1] == os.Getenv("FAKE_NO_NETWORK") {
				fmt.Fprintf(os.Stderr, "docker: Error response from daemon: network %s not found.\n", args[i+1])
				return 125
			}
		}
		if running {
			fmt.Fprintf(os.Stderr, "docker: Error response from daemon: Conflict. The container name \"/%s\" is already in use by container \"4f3c\".\n", name)
			return 125
		}
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, sandbox.LabelSpecHash+"="); ok {
				os.WriteFile(statePath, []byte(v), 0o644)
			}
		}
		fmt.Println("4f3c2b1a")
	case "exec":
		if !running {
			fmt.Fprintf(os.Stderr, "Error response from daemon: No such container: %s\n", name)
			return 1
		}
		if len(args) > 2 && args[2] == "cat" {
			if p := os.Getenv("FAKE_LISTEN"); p != "" {
				var n int
				fmt.Sscan(p, &n)
				fmt.Printf("  sl  local_address rem_address   st\n   0: 00000000:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1\n", n)
			}
			return 0
		}
		return fakeExec(args, string(state), work)
	}
	return 0
}

// fakeNetwork plays docker network ls and inspect from FAKE_NETWORKS.
func fakeNetwork(args []string) int {
	type net struct{ name, compose, containers string }
	nets := []net{{name: "bridge"}, {name: "host"}, {name: "none"}}
	for _, n := range strings.Split(os.Getenv("FAKE_NETWORKS"), ";") {
		if f := strings.SplitN(n, ":", 3); len(f) == 3 {
			nets = append(nets, net{f[0], f[1], strings.ReplaceAll(f[2], ",", " ")})
		}
	}
	switch args[0] {
	case "ls":
		for _, n := range nets {
			fmt.Printf("%s\t%s\n", n.name, n.compose)
		}
	case "inspect":
		for _, a := range args[3:] {
			for _, n := range nets {
				if n.name == a {
					fmt.Printf("%s\t%s\n", n.name, n.containers)
				}
			}
		}
	}
	return 0
}

// fakeExec plays a guarded session or a hold.
func fakeExec(args []string, spec, work string) int {
	script, rest := "", []string(nil)
	for i, a := range args {
		if a == sandbox.Guard || a == sandbox.Hold {
			script, rest = a, args[i+1:]
			break
		}
	}
	if script == "" {
		return 0 // an unguarded call (signal forwarding)
	}
	if rest[0] != "-" && rest[0] != spec {
		return sandbox.GuardExit
	}
	stopping := os.Getenv("FAKE_STOPPING") != ""
	if script == sandbox.Hold {
		if stopping {
			return sandbox.StoppingExit
		}
		return 0
	}
	if stopping && rest[4] != "1" {
		return sandbox.StoppingExit
	}
	if rest[5] == "1" {
		fmt.Fprintf(os.Stderr, "%s%s\n", sandbox.StartToken, rest[1])
	}
	fmt.Println("exec ran")
	appendFile(filepath.Join(work, "docker.ran"), "exec ran\n")
	var code int
	fmt.Sscan(os.Getenv("FAKE_EXEC_EXIT"), &code)
	return code
}

func appendFile(path, s string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	io.WriteString(f, s)
}
