package image

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLeanImageWithToolchainAddons builds the lean preset with no agent and
// the doc-tools, gh, go, bun, pnpm and lsp add-ons from the local Debian
// base, then runs each tool inside the image as ai-sandbox runs it (an
// unprivileged uid, read-only root, no capabilities, a writable home): the
// pinned versions answer, a small Go module builds and its tests pass, the
// labels list the add-ons with their versions, `tools` shows them, and no
// setuid or setgid file is left.
func TestLeanImageWithToolchainAddons(t *testing.T) {
	e := setup(t)
	args := []string{"image", "build", "--base-image", e.base, "--preset", "lean", "--tools", "none",
		"--addons", "doc-tools,gh,go,bun,pnpm,lsp", "--tag", e.tag}
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
		"ai-sandbox.addons": "doc-tools,gh,go,bun,pnpm,lsp", "ai-sandbox.tools": "", "ai-sandbox.version.go": "1.26.8",
		"ai-sandbox.version.bun": "1.4.5", "ai-sandbox.version.pnpm": "9.15.9", "ai-sandbox.version.lsp": "4.4.1",
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
	if list.Preset != "lean" || strings.Join(list.Addons, ",") != "doc-tools,gh,go,bun,pnpm,lsp" {
		t.Errorf("tools: preset %q, add-ons %q", list.Preset, list.Addons)
	}

	if got := e.run(t, []string{"--user", "0:0"}, "find", "/", "-xdev", "-perm", "/6000"); got != "" {
		t.Errorf("setuid/setgid left:\n%s", got)
	}
}
