package imagebuild

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/dockerfiles"
)

// Addon is an optional part of the image, chosen with --addons or by a
// preset. Its layer is dockerfiles/addons/<Name>.Dockerfile.
type Addon struct {
	Name        string
	Flag        string // the INSTALL_* flag of the presets
	Description string
	// VersionArg is the build argument pinning its version ("" = Debian's).
	VersionArg string
	// Chromium: needs the container's own Chromium layer.
	Chromium bool
	// Debian: only Debian packages; these layers come first.
	Debian bool
	// MCP is the command an agent's MCP config runs for it (browser
	// servers run against the container's Chromium, never a host browser).
	MCP []string
	// SHA256Arg, for release downloads, is the build-argument prefix of
	// the pinned digests; "" when it needs none.
	SHA256Arg string
	// Pinned reports that the default build has every digest it needs.
	Pinned bool
}

// ChromiumPath is where the container's own browser lives.
const ChromiumPath = "/usr/bin/chromium"

// addons lists the add-ons in layer order: Debian packages first (they
// change least; the Chromium layer follows them when a browser add-on is
// chosen), then the language toolchains, which are large and rarely
// bumped, then the small CLIs that are released often, then the browser
// tools. The agents' layers come after all of them, so a new agent version
// rebuilds no add-on.
func addons() []Addon {
	return []Addon{
		{Name: "build-tools", Flag: "INSTALL_BUILD_TOOLS", Description: "C/C++ toolchain and Python headers", Debian: true, Pinned: true},
		{Name: "doc-tools", Flag: "INSTALL_DOC_TOOLS", Description: "OCR and PDF tools (tesseract, poppler, qpdf)", Debian: true, Pinned: true},
		{Name: "gh", Flag: "INSTALL_GH", Description: "GitHub CLI (gh), Debian's package", Debian: true, Pinned: true},
		{Name: "rust", Flag: "INSTALL_RUST", Description: "Rust 1.85 and Cargo, Debian's rustc-web and cargo-web", Debian: true, Pinned: true},
		{Name: "ruby", Flag: "INSTALL_RUBY", Description: "Ruby 3.1 with headers, Bundler and Rails 6.1, Debian's packages (opt-in)", Debian: true, Pinned: true},
		{Name: "go", Flag: "INSTALL_GO", Description: "Go toolchain (from the Go module proxy) with sqlc, goose, golangci-lint and gopls",
			VersionArg: "GO_VERSION", SHA256Arg: "GO_SHA256", Pinned: true},
		{Name: "uv", Flag: "INSTALL_UV", Description: "uv and uvx (Python packages and versions), release binary", VersionArg: "UV_VERSION", SHA256Arg: "UV_SHA256", Pinned: true},
		{Name: "bun", Flag: "INSTALL_BUN", Description: "Bun runtime and package manager (bun, bunx), its npm platform package", VersionArg: "BUN_VERSION", Pinned: true},
		{Name: "pnpm", Flag: "INSTALL_PNPM", Description: "pnpm package manager, from npm", VersionArg: "PNPM_VERSION", Pinned: true},
		{Name: "lsp", Flag: "INSTALL_LSP", Description: "TypeScript and Python language servers (typescript-language-server, pyright), from npm",
			VersionArg: "TYPESCRIPT_LANGUAGE_SERVER_VERSION", Pinned: true},
		{Name: "spec-kit", Flag: "INSTALL_SPEC_KIT", Description: "GitHub Spec Kit CLI (specify), from PyPI", VersionArg: "SPEC_KIT_VERSION", Pinned: true},
		{Name: "openspec", Flag: "INSTALL_OPENSPEC", Description: "OpenSpec CLI (openspec), from npm", VersionArg: "OPENSPEC_VERSION", Pinned: true},
		{Name: "uipro", Flag: "INSTALL_UIPRO", Description: "UI/UX Pro Max CLI (uipro), from npm", VersionArg: "UIPRO_VERSION", Pinned: true},
		{Name: "rtk", Flag: "INSTALL_RTK", Description: "RTK token optimizer (rtk), release binary", VersionArg: "RTK_VERSION", SHA256Arg: "RTK_SHA256", Pinned: true},
		{Name: "acli", Flag: "INSTALL_ACLI", Description: "Atlassian CLI (acli) for Jira and Confluence, release binary", VersionArg: "ACLI_VERSION", SHA256Arg: "ACLI_SHA256", Pinned: true},
		{Name: "pup", Flag: "INSTALL_PUP", Description: "Datadog Pup CLI (pup), release binary; agents get the dd-pup skill", VersionArg: "PUP_VERSION", SHA256Arg: "PUP_SHA256", Pinned: true},
		{Name: "od-helpers", Flag: "INSTALL_OD_HELPERS", Description: "Open Design daemon helpers (od-status, od-health)", Pinned: true},
		{Name: "playwright", Flag: "INSTALL_PLAYWRIGHT", Description: "Playwright library and CLI with the container's Chromium",
			VersionArg: "PLAYWRIGHT_VERSION", Chromium: true, Pinned: true},
		{Name: "chrome-devtools-mcp", Flag: "INSTALL_CHROME_DEVTOOLS_MCP", Description: "Chrome DevTools MCP server on the container's Chromium",
			VersionArg: "CHROME_DEVTOOLS_MCP_VERSION", Chromium: true, Pinned: true,
			MCP: []string{"chrome-devtools-mcp", "--headless", "--isolated", "--executablePath", ChromiumPath, "--chrome-arg=--no-sandbox"}},
		{Name: "playwright-mcp", Flag: "INSTALL_PLAYWRIGHT_MCP", Description: "Playwright MCP server on the container's Chromium",
			VersionArg: "PLAYWRIGHT_MCP_VERSION", Chromium: true, Pinned: true,
			MCP: []string{"playwright-mcp", "--headless", "--isolated", "--browser", "chromium", "--executable-path", ChromiumPath, "--no-sandbox"}},
	}
}

