package hostfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestUsageNeverFollowsLinks(t *testing.T) {
	f := newFixture(t)
	big := make([]byte, 1<<20)
	writeFile(t, filepath.Join(f.out, "dir", "big"), string(big), 0o644)
	u, err := f.r.Usage(".")
	if err != nil {
		t.Fatal(err)
	}
	if u.Bytes >= 1<<20 {
		t.Errorf("the root's use %d counts the 1 MiB file behind link-dir", u.Bytes)
	}
	if u.Files != 10 { // root, file.txt, dir, dir/inner.txt, empty, 5 links
		t.Errorf("files = %d, want 10", u.Files)
	}
	d, err := f.r.Usage("dir")
	if err != nil || d.Files != 2 || d.Bytes <= 0 {
		t.Errorf("dir: %+v %v", d, err)
	}
	if m, err := f.r.Usage("missing"); err != nil || m.Files != 0 {
		t.Errorf("missing: %+v %v", m, err)
	}
	if _, err := f.r.Usage("link-dir/big"); !errors.Is(err, ErrSymlink) {
		t.Errorf("through a link: %v, want a symlink error", err)
	}
}

func TestRemoveAllNeverFollowsLinks(t *testing.T) {
	f := newFixture(t)
	// A tree holding links out, and a folder its owner made read-only.
	mustDo(t, os.MkdirAll(filepath.Join(f.root, "tree", "ro", "deep"), 0o755))
	writeFile(t, filepath.Join(f.root, "tree", "ro", "deep", "x"), "x", 0o444)
	mustDo(t, os.Symlink(f.out, filepath.Join(f.root, "tree", "out")))
	mustDo(t, os.Symlink(filepath.Join(f.out, "secret.txt"), filepath.Join(f.root, "tree", "ro", "secret")))
	mustDo(t, os.Chmod(filepath.Join(f.root, "tree", "ro"), 0o555))
	if err := f.r.RemoveAll("tree"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(f.root, "tree")); !os.IsNotExist(err) {
		t.Errorf("tree is still there: %v", err)
	}
	for _, p := range []string{filepath.Join(f.out, "secret.txt"), filepath.Join(f.out, "dir")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s outside the root was removed: %v", p, err)
		}
	}
	// A link given as the tree itself is removed as a link.
	if err := f.r.RemoveAll("link-dir"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.out, "dir")); err != nil {
		t.Errorf("the link's target went: %v", err)
	}
	// Through a link: refused.
	if err := f.r.RemoveAll("link-inside-dir/inner.txt"); !errors.Is(err, ErrSymlink) {
		t.Errorf("through a link: %v", err)
	}
	if err := f.r.RemoveAll("gone"); err != nil {
		t.Errorf("missing: %v", err)
	}
	if err := f.r.RemoveAll("."); err == nil {
		t.Error("the root itself was accepted")
	}
}
