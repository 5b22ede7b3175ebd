package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// A symbolic link planted where the shared caches live (the folder of all
// of them, or one kind's) is refused when the launch prepares the host:
// nothing is created through it, and the error names the link.
func TestSharedCachesRefusePlantedLinks(t *testing.T) {
	for _, planted := range []string{"cache/shared", "cache/shared/npm", "cache"} {
		t.Run(planted, func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			elsewhere := filepath.Join(dir, "elsewhere")
			project := filepath.Join(dir, "project")
			for _, d := range []string{state, elsewhere, project} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(state, planted)
			if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, link); err != nil {
				t.Fatal(err)
			}
			f := baseFacts()
			f.State, f.Project, f.Cwd = state, project, project
			f.Home = filepath.Join(state, "projects", "app-5e6f7a8b", "homes", "shell")
			f.Passwd = filepath.Join(state, "passwd", "passwd")
			f.Group = filepath.Join(state, "passwd", "group")
			f.Seccomp = ""
			f.SharedCaches = filepath.Join(state, "cache", "shared")

			err := hostfs.Apply(NewPlan(f).Host)
			if !errors.Is(err, hostfs.ErrSymlink) {
				t.Fatalf("Apply = %v, want a symbolic link refused", err)
			}
			if !strings.Contains(err.Error(), link+" is a symbolic link") {
				t.Errorf("error %q does not name %s", err, link)
			}
			entries, err := os.ReadDir(elsewhere)
			if err != nil || len(entries) != 0 {
				t.Errorf("something was made through the link: %v %v", entries, err)
			}
		})
	}
}

// Without links, the launch makes each kind's folder, mode 0700.
func TestSharedCachesMade(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	project := filepath.Join(dir, "project")
	for _, d := range []string{state, project} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	f := baseFacts()
	f.State, f.Project, f.Cwd = state, project, project
	f.Home = filepath.Join(state, "projects", "k", "homes", "shell")
	f.Passwd, f.Group = filepath.Join(state, "passwd", "passwd"), filepath.Join(state, "passwd", "group")
	f.Seccomp = ""
	f.SharedCaches = filepath.Join(state, "cache", "shared")
	if err := hostfs.Apply(NewPlan(f).Host); err != nil {
		t.Fatal(err)
	}
	for _, k := range CacheKinds() {
		st, err := os.Lstat(filepath.Join(f.SharedCaches, k.Name))
		if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", k.Name, st, err)
		}
	}
}
