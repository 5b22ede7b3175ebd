package nanobrain

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIs(t *testing.T) {
	yes := [][]string{
		{"nano-brain", "status"},
		{"/usr/local/bin/nano-brain"},
		{"npx", "nano-brain", "status"},
		{"npx", "-y", "nano-brain@1.2.3", "query", "hello"},
		{"npx", "--yes", "nano-brain"},
		{"sh", "-c", "npx nano-brain status"},
		{"bash", "-lc", "cd sub && nano-brain query 'x'"},
		{"/bin/sh", "-c", "echo start; npx -y nano-brain@latest status | cat"},
	}
	no := [][]string{
		nil,
		{"npx", "prettier", "nano-brain"}, // nano-brain is prettier's argument
		{"npm", "install", "nano-brain"},
		{"claude"},
		{"sh", "-c", "echo nano-brain-notes"},
		{"sh", "-c", "cat nano-brain.md"},
		{"sh", "script.sh", "nano-brain"},
		{"nano-brain-helper"},
	}
	for _, c := range yes {
		if !Is(c) {
			t.Errorf("Is(%q) = false, want true", c)
		}
	}
	for _, c := range no {
		if Is(c) {
			t.Errorf("Is(%q) = true, want false", c)
		}
	}
}

func TestStrip(t *testing.T) {
	got, had := Strip([]string{"npx", "nano-brain", "status", Flag})
	if !had || !slices.Equal(got, []string{"npx", "nano-brain", "status"}) {
		t.Errorf("Strip = %q, %v", got, had)
	}
	in := []string{"npx", "nano-brain", "status"}
	if got, had := Strip(in); had || !slices.Equal(got, in) {
		t.Errorf("Strip without the flag = %q, %v", got, had)
	}
}

// Lines as nano-brain and Node print them.
var (
	nativeLines = []string{
		"Error: Could not locate the bindings file. Tried:\n → /home/u/.npm/_npx/1/node_modules/tree-sitter/build/Release/tree_sitter_runtime_binding.node",
		"Error: The module '/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127.",
		"Error: /x/node_modules/tree-sitter-typescript/prebuilds/linux-arm64/tree-sitter-typescript.node: invalid ELF header",
		"Error: Error loading shared library: Exec format error",
		"code: 'ERR_DLOPEN_FAILED'",
		"No native build was found for platform=linux arch=x64 runtime=node abi=127",
	}
	otherErrors = []string{
		"Error: ENOENT: no such file or directory, open 'config.json'",
		"nano-brain: unknown command 'stauts'",
		"Warning: tree-sitter grammar for .vue not available, skipping symbol graph",
	}
	harmlessLines = []string{
		"Warning: tree-sitter grammar for .vue not available, skipping symbol graph",
		"[warn] symbol-graph: no grammar for file.kt",
		"WARN tree-sitter query failed for src/a.rb; falling back to text chunks",
	}
	keptLines = []string{
		"Error: Could not locate the bindings file (tree-sitter)",
		"indexed 42 files",
		"warning: low disk space",
	}
)

func TestNativeError(t *testing.T) {
	for _, l := range nativeLines {
		if !IsNativeError(l) {
			t.Errorf("not a native-module error: %q", l)
		}
	}
	for _, l := range otherErrors {
		if IsNativeError(l) {
			t.Errorf("taken for a native-module error: %q", l)
		}
	}
}

func TestHarmless(t *testing.T) {
	for _, l := range harmlessLines {
		if !IsHarmless(l) {
			t.Errorf("not filtered: %q", l)
		}
	}
	for _, l := range keptLines {
		if IsHarmless(l) {
			t.Errorf("filtered: %q", l)
		}
	}
}

