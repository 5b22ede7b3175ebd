package shellrc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests hand the block to the real shells: their own syntax check
// (-n), then a source in a fresh shell, `type`, and a call of each alias
// that must reach the binary with its arguments intact, from a path with
// spaces and quotes in it. In CI (CI set) a missing shell is a failure.

func needShell(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; CI must install it (.ci/run)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

// fakeBinary writes an "ai-sandbox" that prints its arguments, one per
// line, into a folder whose name needs quoting in every shell.
func fakeBinary(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), `my tools`, `it's "q" $x \b`)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "ai-sandbox")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// userRC is what a user's rc file may hold around the block.
var userRC = map[Shell]string{
	Bash: "# ~/.bashrc\nexport EDITOR=vim\nalias ll='ls -l'\nmyfunc() { echo hi; }\n",
	Zsh:  "# ~/.zshrc\nsetopt autocd\nalias -g G='| grep'\nmyfunc() { echo hi; }\n",
	Fish: "# config.fish\nset -gx EDITOR vim\nfunction myfunc\n    echo hi\nend\n",
}

func writeRC(t *testing.T, sh Shell, exe string) string {
	t.Helper()
	block, err := Block(sh, exe, []string{"claude", "opencode"}, testAliases)
	if err != nil {
		t.Fatal(err)
	}
	content, _, err := Apply(userRC[sh], block)
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(t.TempDir(), "rc file")
	if err := os.WriteFile(rc, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return rc
}

func runShell(t *testing.T, argv []string, script, rc string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "check")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], append(argv[1:], file, rc)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "TERM=dumb", "XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

const wantCalls = "[run]\n[opencode]\n[--flag]\n[a b]\n" + "[run]\n[claude]\n[-p]\n[it's]\n" + "[run]\n"

func TestBlockInShells(t *testing.T) {
	exe := fakeBinary(t)
	cases := []struct {
		sh     Shell
		syntax []string // argv of the syntax check; the rc file is appended
		run    []string // argv running the script with the rc path as $1
		script string
		typeRe string
	}{
		{
			sh: Bash, syntax: []string{"bash", "-n"}, run: []string{"bash", "--norc", "--noprofile"},
			script: "shopt -s expand_aliases\nsource \"$1\"\ntype opencode\ntype ai-run\n" +
				"opencode --flag 'a b'\nclaude -p \"it's\"\nai-run\n",
			typeRe: "opencode is aliased to `",
		},
		{
			sh: Zsh, syntax: []string{"zsh", "-n"}, run: []string{"zsh", "-f"},
			script: "source \"$1\"\ntype opencode\ntype ai-run\n" +
				"opencode --flag 'a b'\nclaude -p \"it's\"\nai-run\n",
			typeRe: "opencode is an alias for ",
		},
		{
			sh: Fish, syntax: []string{"fish", "-n"}, run: []string{"fish", "--no-config"},
			script: "source $argv[1]\nfunctions -q opencode; or exit 3\nfunctions -q ai-run; or exit 3\ntype opencode\n" +
				"opencode --flag 'a b'\nclaude -p \"it's\"\nai-run\n",
			typeRe: "opencode is a function",
		},
	}
	for _, tc := range cases {
		t.Run(string(tc.sh), func(t *testing.T) {
			needShell(t, tc.syntax[0])
			rc := writeRC(t, tc.sh, exe)
			// The shell's own syntax check of the whole rc file.
			cmd := exec.Command(tc.syntax[0], append(tc.syntax[1:], rc)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				content, _ := os.ReadFile(rc)
				t.Fatalf("%s -n: %v\n%s\n--- rc file ---\n%s", tc.sh, err, out, content)
			}
			out := runShell(t, tc.run, tc.script, rc)
			if !strings.Contains(out, tc.typeRe) {
				t.Errorf("type output lacks %q:\n%s", tc.typeRe, out)
			}
			if !strings.HasSuffix(out, wantCalls) {
				t.Errorf("the aliases did not reach the binary with their arguments:\n%s\nwant it to end with:\n%s", out, wantCalls)
			}
			// After removal the names are gone.
			content, _ := os.ReadFile(rc)
			removed, _, err := Remove(string(content))
			if err != nil {
				t.Fatal(err)
			}
			if removed != userRC[tc.sh] {
				t.Errorf("removal left:\n%q", removed)
			}
			if err := os.WriteFile(rc, []byte(removed), 0o644); err != nil {
				t.Fatal(err)
			}
			var check string
			switch tc.sh {
			case Fish:
				check = "source $argv[1]\nif functions -q opencode; echo still-there; else; echo gone; end\n"
			case Bash:
				check = "shopt -s expand_aliases\nsource \"$1\"\nif type opencode >/dev/null 2>&1; then echo still-there; else echo gone; fi\n"
			default:
				check = "source \"$1\"\nif type opencode >/dev/null 2>&1; then echo still-there; else echo gone; fi\n"
			}
			if out := runShell(t, tc.run, check, rc); strings.TrimSpace(out) != "gone" {
				t.Errorf("after removal: %s", out)
			}
		})
	}
}
