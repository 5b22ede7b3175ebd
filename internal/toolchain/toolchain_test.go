package toolchain_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/toolchain"
)

// tree writes files (name → content) into a new folder; a content
// starting with "->" makes a symbolic link to the rest.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDetect(t *testing.T) {
	huge := `{"packageManager": "pnpm@9.1.0", "x": "` + strings.Repeat("x", toolchain.MaxRead) + `"}`
	tests := []struct {
		name     string
		files    map[string]string
		lines    []string // the findings as String says them
		addons   []string
		ignored  []toolchain.Ignored
		language []string
	}{
		{name: "empty", files: map[string]string{"README.md": "hi"}},
		{
			name:     "go and pnpm, no package.json",
			files:    map[string]string{"go.mod": "module x\n", "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"},
			lines:    []string{"go.mod: Go → add-on go", "pnpm-lock.yaml: Node.js (in every image)", "pnpm-lock.yaml: pnpm → add-on pnpm"},
			addons:   []string{"go", "pnpm"},
			language: []string{"Go", "pnpm"},
		},
		{
			name: "packageManager wins over the lockfiles; tsconfig",
			files: map[string]string{"package.json": `{"packageManager": "bun@1.2.3"}`, "yarn.lock": "",
				"tsconfig.json": "{}"},
			lines: []string{"package.json: Node.js (in every image)", "package.json (packageManager): Bun → add-on bun",
				"tsconfig.json: TypeScript → add-on lsp (its language server)"},
			addons:   []string{"bun", "lsp"},
			language: []string{"Bun", "TypeScript"},
		},
		{
			name:  "yarn and npm need no add-on; typescript as a dependency",
			files: map[string]string{"package.json": `{"devDependencies": {"typescript": "^5"}}`, "yarn.lock": "", "package-lock.json": "{}"},
			lines: []string{"package.json: Node.js (in every image)",
				"yarn.lock: Yarn (no add-on: corepack's yarn comes with Node.js)",
				"package-lock.json: npm (comes with Node.js)",
				"package.json (typescript): TypeScript → add-on lsp (its language server)"},
			addons:   []string{"lsp"},
			language: []string{"TypeScript"},
		},
		{
			name:  "bun.lock",
			files: map[string]string{"package.json": `{"name": "x"}`, "bun.lock": "{}"},
			lines: []string{"package.json: Node.js (in every image)", "bun.lock: Bun → add-on bun"}, addons: []string{"bun"}, language: []string{"Bun"},
		},
		{
			name:  "python with requirements only",
			files: map[string]string{"requirements-dev.txt": "pytest\n"},
			lines: []string{"requirements-dev.txt: Python (in every image)"},
		},
		{
			name:     "python with uv.lock and C extensions",
			files:    map[string]string{"pyproject.toml": "[project]\nname = 'x'\n", "uv.lock": "", "setup.py": "setup(ext_modules=[Extension('x', ['x.c'])])\n"},
			lines:    []string{"pyproject.toml: Python (in every image)", "uv.lock: uv → add-on uv", "setup.py (ext_modules): Python C extensions → add-on build-tools (a C compiler and Python's headers)"},
			addons:   []string{"uv", "build-tools"},
			language: []string{"uv", "Python C extensions"},
		},
		{
			name:     "[tool.uv] in pyproject",
			files:    map[string]string{"pyproject.toml": "[project]\nname = 'x'\n\n[ tool.uv.sources ]\nx = { path = 'x' }\n"},
			lines:    []string{"pyproject.toml: Python (in every image)", "pyproject.toml ([tool.uv]): uv → add-on uv"},
			addons:   []string{"uv"},
			language: []string{"uv"},
		},
		{
			name:  "a pyproject that does not say uv, a plain setup.py",
			files: map[string]string{"pyproject.toml": "[tool.uvicorn]\nx = 1\n# [tool.uv]\n", "setup.py": "setup(name='x')\n"},
			lines: []string{"pyproject.toml: Python (in every image)"},
		},
		{
			name:     "rust and ruby",
			files:    map[string]string{"Cargo.toml": "[package]\n", "Gemfile": "source 'https://rubygems.org'\n"},
			lines:    []string{"Cargo.toml: Rust → add-ons rust, build-tools", "Gemfile: Ruby → add-on ruby"},
			addons:   []string{"rust", "build-tools", "ruby"},
			language: []string{"Rust", "Ruby"},
		},
		{
			name:    "a symbolic link is not followed",
			files:   map[string]string{"real/go.mod": "module x\n", "go.mod": "->real/go.mod", "package.json": "->/etc/passwd"},
			ignored: []toolchain.Ignored{{File: "go.mod", Why: "a symbolic link, not followed"}, {File: "package.json", Why: "a symbolic link, not followed"}},
		},
		{
			name:     "an oversized package.json is not read; its lockfile still counts",
			files:    map[string]string{"package.json": huge, "bun.lockb": ""},
			lines:    []string{"package.json: Node.js (in every image)", "bun.lockb: Bun → add-on bun"},
			addons:   []string{"bun"},
			ignored:  []toolchain.Ignored{{File: "package.json", Why: "larger than 256 KiB, not read"}},
			language: []string{"Bun"},
		},
		{
			name:    "a package.json that is not JSON",
			files:   map[string]string{"package.json": "{nope"},
			lines:   []string{"package.json: Node.js (in every image)"},
			ignored: []toolchain.Ignored{{File: "package.json", Why: "not valid JSON, not read"}},
		},
		{
			name:  "a folder named go.mod, files below the top level",
			files: map[string]string{"go.mod/x": "", "sub/Cargo.toml": "", "sub/package.json": "{}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := toolchain.Detect(tree(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, f := range rep.Findings {
				lines = append(lines, f.String())
			}
			if d := cmp.Diff(tt.lines, lines); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.addons, rep.Addons()); d != "" {
				t.Errorf("add-ons (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.language, rep.Languages()); d != "" {
				t.Errorf("languages (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.ignored, rep.Ignored); d != "" {
				t.Errorf("ignored (-want +got):\n%s", d)
			}
			if rep.Empty() != (len(tt.lines) == 0) {
				t.Errorf("Empty() = %v", rep.Empty())
			}
		})
	}
}

// A FIFO is not opened (it would block): it is not a regular file.
func TestDetectRefusesAFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "package.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	rep, err := toolchain.Detect(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := toolchain.Report{Ignored: []toolchain.Ignored{{File: "package.json", Why: "not a regular file"}}}
	if d := cmp.Diff(want, rep); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestDetectMissingFolder(t *testing.T) {
	if _, err := toolchain.Detect(filepath.Join(t.TempDir(), "gone")); err == nil {
		t.Error("no error for a missing folder")
	}
}
