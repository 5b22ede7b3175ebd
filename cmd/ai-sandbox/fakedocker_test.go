package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
// FAKE_EXEC_EXIT=N (the session's command exits N), FAKE_RUN (the
// session's command runs, on the host, with the session's stdio), FAKE_STOPPING (the
// keeper is stopping: guard and hold refuse), FAKE_NO_NETWORK=NAME (that
// network does not exist), FAKE_PUBLISHED="NAME=PORTS;…" (docker ps's
// Ports column of running containers), FAKE_BINDINGS (the sandbox's
// {{json .HostConfig.PortBindings}}), FAKE_LISTEN=PORT (a server listens
// on it inside the sandbox), FAKE_NETWORKS="NAME:COMPOSE:CONTAINER,…;…"
// (docker network ls and inspect), FAKE_RUNNING="NAME|TOOL|PROJECT|PATH|OWNER;…"
// (docker ps of the running sandboxes), FAKE_CONTAINERS="ID|NAME|TOOL|PATH|STATE|IMAGE;…"
// (docker ps --all), FAKE_IMAGES="ID|REPO|TAG|SIZE|TOOLS[|ADDONS];…" (docker image ls
// and inspect of the sandbox images), FAKE_RM_FAIL=ID (docker rm or image
// rm of it fails), FAKE_VERSION="CLIENT|SERVER" and FAKE_INFO (the JSON of
// docker info) for doctor.
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
	if code, done := fakeEgress(args, work); done {
		return code
	}
	switch args[0] {
	case "container":
		if !running {
			fmt.Fprintf(os.Stderr, "Error: No such container: %s\n", name)
			return 1
		}
		egressLabel, _ := os.ReadFile(filepath.Join(work, "docker.egress"))
		fmt.Printf("running|true|%s||%s|%s\n", state, os.Getenv("FAKE_BINDINGS"), egressLabel)
	case "ps":
		switch {
		case len(args) > 1 && args[1] == "--all":
			printRecords(os.Getenv("FAKE_CONTAINERS"))
		case strings.Contains(strings.Join(args, " "), sandbox.LabelOwner):
			for _, r := range strings.Split(os.Getenv("FAKE_RUNNING"), ";") {
				if r != "" {
					fmt.Println(strings.ReplaceAll(r, "|", "\t") + "\t2026-11-29 08:00:00 +0000 UTC")
				}
			}
		default:
			for _, c := range strings.Split(os.Getenv("FAKE_PUBLISHED"), ";") {
				if n, ports, ok := strings.Cut(c, "="); ok {
					fmt.Printf("%s\t%s\n", n, ports)
				}
			}
		}
	case "image":
		return fakeImage(args[1:])
	case "version":
		v := os.Getenv("FAKE_VERSION")
		if v == "" {
			v = "27.3.1|27.3.1"
		}
		fmt.Println(v)
	case "info":
		info := os.Getenv("FAKE_INFO")
		if info == "" {
			info = `{"ServerVersion":"27.3.1","SecurityOptions":["name=seccomp,profile=default"],"Runtimes":{"runc":{}},"DefaultRuntime":"runc","Driver":"overlay2"}`
		}
		fmt.Println(info)
	case "network":
		return fakeNetwork(args[1:])
	case "top":
		fmt.Println("PID PPID\n10 0\n11 10")
		if os.Getenv("FAKE_SESSIONS") != "" {
			fmt.Println("12 0")
		}
	case "rm":
		if f := os.Getenv("FAKE_RM_FAIL"); f != "" && slices.Contains(args, f) {
			fmt.Fprintf(os.Stderr, "Error response from daemon: cannot remove container %s\n", f)
			return 1
		}
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
			if v, ok := strings.CutPrefix(a, sandbox.LabelEgress+"="); ok {
				os.WriteFile(filepath.Join(work, "docker.egress"), []byte(v), 0o644)
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
		return fakeExec(args, string(state), work, name)
	}
	return 0
}

