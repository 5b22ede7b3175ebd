package docker_test

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// render writes argv as the golden files hold it: the shell line that
// --print shows, then one Go-quoted argument per line.
func render(argv []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "$ docker %s\n", docker.Quote(argv))
	for _, a := range argv {
		fmt.Fprintln(&b, strconv.Quote(a))
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, argv []string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got := render(argv)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/docker -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-golden +got); rerun with -update if the change is meant:\n%s", path, diff)
	}
}

// hardened is the full hardening of DESIGN.md §3.
func hardened() docker.RunSpec {
	return docker.RunSpec{
		Name:  "ai-claude-web-app-1a2b3c4d",
		Image: "ai-sandbox:latest",
		Labels: map[string]string{
			"ai-sandbox.workspace": "/home/u/projects",
			"ai-sandbox.tool":      "claude",
			"ai-sandbox.spec-hash": "0123456789abcdef",
			"ai-sandbox.project":   "web-app-1a2b3c4d",
		},
		Hostname:    "ai-sandbox",
		User:        "1000:1000",
		ReadOnly:    true,
		CapDrop:     []string{"ALL"},
		SecurityOpt: []string{"no-new-privileges", "seccomp=/home/u/.ai-sandbox/cache/seccomp-0123.json"},
		PidsLimit:   1024,
		Memory:      "8g",
		CPUs:        "2",
		CPUShares:   512,
		Init:        true,
		Health:      &docker.Health{Cmd: ": health; kill -0 1", Interval: "60s", Timeout: "10s", Retries: 3},
		Tmpfs: []docker.Tmpfs{
			{Target: "/tmp", Options: "rw,nosuid,nodev,exec,mode=1777"},
			{Target: "/run", Options: "rw,nosuid,nodev,mode=755"},
		},
		Mounts: []docker.Mount{
			{Source: "/home/u/projects/web-app", Target: "/home/u/projects/web-app"},
			{Source: "/home/u/.ai-sandbox/tools/claude/home", Target: "/home/agent"},
			{Source: "/home/u/.gitconfig", Target: "/home/agent/.gitconfig", ReadOnly: true},
		},
		Env: map[string]string{
			"TERM":          "xterm-256color",
			"HOME":          "/home/agent",
			"AI_SANDBOX":    "1",
			"OPENCODE_DB":   "/home/agent/.local/share/opencode/project/opencode.db",
			"COLORTERM":     "truecolor",
			"LANG":          "C.UTF-8",
			"NO_UPDATE_ZZZ": "1",
		},
		Network:    "ai-sandbox-net",
		DNS:        []string{"127.0.0.1"},
		Ports:      []docker.Port{{HostIP: "127.0.0.1", HostPort: 4096, ContainerPort: 4096}},
		Workdir:    "/home/u/projects/web-app",
		Entrypoint: []string{"/usr/local/bin/ai-sandbox-keeper", "--idle", "5m"},
		Cmd:        []string{"sleep", "infinity"},
	}
}

func runCases() map[string]docker.RunSpec {
	return map[string]docker.RunSpec{
		"run-minimal":  {Image: "ai-sandbox:latest"},
		"run-hardened": hardened(),
		"run-odd-mounts": {
			Name:  "ai-shell-odd-00000000",
			Image: "ai-sandbox:latest",
			Mounts: []docker.Mount{
				{Source: "/home/u/my project", Target: "/home/u/my project"},
				{Source: "/home/u/client,v2", Target: "/home/u/client,v2", ReadOnly: true},
				{Source: `/home/u/it's "quoted"`, Target: `/home/u/it's "quoted"`},
				{Source: "/home/u/café/日本語", Target: "/home/u/café/日本語"},
				{Source: "/home/u/ trailing space ", Target: "/w"},
				{Source: "/home/u/a=b", Target: "/home/u/a=b"},
			},
			Workdir: "/home/u/my project",
			Cmd:     []string{"sh", "-c", `echo "$HOME" 'single' $((1+1))`},
		},
		"run-ports": {
			Image: "ai-sandbox:latest",
			Ports: []docker.Port{
				{HostIP: "127.0.0.1", HostPort: 3000, ContainerPort: 3000},
				{HostIP: "::1", HostPort: 3001, ContainerPort: 3000},
				{HostIP: "0.0.0.0", HostPort: 8080, ContainerPort: 80},
				{HostIP: "::", HostPort: 8081, ContainerPort: 80},
				{HostPort: 5555, ContainerPort: 5555},
			},
		},
		"run-entrypoint-only": {
			Image:      "img",
			Entrypoint: []string{"/bin/keeper"},
		},
		"run-no-pids-limit": {
			Image:     "img",
			PidsLimit: -1,
			Memory:    "",
			Env:       map[string]string{"EMPTY": "", "WITH SPACE": "a b", "EQ": "x=y"},
		},
	}
}

