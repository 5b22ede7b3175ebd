// Package toolchain says which languages and tools a project folder
// builds with, from the well-known files at its top level (go.mod,
// package.json and its lockfiles, pyproject.toml, Cargo.toml, Gemfile, …),
// and which image add-ons provide them. It only names add-ons: whether
// this ai-sandbox has one of that name is for the caller to ask
// (imagebuild.LookupAddon).
//
// The project is the agent's to write, so the files are read as
// untrusted: only the top-level folder is listed, a symbolic link is never
// followed (it is reported as ignored), nothing but a regular file is
// read, and at most MaxRead bytes of one.
//
// What is detected, and the add-ons it asks for:
//
//	go.mod                          Go: go
//	package.json, a lockfile        Node.js: none (in every image)
//	  packageManager pnpm@…, else pnpm-lock.yaml           pnpm
//	  packageManager bun@…, else bun.lockb or bun.lock     bun
//	  packageManager yarn@…, else yarn.lock                none (corepack's yarn comes with Node.js)
//	  packageManager npm@…, else package-lock.json         none
//	tsconfig.json, or a typescript dependency              lsp
//	pyproject.toml, requirements*.txt, setup.py, uv.lock   Python: none (in every image)
//	  uv.lock, or [tool.uv…] in pyproject.toml             uv
//	  ext_modules in setup.py (C extensions)               build-tools
//	Cargo.toml                      Rust: rust and build-tools (its linker)
//	Gemfile                         Ruby: ruby
//
// A Python project without uv.lock or [tool.uv] gets no uv: pip and pipx
// are in every image, and the project has not said it uses uv.
package toolchain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// MaxRead is the most read of one file; a larger one is not read.
const MaxRead = 256 << 10

// Finding is one thing a project's files say about its toolchain.
type Finding struct {
	// Language is what it uses: "Go", "pnpm", "TypeScript", …
	Language string
	// Evidence is the file that says so, relative to the project (with
	// the field, for one read from a file: "package.json (typescript)").
	Evidence string
	// Addons are the add-ons that provide it, in the order to add them;
	// none when every image has it.
	Addons []string
	// Note says why there is no add-on, or anything else worth saying.
	Note string
}

// Ignored is a well-known file that was not trusted: a symbolic link, not
// a regular file, or too large to read.
type Ignored struct {
	File string
	Why  string
}

// Report is what Detect found.
type Report struct {
	Findings []Finding
	Ignored  []Ignored
}

