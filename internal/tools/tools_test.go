package tools

import (
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"path"
	"regexp"
	"strings"
	"testing"
)

func TestTableCoversTheAgents(t *testing.T) {
	table := New()
	for _, n := range []string{"opencode", "claude", "gemini", "codex", "aider", "amp", "qwen", "kilo", "droid", "qoder",
		"auggie", "codebuddy", "jules", "shai", "crush", "goose", "cursor-agent", "copilot"} {
		if _, ok := table.Lookup(n); !ok {
			t.Errorf("no entry for %s", n)
		}
	}
	if tool, ok := table.Lookup("qodercli"); !ok || tool.Name != "qoder" {
		t.Errorf("Lookup by binary: %v %v", tool.Name, ok)
	}
	if len(table.Names()) != len(all()) {
		t.Error("duplicate agent names")
	}
}

var envKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func TestEntries(t *testing.T) {
	binaries := map[string]string{}
	for _, tool := range New().All() {
		if prev, ok := binaries[tool.Binary]; ok {
			t.Errorf("%s and %s share the binary %s", prev, tool.Name, tool.Binary)
		}
		binaries[tool.Binary] = tool.Name
		for _, h := range tool.HostConfig {
			if path.IsAbs(h) || strings.HasPrefix(path.Clean(h), "..") || h != path.Clean(h) {
				t.Errorf("%s: host config %q must be a clean path relative to home", tool.Name, h)
			}
		}
		for _, k := range tool.EnvKeys {
			if !envKey.MatchString(k) {
				t.Errorf("%s: env key %q", tool.Name, k)
			}
		}
		for k := range tool.Install.Env {
			if !envKey.MatchString(k) {
				t.Errorf("%s: image env %q", tool.Name, k)
			}
		}
		if tool.Install.Native != nil && !strings.Contains(tool.Install.Native.Package, "{arch}") {
			t.Errorf("%s: native package without {arch}", tool.Name)
		}
		if tool.SkillsDir != "" && path.IsAbs(tool.SkillsDir) {
			t.Errorf("%s: skills dir must be relative", tool.Name)
		}
	}
}

// The original mounted config folders that the agents never read; the
// table uses the real ones (shared/reference/agents.md).
func TestRealConfigPaths(t *testing.T) {
	want := map[string]string{"gemini": ".gemini", "codex": ".codex", "qwen": ".qwen", "droid": ".factory",
		"claude": ".claude", "copilot": ".copilot", "opencode": ".config/opencode", "kilo": ".config/kilo"}
	wrong := []string{".config/gemini", ".config/codex", ".config/qwen", ".config/droid", ".config/qoder",
		".config/auggie", ".config/codebuddy", ".config/jules"}
	table := New()
	for name, dir := range want {
		tool, _ := table.Lookup(name)
		found := false
		for _, h := range tool.HostConfig {
			found = found || h == dir
		}
		if !found {
			t.Errorf("%s: host config %v lacks %s", name, tool.HostConfig, dir)
		}
	}
	for _, tool := range table.All() {
		for _, h := range tool.HostConfig {
			for _, w := range wrong {
				if h == w {
					t.Errorf("%s: %s is the original's wrong path", tool.Name, h)
				}
			}
		}
	}
}

func TestDatabasesAndSandboxFlags(t *testing.T) {
	table := New()
	for _, tool := range table.All() {
		switch tool.Name {
		case "opencode":
			if tool.DB == nil || tool.DB.Env != "OPENCODE_DB" {
				t.Errorf("opencode DB %+v", tool.DB)
			}
		case "kilo":
			if tool.DB == nil || tool.DB.Env != "KILO_DB" {
				t.Errorf("kilo DB %+v", tool.DB)
			}
		default:
			if tool.DB != nil {
				t.Errorf("%s: unexpected DB", tool.Name)
			}
		}
	}
	if c, _ := table.Lookup("codex"); c.NoSandbox != "--sandbox=danger-full-access" {
		t.Errorf("codex NoSandbox %q", c.NoSandbox)
	}
}

func TestSHA256Arg(t *testing.T) {
	if got := (Install{VersionArg: "GOOSE_VERSION"}).SHA256Arg(); got != "GOOSE_SHA256" {
		t.Error(got)
	}
	if got := (Install{VersionArg: "X"}).SHA256Arg(); got != "X_SHA256" {
		t.Error(got)
	}
}

func TestEveryAgentHasItsHosts(t *testing.T) {
	table := New()
	for _, tool := range table.All() {
		if len(tool.EgressHosts()) == 0 {
			t.Errorf("%s: no hosts for the allowlist policy", tool.Name)
		}
	}
	for name := range agentHosts {
		if _, ok := table.Lookup(name); !ok {
			t.Errorf("hosts for %s, which is not in the tool table", name)
		}
	}
}

func TestEgressHostsAreRules(t *testing.T) {
	table := New()
	for _, tool := range table.All() {
		if _, err := egress.ParseAllowlist(tool.EgressHosts()); err != nil {
			t.Errorf("%s: %v", tool.Name, err)
		}
	}
	if _, err := egress.ParseAllowlist(CommonHosts); err != nil {
		t.Errorf("common hosts: %v", err)
	}
}
