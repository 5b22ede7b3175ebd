package hostfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// fixture is a root directory and an "outside" directory that symlinks in
// the root point to. Layout:
//
//	root/file.txt            "hello" (0644)
//	root/dir/inner.txt       "inner"
//	root/empty/
//	root/link-file         -> outside/secret.txt
//	root/link-dir          -> outside/dir
//	root/link-dangling     -> outside/missing
//	root/link-inside       -> file.txt
//	root/link-inside-dir   -> dir
//	outside/secret.txt       "secret"
//	outside/dir/
type fixture struct {
	root, out string
	r         Root
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{root: filepath.Join(base, "root"), out: filepath.Join(base, "outside")}
	for _, d := range []string{f.root, f.out, filepath.Join(f.out, "dir"), filepath.Join(f.root, "dir"), filepath.Join(f.root, "empty")} {
		mustDo(t, os.Mkdir(d, 0o755))
		mustDo(t, os.Chmod(d, 0o755))
	}
	writeFile(t, filepath.Join(f.root, "file.txt"), "hello", 0o644)
	writeFile(t, filepath.Join(f.root, "dir", "inner.txt"), "inner", 0o644)
	writeFile(t, filepath.Join(f.out, "secret.txt"), "secret", 0o600)
	for name, target := range map[string]string{
		"link-file":       filepath.Join(f.out, "secret.txt"),
		"link-dir":        filepath.Join(f.out, "dir"),
		"link-dangling":   filepath.Join(f.out, "missing"),
		"link-inside":     "file.txt",
		"link-inside-dir": "dir",
	} {
		mustDo(t, os.Symlink(target, filepath.Join(f.root, name)))
	}
	f.r = New(f.root)
	return f
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	mustDo(t, os.WriteFile(path, []byte(data), perm))
	mustDo(t, os.Chmod(path, perm))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	mustDo(t, err)
	return string(b)
}

// snapshot describes every entry below dir, without following symlinks.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		desc := info.Mode().String()
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += " " + string(b)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		}
		snap[rel] = desc
		return nil
	})
	mustDo(t, err)
	return snap
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	mustDo(t, err)
	return fi.Mode()
}

// wantSymlinkError checks that err is a *SymlinkError for link.
func wantSymlinkError(t *testing.T, err error, root, link string) {
	t.Helper()
	var se *SymlinkError
	if !errors.As(err, &se) || !errors.Is(err, ErrSymlink) {
		t.Fatalf("err = %v, want a *SymlinkError for %s", err, link)
	}
	if se.Root != root || se.Rel != link {
		t.Errorf("SymlinkError{Root: %q, Rel: %q}, want {%q, %q}", se.Root, se.Rel, root, link)
	}
	if want := filepath.Join(root, link) + " is a symbolic link"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
}

// outcome is the expected result of an operation in TestRefusals.
type outcome int

const (
	ok         outcome = iota // no error
	symlinkErr                // *SymlinkError naming the link
	escapeErr                 // the relative path is refused (fs.ErrInvalid)
)