// Addons lists the add-ons of every finding, each once, in the order of
// the findings.
func (r Report) Addons() []string {
	var out []string
	for _, f := range r.Findings {
		for _, a := range f.Addons {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// Languages lists the languages of the findings that need an add-on,
// each once, in order.
func (r Report) Languages() []string {
	var out []string
	for _, f := range r.Findings {
		if len(f.Addons) > 0 && !slices.Contains(out, f.Language) {
			out = append(out, f.Language)
		}
	}
	return out
}

// Empty reports whether nothing was detected.
func (r Report) Empty() bool { return len(r.Findings) == 0 }

// String is the finding as one line: "go.mod: Go → add-on go".
func (f Finding) String() string {
	s := f.Evidence + ": " + f.Language
	switch len(f.Addons) {
	case 0:
	case 1:
		s += " → add-on " + f.Addons[0]
	default:
		s += " → add-ons " + strings.Join(f.Addons, ", ")
	}
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	return s
}

// inEveryImage is the note of a language every image has.
const inEveryImage = "in every image"

// Detect looks at the top level of dir (an absolute path). The error is
// for a folder that cannot be listed; a file that cannot be read is
// Ignored and detection goes on.
func Detect(dir string) (Report, error) {
	root := hostfs.New(dir)
	entries, err := root.ReadDir(".")
	if err != nil {
		return Report{}, fmt.Errorf("project %s: %w", dir, err)
	}
	d := detector{root: root, files: map[string]bool{}}
	for _, e := range entries {
		name := e.Name()
		if !wellKnown(name) {
			continue
		}
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			d.ignore(name, "a symbolic link, not followed")
		case !e.Type().IsRegular():
			if !e.IsDir() {
				d.ignore(name, "not a regular file")
			}
		default:
			d.files[name] = true
			if strings.HasPrefix(name, "requirements") {
				d.requirements = append(d.requirements, name)
			}
		}
	}
	d.golang()
	d.node()
	d.python()
	d.rust()
	d.ruby()
	return d.rep, nil
}

// names are the files looked at, besides requirements*.txt.
var names = []string{
	"go.mod",
	"package.json", "pnpm-lock.yaml", "bun.lockb", "bun.lock", "yarn.lock", "package-lock.json", "tsconfig.json",
	"pyproject.toml", "setup.py", "uv.lock",
	"Cargo.toml",
	"Gemfile",
}

func wellKnown(name string) bool {
	if strings.HasPrefix(name, "requirements") && strings.HasSuffix(name, ".txt") {
		return true
	}
	return slices.Contains(names, name)
}

type detector struct {
	root         hostfs.Root
	files        map[string]bool // regular files present
	requirements []string        // requirements*.txt, sorted
	rep          Report
}

func (d *detector) ignore(file, why string) {
	d.rep.Ignored = append(d.rep.Ignored, Ignored{File: file, Why: why})
}

func (d *detector) add(language, evidence, note string, addons ...string) {
	d.rep.Findings = append(d.rep.Findings, Finding{Language: language, Evidence: evidence, Addons: addons, Note: note})
}

// read reads a present file; ok is false (and the file Ignored) when it
// cannot be read.
func (d *detector) read(name string) (data []byte, ok bool) {
	data, err := d.root.ReadFile(name, MaxRead)
	switch {
	case err == nil:
		return data, true
	case errors.Is(err, hostfs.ErrSymlink):
		d.ignore(name, "a symbolic link, not followed")
	case errors.Is(err, fs.ErrNotExist):
		// Gone since the listing.
	default:
		why := "could not be read"
		if strings.Contains(err.Error(), "larger than the limit") {
			why = fmt.Sprintf("larger than %d KiB, not read", MaxRead>>10)
		}
		d.ignore(name, why)
	}
	return nil, false
}

func (d *detector) golang() {
	if d.files["go.mod"] {
		d.add("Go", "go.mod", "", "go")
	}
}

// packageJSON is what is read of package.json.
type packageJSON struct {
	PackageManager  string            `json:"packageManager"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

// managers are the Node.js package managers, by name and lockfile.
var managers = []struct {
	name, language string
	lockfiles      []string
	addon, note    string
}{
	{"pnpm", "pnpm", []string{"pnpm-lock.yaml"}, "pnpm", ""},
	{"bun", "Bun", []string{"bun.lockb", "bun.lock"}, "bun", ""},
	{"yarn", "Yarn", []string{"yarn.lock"}, "", "no add-on: corepack's yarn comes with Node.js"},
	{"npm", "npm", []string{"package-lock.json"}, "", "comes with Node.js"},
}

func (d *detector) node() {
	var pkg packageJSON
	var lockfiles []string
	for _, m := range managers {
		for _, l := range m.lockfiles {
			if d.files[l] {
				lockfiles = append(lockfiles, l)
			}
		}
	}
	switch {
	case d.files["package.json"]:
		d.add("Node.js", "package.json", inEveryImage)
		if data, ok := d.read("package.json"); ok {
			if err := json.Unmarshal(data, &pkg); err != nil {
				d.ignore("package.json", "not valid JSON, not read")
			}
		}
	case len(lockfiles) > 0:
		d.add("Node.js", lockfiles[0], inEveryImage)
	default:
		return
	}

	// The packageManager field says which one; else the lockfiles do.
	if name, _, _ := strings.Cut(pkg.PackageManager, "@"); name != "" {
		for _, m := range managers {
			if m.name == name {
				d.manager(m.language, "package.json (packageManager)", m.note, m.addon)
			}
		}
	} else {
		for _, m := range managers {
			for _, l := range m.lockfiles {
				if d.files[l] {
					d.manager(m.language, l, m.note, m.addon)
					break
				}
			}
		}
	}

	switch {
	case d.files["tsconfig.json"]:
		d.add("TypeScript", "tsconfig.json", "its language server", "lsp")
	case pkg.Dependencies["typescript"] != "" || pkg.DevDependencies["typescript"] != "":
		d.add("TypeScript", "package.json (typescript)", "its language server", "lsp")
	}
}

func (d *detector) manager(language, evidence, note, addon string) {
	if addon == "" {
		d.add(language, evidence, note)
		return
	}
	d.add(language, evidence, note, addon)
}

func (d *detector) python() {
	var evidence string
	for _, f := range append([]string{"pyproject.toml", "setup.py"}, append(d.requirements, "uv.lock")...) {
		if d.files[f] {
			evidence = f
			break
		}
	}
	if evidence == "" {
		return
	}
	d.add("Python", evidence, inEveryImage)
	switch {
	case d.files["uv.lock"]:
		d.add("uv", "uv.lock", "", "uv")
	case d.files["pyproject.toml"]:
		if data, ok := d.read("pyproject.toml"); ok && tomlHasTable(string(data), "tool.uv") {
			d.add("uv", "pyproject.toml ([tool.uv])", "", "uv")
		}
	}
	if d.files["setup.py"] {
		if data, ok := d.read("setup.py"); ok && strings.Contains(string(data), "ext_modules") {
			d.add("Python C extensions", "setup.py (ext_modules)", "a C compiler and Python's headers", "build-tools")
		}
	}
}

// tomlHasTable reports whether a TOML text has the table name or one
// below it ([tool.uv], [tool.uv.sources], [[tool.uv.index]]).
func tomlHasTable(text, name string) bool {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") {
			continue
		}
		line = strings.TrimLeft(strings.Join(strings.Fields(line), ""), "[")
		if strings.HasPrefix(line, name+"]") || strings.HasPrefix(line, name+".") {
			return true
		}
	}
	return false
}

func (d *detector) rust() {
	if d.files["Cargo.toml"] {
		d.add("Rust", "Cargo.toml", "", "rust", "build-tools")
	}
}

func (d *detector) ruby() {
	if d.files["Gemfile"] {
		d.add("Ruby", "Gemfile", "", "ruby")
	}
}