// Addons lists the add-ons in layer order.
func Addons() []Addon { return addons() }

// AddonNames lists the add-on names in layer order.
func AddonNames() []string {
	var out []string
	for _, a := range addons() {
		out = append(out, a.Name)
	}
	return out
}

// LookupAddon finds an add-on by name.
func LookupAddon(name string) (Addon, bool) {
	for _, a := range addons() {
		if a.Name == name {
			return a, true
		}
	}
	return Addon{}, false
}

// Preset is a named set of add-ons, read from dockerfiles/presets/<name>.env.
type Preset struct {
	Name   string
	Addons []string // in layer order
}

// PresetNames lists the presets, smallest first.
func PresetNames() []string {
	entries, err := fs.ReadDir(dockerfiles.FS, "presets")
	if err != nil {
		return nil
	}
	var out []string
	size := map[string]int{}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".env"); ok {
			out = append(out, name)
			if p, err := LoadPreset(name); err == nil {
				size[name] = len(p.Addons)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if size[out[i]] != size[out[j]] {
			return size[out[i]] < size[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// PresetSummary says in a line what a preset is for.
func PresetSummary(name string) string {
	switch name {
	case "lean":
		return "the base layer and the agents, no add-on: the smallest image"
	case "base":
		return "the original's base image: Go, uv, Bun, pnpm, a C toolchain, gh, language servers, PDF/OCR tools and the helper CLIs"
	case "full":
		return "base + Playwright and the browser MCP servers on the container's Chromium, and the Open Design helpers"
	}
	p, err := LoadPreset(name)
	if err != nil || len(p.Addons) == 0 {
		return "no add-ons"
	}
	return "with " + strings.Join(p.Addons, ", ")
}

// LoadPreset reads a preset's INSTALL_* flags. Every add-on must have its
// flag in the file, set to 0 or 1, so a preset always says what it holds.
func LoadPreset(name string) (Preset, error) {
	data, err := fs.ReadFile(dockerfiles.FS, path.Join("presets", name+".env"))
	if err != nil {
		return Preset{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return ParsePreset(name, string(data))
}

// ParsePreset parses the text of a preset file.
func ParsePreset(name, text string) (Preset, error) {
	byFlag := map[string]Addon{}
	for _, a := range addons() {
		byFlag[a.Flag] = a
	}
	set := map[string]bool{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Preset{}, fmt.Errorf("preset %s line %d: expected INSTALL_NAME=0|1", name, n)
		}
		a, known := byFlag[k]
		if !known {
			return Preset{}, fmt.Errorf("preset %s line %d: unknown flag %s", name, n, k)
		}
		if seen[k] {
			return Preset{}, fmt.Errorf("preset %s line %d: %s set twice", name, n, k)
		}
		seen[k] = true
		switch v {
		case "1":
			set[a.Name] = true
		case "0":
		default:
			return Preset{}, fmt.Errorf("preset %s line %d: %s=%q: expected 0 or 1", name, n, k, v)
		}
	}
	for _, a := range addons() {
		if !seen[a.Flag] {
			return Preset{}, fmt.Errorf("preset %s: %s is missing", name, a.Flag)
		}
	}
	p := Preset{Name: name}
	for _, a := range addons() {
		if set[a.Name] {
			p.Addons = append(p.Addons, a.Name)
		}
	}
	return p, nil
}