// TestRefusals runs every method on symlinks as final or intermediate
// component and on escaping paths. Whatever happens, nothing outside the
// root changes; when the operation is refused, nothing inside changes either.
func TestRefusals(t *testing.T) {
	data := []byte("agent data")
	ops := []struct {
		name string
		// finalLink is the outcome when rel is itself a symlink.
		finalLink outcome
		op        func(r Root, rel string) error
	}{
		{"Lstat", ok, func(r Root, rel string) error { _, err := r.Lstat(rel); return err }},
		{"CheckDir", symlinkErr, func(r Root, rel string) error { return r.CheckDir(rel) }},
		{"CheckFile", symlinkErr, func(r Root, rel string) error { return r.CheckFile(rel) }},
		{"MkdirAll", symlinkErr, func(r Root, rel string) error { return r.MkdirAll(rel, 0o755) }},
		{"ReadFile", symlinkErr, func(r Root, rel string) error { _, err := r.ReadFile(rel, 1<<20); return err }},
		// WriteFile replaces a symlink at the final name (checked in TestWriteFileReplacesSymlink).
		{"WriteFile", ok, func(r Root, rel string) error { return r.WriteFile(rel, data, 0o644) }},
		{"WriteFileIfChanged", ok, func(r Root, rel string) error { _, err := r.WriteFileIfChanged(rel, data, 0o644); return err }},
		{"CreateExclusive", symlinkErr, func(r Root, rel string) error { _, err := r.CreateExclusive(rel, data, 0o644); return err }},
		{"Remove", ok, func(r Root, rel string) error { return r.Remove(rel) }},
		{"Rename/old", ok, func(r Root, rel string) error { return r.Rename(rel, "renamed") }},
		{"Rename/new", ok, func(r Root, rel string) error { return r.Rename("file.txt", rel) }},
		{"ReadDir", symlinkErr, func(r Root, rel string) error { _, err := r.ReadDir(rel); return err }},
		{"Sub", symlinkErr, func(r Root, rel string) error { _, err := r.Sub(rel); return err }},
	}
	type pathCase struct {
		rel  string
		want outcome // -1: the op's finalLink outcome
		link string  // Rel of the expected SymlinkError
	}
	const final = outcome(-1)
	cases := []pathCase{
		{"link-file", final, "link-file"},
		{"link-dir", final, "link-dir"},
		{"link-dangling", final, "link-dangling"},
		{"link-inside", final, "link-inside"},
		{"link-inside-dir", final, "link-inside-dir"},
		{"./link-dir/", final, "link-dir"},
		{"link-dir/new", symlinkErr, "link-dir"},
		{"link-dir/new/deeper", symlinkErr, "link-dir"},
		{"link-dangling/new", symlinkErr, "link-dangling"},
		{"link-file/new", symlinkErr, "link-file"},
		{"link-inside/new", symlinkErr, "link-inside"},
		{"link-inside-dir/inner.txt", symlinkErr, "link-inside-dir"},
		{"dir/../link-dir/new", symlinkErr, "link-dir"},
		{"..", escapeErr, ""},
		{"../outside/secret.txt", escapeErr, ""},
		{"dir/../../outside/dir/x", escapeErr, ""},
		{"/etc/passwd", escapeErr, ""},
		{"ABS/file.txt", escapeErr, ""}, // ABS is replaced by the root's absolute path
	}
	for _, o := range ops {
		for _, c := range cases {
			t.Run(o.name+"/"+c.rel, func(t *testing.T) {
				f := newFixture(t)
				rel := strings.Replace(c.rel, "ABS", f.root, 1)
				want := c.want
				if want == final {
					want = o.finalLink
				}
				outBefore, rootBefore := snapshot(t, f.out), snapshot(t, f.root)
				err := o.op(f.r, rel)
				switch want {
				case ok:
					if err != nil {
						t.Fatalf("err = %v, want nil", err)
					}
				case symlinkErr:
					wantSymlinkError(t, err, f.root, c.link)
				case escapeErr:
					if !errors.Is(err, fs.ErrInvalid) {
						t.Fatalf("err = %v, want an error wrapping fs.ErrInvalid", err)
					}
				}
				if diff := cmp.Diff(outBefore, snapshot(t, f.out)); diff != "" {
					t.Errorf("outside directory changed (-before +after):\n%s", diff)
				}
				if want != ok {
					if diff := cmp.Diff(rootBefore, snapshot(t, f.root)); diff != "" {
						t.Errorf("root changed by a refused operation (-before +after):\n%s", diff)
					}
				}
			})
		}
	}
}

func TestNewJoinPath(t *testing.T) {
	r := New("/data/home/../home/")
	if got, want := r.Path(), "/data/home"; got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	for rel, want := range map[string]string{"": "/data/home", ".": "/data/home", "a/b": "/data/home/a/b", "./a//b/": "/data/home/a/b"} {
		if got := r.Join(rel); got != want {
			t.Errorf("Join(%q) = %q, want %q", rel, got, want)
		}
	}
}

