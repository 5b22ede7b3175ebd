package image

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
)

// TestLeanImageWithToolchainAddons builds the lean preset with no agent and
// the doc-tools, gh, go, bun, pnpm, lsp, uipro and od-helpers add-ons from
// the local Debian base, then runs each tool inside the image as
// ai-sandbox runs it (an unprivileged uid, read-only root, no
// capabilities, a writable home): the pinned versions answer, a small Go
// module builds and its tests pass, a module downloaded into the shared
// module cache (mounted as ai-sandbox mounts it) builds offline in a
// second project, od-health reaches a daemon with its token, the labels
// list the add-ons with their versions, `tools` shows them, and no setuid
// or setgid file is left.
func TestLeanImageWithToolchainAddons(t *testing.T) {
	e := setup(t)
	args := []string{"image", "build", "--base-image", e.base, "--preset", "lean", "--tools", "none",
		"--addons", "doc-tools,gh,go,bun,pnpm,lsp,uipro,od-helpers", "--tag", e.tag}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		// Containers here reach the npm registry only with the host's CA bundle.
		args = append(args, "--ca-cert", "/etc/ssl/certs/ca-certificates.crt")
	}
	start := time.Now()
	if _, stderr, err := e.sandbox(t, args...); err != nil {
		t.Fatalf("ai-sandbox %s: %v\n%s", strings.Join(args, " "), err, tail(stderr, 60))
	}
	t.Logf("image build took %s", time.Since(start).Round(time.Second))

	out, err := exec.Command(e.docker, "image", "inspect", "--format", "{{json .Config.Labels}}", e.tag).Output()
	if err != nil {
		t.Fatalf("image inspect: %v", err)
	}
	var labels map[string]string
	if err := json.Unmarshal(out, &labels); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"ai-sandbox.addons": "doc-tools,gh,go,bun,pnpm,lsp,uipro,od-helpers", "ai-sandbox.tools": "", "ai-sandbox.version.go": "1.26.8",
		"ai-sandbox.version.uipro": "2.2.3",
		"ai-sandbox.version.bun":   "1.4.5", "ai-sandbox.version.pnpm": "9.15.9", "ai-sandbox.version.lsp": "4.4.1",
	} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}

	// The sandbox's own mounts: an exec /tmp (go test runs its binary from
	// there) and a writable home.
	got := e.run(t, []string{"--user", "12345:12345", "--read-only", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--tmpfs", "/tmp:rw,nosuid,nodev,exec,mode=1777",
		"--tmpfs", "/home/agent:rw,nosuid,nodev,exec,mode=1777"},
		"sh", "-c", `bun --version; bunx --version; pnpm --version; typescript-language-server --version; tsc --version; pyright --version; pdftotext -v 2>&1 | head -n 1
gh --version | head -n 1
go version; sqlc version; goose --version; golangci-lint --version | cut -d' ' -f1-4; gopls version | head -n 1
cd "$HOME" && printf 'console.log(6*7)\n' > a.ts && bun run a.ts
mkdir m && cd m && printf 'module example.com/m\n\ngo 1.26\n' > go.mod &&
printf 'package main\n\nfunc add(a, b int) int { return a + b }\n\nfunc main() { println(add(40, 2)) }\n' > main.go &&
printf 'package main\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif add(40, 2) != 42 {\n\t\tt.Fatal(add(40, 2))\n\t}\n}\n' > main_test.go &&
go build -o m . && ./m 2>&1 && go test ./... 2>&1 | cut -f1-2 && golangci-lint run ./... >/dev/null && echo lint-ok`)
	want := "1.4.5\n1.4.5\n9.15.9\n4.4.1\nVersion 5.9.3\npyright 1.1.414\npdftotext version 22.12.0\n" +
		"gh version 2.23.0 (2023-02-27 Debian 2.23.0+dfsg1-1)\n" +
		"go version go1.26.8 linux/amd64\nv1.31.1\ngoose version: v3.30.0\ngolangci-lint has version 2.15.0\ngolang.org/x/tools/gopls v0.23.0\n" +
		"42\n42\nok  \texample.com/m\nlint-ok\n"
	if got != want {
		t.Errorf("the tools answered\n%s\nwant\n%s", got, want)
	}

	t.Run("shared module cache", func(t *testing.T) { sharedModuleCache(t, e) })
	t.Run("uipro and od-helpers", func(t *testing.T) { uiproAndODHelpers(t, e) })

	stdout, stderr, err := e.sandbox(t, "tools", "--json")
	if err != nil {
		t.Fatalf("tools --json: %v\n%s", err, stderr)
	}
	var list struct {
		Preset string
		Addons []string
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	if list.Preset != "lean" || strings.Join(list.Addons, ",") != "doc-tools,gh,go,bun,pnpm,lsp,uipro,od-helpers" {
		t.Errorf("tools: preset %q, add-ons %q", list.Preset, list.Addons)
	}

	if got := e.run(t, []string{"--user", "0:0"}, "find", "/", "-xdev", "-perm", "/6000"); got != "" {
		t.Errorf("setuid/setgid left:\n%s", got)
	}
}

