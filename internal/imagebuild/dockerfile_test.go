package imagebuild

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/dockerfiles"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func pick(t *testing.T, names ...string) []tools.Tool {
	t.Helper()
	table := tools.New()
	var out []tools.Tool
	for _, n := range names {
		tool, ok := table.Lookup(n)
		if !ok {
			t.Fatalf("no tool %s", n)
		}
		out = append(out, tool)
	}
	return out
}

func preset(t *testing.T, name string) Preset {
	t.Helper()
	p, err := LoadPreset(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDockerfileGolden(t *testing.T) {
	cases := []struct {
		name string
		spec Spec
	}{
		{"lean-opencode", Spec{Preset: preset(t, "lean"), Tools: pick(t, "opencode"), Builder: "test"}},
		{"base-opencode", Spec{Preset: preset(t, "base"), Tools: pick(t, "opencode"), Builder: "test"}},
		{"full-opencode", Spec{Preset: preset(t, "full"), Tools: pick(t, "opencode"), Builder: "test"}},
		{"lean-no-tools", Spec{Preset: preset(t, "lean"), Builder: "test"}},
		// The goose agent with the go add-on: pressly/goose is renamed.
		{"lean-go-goose", Spec{Preset: preset(t, "lean"), Addons: []string{"go"}, Tools: pick(t, "goose"), Builder: "test"}},
		// One agent per install method: platform binary package, plain
		// npm, npm with its own script, pipx and a checked download.
		{"lean-methods", Spec{Preset: preset(t, "lean"), Tools: pick(t, "goose", "claude", "codex", "crush", "aider"), Builder: "test"}},
		{"lean-addons-ca", Spec{Preset: preset(t, "lean"), Tools: pick(t, "opencode"), Addons: []string{"playwright-mcp", "openspec", "rtk"},
			CACerts: CAContextNames([]string{"/etc/corp/Root CA.pem", "/x/proxy.crt"}), Builder: "test"}},
	}
	// Every add-on alone on the lean preset, so that a change to one
	// snippet shows in exactly one file.
	for _, a := range Addons() {
		cases = append(cases, struct {
			name string
			spec Spec
		}{"addon-" + a.Name, Spec{Preset: preset(t, "lean"), Addons: []string{a.Name}, Builder: "test"}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Dockerfile(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.name+".Dockerfile")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("Dockerfile differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestDockerfileInvariants(t *testing.T) {
	all := tools.New().All()
	for _, p := range PresetNames() {
		got, err := Dockerfile(Spec{Preset: preset(t, p), Tools: all, Addons: AddonNames()})
		if err != nil {
			t.Fatal(err)
		}
		for _, must := range []string{
			"ARG BASE_IMAGE=" + DefaultBaseImage + "\nFROM ${BASE_IMAGE}\n",
			"libnss-unknown", "chmod 1777 /home/agent", "ENV HOME=/home/agent",
			"find / -xdev -perm /6000", "USER 65534:65534",
		} {
			if !strings.Contains(got, must) {
				t.Errorf("preset %s: Dockerfile lacks %q", p, must)
			}
		}
		for _, never := range []string{"| bash", "| sh", "useradd", "RUN --mount", "<<"} {
			if strings.Contains(got, never) {
				t.Errorf("preset %s: Dockerfile contains %q", p, never)
			}
		}
		if strings.Count(got, "addons/chromium") > 0 || strings.Count(got, "---- chromium:") != 1 {
			t.Errorf("preset %s: the Chromium layer must come exactly once", p)
		}
		for _, tool := range all {
			if !strings.Contains(got, "ARG "+tool.Install.VersionArg+"=") {
				t.Errorf("%s: version not pinned by a build argument", tool.Name)
			}
			if tool.Install.Method == tools.NPM && tool.Install.Native == nil && tool.Install.OwnScript == "" &&
				!strings.Contains(got, "npm-tool.sh "+shq(tool.Install.Package)+` "$`+tool.Install.VersionArg+"\"\n") {
				t.Errorf("%s: not installed by npm-tool.sh with scripts off", tool.Name)
			}
		}
	}
}

func TestEveryAgentHasAnInstall(t *testing.T) {
	for _, tool := range tools.New().All() {
		in := tool.Install
		if in.Package == "" || in.Version == "" || in.VersionArg == "" || tool.Binary == "" {
			t.Errorf("%s: incomplete install %+v", tool.Name, in)
		}
		if in.OwnScript != "" && in.ScriptWhy == "" {
			t.Errorf("%s: runs its own install script without saying why", tool.Name)
		}
		if in.Method == tools.Binary && !strings.HasPrefix(in.Package, "https://") {
			t.Errorf("%s: download is not https: %s", tool.Name, in.Package)
		}
	}
}

func TestAddonSnippetsAndPresets(t *testing.T) {
	for _, a := range Addons() {
		b, err := fs.ReadFile(dockerfiles.FS, "addons/"+a.Name+".Dockerfile")
		if err != nil {
			t.Errorf("add-on %s has no snippet: %v", a.Name, err)
			continue
		}
		if a.VersionArg != "" && !strings.Contains(string(b), "ARG "+a.VersionArg+"=") {
			t.Errorf("add-on %s: snippet does not pin %s", a.Name, a.VersionArg)
		}
	}
	if diff := cmp.Diff([]string{"lean", "base", "full"}, PresetNames()); diff != "" {
		t.Errorf("presets (-want +got):\n%s", diff)
	}
	if got := preset(t, "lean").Addons; len(got) != 0 {
		t.Errorf("lean preset must hold no add-on, has %v", got)
	}
	// base holds the original's base image table; full is base plus the
	// browser tools and the Open Design helpers; ruby and rust are opt-in.
	base, full := preset(t, "base"), preset(t, "full")
	wantBase := []string{"build-tools", "doc-tools", "gh", "go", "uv", "bun", "pnpm", "lsp", "spec-kit", "openspec", "uipro", "rtk", "acli", "pup"}
	if diff := cmp.Diff(wantBase, base.Addons); diff != "" {
		t.Errorf("base preset (-want +got):\n%s", diff)
	}
	wantFull := append(append([]string(nil), wantBase...), "od-helpers", "playwright", "chrome-devtools-mcp", "playwright-mcp")
	if diff := cmp.Diff(wantFull, full.Addons); diff != "" {
		t.Errorf("full preset (-want +got):\n%s", diff)
	}
	for _, p := range []Preset{base, full} {
		for _, a := range p.Addons {
			if ad, _ := LookupAddon(a); !ad.Pinned {
				t.Errorf("preset %s has %s, which cannot build without a digest given by hand", p.Name, a)
			}
		}
	}
}

// No two parts of the image declare the same build argument: a
// --build-arg meant for one (an agent's GOOSE_VERSION) must not change
// another (pressly/goose in the go add-on).
func TestBuildArgsHaveOneOwner(t *testing.T) {
	owner := map[string]string{}
	claim := func(arg, who string) {
		if prev, ok := owner[arg]; ok && prev != who {
			t.Errorf("build argument %s is declared by %s and by %s", arg, prev, who)
		}
		owner[arg] = who
	}
	argRE := regexp.MustCompile(`(?m)^ARG ([A-Z0-9_]+)=`)
	for _, a := range Addons() {
		b, _ := fs.ReadFile(dockerfiles.FS, "addons/"+a.Name+".Dockerfile")
		for _, m := range argRE.FindAllStringSubmatch(string(b), -1) {
			claim(m[1], "add-on "+a.Name)
		}
	}
	for _, tool := range tools.New().All() {
		in := tool.Install
		claim(in.VersionArg, "agent "+tool.Name)
		if in.Method == tools.Binary {
			claim(in.SHA256Arg()+"_AMD64", "agent "+tool.Name)
			claim(in.SHA256Arg()+"_ARM64", "agent "+tool.Name)
		}
	}
}

// A release download that claims to be pinned has a 64-hex digest for
// both architectures in its snippet.
func TestAddonDigestsPinned(t *testing.T) {
	for _, a := range Addons() {
		if a.SHA256Arg == "" {
			continue
		}
		b, _ := fs.ReadFile(dockerfiles.FS, "addons/"+a.Name+".Dockerfile")
		for _, arch := range []string{"AMD64", "ARM64"} {
			re := regexp.MustCompile(`(?m)^ARG ` + a.SHA256Arg + `_` + arch + `=([0-9a-f]{64})?$`)
			m := re.FindStringSubmatch(string(b))
			switch {
			case m == nil:
				t.Errorf("add-on %s: no ARG %s_%s", a.Name, a.SHA256Arg, arch)
			case a.Pinned && m[1] == "":
				t.Errorf("add-on %s is marked pinned but %s_%s is empty", a.Name, a.SHA256Arg, arch)
			case !a.Pinned && m[1] != "":
				t.Errorf("add-on %s has %s_%s pinned but is not marked pinned", a.Name, a.SHA256Arg, arch)
			}
		}
	}
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func TestParsePresetErrors(t *testing.T) {
	var ok string
	for _, a := range Addons() {
		v := "0"
		if a.Name == "openspec" {
			v = "1"
		}
		ok += a.Flag + "=" + v + "\n"
	}
	p, err := ParsePreset("x", "# c\n\n"+ok)
	if err != nil || !cmp.Equal(p.Addons, []string{"openspec"}) {
		t.Fatalf("ParsePreset = %v, %v", p, err)
	}
	for name, text := range map[string]string{
		"missing flag":  "INSTALL_RTK=0\n",
		"unknown flag":  ok + "INSTALL_FOO=1\n",
		"bad value":     strings.Replace(ok, "INSTALL_RTK=0", "INSTALL_RTK=yes", 1),
		"twice":         ok + "INSTALL_RTK=1\n",
		"no equal sign": ok + "INSTALL_RTK\n",
	} {
		if _, err := ParsePreset("x", text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadPreset("nope"); err == nil || !strings.Contains(err.Error(), "lean, base, full") {
		t.Errorf("LoadPreset(nope) = %v", err)
	}
}

func TestDockerfileErrors(t *testing.T) {
	base := preset(t, "base")
	if _, err := Dockerfile(Spec{Preset: base, Addons: []string{"nope"}}); err == nil {
		t.Error("unknown add-on accepted")
	}
	if _, err := Dockerfile(Spec{Preset: base, Tools: pick(t, "claude", "claude")}); err == nil {
		t.Error("duplicate agent accepted")
	}
	if _, err := Dockerfile(Spec{}); err == nil {
		t.Error("no preset accepted")
	}
}

func TestEffectiveAddonsOrder(t *testing.T) {
	s := Spec{Preset: Preset{Name: "x", Addons: []string{"openspec"}}, Addons: []string{"playwright-mcp", "build-tools", "openspec"}}
	if diff := cmp.Diff([]string{"build-tools", "openspec", "playwright-mcp"}, s.EffectiveAddons()); diff != "" {
		t.Error(diff)
	}
}

func TestCAContextNames(t *testing.T) {
	got := CAContextNames([]string{"/a/Corp Root.pem", "/b/proxy.crt", "/c/..."})
	if diff := cmp.Diff([]string{"00-Corp-Root.crt", "01-proxy.crt", "02-ca.crt"}, got); diff != "" {
		t.Error(diff)
	}
}

const testCert = `-----BEGIN CERTIFICATE-----
MIIBdjCCARugAwIBAgIUQ2h8GL5yZ2hK0DR0qTqYq7C1W1MwCgYIKoZIzj0EAwIw
-----END CERTIFICATE-----
`

func TestReadCACert(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	key := filepath.Join(dir, "key.pem")
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(good, []byte(testCert), 0o644)
	os.WriteFile(key, []byte(testCert+"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o644)
	os.WriteFile(junk, []byte("hello\n"), 0o644)
	if _, err := ReadCACert(good); err != nil {
		t.Errorf("good: %v", err)
	}
	if _, err := ReadCACert(key); err == nil || !strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("key: %v", err)
	}
	if _, err := ReadCACert(junk); err == nil {
		t.Error("junk accepted")
	}
	if _, err := ReadCACert(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing accepted")
	}
}

func TestWriteContext(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(t.TempDir(), "corp.pem")
	os.WriteFile(ca, []byte(strings.TrimSuffix(testCert, "\n")), 0o644)
	s := Spec{Preset: preset(t, "base"), Tools: pick(t, "opencode"), CACerts: CAContextNames([]string{ca})}
	if err := WriteContext(dir, s, []string{ca}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Dockerfile", ".dockerignore", "build/npm-tool.sh", "build/npm-native.sh", "build/pipx-tool.sh", "build/binary-tool.sh", "build/osc52-copy.sh", "ca/00-corp.crt"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if strings.HasPrefix(f, "build/") && st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", f)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "ca/00-corp.crt"))
	if !strings.HasSuffix(string(b), "\n") {
		t.Error("CA file lost its final newline")
	}
	if err := WriteContext(dir, s, nil); err == nil {
		t.Error("CA count mismatch accepted")
	}
}

func TestRuntimeCA(t *testing.T) {
	m, env := RuntimeCA("/home/u/.ai-sandbox/cache/ca-bundle.pem")
	if diff := cmp.Diff([]docker.Mount{{Source: "/home/u/.ai-sandbox/cache/ca-bundle.pem", Target: RuntimeCABundle, ReadOnly: true}}, m); diff != "" {
		t.Error(diff)
	}
	for _, k := range []string{"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO"} {
		if env[k] != RuntimeCABundle {
			t.Errorf("%s = %q", k, env[k])
		}
	}
	if m, env := RuntimeCA(""); m != nil || env != nil {
		t.Error("no bundle must give nothing")
	}
}

func TestCABundle(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "corp.pem")
	os.WriteFile(ca, []byte(testCert), 0o644)
	b, err := CABundle([]string{ca})
	if err != nil || !strings.HasSuffix(string(b), testCert) {
		t.Fatalf("bundle does not end with the extra CA: %v", err)
	}
	if _, err := CABundle([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing CA accepted")
	}
}
