package sandbox

import (
	"path/filepath"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
)

// CacheDir holds the shared package caches inside the container. It lies
// outside the agent's home, so docker makes the mount points in the
// container's own (read-only) layer, never in a folder the agent can
// write on the host.
const CacheDir = "/cache"

// LabelCaches is set to "shared" on a sandbox that mounts the shared
// package caches (clean lists them as in use while one runs).
const LabelCaches = "ai-sandbox.caches"

// CacheKind is a package cache that sandboxes can share across projects:
// its folder name (below ~/.ai-sandbox/cache/shared and CacheDir) and the
// variable that points its tool at it.
type CacheKind struct {
	Name string
	Env  string
}

// CacheKinds are the shared package caches. Sharing them is an opt-in:
// Go does not verify an extracted module or a build-cache entry again,
// and npm trusts its cached metadata, so what one project's sandbox
// writes there runs later in another's.
func CacheKinds() []CacheKind {
	return []CacheKind{
		{"go-mod", "GOMODCACHE"},
		{"go-build", "GOCACHE"},
		{"npm", "npm_config_cache"},
		// pnpm 9 reads its settings from npm_config_* variables.
		{"pnpm", "npm_config_store_dir"},
		{"uv", "UV_CACHE_DIR"},
		{"bun", "BUN_INSTALL_CACHE_DIR"},
	}
}

// cacheMounts are the shared caches' mounts and variables, for the
// caches' host folder dir ("" = none: each agent home keeps its own).
func cacheMounts(dir string) ([]docker.Mount, map[string]string) {
	if dir == "" {
		return nil, nil
	}
	var mounts []docker.Mount
	env := map[string]string{}
	for _, k := range CacheKinds() {
		target := CacheDir + "/" + k.Name
		mounts = append(mounts, docker.Mount{Source: filepath.Join(dir, k.Name), Target: target})
		env[k.Env] = target
	}
	return mounts, env
}

// cacheSources are the shared caches' host folders.
func cacheSources(dir string) []string {
	m, _ := cacheMounts(dir)
	var out []string
	for _, c := range m {
		out = append(out, c.Source)
	}
	return out
}