func TestRelativeOrZeroRoot(t *testing.T) {
	for _, r := range []Root{New("relative/dir"), New(""), {}} {
		if _, err := r.Lstat("x"); err == nil {
			t.Errorf("Root(%q).Lstat: no error", r.Path())
		}
		if err := r.MkdirAll("x", 0o755); err == nil {
			t.Errorf("Root(%q).MkdirAll: no error", r.Path())
		}
		if err := r.WriteFile("x", nil, 0o644); err == nil {
			t.Errorf("Root(%q).WriteFile: no error", r.Path())
		}
	}
}

func TestRootItselfMayBeASymlink(t *testing.T) {
	f := newFixture(t)
	alias := filepath.Join(t.TempDir(), "alias")
	mustDo(t, os.Symlink(f.root, alias))
	r := New(alias)
	got, err := r.ReadFile("file.txt", 100)
	if err != nil || string(got) != "hello" {
		t.Fatalf("ReadFile through a symlinked root = %q, %v", got, err)
	}
	if err := r.CheckDir(""); err != nil {
		t.Fatal(err)
	}
}

func TestLstat(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		rel      string
		wantName string
		wantMode fs.FileMode
	}{
		{"", "root", fs.ModeDir | 0o755},
		{".", "root", fs.ModeDir | 0o755},
		{"file.txt", "file.txt", 0o644},
		{"dir", "dir", fs.ModeDir | 0o755},
		{"dir/inner.txt", "inner.txt", 0o644},
		{"link-dir", "link-dir", fs.ModeSymlink},
		{"link-dangling", "link-dangling", fs.ModeSymlink},
	}
	for _, tt := range tests {
		fi, err := f.r.Lstat(tt.rel)
		if err != nil {
			t.Errorf("Lstat(%q): %v", tt.rel, err)
			continue
		}
		mode := fi.Mode()
		if mode&fs.ModeSymlink != 0 {
			mode = fs.ModeSymlink // link permissions differ between systems
		}
		if fi.Name() != tt.wantName || mode != tt.wantMode || fi.IsDir() != tt.wantMode.IsDir() {
			t.Errorf("Lstat(%q) = %s %v, want %s %v", tt.rel, fi.Name(), fi.Mode(), tt.wantName, tt.wantMode)
		}
		if _, ok := fi.Sys().(*unix.Stat_t); !ok {
			t.Errorf("Lstat(%q).Sys() = %T", tt.rel, fi.Sys())
		}
	}
	fi, err := f.r.Lstat("file.txt")
	mustDo(t, err)
	osfi, err := os.Lstat(filepath.Join(f.root, "file.txt"))
	mustDo(t, err)
	if fi.Size() != 5 || !fi.ModTime().Equal(osfi.ModTime()) {
		t.Errorf("Lstat(file.txt) size %d, mtime %v; want 5, %v", fi.Size(), fi.ModTime(), osfi.ModTime())
	}

	_, err = f.r.Lstat("dir/missing")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(f.root, "dir/missing")) {
		t.Errorf("Lstat(dir/missing) = %v, want ErrNotExist naming the path", err)
	}
	_, err = f.r.Lstat("missing/x")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(f.root, "missing/x")) {
		t.Errorf("Lstat(missing/x) = %v, want ErrNotExist naming the path", err)
	}
	_, err = f.r.Lstat("file.txt/x")
	if want := filepath.Join(f.root, "file.txt") + " is not a directory"; err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Lstat(file.txt/x) = %v, want %q", err, want)
	}
}