func execCases() map[string]docker.ExecSpec {
	return map[string]docker.ExecSpec{
		"exec-minimal": {Container: "ai-shell-app-12345678", Cmd: []string{"bash"}},
		"exec-tty": {
			Container:   "ai-claude-web-app-1a2b3c4d",
			Interactive: true,
			TTY:         true,
			Workdir:     "/home/u/projects/web-app/src",
			Env:         map[string]string{"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
			PassEnv:     []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"},
			Cmd:         []string{"claude", "-p", "fix the bug; don't touch 'main'"},
		},
		"exec-piped": {
			Container:   "ai-opencode-x-00000000",
			Interactive: true,
			Workdir:     "/home/u/my project, v2",
			PassEnv:     []string{"OPENCODE_SERVER_PASSWORD"},
			Cmd:         []string{"opencode", "run", "résumé ✓"},
		},
	}
}

func TestRunArgsGolden(t *testing.T) {
	for name, spec := range runCases() {
		t.Run(name, func(t *testing.T) { golden(t, name, docker.RunArgs(spec)) })
	}
}

func TestExecArgsGolden(t *testing.T) {
	for name, spec := range execCases() {
		t.Run(name, func(t *testing.T) { golden(t, name, docker.ExecArgs(spec)) })
	}
}

// Maps are rendered in sorted order: the argv never depends on Go's
// random map iteration.
func TestArgsAreDeterministic(t *testing.T) {
	first := docker.RunArgs(hardened())
	firstExec := docker.ExecArgs(execCases()["exec-tty"])
	for i := 0; i < 50; i++ {
		if diff := cmp.Diff(first, docker.RunArgs(hardened())); diff != "" {
			t.Fatalf("RunArgs changed between calls:\n%s", diff)
		}
		if diff := cmp.Diff(firstExec, docker.ExecArgs(execCases()["exec-tty"])); diff != "" {
			t.Fatalf("ExecArgs changed between calls:\n%s", diff)
		}
	}
	var labels, envs []string
	for i := 0; i+1 < len(first); i++ {
		switch first[i] {
		case "--label":
			labels = append(labels, first[i+1])
		case "--env":
			envs = append(envs, first[i+1])
		}
	}
	if !isSorted(labels) || !isSorted(envs) || len(labels) != 4 || len(envs) != 7 {
		t.Errorf("labels %q and env %q must be complete and sorted", labels, envs)
	}
}

func isSorted(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] > s[i] {
			return false
		}
	}
	return true
}

// The hardening flags are there, and the image comes after every flag.
func TestRunArgsHardening(t *testing.T) {
	argv := docker.RunArgs(hardened())
	line := strings.Join(argv, " ")
	for _, want := range []string{"--read-only", "--cap-drop ALL", "--security-opt no-new-privileges", "--user 1000:1000",
		"--pids-limit 1024", "--memory 8g", "--init", "--pull never", "--rm", "--detach",
		"--publish 127.0.0.1:4096:4096", "--entrypoint /usr/local/bin/ai-sandbox-keeper"} {
		if !strings.Contains(line, want) {
			t.Errorf("missing %q in %q", want, line)
		}
	}
	img := -1
	for i, a := range argv {
		if a == "ai-sandbox:latest" {
			img = i
		}
	}
	if img < 0 {
		t.Fatal("no image")
	}
	for _, a := range argv[img+1:] {
		if strings.HasPrefix(a, "--") && a != "--idle" {
			t.Errorf("flag %q after the image", a)
		}
	}
	if diff := cmp.Diff([]string{"--idle", "5m", "sleep", "infinity"}, argv[img+1:]); diff != "" {
		t.Errorf("entrypoint args then cmd after the image (-want +got):\n%s", diff)
	}
	for _, a := range argv {
		if a == "-v" || a == "--volume" || strings.HasPrefix(a, "--volume=") {
			t.Errorf("bind mounts must use --mount, found %q", a)
		}
	}
}

