package harness

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
)

var (
	staticMu   sync.Mutex
	staticBins = map[string]string{}
)

// StaticAs makes a folder holding the static (CGO_ENABLED=0) build of
// the package pkg (e.g. "./e2e/dbwriter") under each of names, to be
// mounted with --mount DIR:/usr/local/bin:ro like ProbeAs; the package
// is built once per run. A binary that needs a dynamic loader fails t:
// it would not run in every sandbox image.
func (e *Env) StaticAs(pkg string, names ...string) string {
	e.T.Helper()
	staticMu.Lock()
	bin, ok := staticBins[pkg]
	if !ok {
		bin = filepath.Join(e.S.Base, "bin", "static-"+regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(pkg, "-"))
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
		cmd.Dir = e.S.Root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticMu.Unlock()
			e.T.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		if f, err := elf.Open(bin); err != nil {
			staticMu.Unlock()
			e.T.Fatalf("%s: %v", bin, err)
		} else {
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					f.Close()
					staticMu.Unlock()
					e.T.Fatalf("%s is not static: it needs a dynamic loader", pkg)
				}
			}
			f.Close()
		}
		staticBins[pkg] = bin
	}
	staticMu.Unlock()
	dir, err := os.MkdirTemp(e.Dir, "bin-as-")
	if err != nil {
		e.T.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		e.T.Fatal(err)
	}
	for _, n := range names {
		if err := copyFile(bin, filepath.Join(dir, n), 0o755); err != nil {
			e.T.Fatal(err)
		}
	}
	return dir
}