func TestCheckDirAndCheckFile(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		rel              string
		dirErr, fileErr  string // substring of the error, "" for none
		dirExist, fileEx bool   // error wraps fs.ErrNotExist
	}{
		{rel: "", fileErr: f.root + " is not a regular file"},
		{rel: "dir", fileErr: filepath.Join(f.root, "dir") + " is not a regular file"},
		{rel: "file.txt", dirErr: filepath.Join(f.root, "file.txt") + " is not a directory"},
		{rel: "dir/inner.txt", dirErr: "inner.txt is not a directory"},
		{rel: "missing", dirErr: "missing", fileErr: "missing", dirExist: true, fileEx: true},
		{rel: "file.txt/x", dirErr: "file.txt is not a directory", fileErr: "file.txt is not a directory"},
	}
	for _, tt := range tests {
		check := func(name string, err error, want string, notExist bool) {
			t.Helper()
			switch {
			case want == "" && err != nil:
				t.Errorf("%s(%q): %v", name, tt.rel, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("%s(%q) = %v, want an error containing %q", name, tt.rel, err, want)
			case notExist && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("%s(%q) = %v, want fs.ErrNotExist", name, tt.rel, err)
			}
		}
		check("CheckDir", f.r.CheckDir(tt.rel), tt.dirErr, tt.dirExist)
		check("CheckFile", f.r.CheckFile(tt.rel), tt.fileErr, tt.fileEx)
	}
	fifo := filepath.Join(f.root, "fifo")
	mustDo(t, unix.Mkfifo(fifo, 0o644))
	if err := f.r.CheckFile("fifo"); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("CheckFile(fifo) = %v", err)
	}
}

func TestMkdirAll(t *testing.T) {
	f := newFixture(t)
	defer unix.Umask(unix.Umask(0o077))
	mustDo(t, f.r.MkdirAll("a/b/c", 0o750))
	for _, d := range []string{"a", "a/b", "a/b/c"} {
		if got := fileMode(t, filepath.Join(f.root, d)); got != fs.ModeDir|0o750 {
			t.Errorf("mode of %s = %v, want drwxr-x---", d, got)
		}
	}
	// Existing directories are accepted and left as they are.
	mustDo(t, f.r.MkdirAll("dir/x", 0o700))
	if got := fileMode(t, filepath.Join(f.root, "dir")); got != fs.ModeDir|0o755 {
		t.Errorf("existing dir mode changed to %v", got)
	}
	mustDo(t, f.r.MkdirAll("a/b/c", 0o700))
	mustDo(t, f.r.MkdirAll("", 0o700))

	err := f.r.MkdirAll("file.txt/x", 0o755)
	if want := filepath.Join(f.root, "file.txt") + " is not a directory"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("MkdirAll(file.txt/x) = %v, want %q", err, want)
	}
	if err := f.r.MkdirAll("file.txt", 0o755); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("MkdirAll(file.txt) = %v", err)
	}

	// The spec's example: a/b is a symlink to an outside directory.
	outside := t.TempDir()
	mustDo(t, os.Mkdir(filepath.Join(f.root, "p"), 0o755))
	mustDo(t, os.Symlink(outside, filepath.Join(f.root, "p/b")))
	err = f.r.MkdirAll("p/b/c", 0o755)
	wantSymlinkError(t, err, f.root, "p/b")
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("outside directory got %v", entries)
	}
}

func TestReadFile(t *testing.T) {
	f := newFixture(t)
	got, err := f.r.ReadFile("file.txt", 5)
	if err != nil || string(got) != "hello" {
		t.Errorf("ReadFile(file.txt, 5) = %q, %v", got, err)
	}
	got, err = f.r.ReadFile("dir/inner.txt", 100)
	if err != nil || string(got) != "inner" {
		t.Errorf("ReadFile(dir/inner.txt) = %q, %v", got, err)
	}
	writeFile(t, filepath.Join(f.root, "empty.txt"), "", 0o644)
	got, err = f.r.ReadFile("empty.txt", 0)
	if err != nil || len(got) != 0 {
		t.Errorf("ReadFile(empty.txt, 0) = %q, %v", got, err)
	}
	big := strings.Repeat("x", 100_000)
	writeFile(t, filepath.Join(f.root, "big"), big, 0o644)
	if got, err := f.r.ReadFile("big", 100_000); err != nil || string(got) != big {
		t.Errorf("ReadFile(big, exact size): %d bytes, %v", len(got), err)
	}

	_, err = f.r.ReadFile("file.txt", 4)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(f.root, "file.txt")) || !strings.Contains(err.Error(), "4 bytes") {
		t.Errorf("ReadFile(file.txt, 4) = %v, want an error naming the path and the limit", err)
	}
	if _, err := f.r.ReadFile("missing", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want fs.ErrNotExist", err)
	}
	for _, rel := range []string{"dir", "", "/dev/null"} {
		if _, err := f.r.ReadFile(rel, 10); err == nil {
			t.Errorf("ReadFile(%q): no error", rel)
		}
	}
}