// fakeEgress plays the allowlist policy's containers and networks: the
// sandbox's own network (docker.nets), the user's proxy (docker.proxy)
// and the port forwarder, apart from the sandbox's state. FAKE_PROXY_DOWN
// makes the proxy fail to start.
func fakeEgress(args []string, work string) (code int, done bool) {
	line := strings.Join(args, " ")
	nets := filepath.Join(work, "docker.nets")
	proxy := filepath.Join(work, "docker.proxy")
	last := args[len(args)-1]
	switch {
	case args[0] == "network" && len(args) > 1 && args[1] == "create":
		appendFile(nets, last+"\n")
		fmt.Println("0123abcd")
		return 0, true
	case args[0] == "network" && len(args) > 1 && args[1] == "inspect" && strings.Contains(line, ".Internal"):
		data, _ := os.ReadFile(nets)
		if !slices.Contains(strings.Split(string(data), "\n"), last) {
			fmt.Fprintf(os.Stderr, "Error: No such network: %s\n", last)
			return 1, true
		}
		fmt.Println("true true")
		return 0, true
	case args[0] == "network" && len(args) > 1 && (args[1] == "connect" || args[1] == "disconnect"):
		return 0, true
	case args[0] == "container" && strings.Contains(line, ".State.Running}} {{with") && strings.HasPrefix(last, "ai-sandbox-egress-"):
		// The proxy's state and address on a network: running and on
		// every network once started (the fake does not track joins).
		if _, err := os.Stat(proxy); err != nil {
			fmt.Fprintf(os.Stderr, "Error: No such container: %s\n", last)
			return 1, true
		}
		fmt.Println("true 192.168.64.2")
		return 0, true
	case args[0] == "container" && strings.Contains(line, ".NetworkSettings.Networks"):
		if strings.HasPrefix(last, "ai-sandbox-egress-") {
			fmt.Println("192.168.64.2")
		} else {
			fmt.Println("192.168.64.3")
		}
		return 0, true
	case args[0] == "container" && strings.HasPrefix(last, "ai-sandbox-egress-"):
		if _, err := os.Stat(proxy); err != nil {
			fmt.Fprintf(os.Stderr, "Error: No such container: %s\n", last)
			return 1, true
		}
		fmt.Println("running|true||||")
		return 0, true
	case args[0] == "run" && strings.Contains(line, "__egress-proxy"):
		if os.Getenv("FAKE_PROXY_DOWN") != "" {
			fmt.Fprintln(os.Stderr, "docker: Error response from daemon: failed to create the proxy.")
			return 125, true
		}
		os.WriteFile(proxy, []byte("running"), 0o644)
		fmt.Println("9a8b7c6d")
		return 0, true
	case args[0] == "run" && strings.Contains(line, "__port-forward"):
		fmt.Println("5e6f7a8b")
		return 0, true
	case args[0] == "rm" && strings.HasSuffix(last, "-ports"):
		return 0, true
	}
	return 0, false
}

// printRecords prints "A|B|C;…" as tab-separated lines.
func printRecords(v string) {
	for _, r := range strings.Split(v, ";") {
		if r != "" {
			fmt.Println(strings.ReplaceAll(r, "|", "\t"))
		}
	}
}

// fakeImage plays docker image ls, inspect and rm of FAKE_IMAGES.
func fakeImage(args []string) int {
	type image struct{ id, repo, tag, size, tools, addons string }
	var images []image
	for _, r := range strings.Split(os.Getenv("FAKE_IMAGES"), ";") {
		if f := strings.Split(r, "|"); len(f) == 5 || len(f) == 6 {
			im := image{f[0], f[1], f[2], f[3], f[4], ""}
			if len(f) == 6 {
				im.addons = f[5]
			}
			images = append(images, im)
		}
	}
	if len(args) == 0 {
		return 0
	}
	switch args[0] {
	case "ls":
		for _, im := range images {
			fmt.Printf("%s\t%s\t%s\n", im.id, im.repo, im.tag)
		}
	case "inspect":
		found := false
		for _, a := range args[3:] {
			for _, im := range images {
				if a == im.id || a == im.repo+":"+im.tag {
					found = true
					labels := fmt.Sprintf("{\"ai-sandbox.image\":\"1\",\"ai-sandbox.tools\":\"%s\",\"ai-sandbox.preset\":\"base\",\"ai-sandbox.addons\":\"%s\"}", im.tools, im.addons)
					if strings.Contains(args[2], "{{.Id}}") {
						fmt.Printf("%s\t%s\t2020-01-20T10:00:00.000000000Z\t%s\n", im.id, im.size, labels)
					} else {
						fmt.Printf("%s\t2020-01-20T10:00:00.000000000Z\n", labels)
					}
				}
			}
		}
		if !found {
			fmt.Fprintln(os.Stderr, "Error: No such image: "+args[len(args)-1])
			return 1
		}
	case "rm":
		if f := os.Getenv("FAKE_RM_FAIL"); f != "" && slices.Contains(args, f) {
			fmt.Fprintf(os.Stderr, "Error response from daemon: conflict: unable to remove repository reference %q\n", f)
			return 1
		}
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
func fakeExec(args []string, spec, work, name string) int {
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
	if os.Getenv("FAKE_RUN") != "" {
		// Run the session's command here, as the container would.
		appendFile(filepath.Join(work, "docker.ran"), "exec ran\n")
		c := exec.Command(rest[6], rest[7:]...)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := c.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			fmt.Fprintln(os.Stderr, err)
			return 127
		}
		return 0
	}
	fmt.Println("exec ran")
	appendFile(filepath.Join(work, "docker.ran"), "exec ran\n")
	if b := os.Getenv("FAKE_BLOCKED"); b != "" {
		// The proxy refused the session a host (twice).
		host, port, _ := strings.Cut(b, ":")
		line := fmt.Sprintf(`{"time":%q,"sandbox":%q,"host":%q,"port":%s,"reason":"not on the allowlist"}`+"\n",
			time.Now().UTC().Format(time.RFC3339Nano), name, host, port)
		appendFile(filepath.Join(os.Getenv("HOME"), ".ai-sandbox", "egress", "log", "blocked.jsonl"), line+line)
	}
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