// wrapper runs the wrapper with sh, the command being a shell script
// (body) that counts its runs in $STATE. It returns stdout, stderr and
// the exit code.
func wrapper(t *testing.T, home string, debug bool, body string) (string, string, int) {
	t.Helper()
	dir := t.TempDir()
	cmd := filepath.Join(dir, "nano-brain")
	if err := os.WriteFile(cmd, []byte("#!/bin/sh\nn=$(cat \"$STATE\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$STATE\"\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	argv := Wrap([]string{cmd, "status"}, debug)
	c := exec.Command("sh", argv[1:]...)
	c.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "STATE=" + filepath.Join(dir, "runs"), "TMPDIR=" + dir}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	runs, _ := os.ReadFile(filepath.Join(dir, "runs"))
	t.Logf("runs: %s", runs)
	// The wrapper cleans up after itself.
	left, _ := filepath.Glob(filepath.Join(dir, "nano-brain-repair.*"))
	if len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
	return out.String(), errb.String() + "runs=" + strings.TrimSpace(string(runs)), code
}

func npxCache(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, d := range []string{".npm/_npx/aaa/node_modules/nano-brain", ".npm/_npx/bbb/node_modules/prettier", ".npm/_cacache/index-v5"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

func TestWrapperRepairsOnceAndRetries(t *testing.T) {
	home := npxCache(t)
	// Fails with a binding error the first time; then works.
	out, errs, code := wrapper(t, home, false, `if [ $n -eq 1 ]; then
  echo "Error: Could not locate the bindings file. Tried: tree_sitter_runtime_binding.node" >&2; exit 1
fi
echo "Warning: tree-sitter grammar for .vue not available, skipping symbol graph" >&2
echo ok`)
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	for _, want := range []string{
		"Could not locate the bindings file", // the first run's error is shown
		"repairing it and running it once more",
		"removing npx's copy of nano-brain: " + home + "/.npm/_npx/aaa",
		"runs=2",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "grammar for .vue") {
		t.Errorf("the harmless warning was shown:\n%s", errs)
	}
	// Only nano-brain's npx entry went; the rest of the cache stays.
	for d, want := range map[string]bool{".npm/_npx/aaa": false, ".npm/_npx/bbb/node_modules/prettier": true, ".npm/_cacache/index-v5": true} {
		if _, err := os.Stat(filepath.Join(home, d)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", d, err == nil, want)
		}
	}
}

func TestWrapperRetriesOnlyOnce(t *testing.T) {
	_, errs, code := wrapper(t, npxCache(t), false, `echo "Error: invalid ELF header" >&2; exit 7`)
	if code != 7 || !strings.Contains(errs, "runs=2") || !strings.Contains(errs, "still fails on a native module after the repair") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

func TestWrapperOtherFailureNotRetried(t *testing.T) {
	home := npxCache(t)
	_, errs, code := wrapper(t, home, false, `echo "Error: ENOENT: no such file" >&2; exit 3`)
	if code != 3 || !strings.Contains(errs, "runs=1") || strings.Contains(errs, "repairing") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(home, ".npm/_npx/aaa")); err != nil {
		t.Errorf("npx's cache was touched: %v", err)
	}
}

func TestWrapperSuccessNotRetried(t *testing.T) {
	// A success whose stderr happens to name a native error is not retried.
	out, errs, code := wrapper(t, npxCache(t), false, `echo "note: NODE_MODULE_VERSION 127" >&2; echo fine`)
	if code != 0 || out != "fine\n" || !strings.Contains(errs, "runs=1") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
}

func TestWrapperDebugShowsWarnings(t *testing.T) {
	_, errs, code := wrapper(t, npxCache(t), true, `echo "Warning: tree-sitter grammar for .vue not available, skipping symbol graph" >&2`)
	if code != 0 || !strings.Contains(errs, "grammar for .vue") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestWrapperStreamsStderr reads the wrapper's stderr while the command
// still runs: a line printed before a long wait arrives before the end.
func TestWrapperStreamsStderr(t *testing.T) {
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	script := filepath.Join(dir, "nano-brain")
	os.WriteFile(script, []byte("#!/bin/sh\necho early-line >&2\nwhile [ ! -e "+release+" ]; do sleep 0.1; done\necho done\n"), 0o755)
	argv := Wrap([]string{script}, false)
	c := exec.Command("sh", argv[1:]...)
	c.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "TMPDIR=" + dir}
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := stderr.Read(buf)
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		if !strings.Contains(s, "early-line") {
			t.Errorf("first stderr: %q", s)
		}
	case <-time.After(20 * time.Second):
		t.Error("stderr held back while the command runs")
	}
	os.WriteFile(release, nil, 0o644)
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}

// The patterns the wrapper hands to grep -E are the ones Go reads.
func TestScriptCarriesPatterns(t *testing.T) {
	s := Script()
	if !strings.Contains(s, "native="+shQuote(NativeError)) || !strings.Contains(s, "harmless="+shQuote(HarmlessWarning)) || strings.Contains(s, "@NATIVE@") {
		t.Errorf("script:\n%s", s)
	}
}

// TestShellFunctions types nano-brain commands into the shell session's
// bash (commands on stdin): nano-brain and npx nano-brain run under the
// wrapper (each fails once with a binding error, is repaired and run
// again), npx of another package does not.
func TestShellFunctions(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	home := npxCache(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "runs")
	os.WriteFile(filepath.Join(dir, "nano-brain"), []byte(`#!/bin/sh
n=$(cat "$STATE" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE"
if [ $n -eq 1 ]; then echo "Error: invalid ELF header" >&2; exit 1; fi
echo "nano-brain ran: $*"
`), 0o755)
	os.WriteFile(filepath.Join(dir, "npx"), []byte("#!/bin/sh\necho \"npx ran: $*\"\nwhile [ \"${1#-}\" != \"$1\" ]; do shift; done\n[ \"$1\" = nano-brain ] && shift && exec nano-brain \"$@\"\nexit 0\n"), 0o755)
	argv := Shell(false)
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "STATE=" + state, "TMPDIR=" + dir}
	c.Stdin = strings.NewReader("PATH=" + dir + ":$PATH\nnano-brain status\necho \"exit $?\"\nrm \"$STATE\"\nnpx -y nano-brain query x\nnpx prettier --check\ntype nano-brain | head -1\n")
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, &out, &errb)
	}
	want := "nano-brain ran: status\nexit 0\nnpx ran: -y nano-brain query x\nnpx ran: -y nano-brain query x\nnano-brain ran: query x\nnpx ran: prettier --check\nnano-brain is a function\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", &out, want, &errb)
	}
	if !strings.Contains(errb.String(), "repairing it and running it once more") || strings.Count(errb.String(), "repairing") != 2 {
		t.Errorf("stderr:\n%s", &errb)
	}
	if _, err := os.Stat(filepath.Join(home, ".npm/_npx/aaa")); err == nil {
		t.Error("npx's entry of nano-brain was not removed")
	}
}
