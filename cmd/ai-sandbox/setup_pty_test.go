package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSetupWizardInTerminal drives 'ai-sandbox setup' through a real
// terminal: tmux runs it in a pane (a terminal emulator that answers
// survey's cursor queries), the test reads the screen and types the
// answers to every question, then checks the files the wizard wrote and
// hands the rc files to bash, zsh and fish. In CI (CI set) a missing tmux
// or shell is a failure, never a skip.
func TestSetupWizardInTerminal(t *testing.T) {
	tmux := needTool(t, "tmux")
	for _, sh := range []string{"bash", "zsh", "fish"} {
		needTool(t, sh)
	}
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "home")
	// The binary lives where its path needs quoting in every shell: the
	// aliases must still reach it.
	exe := filepath.Join(root, "bin dir", `it's "here"`, "ai-sandbox")
	copyExecutable(t, exe)
	fakeBin := filepath.Join(root, "fakebin")
	write(t, filepath.Join(fakeBin, "docker"), 0o755, `#!/bin/sh
printf '%s\n' "$*" >> "$WORK/docker.log"
case "$1" in
info) echo '{"ServerVersion":"27.3.1"}';;
image) echo '{"ai-sandbox.image":"1","ai-sandbox.preset":"full","ai-sandbox.tools":"claude,opencode"}';;
esac
exit 0
`)
	for _, d := range []string{"old", "proj", "proj2"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(home, ".ai-sandbox")
	write(t, filepath.Join(state, "config.json"), 0o600, `{"version": 2, "workspaces": ["`+filepath.Join(home, "old")+`"]}`)
	write(t, filepath.Join(state, "env"), 0o600, "# my keys\nANTHROPIC_API_KEY=sk-ant-old\nOTHER_KEY=keep-me\n")
	write(t, filepath.Join(home, ".bashrc"), 0o644, "# my bashrc\nexport EDITOR=vim\n")
	write(t, filepath.Join(home, ".claude", ".credentials.json"), 0o600, `{"claudeAiOauth":{"accessToken":"host"}}`)
	write(t, filepath.Join(home, ".claude.json"), 0o644, `{"userID":"u"}`)

	p := startPane(t, tmux, root, []string{
		"env", "-i", "HOME=" + home, "PATH=" + fakeBin + ":/usr/bin:/bin", "SHELL=/usr/bin/zsh", "TERM=screen",
		"WORK=" + root, "AI_SANDBOX_REGISTRY=127.0.0.1:1/ai-sandbox/ai-sandbox", exe, "setup",
	})

	const secret = "sk-ant-typed-SECRET-1234"

	// 2. Workspaces: replace the list; "/" is refused and asked again.
	p.waitFor(`Whitelisted workspaces:\s+` + regexp.QuoteMeta(filepath.Join(home, "old")))
	p.waitFor(`\? Workspaces:.*\n.*keep`)
	p.typeText("replace")
	p.keys("Enter")
	p.waitFor(`\? Folders to whitelist \(comma-separated, empty for none\):`)
	p.typeText("/, ~/proj")
	p.keys("Enter")
	p.waitFor(`warning: refusing /: it is the root of the file system`)
	p.waitFor(`\? Other folders instead of / \(empty for none\):`)
	p.typeText("~/proj2")
	p.keys("Enter")

	// 3. Image: the registry cannot be reached, so the pull says so (and the
	// build is the default); pull anyway, and the rolling tags are offered.
	p.waitFor(`\? Sandbox image \(ai-sandbox:latest\):`)
	p.waitFor(`no prebuilt image found at 127\.0\.0\.1:1/ai-sandbox/ai-sandbox \(it cannot be reached\)`)
	p.typeText("pull")
	p.keys("Enter")
	p.waitFor(`\? Image tag to pull:.*\n(.*\n)*.*full`)
	p.typeText("full")
	p.keys("Enter")
	p.waitFor(`\? Agents you use \(for their API keys, host config and aliases\):`)
	p.waitFor(`\[x\]\s+opencode`)
	p.typeText("claude")
	p.keys("Space")
	p.typeText("aider")
	p.keys("Space")
	p.keys("Enter")
	p.waitFor(`\? Agents you use \(for their API keys, host config and aliases\): aider, claude, opencode`)

	// 4. Keys, per agent; each key asked once; secrets hidden.
	p.waitFor(`\? Keys for aider to set now`)
	p.waitFor(`ANTHROPIC_API_KEY - set in the env file`)
	p.typeText("ANTHROPIC_API")
	p.keys("Space")
	p.keys("Enter")
	p.waitFor(`\? ANTHROPIC_API_KEY \(hidden; empty keeps the current value\):`)
	p.typeText(secret)
	p.keys("Enter")
	p.waitFor(`\? Keys for claude to set now`)
	p.typeText("CLAUDE_CODE_OAUTH")
	p.keys("Space")
	p.typeText("ANTHROPIC_BASE")
	p.keys("Space")
	p.keys("Enter")
	p.waitFor(`\? CLAUDE_CODE_OAUTH_TOKEN \(hidden; empty keeps the current value\):`)
	p.keys("Enter") // empty: nothing written for it
	p.waitFor(`\? ANTHROPIC_BASE_URL:`)
	p.typeText("https://llm-proxy.example")
	p.keys("Enter")
	p.waitFor(`\? Keys for opencode to set now`)
	p.keys("Enter")

	// 5. Host config per agent, each choice with its risk; a login copy.
	p.waitFor(`\? Share your aider config .* with its sandbox\?`)
	p.waitFor(`read-write - the agent can also plant hooks or plugins that run on your machine the next time you use aider outside the sandbox`)
	p.keys("Enter") // off
	p.waitFor(`\? Share your claude config \(~/.claude, ~/.claude.json\) with its sandbox\?`)
	p.keys("Enter") // off
	p.waitFor(`\? Copy your claude login \(~/.claude/.credentials.json, ~/.claude.json\) for its sandboxes \(every project\)`)
	p.typeText("y")
	p.keys("Enter")
	p.waitFor(`\? Share your opencode config .* with its sandbox\?`)
	p.waitFor(`read-only - the agent can read every credential and token kept in these files`)
	p.typeText("read-only")
	p.keys("Enter")

	// 6. Shells: bash (its rc exists) and zsh ($SHELL) are detected; add fish.
	p.waitFor(`\? Write the aliases \(aider, claude, opencode, ai-run\) for:`)
	p.waitFor(`\[x\]\s+bash - ~/.bashrc`)
	p.waitFor(`\[x\]\s+zsh - ~/.zshrc`)
	p.typeText("fish")
	p.keys("Space")
	p.keys("Enter")

	// 7. The summary.
	screen := p.waitExit(0)
	for _, want := range []string{
		`ai-sandbox setup:`,
		`workspaces:\s+` + regexp.QuoteMeta(filepath.Join(home, "proj")) + ` \(added\), ` + regexp.QuoteMeta(filepath.Join(home, "proj2")) + ` \(added\)`,
		`API keys:\s+~/.ai-sandbox/env \(set ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL\)`,
		`config:\s+~/.ai-sandbox/config.json \(host config shared: opencode ro; set opencode=ro\)`,
		`logins:\s+copied ~/.claude/.credentials.json to ~/.ai-sandbox/tools/claude/login/.claude/.credentials.json, shared by claude in every project`,
		`aliases:\s+~/.zshrc: aider, claude, opencode, ai-run \(created\)`,
		`aliases:\s+~/.bashrc: aider, claude, opencode, ai-run \(written\)`,
		`aliases:\s+~/.config/fish/config.fish: aider, claude, opencode, ai-run \(created\)`,
		`image:\s+pulled full as ai-sandbox:latest`,
		`hint: to use the aliases in this zsh, run: source ~/.zshrc`,
	} {
		if !regexp.MustCompile(want).MatchString(screen) {
			t.Errorf("the screen lacks %s:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, secret) {
		t.Errorf("the typed secret was shown on the screen:\n%s", screen)
	}

	// config.json: the replaced whitelist and the host config choice.
	var cfg struct {
		Workspaces []string `json:"workspaces"`
		Tools      struct {
			HostConfig map[string]string `json:"hostConfig"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(read(t, filepath.Join(state, "config.json")), &cfg); err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(home, "proj"), filepath.Join(home, "proj2")}; !slices.Equal(cfg.Workspaces, want) {
		t.Errorf("workspaces = %q, want %q", cfg.Workspaces, want)
	}
	if len(cfg.Tools.HostConfig) != 1 || cfg.Tools.HostConfig["opencode"] != "ro" {
		t.Errorf("hostConfig = %v, want only opencode: ro", cfg.Tools.HostConfig)
	}

	// env: edited in place, 0600; the typed key replaced, empty answers
	// wrote nothing.
	wantEnv := "# my keys\nANTHROPIC_API_KEY=" + secret + "\nOTHER_KEY=keep-me\nANTHROPIC_BASE_URL=https://llm-proxy.example\n"
	if got := string(read(t, filepath.Join(state, "env"))); got != wantEnv {
		t.Errorf("env file:\n%s\nwant:\n%s", got, wantEnv)
	}
	checkMode(t, filepath.Join(state, "env"), 0o600)

	// The login copy.
	copied := filepath.Join(state, "tools", "claude", "login", ".claude", ".credentials.json")
	if got := string(read(t, copied)); got != `{"claudeAiOauth":{"accessToken":"host"}}` {
		t.Errorf("copied login = %q", got)
	}
	checkMode(t, copied, 0o600)
	checkMode(t, filepath.Join(state, "tools", "claude", "login", ".claude.json"), 0o600)

	// The rc files: one block each, the user's lines kept, and each shell
	// accepts the file, finds opencode, and runs ai-run through the quoted path.
	rcs := map[string]string{
		"bash": filepath.Join(home, ".bashrc"),
		"zsh":  filepath.Join(home, ".zshrc"),
		"fish": filepath.Join(home, ".config", "fish", "config.fish"),
	}
	if !strings.HasPrefix(string(read(t, rcs["bash"])), "# my bashrc\nexport EDITOR=vim\n\n# >>> ai-sandbox aliases >>>\n") {
		t.Errorf(".bashrc:\n%s", read(t, rcs["bash"]))
	}
	for sh, rc := range rcs {
		content := string(read(t, rc))
		if n := strings.Count(content, "# >>> ai-sandbox aliases >>>"); n != 1 {
			t.Errorf("%s: %d blocks", rc, n)
		}
		if out, err := exec.Command(sh, "-n", rc).CombinedOutput(); err != nil {
			t.Errorf("%s -n %s: %v\n%s", sh, rc, err, out)
		}
		var script string
		var argv []string
		switch sh {
		case "bash":
			argv = []string{"bash", "--norc", "--noprofile"}
			script = "shopt -s expand_aliases\nsource \"$1\"\ntype opencode\nai-run --help\n"
		case "zsh":
			argv = []string{"zsh", "-f"}
			script = "source \"$1\"\ntype opencode\nai-run --help\n"
		case "fish":
			argv = []string{"fish", "--no-config"}
			script = "source $argv[1]\nfunctions -q opencode; or exit 3\ntype opencode\nai-run --help\n"
		}
		file := filepath.Join(t.TempDir(), "check")
		write(t, file, 0o644, script)
		cmd := exec.Command(argv[0], append(argv[1:], file, rc)...)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TERM=dumb"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s sourcing %s: %v\n%s", sh, rc, err, out)
			continue
		}
		if !regexp.MustCompile(`opencode is (aliased to|an alias for|a function)`).Match(out) {
			t.Errorf("%s: type opencode:\n%s", sh, out)
		}
		if !regexp.MustCompile(`Usage:\s+ai-sandbox run `).Match(out) {
			t.Errorf("%s: ai-run --help did not run 'ai-sandbox run --help':\n%s", sh, out)
		}
	}

	log := string(read(t, filepath.Join(root, "docker.log")))
	for _, want := range []string{"info --format {{json .}}\n", "pull 127.0.0.1:1/ai-sandbox/ai-sandbox:full\n", "tag 127.0.0.1:1/ai-sandbox/ai-sandbox:full ai-sandbox:latest\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("docker.log lacks %q:\n%s", want, log)
		}
	}
}

// TestSetupWizardCreatesFolderAndBuildsBehindProxy drives the wizard
// through what a newcomer behind a TLS-inspecting proxy meets: a project
// folder that does not exist yet (created after a yes), and a build that
// must come FROM a mirror of the base image and trust the proxy's CA.
// Both questions show their defaults; the answers reach docker build and
// are recorded in config.json.
func TestSetupWizardCreatesFolderAndBuildsBehindProxy(t *testing.T) {
	tmux := needTool(t, "tmux")
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "home")
	exe := filepath.Join(root, "bin", "ai-sandbox")
	copyExecutable(t, exe)
	fakeBin := filepath.Join(root, "fakebin")
	write(t, filepath.Join(fakeBin, "docker"), 0o755, `#!/bin/sh
printf '%s\n' "$*" >> "$WORK/docker.log"
case "$1" in
info) echo '{"ServerVersion":"27.3.1"}';;
version) echo amd64;;
image) exit 1;;
build)
  for a in "$@"; do ctx=$a; done
  rm -rf "$WORK/ctx"; cp -r "$ctx" "$WORK/ctx";;
esac
exit 0
`)
	const cert = "-----BEGIN CERTIFICATE-----\nMIIBdjCCARugAwIBAgIUQ2h8GL5yZ2hK0DR0qTqYq7C1W1MwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n"
	write(t, filepath.Join(home, "corp-root.pem"), 0o644, cert)
	write(t, filepath.Join(home, "id_key.pem"), 0o600, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	const mirror = "registry.corp.example/library/node:22-bookworm-slim"

	p := startPane(t, tmux, root, []string{
		"env", "-i", "HOME=" + home, "PATH=" + fakeBin + ":/usr/bin:/bin", "SHELL=/bin/sh", "TERM=screen",
		"WORK=" + root, exe, "setup",
	})

	// 2. Workspaces: none yet; the folder is created after a yes (the
	// default).
	p.waitFor(`\? Folders to whitelist \(comma-separated, empty for none\):`)
	p.typeText("~/projects/new-app")
	p.keys("Enter")
	app := filepath.Join(home, "projects", "new-app")
	p.waitFor(`\? ` + regexp.QuoteMeta(app) + ` does not exist\. Create it\? \(Y/n\)`)
	p.keys("Enter")
	p.waitFor(`ai-sandbox: created ` + regexp.QuoteMeta(app))
	p.waitFor(`ai-sandbox: whitelisted ` + regexp.QuoteMeta(app))

	// 3. Image: a build, with the defaults for agents, add-ons and preset.
	p.waitFor(`\? Sandbox image \(ai-sandbox:latest\):`)
	p.typeText("build")
	p.keys("Enter")
	p.waitFor(`\? Agents to install in the image:`)
	p.waitFor(`\[x\]\s+opencode`)
	p.keys("Enter")
	p.waitFor(`\? Add-ons to build into the image:`)
	p.keys("Enter")
	p.waitFor(`\? Image preset:`)
	p.keys("Enter")
	// The base image and the CA, their defaults shown; a key file is not
	// a certificate: said, and asked again.
	p.waitFor(`\? Base image to build FROM: (\[\? for help\] )?\(node:22-bookworm-slim\)`)
	p.typeText(mirror)
	p.keys("Enter")
	p.waitFor(`\? CA certificates to trust \(PEM files, comma-separated; none for none\): (\[\? for help\] )?\(none\)`)
	p.typeText("~/id_key.pem")
	p.keys("Enter")
	p.waitFor(`warning: CA certificate ` + regexp.QuoteMeta(filepath.Join(home, "id_key.pem")) + `: holds a PRIVATE KEY block`)
	p.waitFor(`(?s)PRIVATE KEY block.*\? CA certificates to trust`)
	p.typeText("~/corp-root.pem")
	p.keys("Enter")

	// 4.-6. The rest with their defaults (no key, off, the detected shells).
	p.waitFor(`\? Keys for opencode to set now`)
	p.keys("Enter")
	p.waitFor(`\? Share your opencode config .* with its sandbox\?`)
	p.keys("Enter")
	p.waitFor(`\? Write the aliases \(opencode, ai-run\) for:`)
	p.keys("Enter")

	screen := p.waitExit(0)
	for _, want := range []string{
		`workspaces:\s+` + regexp.QuoteMeta(app) + ` \(created, added\)`,
		`image:\s+built ai-sandbox:latest \(agents: opencode; preset base; add-ons: none; from ` + regexp.QuoteMeta(mirror) + `; CA certificates: ~/corp-root\.pem\)`,
	} {
		if !regexp.MustCompile(want).MatchString(screen) {
			t.Errorf("the screen lacks %s:\n%s", want, screen)
		}
	}
	if st, err := os.Stat(app); err != nil || !st.IsDir() {
		t.Errorf("%s was not created: %v", app, err)
	}
	log := string(read(t, filepath.Join(root, "docker.log")))
	if !regexp.MustCompile(`(?m)^build --tag ai-sandbox:latest --build-arg BASE_IMAGE=` + regexp.QuoteMeta(mirror) + ` /\S+$`).MatchString(log) {
		t.Errorf("docker.log lacks the build FROM the mirror:\n%s", log)
	}
	if got := string(read(t, filepath.Join(root, "ctx", "ca", "00-corp-root.crt"))); got != cert {
		t.Errorf("the build context's CA = %q", got)
	}
	var cfg struct {
		Workspaces []string `json:"workspaces"`
		Image      struct {
			BaseImage string   `json:"baseImage"`
			CACerts   []string `json:"caCerts"`
		} `json:"image"`
	}
	if err := json.Unmarshal(read(t, filepath.Join(home, ".ai-sandbox", "config.json")), &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Workspaces, []string{app}) || cfg.Image.BaseImage != mirror ||
		!slices.Equal(cfg.Image.CACerts, []string{filepath.Join(home, "corp-root.pem")}) {
		t.Errorf("config.json: %+v", cfg)
	}
}

// needTool finds a program; without it the test fails in CI and is
// skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; CI must install it (see .ci/run)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

// copyExecutable puts a copy of this test binary at path; run under the
// name ai-sandbox, it is the real program (see TestMain).
func copyExecutable(t *testing.T, path string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path string, mode os.FileMode, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s: mode %o, want %o", path, st.Mode().Perm(), want)
	}
}

// pane is a tmux pane on a private server running one command.
type pane struct {
	t      *testing.T
	tmux   string
	sock   string
	status string // the file the exit status is written to
}

// exited returns the program's exit status once it has ended.
func (p *pane) exited() (string, bool) {
	b, err := os.ReadFile(p.status)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

const paneTarget = "setup:0.0"

func startPane(t *testing.T, tmux, dir string, argv []string) *pane {
	t.Helper()
	conf := filepath.Join(dir, "tmux.conf")
	// Keep the pane after the program ends, to read its last screen and
	// exit status; a long history for the whole session.
	write(t, conf, 0o644, "set -g remain-on-exit on\nset -g history-limit 10000\n")
	p := &pane{t: t, tmux: tmux, sock: filepath.Join(dir, "tmux.sock"), status: filepath.Join(dir, "exit-status")}
	// The exit status goes to a file: tmux is slow, now and then, to
	// notice that its pane's process has ended.
	wrapped := append([]string{"sh", "-c", `s=$1; shift; "$@"; echo $? > "$s.tmp"; mv "$s.tmp" "$s"`, "sh", p.status}, argv...)
	// The program starts in dir, not in the test's folder (this source
	// tree, a project that setup would offer add-ons for).
	p.run(append([]string{"-f", conf, "new-session", "-d", "-s", "setup", "-c", dir, "-x", "200", "-y", "50", "--"}, wrapped...)...)
	t.Cleanup(func() {
		cmd := exec.Command(tmux, "-S", p.sock, "kill-server")
		cmd.Env = tmuxEnv()
		_ = cmd.Run()
	})
	return p
}

// tmuxEnv is the test's environment without the variables that would
// tie this tmux to a tmux the tests may run in.
func tmuxEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX=") && !strings.HasPrefix(kv, "TMUX_PANE=") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *pane) run(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(p.tmux, append([]string{"-S", p.sock}, args...)...)
	cmd.Env = tmuxEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is everything the pane has shown, wrapped lines joined.
func (p *pane) screen() string {
	p.t.Helper()
	return p.run("capture-pane", "-p", "-J", "-S", "-", "-t", paneTarget)
}

// waitFor waits until the screen matches re, then lets the program settle
// into reading its terminal before the next keys.
func (p *pane) waitFor(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := p.screen()
		if rx.MatchString(s) {
			time.Sleep(150 * time.Millisecond)
			return s
		}
		if code, ok := p.exited(); ok {
			p.t.Fatalf("the program ended (exit %s) while waiting for %s:\n%s", code, re, s)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; the screen:\n%s", re, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits for the program to end with code and returns the screen.
func (p *pane) waitExit(code int) string {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, ok := p.exited(); ok {
			s := p.screen()
			if got != strconv.Itoa(code) {
				p.t.Fatalf("setup exited with %s, want %d; the screen:\n%s", got, code, s)
			}
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("setup did not end; the screen:\n%s", p.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys sends tmux key names (Enter, Space, Down, …).
func (p *pane) keys(keys ...string) {
	p.t.Helper()
	p.run(append([]string{"send-keys", "-t", paneTarget}, keys...)...)
}

// typeText sends text literally, one key per character.
func (p *pane) typeText(s string) {
	p.t.Helper()
	p.run("send-keys", "-t", paneTarget, "-l", s)
}