// sandboxFlags are the sandbox's own restrictions and mounts: an
// unprivileged uid, read-only root, no capabilities, an exec /tmp and a
// writable home.
var sandboxFlags = []string{"--user", "12345:12345", "--read-only", "--cap-drop", "ALL",
	"--security-opt", "no-new-privileges", "--tmpfs", "/tmp:rw,nosuid,nodev,exec,mode=1777",
	"--tmpfs", "/home/agent:rw,nosuid,nodev,exec,mode=1777"}

// sharedModuleCache: project A's sandbox downloads a module through the
// Go module proxy into the shared caches, mounted and pointed to as
// ai-sandbox does with shared caches on; project B's sandbox (another
// container, another home) then builds a module needing it with the proxy
// off: the cache alone serves it.
func sharedModuleCache(t *testing.T, e *env) {
	host := t.TempDir()
	var flags []string
	for _, k := range sandbox.CacheKinds() {
		if k.Name != "go-mod" && k.Name != "go-build" {
			continue
		}
		dir := filepath.Join(host, k.Name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o777) // the sandbox's uid is not the test's
		target := sandbox.CacheDir + "/" + k.Name
		flags = append(flags, "-v", dir+":"+target, "-e", k.Env+"="+target)
	}
	project := `cd "$HOME" && mkdir p && cd p && printf 'module example.com/p\n\ngo 1.26\n\nrequire github.com/google/go-cmp v0.7.0\n' > go.mod &&
printf 'package main\n\nimport "github.com/google/go-cmp/cmp"\n\nfunc main() { println(cmp.Equal(1, 1)) }\n' > main.go && `
	got := e.run(t, append(append([]string{}, sandboxFlags...), flags...), "sh", "-c",
		project+`go mod tidy 2>&1 && go build -o p . && ./p 2>&1`)
	if !strings.HasSuffix(got, "true\n") {
		t.Fatalf("project A: %q", got)
	}
	if _, err := os.Stat(filepath.Join(host, "go-mod", "github.com", "google", "go-cmp@v0.7.0", "cmp", "compare.go")); err != nil {
		t.Fatalf("the module is not in the shared cache on the host: %v", err)
	}
	got = e.run(t, append(append([]string{"-e", "GOPROXY=off", "-e", "GOFLAGS=-mod=mod"}, sandboxFlags...), flags...), "sh", "-c",
		project+`go build -o p . 2>&1 && ./p 2>&1`)
	if got != "true\n" {
		t.Errorf("project B, proxy off: %q", got)
	}
}

// uiproAndODHelpers: uipro answers its pinned version; od-health and
// od-status ask a daemon (a stand-in on the container's loopback) for its
// health with the bearer token, which reaches the daemon and is on no
// command line; without OD_DAEMON_URL they say what to set.
func uiproAndODHelpers(t *testing.T, e *env) {
	script := `uipro --version
od-health; echo "exit $?"
cat > /tmp/d.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/api/health" and self.headers.get("Authorization") == "Bearer s3cret-token"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}' if ok else b'{"error":"no"}')
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 7456), H).serve_forever()
PY
python3 /tmp/d.py & sleep 1
export OD_DAEMON_URL=http://127.0.0.1:7456
OD_API_TOKEN=s3cret-token od-health; echo "exit $?"
OD_API_TOKEN=s3cret-token od-status; echo "exit $?"
OD_API_TOKEN=wrong od-health; echo "exit $?"
`
	got := e.run(t, sandboxFlags, "bash", "-c", script)
	want := "2.2.3\n" +
		"od-health: OD_DAEMON_URL is not set (the Open Design daemon's address, e.g. http://host.docker.internal:7456)\n" +
		"od-health: put it in ~/.ai-sandbox/env and name it for the agent under tools.env in ~/.ai-sandbox/config.json\n" +
		"exit 2\n" +
		"healthy (http://127.0.0.1:7456/api/health)\nexit 0\n" +
		"{\n  \"status\": \"ok\"\n}\nexit 0\n" +
		"unhealthy: HTTP 401 from http://127.0.0.1:7456/api/health (check OD_API_TOKEN)\nexit 1\n"
	if got != want {
		t.Errorf("uipro and the od helpers answered\n%s\nwant\n%s", got, want)
	}
}