func TestReadFileFIFODoesNotBlock(t *testing.T) {
	f := newFixture(t)
	mustDo(t, unix.Mkfifo(filepath.Join(f.root, "fifo"), 0o644))
	done := make(chan error, 1)
	go func() {
		_, err := f.r.ReadFile("fifo", 10)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("ReadFile(fifo) = %v, want 'is not a regular file'", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile(fifo) blocked")
	}
}

// tempFiles lists the temporary files WriteFile may have left in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	mustDo(t, err)
	var tmp []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".hostfs-") {
			tmp = append(tmp, e.Name())
		}
	}
	return tmp
}

func TestWriteFile(t *testing.T) {
	f := newFixture(t)
	mustDo(t, f.r.WriteFile("new.txt", []byte("new"), 0o600))
	mustDo(t, f.r.WriteFile("dir/inner.txt", []byte("replaced"), 0o640))
	mustDo(t, f.r.WriteFile("file.txt", nil, 0o644))
	for path, want := range map[string]string{"new.txt": "new", "dir/inner.txt": "replaced", "file.txt": ""} {
		if got := readFile(t, filepath.Join(f.root, path)); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if got := fileMode(t, filepath.Join(f.root, "dir/inner.txt")); got != 0o640 {
		t.Errorf("mode of replaced file = %v, want 0640", got)
	}
	if tmp := append(tempFiles(t, f.root), tempFiles(t, filepath.Join(f.root, "dir"))...); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	// The parent must exist; nothing is left behind.
	err := f.r.WriteFile("nodir/x.txt", []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(f.root, "nodir/x.txt")) {
		t.Errorf("WriteFile(nodir/x.txt) = %v, want fs.ErrNotExist naming the path", err)
	}
	// A directory at the final name cannot be replaced; the temp file goes away.
	if err := f.r.WriteFile("empty", []byte("x"), 0o644); err == nil {
		t.Error("WriteFile over a directory: no error")
	}
	if tmp := tempFiles(t, f.root); len(tmp) != 0 {
		t.Errorf("temporary files left after failure: %v", tmp)
	}
	if err := f.r.WriteFile("", []byte("x"), 0o644); err == nil {
		t.Error("WriteFile(root): no error")
	}
}

func TestWriteFileReplacesSymlink(t *testing.T) {
	for _, link := range []string{"link-file", "link-dir", "link-dangling", "link-inside"} {
		t.Run(link, func(t *testing.T) {
			f := newFixture(t)
			before := snapshot(t, f.out)
			inside := readFile(t, filepath.Join(f.root, "file.txt"))
			mustDo(t, f.r.WriteFile(link, []byte("mine"), 0o600))
			if got := fileMode(t, filepath.Join(f.root, link)); got != 0o600 {
				t.Errorf("mode of %s = %v, want a regular file -rw-------", link, got)
			}
			if got := readFile(t, filepath.Join(f.root, link)); got != "mine" {
				t.Errorf("%s = %q", link, got)
			}
			if diff := cmp.Diff(before, snapshot(t, f.out)); diff != "" {
				t.Errorf("link target changed (-before +after):\n%s", diff)
			}
			if got := readFile(t, filepath.Join(f.root, "file.txt")); got != inside {
				t.Errorf("file.txt changed to %q", got)
			}
		})
	}
}

func TestWriteFileIfChanged(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.root, "conf")
	steps := []struct {
		data        string
		perm        fs.FileMode
		wantChanged bool
	}{
		{"v1", 0o644, true},  // created
		{"v1", 0o644, false}, // same bytes and perm
		{"v1", 0o600, true},  // perm differs
		{"v1", 0o600, false},
		{"v2", 0o600, true}, // same size, other bytes
		{"v22", 0o600, true},
		{"", 0o600, true},
		{"", 0o600, false},
	}
	for i, s := range steps {
		var ino uint64
		if i > 0 {
			ino = fileIno(t, path)
		}
		changed, err := f.r.WriteFileIfChanged("conf", []byte(s.data), s.perm)
		if err != nil || changed != s.wantChanged {
			t.Fatalf("step %d: WriteFileIfChanged(%q, %v) = %v, %v; want %v", i, s.data, s.perm, changed, err, s.wantChanged)
		}
		if got := readFile(t, path); got != s.data {
			t.Errorf("step %d: content %q, want %q", i, got, s.data)
		}
		if got := fileMode(t, path); got != s.perm {
			t.Errorf("step %d: mode %v, want %v", i, got, s.perm)
		}
		if !s.wantChanged && fileIno(t, path) != ino {
			t.Errorf("step %d: file was rewritten", i)
		}
	}
	// A symlink to a file with the same content is replaced, never read through.
	writeFile(t, filepath.Join(f.out, "same"), "secret", 0o644)
	mustDo(t, os.Symlink(filepath.Join(f.out, "same"), filepath.Join(f.root, "link-same")))
	changed, err := f.r.WriteFileIfChanged("link-same", []byte("secret"), 0o644)
	if err != nil || !changed || fileMode(t, filepath.Join(f.root, "link-same")) != 0o644 {
		t.Errorf("WriteFileIfChanged(link-same) = %v, %v; want the link replaced", changed, err)
	}
}