func TestPortValue(t *testing.T) {
	tests := []struct {
		p    docker.Port
		want string
	}{
		{docker.Port{HostIP: "127.0.0.1", HostPort: 3000, ContainerPort: 3000}, "127.0.0.1:3000:3000"},
		{docker.Port{HostIP: "::1", HostPort: 3000, ContainerPort: 80}, "[::1]:3000:80"},
		{docker.Port{HostIP: "fe80::1%eth0", HostPort: 1, ContainerPort: 2}, "[fe80::1%eth0]:1:2"},
		{docker.Port{HostPort: 8080, ContainerPort: 80}, "8080:80"},
	}
	for _, tt := range tests {
		if got := docker.PortValue(tt.p); got != tt.want {
			t.Errorf("PortValue(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// MountValue is parsed back by encoding/csv, as docker's --mount parser
// does, into exactly the fields it was built from.
func TestMountValueParsesBackWithCSV(t *testing.T) {
	paths := []string{
		"/home/u/app",
		"/home/u/my project",
		"/home/u/a,b,c",
		`/home/u/say "hi"`,
		`/home/u/"`,
		"/home/u/it's",
		"/home/u/ lead",
		"/home/u/trail ",
		"/home/u/new\nline",
		"/home/u/café ☕/日本語",
		"/home/u/a=b=c",
		`/home/u/back\slash`,
		"/home/u/,\",\"",
	}
	for _, p := range paths {
		for _, ro := range []bool{false, true} {
			m := docker.Mount{Source: p, Target: p + "/t", ReadOnly: ro}
			v := docker.MountValue(m)
			fields, err := csv.NewReader(strings.NewReader(v)).Read()
			if err != nil {
				t.Errorf("MountValue(%q) = %q does not parse as CSV: %v", p, v, err)
				continue
			}
			got := map[string]string{}
			var flags []string
			for _, f := range fields {
				k, val, ok := strings.Cut(f, "=")
				if !ok {
					flags = append(flags, f)
					continue
				}
				got[k] = val
			}
			want := map[string]string{"type": "bind", "source": p, "target": p + "/t"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("MountValue(%q) = %q parses to (-want +got):\n%s", p, v, diff)
			}
			wantFlags := []string(nil)
			if ro {
				wantFlags = []string{"readonly"}
			}
			if diff := cmp.Diff(wantFlags, flags); diff != "" {
				t.Errorf("MountValue(%q) flags (-want +got):\n%s", p, diff)
			}
		}
	}
	if v := docker.MountValue(docker.Mount{Source: "/a", Target: "/b"}); v != "type=bind,source=/a,target=/b" {
		t.Errorf("plain paths need no quoting: %q", v)
	}
}

// Quote's output, given to a real shell, gives back the same words.
func TestQuoteRoundTripsThroughTheShell(t *testing.T) {
	words := []string{"docker", "run", "", "plain", "with space", "it's", `"double"`, "$HOME", "${PATH}", "`id`", "$(id)",
		"a\nb", "tab\there", "*", "?", "[a]", "~", "~/x", "a=b", "--flag=x,y", "café", "日本語", "!bang", "semi;colon",
		`back\slash`, "'", "''", "#hash", "a#b", "&", "|", "(x)", "{a,b}", "%s", "@", "+", "-", "--", "<in", ">out", "x y  z",
		"\\'", "end\\"}
	for _, shell := range []string{"sh", "bash"} {
		if _, err := exec.LookPath(shell); err != nil {
			continue
		}
		t.Run(shell, func(t *testing.T) {
			line := docker.Quote(words)
			out, err := exec.Command(shell, "-c", `printf '%s\0' `+line).Output()
			if err != nil {
				t.Fatalf("%s -c %q: %v", shell, line, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if diff := cmp.Diff(words, got); diff != "" {
				t.Errorf("round trip through %s (-want +got):\n%s\nline: %s", shell, diff, line)
			}
		})
	}
	if got := docker.Quote([]string{"docker", "ps", "--format", "{{json .}}"}); got != "docker ps --format '{{json .}}'" {
		t.Errorf("Quote = %s", got)
	}
}

var secretNames = []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "OPENCODE_SERVER_PASSWORD"}

// Secrets go by name only: "--env NAME", never "NAME=value".
func TestPassEnvByNameOnly(t *testing.T) {
	spec := docker.ExecSpec{Container: "c", Interactive: true, PassEnv: secretNames, Cmd: []string{"agent"},
		Env: map[string]string{"TERM": "xterm"}}
	argv := docker.ExecArgs(spec)
	seen := map[string]bool{}
	for i, a := range argv {
		for _, n := range secretNames {
			if strings.HasPrefix(a, n+"=") {
				t.Errorf("argv carries a value for %s: %q", n, a)
			}
			if a == n {
				if i == 0 || argv[i-1] != "--env" {
					t.Errorf("%s not given as --env NAME", n)
				}
				seen[n] = true
			}
		}
	}
	for _, n := range secretNames {
		if !seen[n] {
			t.Errorf("%s missing from argv %q", n, argv)
		}
	}
}

// No golden file holds a value for a secret's name.
func TestGoldenFilesHoldNoSecretValues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(runCases())+len(execCases()) {
		t.Fatalf("found %d golden files, want %d (run with -update)", len(files), len(runCases())+len(execCases()))
	}
	assign := regexp.MustCompile(`(?i)\b[A-Z0-9_]*(KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*=`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := assign.Find(data); m != nil {
			t.Errorf("%s holds a secret assignment %q", f, m)
		}
	}
}

// internal/docker performs no I/O: it imports neither os nor os/exec.
func TestPackageDoesNoIO(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			switch p, _ := strconv.Unquote(imp.Path.Value); p {
			case "os", "os/exec", "syscall", "net":
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

func TestSmallArgv(t *testing.T) {
	tests := []struct {
		got, want []string
	}{
		{docker.InspectArgs("c1", "{{.State.Running}}"), []string{"container", "inspect", "--format", "{{.State.Running}}", "c1"}},
		{docker.RemoveArgs("a", "b"), []string{"rm", "--force", "a", "b"}},
		{docker.StopArgs(3, "a"), []string{"stop", "--time", "3", "a"}},
		{docker.PsArgs("{{.Names}}", "label=ai-sandbox.tool", "status=running"), []string{"ps", "--no-trunc", "--format", "{{.Names}}", "--filter", "label=ai-sandbox.tool", "--filter", "status=running"}},
		{docker.TopArgs("c"), []string{"top", "c", "-eo", "pid,ppid"}},
		{docker.NetworkConnectArgs("n", "c"), []string{"network", "connect", "n", "c"}},
		{docker.NetworkConnectArgs("n", "c", "ai-sandbox-proxy"), []string{"network", "connect", "--alias", "ai-sandbox-proxy", "n", "c"}},
		{docker.NetworkCreateArgs("ai-x-egress", "172.16.3.16/28", true, map[string]string{"b": "2", "a": "1"}, map[string]string{"o": "v"}), []string{"network", "create", "--driver", "bridge", "--subnet", "172.16.3.16/28", "--internal", "--opt", "o=v", "--label", "a=1", "--label", "b=2", "ai-x-egress"}},
		{docker.NetworkCreateArgs("n", "", false, nil, nil), []string{"network", "create", "--driver", "bridge", "n"}},
		{docker.NetworkDisconnectArgs("n", "c"), []string{"network", "disconnect", "--force", "n", "c"}},
		{docker.NetworkRemoveArgs("a", "b"), []string{"network", "rm", "a", "b"}},
		{docker.ImageInspectArgs("img", "{{.Id}}"), []string{"image", "inspect", "--format", "{{.Id}}", "img"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}
