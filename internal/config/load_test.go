package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

// original is what testdata/original-v2.json (a config.json as the
// original's version-2 schema writes it) must decode to, field by field.
func original() *config.Config {
	return &config.Config{
		Version: 2,
		Workspaces: []string{
			"/home/alice/projects/web-app",
			"/home/alice/projects/my api",
			"/home/alice/src/client,v2",
			"/home/alice/src/café",
		},
		Git: config.Git{
			AllowedWorkspaces:   []string{"/home/alice/projects/web-app"},
			FetchOnlyWorkspaces: []string{"/home/alice/projects/my api"},
			KeySelections:       map[string]any{},
		},
		Networks: config.Networks{
			Global: []string{"shared-dev"},
			Workspaces: map[string][]string{
				"/home/alice/projects/web-app": {"web_default", "db-net"},
			},
		},
		Tools: config.Tools{Installed: []string{"opencode", "claude", "gemini"}},
		MCP: config.MCP{
			Installed:  []string{"chrome-devtools", "playwright"},
			ChromePath: "/usr/bin/google-chrome-stable",
		},
	}
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "original-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// newPaths gives a state folder inside a fresh temporary directory.
func newPaths(t *testing.T) config.Paths {
	t.Helper()
	return config.Paths{Root: filepath.Join(t.TempDir(), ".ai-sandbox")}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ignoreUnknown compares configurations without their kept unknown keys
// (TestUnknownKeysAreKept checks those).
var ignoreUnknown = cmpopts.IgnoreUnexported(config.Config{})

func TestDecodeOriginalV2Fixture(t *testing.T) {
	got, err := config.Decode("original-v2.json", readFixture(t))
	if err != nil {
		t.Fatalf("a config.json written by the original must load: %v", err)
	}
	if diff := cmp.Diff(original(), got, ignoreUnknown); diff != "" {
		t.Errorf("decoded fixture (-want +got):\n%s", diff)
	}
}

func TestLoadOriginalV2Fixture(t *testing.T) {
	p := newPaths(t)
	writeFile(t, p.ConfigFile(), string(readFixture(t)))
	got, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(original(), got, ignoreUnknown); diff != "" {
		t.Errorf("loaded fixture (-want +got):\n%s", diff)
	}
}

// Save then Decode gives the same Config back, and the saved file keeps
// every key (and value) the original wrote: ours is a superset.
func TestSaveRoundTripKeepsEveryOriginalKey(t *testing.T) {
	fixture := readFixture(t)
	c, err := config.Decode("original-v2.json", fixture)
	if err != nil {
		t.Fatal(err)
	}
	p := newPaths(t)
	if err := config.Save(p, c); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(p.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	back, err := config.Decode(p.ConfigFile(), saved)
	if err != nil {
		t.Fatalf("the saved file does not decode: %v\n%s", err, saved)
	}
	if diff := cmp.Diff(original(), back, ignoreUnknown); diff != "" {
		t.Errorf("Save→Decode (-want +got):\n%s", diff)
	}

	var orig, out map[string]any
	if err := json.Unmarshal(fixture, &orig); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(saved, &out); err != nil {
		t.Fatal(err)
	}
	for _, key := range leafPaths(orig, "") {
		want, _ := lookup(orig, key)
		got, ok := lookup(out, key)
		if !ok {
			t.Errorf("saved file lost the original's key %s", key)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("saved file changed %s (-original +saved):\n%s", key, diff)
		}
	}
	assertMode(t, p.ConfigFile(), 0o600)
}

// leafPaths lists the dotted paths of the objects' keys, down to
// values that are not objects (and down to empty objects).
func leafPaths(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		path := prefix + k
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !strings.HasPrefix(k, "/") {
			out = append(out, leafPaths(sub, path+".")...)
			continue
		}
		out = append(out, path)
	}
	sort.Strings(out)
	return out
}

func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestLoadVersion1AndMissingKeys(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    *config.Config
	}{
		{
			name: "version 1 with workspaces and git only",
			content: `{
  "version": 1,
  "workspaces": ["/home/bob/code/app"],
  "git": {"allowedWorkspaces": ["/home/bob/code/app"]}
}`,
			want: &config.Config{
				Version:    1,
				Workspaces: []string{"/home/bob/code/app"},
				Git: config.Git{
					AllowedWorkspaces:   []string{"/home/bob/code/app"},
					FetchOnlyWorkspaces: []string{},
					KeySelections:       map[string]any{},
				},
			},
		},
		{
			name:    "no version key",
			content: `{"workspaces": ["/w"]}`,
			want: &config.Config{
				Version:    config.CurrentVersion,
				Workspaces: []string{"/w"},
				Git:        config.Git{AllowedWorkspaces: []string{}, FetchOnlyWorkspaces: []string{}, KeySelections: map[string]any{}},
			},
		},
		{
			name:    "empty object",
			content: `{}`,
			want: &config.Config{
				Version:    config.CurrentVersion,
				Workspaces: []string{},
				Git:        config.Git{AllowedWorkspaces: []string{}, FetchOnlyWorkspaces: []string{}, KeySelections: map[string]any{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPaths(t)
			writeFile(t, p.ConfigFile(), tt.content)
			got, err := config.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Networks = config.Networks{Global: []string{}, Workspaces: map[string][]string{}}
			want.Tools.Installed = []string{}
			want.MCP.Installed = []string{}
			if diff := cmp.Diff(want, got, ignoreUnknown); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissingFileGivesDefaults(t *testing.T) {
	p := newPaths(t)
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != config.CurrentVersion || c.Workspaces == nil || len(c.Workspaces) != 0 {
		t.Errorf("defaults: version %d, workspaces %#v", c.Version, c.Workspaces)
	}
	if _, err := os.Stat(p.ConfigFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load must not create config.json: %v", err)
	}
}

func TestLoadMergesLegacyWorkspacesFile(t *testing.T) {
	legacy := "# written by the original\n\n/home/u/b\n  /home/u/c  \n/home/u/c\n\t\n/home/u/d\r\n# /home/u/commented\n/home/u/a\n"
	tests := []struct {
		name   string
		config string // "" = no config.json
		want   []string
	}{
		{
			name:   "merged after config.json, deduplicated",
			config: `{"version": 2, "workspaces": ["/home/u/a", "/home/u/b"]}`,
			want:   []string{"/home/u/a", "/home/u/b", "/home/u/c", "/home/u/d"},
		},
		{
			name: "legacy file alone",
			want: []string{"/home/u/b", "/home/u/c", "/home/u/d", "/home/u/a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPaths(t)
			if tt.config != "" {
				writeFile(t, p.ConfigFile(), tt.config)
			}
			writeFile(t, p.LegacyWorkspaces(), legacy)
			c, err := config.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Workspaces); diff != "" {
				t.Errorf("workspaces (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRemoveLegacyWorkspace(t *testing.T) {
	p := newPaths(t)
	writeFile(t, p.LegacyWorkspaces(), "# keep me\n/home/u/a\n/home/u/b\n")
	removed, err := config.RemoveLegacyWorkspace(p, "/home/u/a")
	if err != nil || !removed {
		t.Fatalf("removed=%v err=%v", removed, err)
	}
	got, err := config.ReadLegacyWorkspaces(p.LegacyWorkspaces())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/home/u/b"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	data, _ := os.ReadFile(p.LegacyWorkspaces())
	if !strings.Contains(string(data), "# keep me") {
		t.Errorf("comments must survive a removal: %q", data)
	}
	removed, err = config.RemoveLegacyWorkspace(p, "/home/u/absent")
	if err != nil || removed {
		t.Errorf("removing an absent entry: removed=%v err=%v", removed, err)
	}
}

// at returns the 1-based line and column of the first occurrence of s.
func at(content, s string) (int, int) {
	i := strings.Index(content, s)
	if i < 0 {
		panic(fmt.Sprintf("%q not in %q", s, content))
	}
	before := content[:i]
	return strings.Count(before, "\n") + 1, i - strings.LastIndex(before, "\n")
}

type corruptCase struct {
	name    string
	content string
	line    int    // 0 = no position expected
	col     int    //
	key     string // "" = no key expected
	msg     string // substring of Msg
}

func corruptCases() []corruptCase {
	truncated := "{\n  \"version\": 2,\n  \"workspaces\": [\"/a\""
	return []corruptCase{
		{name: "truncated", content: truncated, line: 3, col: len(`  "workspaces": ["/a"`) + 1, msg: "truncated"},
		{name: "truncated after the brace", content: "{", line: 1, col: 2, msg: "truncated"},
		{name: "syntax error", content: "{\"version\": 2,, \"workspaces\": []}", line: 1, col: len(`{"version": 2,,`), msg: "invalid character"},
		{name: "syntax error at the end of a line", content: "{\n  \"a\": tru\n}", line: 2, col: 11, msg: "invalid character"},
		{name: "workspaces is a string", content: "{\n  \"version\": 2,\n  \"workspaces\": \"x\"\n}\n", line: 3, col: 20, key: "workspaces", msg: "expected []string"},
		{name: "version is a string", content: `{"version": "2"}`, line: 1, col: 16, key: "version"},
		{name: "nested wrong type", content: "{\n  \"networks\": {\n    \"global\": \"shared\"\n  }\n}", line: 3, key: "networks.global"},
		{name: "map value of the wrong type", content: `{"networks": {"workspaces": {"/a": [1]}}}`, line: 1, key: "networks.workspaces"},
		{name: "trailing garbage", content: "{\"version\": 2}\n{\"version\": 2}\n", line: 2, col: 1, msg: "after the JSON object"},
		{name: "trailing text", content: `{"version": 2}xyz`, line: 1, col: 15, msg: "after the JSON object"},
		{name: "unsupported version", content: `{"version": 3}`, key: "version", msg: "unsupported version 3: it was written by a newer ai-sandbox"},
		{name: "not an object", content: `["/a"]`, line: 1},
	}
}

func TestDecodeCorruptFilesNameThePlace(t *testing.T) {
	const path = "/state/config.json"
	for _, tt := range corruptCases() {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Decode(path, []byte(tt.content))
			if err == nil {
				t.Fatalf("decoded %q without error: %+v", tt.content, c)
			}
			var pe *config.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want *config.ParseError: %v", err, err)
			}
			if pe.Path != path {
				t.Errorf("Path = %q, want %q", pe.Path, path)
			}
			if pe.Line != tt.line || (tt.col != 0 && pe.Column != tt.col) {
				t.Errorf("position = %d:%d, want %d:%d (%v)", pe.Line, pe.Column, tt.line, tt.col, err)
			}
			if pe.Key != tt.key {
				t.Errorf("Key = %q, want %q (%v)", pe.Key, tt.key, err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.msg)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path) {
				t.Errorf("message %q does not start with the path", msg)
			}
			if tt.line > 0 && !strings.Contains(msg, fmt.Sprintf("%s:%d:%d: ", path, pe.Line, pe.Column)) {
				t.Errorf("message %q does not name the position", msg)
			}
			if tt.key != "" && !strings.Contains(msg, fmt.Sprintf("key %q", tt.key)) {
				t.Errorf("message %q does not name the key", msg)
			}
			if strings.HasSuffix(msg, ".") {
				t.Errorf("message %q ends with a period", msg)
			}
		})
	}
}

func TestCaseInsensitiveKeysAreAccepted(t *testing.T) {
	// encoding/json matches keys case-insensitively; the unknown-key
	// search must agree, or it would blame a key the decoder accepted.
	c, err := config.Decode("c.json", []byte(`{"Version": 2, "MCP": {"ChromePath": "/x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.MCP.ChromePath != "/x" {
		t.Errorf("chromePath = %q", c.MCP.ChromePath)
	}
}

func TestLoadAndUpdateRefuseCorruptFileAndLeaveItAlone(t *testing.T) {
	for _, tt := range corruptCases() {
		t.Run(tt.name, func(t *testing.T) {
			p := newPaths(t)
			writeFile(t, p.ConfigFile(), tt.content)
			if err := os.Chmod(p.ConfigFile(), 0o640); err != nil {
				t.Fatal(err)
			}
			if _, err := config.Load(p); err == nil {
				t.Fatal("Load accepted a corrupt file")
			}
			called := false
			err := config.Update(p, func(c *config.Config) error {
				called = true
				c.Workspaces = append(c.Workspaces, "/new")
				return nil
			})
			var pe *config.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Update error = %v, want a *config.ParseError", err)
			}
			if called {
				t.Error("Update called fn on a file that does not parse")
			}
			got, err := os.ReadFile(p.ConfigFile())
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.content {
				t.Errorf("the corrupt file changed:\nbefore %q\nafter  %q", tt.content, got)
			}
			assertMode(t, p.ConfigFile(), 0o640)
			assertNoTempFiles(t, p.Root)
		})
	}
}

func TestUpdate(t *testing.T) {
	p := newPaths(t)
	if err := config.Update(p, func(c *config.Config) error { return config.ErrNoChange }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.ConfigFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ErrNoChange must write nothing, stat: %v", err)
	}
	boom := errors.New("boom")
	if err := config.Update(p, func(c *config.Config) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error must come back, got %v", err)
	}
	if _, err := os.Stat(p.ConfigFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed fn must write nothing, stat: %v", err)
	}
	if err := config.Update(p, func(c *config.Config) error {
		c.Workspaces = append(c.Workspaces, "/w")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/w"}, c.Workspaces); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	assertMode(t, p.ConfigFile(), 0o600)
	assertNoTempFiles(t, p.Root)
}

// Updates from many goroutines (each its own lock file descriptor) are
// serialised: none is lost.
func TestUpdateConcurrentNoLostWrites(t *testing.T) {
	p := newPaths(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- config.Update(p, func(c *config.Config) error {
				c.Workspaces = append(c.Workspaces, fmt.Sprintf("/w/%02d", i))
				return nil
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]string(nil), c.Workspaces...)
	sort.Strings(got)
	var want []string
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("/w/%02d", i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	// An existing, more open file is replaced by a 0600 one.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := config.WriteFileAtomic(path, []byte("new content\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new content\n" {
		t.Errorf("content = %q", got)
	}
	assertMode(t, path, 0o600)
	assertNoTempFiles(t, dir)

	// It creates missing parent folders as 0700.
	deep := filepath.Join(dir, "a", "b", "f")
	if err := config.WriteFileAtomic(deep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	assertMode(t, filepath.Join(dir, "a"), fs.ModeDir|0o700)
	assertMode(t, deep, 0o600)
}

func TestWriteFileAtomicFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	// A non-empty directory where the file should go: the rename fails.
	target := filepath.Join(dir, "config.json")
	writeFile(t, filepath.Join(target, "keep"), "x")
	if err := config.WriteFileAtomic(target, []byte("data"), 0o600); err == nil {
		t.Fatal("WriteFileAtomic over a directory succeeded")
	}
	assertNoTempFiles(t, dir)
}

func TestResolvePaths(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		getenv func(string) string
		home   string
		want   string
		err    bool
	}{
		{"default", env(), "/home/u", "/home/u/.ai-sandbox", false},
		{"AI_SANDBOX_HOME absolute", env("AI_SANDBOX_HOME", "/srv/state"), "/home/u", "/srv/state", false},
		{"AI_SANDBOX_HOME with ~", env("AI_SANDBOX_HOME", "~/state"), "/home/u", "/home/u/state", false},
		{"AI_SANDBOX_HOME relative", env("AI_SANDBOX_HOME", "state"), "/home/u", filepath.Join(cwd, "state"), false},
		{"AI_SANDBOX_HOME without a home", env("AI_SANDBOX_HOME", "/srv/state"), "", "/srv/state", false},
		{"no home at all", env(), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := config.ResolvePaths(tt.getenv, tt.home)
			if tt.err {
				if err == nil {
					t.Fatalf("want an error, got %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Root != tt.want {
				t.Errorf("Root = %q, want %q", p.Root, tt.want)
			}
			if p.ConfigFile() != filepath.Join(tt.want, "config.json") || p.EnvFile() != filepath.Join(tt.want, "env") ||
				p.LegacyWorkspaces() != filepath.Join(tt.want, "workspaces") {
				t.Errorf("file layout: %s %s %s", p.ConfigFile(), p.EnvFile(), p.LegacyWorkspaces())
			}
		})
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode() & (fs.ModeDir | fs.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}

// Keys this version does not know (a newer ai-sandbox or the original
// adds some) are kept, listed, and written back by a save; an empty file
// is an empty configuration.
func TestUnknownKeysAreKept(t *testing.T) {
	p := newPaths(t)
	content := `{
  "version": 2,
  "workspaces": ["/w"],
  "futureTopLevel": {"a": [1, 2.5, "x"]},
  "git": {"allowedWorkspaces": [], "bogus": 1},
  "networks": {"workspaces": {"/a": ["n"]}, "global": []},
  "mcp": {"chromePath": "/x", "port": 9222}
}
`
	writeFile(t, p.ConfigFile(), content)
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.UnknownKeys(), ","); got != "futureTopLevel,git.bogus,mcp.port" {
		t.Errorf("unknown keys %q", got)
	}
	if err := config.Update(p, func(c *config.Config) error {
		c.Workspaces = append(c.Workspaces, "/w2")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p.ConfigFile())
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(doc["futureTopLevel"]) != "map[a:[1 2.5 x]]" || fmt.Sprint(doc["git"].(map[string]any)["bogus"]) != "1" ||
		fmt.Sprint(doc["mcp"].(map[string]any)["port"]) != "9222" {
		t.Errorf("unknown keys lost on save:\n%s", data)
	}
	if fmt.Sprint(doc["workspaces"]) != "[/w /w2]" {
		t.Errorf("the change was not saved:\n%s", data)
	}
	for _, empty := range []string{"", "  \n\n"} {
		writeFile(t, p.ConfigFile(), empty)
		c, err := config.Load(p)
		if err != nil || c.Version != config.CurrentVersion || len(c.Workspaces) != 0 {
			t.Errorf("empty file %q: %+v %v", empty, c, err)
		}
	}
}