func fileIno(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Lstat(path)
	mustDo(t, err)
	return uint64(fi.Sys().(*syscall.Stat_t).Ino)
}

func TestCreateExclusive(t *testing.T) {
	f := newFixture(t)
	created, err := f.r.CreateExclusive("dir/new", []byte("data"), 0o640)
	if err != nil || !created {
		t.Fatalf("CreateExclusive(dir/new) = %v, %v", created, err)
	}
	if got := readFile(t, filepath.Join(f.root, "dir/new")); got != "data" {
		t.Errorf("content %q", got)
	}
	if got := fileMode(t, filepath.Join(f.root, "dir/new")); got != 0o640 {
		t.Errorf("mode %v, want 0640", got)
	}
	created, err = f.r.CreateExclusive("file.txt", []byte("other"), 0o600)
	if err != nil || created {
		t.Errorf("CreateExclusive(existing file) = %v, %v; want false, nil", created, err)
	}
	if got := readFile(t, filepath.Join(f.root, "file.txt")); got != "hello" {
		t.Errorf("existing file changed to %q", got)
	}
	if _, err := f.r.CreateExclusive("dir", nil, 0o600); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("CreateExclusive(dir) = %v, want 'is not a regular file'", err)
	}
	if _, err := f.r.CreateExclusive("nodir/x", nil, 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CreateExclusive(nodir/x) = %v, want fs.ErrNotExist", err)
	}
}

