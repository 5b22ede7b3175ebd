package run_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

// fakeNanoBrain fails its first run with a native binding error, after
// making npx cache entries in the sandbox home (one of nano-brain, one of
// another package, and the shared cache); later runs say what the repair
// left of them and succeed. Its run count is kept in the project.
const fakeNanoBrain = `#!/bin/sh
state="$PWD/.nano-brain-runs"
n=$(cat "$state" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$state"
if [ $n -eq 1 ]; then
	mkdir -p "$HOME/.npm/_npx/aaa/node_modules/nano-brain" "$HOME/.npm/_npx/bbb/node_modules/prettier" "$HOME/.npm/_cacache/index-v5"
	echo "Error: The module '/x/better_sqlite3.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 115" >&2
	exit 1
fi
for d in _npx/aaa _npx/bbb _cacache; do
	if [ -e "$HOME/.npm/$d" ]; then echo "kept $d"; else echo "gone $d"; fi
done
echo "Warning: tree-sitter grammar for .vue not available, skipping symbol graph" >&2
echo "nano-brain run $n: ok"
`

// TestNanoBrainAutoRepair runs a fake nano-brain in a real sandbox: its
// first run fails with a binding error; ai-sandbox removes only npx's
// entry of nano-brain in the sandbox home, runs it once more, and it
// works, with the harmless warning hidden; the same when nano-brain is
// typed in a shell session. With the switch off it runs once.
func TestNanoBrainAutoRepair(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	bin := e.ProbeAs()
	if err := os.WriteFile(filepath.Join(bin, "nano-brain"), []byte(fakeNanoBrain), 0o755); err != nil {
		t.Fatal(err)
	}
	flags := []string{"run", "--image", e.S.Image, "--mount", bin + ":/usr/local/bin:ro"}
	runs := filepath.Join(e.Project, ".nano-brain-runs")

	r := e.Run(append(flags, "nano-brain", "status")...)
	if r.Code != 0 {
		t.Fatalf("the repaired run failed:\n%s", r)
	}
	for _, want := range []string{"kept _npx/bbb", "gone _npx/aaa", "kept _cacache", "nano-brain run 2: ok"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r)
		}
	}
	for _, want := range []string{"NODE_MODULE_VERSION 115", "repairing it and running it once more", "removing npx's copy of nano-brain: /home/agent/.npm/_npx/aaa"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.Stderr, "grammar for .vue") {
		t.Errorf("the harmless warning was shown:\n%s", r)
	}

	// Shell mode: nano-brain typed at the shell's prompt (here on its
	// stdin) is repaired the same way.
	if err := os.Remove(runs); err != nil {
		t.Fatal(err)
	}
	r = e.RunWith(harness.RunOpts{Stdin: strings.NewReader("type nano-brain | head -1\nnano-brain status\n")}, flags...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "nano-brain is a function") || !strings.Contains(r.Stdout, "gone _npx/aaa") ||
		!strings.Contains(r.Stdout, "nano-brain run 2: ok") || !strings.Contains(r.Stderr, "repairing it and running it once more") {
		t.Errorf("shell mode:\n%s", r)
	}

	// Switched off: the first failure is the answer.
	if err := os.Remove(runs); err != nil {
		t.Fatal(err)
	}
	r = e.Run(append(flags, "nano-brain", "status", "--no-nano-brain-auto-repair")...)
	if r.Code != 1 || strings.Contains(r.Stderr, "repairing") {
		t.Errorf("with --no-nano-brain-auto-repair:\n%s", r)
	}
	if b, _ := os.ReadFile(runs); strings.TrimSpace(string(b)) != "1" {
		t.Errorf("runs with the switch off: %q", b)
	}
}
