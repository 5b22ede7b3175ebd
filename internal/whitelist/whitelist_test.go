package whitelist

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

func setupHome(t *testing.T) (config.Paths, string, func() (string, error)) {
	t.Helper()
	home, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"projects", ".ssh"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../.ssh", filepath.Join(home, "projects", "innocent")); err != nil {
		t.Fatal(err)
	}
	return config.Paths{Root: filepath.Join(home, ".ai-sandbox")}, home, func() (string, error) { return home, nil }
}

func TestFindMissing(t *testing.T) {
	p, home, getwd := setupHome(t)
	for _, tc := range []struct {
		path, target string // target "" = not missing
		refused      bool
		err          bool
	}{
		{path: "~/projects"},
		{path: "projects/new/app", target: filepath.Join(home, "projects", "new", "app")},
		{path: "~/projects/new", target: filepath.Join(home, "projects", "new")},
		{path: "~/.ssh/keys", refused: true},
		{path: "~/projects/innocent/keys", refused: true}, // through a link into ~/.ssh
		{path: "/proc/nosuch", refused: true},
		{path: "~/notes.txt/app", err: true},
		{path: "~/notes.txt"}, // there: Add says it is not a folder
	} {
		m, missing, err := FindMissing(p, home, tc.path, getwd)
		var refused *workspace.RefusedError
		switch {
		case tc.refused:
			if !errors.As(err, &refused) {
				t.Errorf("%s: err %v, want a refusal", tc.path, err)
			}
		case tc.err:
			if err == nil || missing {
				t.Errorf("%s: missing %v, err %v; want an error", tc.path, missing, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case missing != (tc.target != "") || m.Target != tc.target:
			t.Errorf("%s: missing %v, target %q; want %q", tc.path, missing, m.Target, tc.target)
		}
	}
}

func TestCreateThenAddThenKeepOnly(t *testing.T) {
	p, home, getwd := setupHome(t)
	m, missing, err := FindMissing(p, home, "~/projects/a/b", getwd)
	if err != nil || !missing {
		t.Fatalf("missing %v, err %v", missing, err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	canon, existed, err := Add(p, home, "~/projects/a/b", getwd)
	if err != nil || existed || canon != m.Target {
		t.Fatalf("Add: %q %v %v", canon, existed, err)
	}
	if _, existed, _ := Add(p, home, canon, getwd); !existed {
		t.Error("added twice")
	}
	other, _, err := Add(p, home, "projects", getwd)
	if err != nil {
		t.Fatal(err)
	}
	if err := KeepOnly(p, []string{other}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Workspaces, []string{other}) {
		t.Errorf("workspaces %q", c.Workspaces)
	}
	if _, _, err := Add(p, home, "~/.ssh", getwd); err == nil {
		t.Error("~/.ssh was whitelisted")
	}
}