func TestCreateExclusiveRace(t *testing.T) {
	f := newFixture(t)
	const n = 20
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		created = make([]bool, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			created[i], errs[i] = f.r.CreateExclusive("lock", []byte(fmt.Sprint(i)), 0o600)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("goroutine %d: %v", i, errs[i])
		}
		if created[i] {
			if winner >= 0 {
				t.Errorf("goroutines %d and %d both created the file", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no goroutine created the file")
	}
	if got := readFile(t, filepath.Join(f.root, "lock")); got != fmt.Sprint(winner) {
		t.Errorf("content %q, want the winner's %d", got, winner)
	}
}

func TestPermIgnoresUmask(t *testing.T) {
	for _, umask := range []int{0o022, 0o077} {
		t.Run(fmt.Sprintf("umask%03o", umask), func(t *testing.T) {
			f := newFixture(t)
			old := unix.Umask(umask)
			defer unix.Umask(old)
			mustDo(t, f.r.MkdirAll("d/e", 0o775))
			mustDo(t, f.r.WriteFile("d/w", nil, 0o666))
			_, err := f.r.WriteFileIfChanged("d/c", nil, 0o664)
			mustDo(t, err)
			_, err = f.r.CreateExclusive("d/x", nil, 0o646)
			mustDo(t, err)
			want := map[string]fs.FileMode{"d": fs.ModeDir | 0o775, "d/e": fs.ModeDir | 0o775, "d/w": 0o666, "d/c": 0o664, "d/x": 0o646}
			for path, mode := range want {
				if got := fileMode(t, filepath.Join(f.root, path)); got != mode {
					t.Errorf("mode of %s = %v, want %v", path, got, mode)
				}
			}
		})
	}
}

func TestRemove(t *testing.T) {
	f := newFixture(t)
	outBefore := snapshot(t, f.out)
	for _, rel := range []string{"file.txt", "empty", "link-file", "link-dir", "link-dangling", "link-inside-dir", "missing", "missing/x/y"} {
		if err := f.r.Remove(rel); err != nil {
			t.Errorf("Remove(%q): %v", rel, err)
		}
		if _, err := os.Lstat(filepath.Join(f.root, rel)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after Remove(%q): Lstat = %v", rel, err)
		}
	}
	if diff := cmp.Diff(outBefore, snapshot(t, f.out)); diff != "" {
		t.Errorf("link targets changed (-before +after):\n%s", diff)
	}
	if got := readFile(t, filepath.Join(f.root, "dir/inner.txt")); got != "inner" {
		t.Errorf("removing link-inside-dir changed dir/inner.txt to %q", got)
	}
	if err := f.r.Remove("dir"); err == nil || !strings.Contains(err.Error(), filepath.Join(f.root, "dir")) {
		t.Errorf("Remove(non-empty dir) = %v, want an error naming it", err)
	}
	if err := f.r.Remove(""); err == nil {
		t.Error("Remove(root): no error")
	}
}

func TestRename(t *testing.T) {
	f := newFixture(t)
	mustDo(t, f.r.Rename("file.txt", "dir/moved.txt"))
	if got := readFile(t, filepath.Join(f.root, "dir/moved.txt")); got != "hello" {
		t.Errorf("moved file = %q", got)
	}
	// A symlink is renamed as a link.
	mustDo(t, f.r.Rename("link-dir", "empty/link"))
	if target, err := os.Readlink(filepath.Join(f.root, "empty/link")); err != nil || target != filepath.Join(f.out, "dir") {
		t.Errorf("renamed link -> %q, %v", target, err)
	}
	// A symlink at the new name is replaced, its target untouched.
	mustDo(t, f.r.Rename("dir/moved.txt", "link-file"))
	if got := fileMode(t, filepath.Join(f.root, "link-file")); !got.IsRegular() {
		t.Errorf("link-file is %v after rename over it", got)
	}
	if got := readFile(t, filepath.Join(f.out, "secret.txt")); got != "secret" {
		t.Errorf("link target changed to %q", got)
	}
	if err := f.r.Rename("missing", "x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rename(missing) = %v, want fs.ErrNotExist", err)
	}
	if err := f.r.Rename("dir/inner.txt", "nodir/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rename to a missing parent = %v, want fs.ErrNotExist", err)
	}
	if err := f.r.Rename("", "x"); err == nil {
		t.Error("Rename(root): no error")
	}
}

