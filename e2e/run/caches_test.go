package run_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
)

// TestSharedCachesAcrossProjects: with the package caches shared
// (--shared-caches), what project A's sandbox writes into $GOMODCACHE and
// the npm cache is there in project B's sandbox (the download is not made
// again — and, the reason it is an opt-in, what one sandbox plants there
// the other trusts). By default B has no /cache and its own, empty caches.
// The host keeps the shared folders mode 0700, owned by the user.
func TestSharedCachesAcrossProjects(t *testing.T) {
	t.Parallel()
	e := harness.NewEnv(t)
	marker := "e2e-shared-cache-" + harness.Random()
	projectB := e.Other
	flags := []string{"--egress", "none"}

	write := `set -e; [ "$GOMODCACHE" = /cache/go-mod ] && [ "$GOCACHE" = /cache/go-build ] && [ "$npm_config_cache" = /cache/npm ] &&
[ "$npm_config_store_dir" = /cache/pnpm ] && [ "$UV_CACHE_DIR" = /cache/uv ] && [ "$BUN_INSTALL_CACHE_DIR" = /cache/bun ]
mkdir -p "$GOMODCACHE/cache/download/example.com/m/@v" "$npm_config_cache/_cacache"
echo "$1" >"$GOMODCACHE/cache/download/example.com/m/@v/v1.0.0.mod"
echo "$1" >"$npm_config_cache/_cacache/index"
touch /cache/not-a-cache 2>/dev/null && echo "/cache is writable" && exit 3
echo written`
	r := e.Run(sandboxRun(e, append(append([]string{"--shared-caches"}, flags...), "sh", "-c", write, "sh", marker)...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "written") {
		t.Fatalf("project A writes into the shared caches:\n%s", r)
	}

	read := `echo "gomodcache=[$GOMODCACHE]"; cat "${GOMODCACHE:-$HOME/go/pkg/mod}/cache/download/example.com/m/@v/v1.0.0.mod" "${npm_config_cache:-$HOME/.npm}/_cacache/index" 2>&1; ls /cache 2>&1; true`
	r = e.RunIn(projectB, harness.RunOpts{}, sandboxRun(e, append(append([]string{"--shared-caches"}, flags...), "sh", "-c", read)...)...)
	if r.Code != 0 || strings.Count(r.Stdout, marker) != 2 || !strings.Contains(r.Stdout, "gomodcache=[/cache/go-mod]") {
		t.Errorf("project B, caches shared: want A's Go module and npm cache entries:\n%s", r)
	}

	r = e.RunIn(projectB, harness.RunOpts{}, sandboxRun(e, append(flags, "sh", "-c", read)...)...)
	if r.Code != 0 || strings.Contains(r.Stdout, marker) || !strings.Contains(r.Stdout, "gomodcache=[]") ||
		!strings.Contains(r.Stdout, "cannot access '/cache'") {
		t.Errorf("project B, caches per project (the default): want no shared cache, no /cache:\n%s", r)
	}

	shared := filepath.Join(e.State, "cache", "shared")
	for _, k := range sandbox.CacheKinds() {
		st, err := os.Lstat(filepath.Join(shared, k.Name))
		if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("%s on the host: %v %v", k.Name, st, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(shared, "go-mod", "cache", "download", "example.com", "m", "@v", "v1.0.0.mod"))
	if err != nil || strings.TrimSpace(string(data)) != marker {
		t.Errorf("the module A wrote, on the host: %q %v", data, err)
	}
}
