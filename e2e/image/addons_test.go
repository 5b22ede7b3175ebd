package image

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLeanImageWithNodeAndDocAddons builds the lean preset with no agent
// and the bun, pnpm, lsp and doc-tools add-ons from the local Debian base,
// then runs each tool inside the image as ai-sandbox runs it (an
// unprivileged uid, read-only root, no capabilities): the pinned versions
// answer, the labels list the add-ons with their versions, `tools` shows
// them, and no setuid or setgid file is left.
func TestLeanImageWithNodeAndDocAddons(t *testing.T) {
	e := setup(t)
	args := []string{"image", "build", "--base-image", e.base, "--preset", "base", "--tools", "none",
		"--addons", "doc-tools,bun,pnpm,lsp", "--tag", e.tag}
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
		"ai-sandbox.addons": "doc-tools,bun,pnpm,lsp", "ai-sandbox.tools": "",
		"ai-sandbox.version.bun": "1.4.5", "ai-sandbox.version.pnpm": "9.15.9", "ai-sandbox.version.lsp": "4.4.1",
	} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}

	got := e.run(t, []string{"--user", "12345:12345", "--read-only", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--tmpfs", "/tmp", "--tmpfs", "/home/agent:mode=1777"},
		"sh", "-c", `bun --version; bunx --version; pnpm --version; typescript-language-server --version; tsc --version; pyright --version; pdftotext -v 2>&1 | head -n 1
cd "$HOME" && printf 'console.log(6*7)\n' > a.ts && bun run a.ts`)
	want := "1.4.5\n1.4.5\n9.15.9\n4.4.1\nVersion 5.9.3\npyright 1.1.414\npdftotext version 22.12.0\n42\n"
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
	if list.Preset != "base" || strings.Join(list.Addons, ",") != "doc-tools,bun,pnpm,lsp" {
		t.Errorf("tools: preset %q, add-ons %q", list.Preset, list.Addons)
	}

	if got := e.run(t, []string{"--user", "0:0"}, "find", "/", "-xdev", "-perm", "/6000"); got != "" {
		t.Errorf("setuid/setgid left:\n%s", got)
	}
}