func TestReadDir(t *testing.T) {
	f := newFixture(t)
	entries, err := f.r.ReadDir("")
	mustDo(t, err)
	got := map[string]fs.FileMode{}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		got[e.Name()] = e.Type()
		info, err := e.Info()
		if err != nil || info.Mode().Type() != e.Type() {
			t.Errorf("%s: Info() = %v, %v", e.Name(), info, err)
		}
	}
	want := map[string]fs.FileMode{
		"dir": fs.ModeDir, "empty": fs.ModeDir, "file.txt": 0,
		"link-dangling": fs.ModeSymlink, "link-dir": fs.ModeSymlink, "link-file": fs.ModeSymlink,
		"link-inside": fs.ModeSymlink, "link-inside-dir": fs.ModeSymlink,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadDir entries (-want +got):\n%s", diff)
	}
	wantNames := []string{"dir", "empty", "file.txt", "link-dangling", "link-dir", "link-file", "link-inside", "link-inside-dir"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("ReadDir order (-want +got):\n%s", diff)
	}
	if entries, err := f.r.ReadDir("empty"); err != nil || len(entries) != 0 {
		t.Errorf("ReadDir(empty) = %v, %v", entries, err)
	}
	if _, err := f.r.ReadDir("file.txt"); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("ReadDir(file.txt) = %v", err)
	}
	if _, err := f.r.ReadDir("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestSub(t *testing.T) {
	f := newFixture(t)
	sub, err := f.r.Sub("dir")
	mustDo(t, err)
	if sub.Path() != filepath.Join(f.root, "dir") {
		t.Errorf("Sub(dir).Path() = %q", sub.Path())
	}
	if got, err := sub.ReadFile("inner.txt", 10); err != nil || string(got) != "inner" {
		t.Errorf("sub.ReadFile(inner.txt) = %q, %v", got, err)
	}
	if _, err := sub.ReadFile("../file.txt", 10); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("sub.ReadFile(../file.txt) = %v, want fs.ErrInvalid", err)
	}
	if _, err := f.r.Sub("file.txt"); err == nil {
		t.Error("Sub(file.txt): no error")
	}
}

func TestSymlinkErrorMessage(t *testing.T) {
	err := error(&SymlinkError{Root: "/home/u/.ai-sandbox", Rel: "tools/x/home/.config"})
	if got, want := err.Error(), "/home/u/.ai-sandbox/tools/x/home/.config is a symbolic link"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", err), ErrSymlink) {
		t.Error("SymlinkError does not unwrap to ErrSymlink")
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	mustDo(t, err)
	return len(entries)
}

func TestNoFDLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/self/fd")
	}
	f := newFixture(t)
	mustDo(t, unix.Mkfifo(filepath.Join(f.root, "fifo"), 0o644))
	ops := []func(i int){
		func(int) { f.r.Lstat("dir/inner.txt") },
		func(int) { f.r.Lstat("link-dir/x") },
		func(int) { f.r.CheckDir("dir") },
		func(int) { f.r.CheckDir("link-inside-dir") },
		func(int) { f.r.CheckFile("file.txt/x") },
		func(i int) { f.r.MkdirAll(fmt.Sprintf("m/%d/n", i%7), 0o755) },
		func(int) { f.r.MkdirAll("link-dir/x/y", 0o755) },
		func(int) { f.r.ReadFile("file.txt", 100) },
		func(int) { f.r.ReadFile("file.txt", 1) },
		func(int) { f.r.ReadFile("fifo", 100) },
		func(int) { f.r.ReadFile("link-file", 100) },
		func(i int) { f.r.WriteFile(fmt.Sprintf("dir/w%d", i%5), []byte("x"), 0o644) },
		func(int) { f.r.WriteFile("empty", []byte("x"), 0o644) },
		func(int) { f.r.WriteFile("nodir/x", []byte("x"), 0o644) },
		func(i int) { f.r.WriteFileIfChanged("dir/c", []byte(fmt.Sprint(i%2)), 0o644) },
		func(i int) { f.r.CreateExclusive(fmt.Sprintf("dir/e%d", i%3), []byte("x"), 0o644) },
		func(int) { f.r.CreateExclusive("link-dangling", nil, 0o644) },
		func(i int) { f.r.Remove(fmt.Sprintf("dir/e%d", i%3)) },
		func(int) { f.r.Remove("missing/x") },
		func(int) { f.r.Rename("dir/w1", "dir/w2") },
		func(int) { f.r.Rename("dir/w1", "link-dir/x") },
		func(int) { f.r.ReadDir("dir") },
		func(int) { f.r.ReadDir("link-dir") },
		func(int) { f.r.Sub("dir") },
		func(int) { f.r.Lstat("../x") },
	}
	before := countFDs(t)
	for i := range 1000 {
		ops[i%len(ops)](i)
	}
	if after := countFDs(t); after != before {
		t.Errorf("open file descriptors: %d before, %d after 1000 operations", before, after)
	}
}
