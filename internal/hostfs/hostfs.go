// Package hostfs performs host-side file operations below a trusted directory
// without ever following a symbolic link below it.
//
// Everything an agent can write from inside its container (a project folder,
// its .git, the agent's home under ~/.ai-sandbox/tools/...) is later read,
// created or written on the host by ai-sandbox. An agent may plant symlinks
// there (for example replace home/.config/opencode/skills by a symlink to
// ~/.ssh), so every path below a [Root] is resolved component by component
// with openat(2) and O_NOFOLLOW, and a symlink anywhere below the root makes
// the operation fail with an error wrapping [ErrSymlink].
package hostfs

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Root is a trusted directory. Paths given to its methods are relative to it
// (slash or OS separators, cleaned; "" or "." means the root itself; an
// absolute path, or one that climbs out with "..", is an error). Every
// component below the root is opened without following symlinks (openat +
// O_NOFOLLOW, component by component, O_DIRECTORY for intermediate ones); the
// root path itself is trusted as given (it may contain symlinks above it, e.g.
// /home -> /data/home).
//
// A Root holds no open file descriptor: each method opens the root, walks to
// its target and closes every descriptor before returning. The zero Root, or
// one made from a relative path, makes every method return an error.
type Root struct {
	dir string
}

// ErrSymlink is wrapped by every error caused by a symlink found below the root.
var ErrSymlink = errors.New("symbolic link")

// SymlinkError reports a symbolic link found below a Root, where the
// operation refused to follow it. It unwraps to [ErrSymlink].
type SymlinkError struct {
	Root string // host path of the Root
	Rel  string // path of the symlink, relative to Root
}

// Error returns "<root>/<rel> is a symbolic link".
func (e *SymlinkError) Error() string {
	return filepath.Join(e.Root, e.Rel) + " is a symbolic link"
}

// Unwrap returns [ErrSymlink].
func (e *SymlinkError) Unwrap() error { return ErrSymlink }

// notDirError reports a path that exists but is not a directory. It unwraps to
// ENOTDIR so that errors.Is(err, syscall.ENOTDIR) works.
type notDirError struct{ path string }

func (e *notDirError) Error() string { return e.path + " is not a directory" }
func (e *notDirError) Unwrap() error { return unix.ENOTDIR }

// Flags used to open an intermediate directory and a final file.
const (
	dirFlags  = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	readFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
)

// New returns a Root for dir. It does no I/O. dir must be absolute; if it is
// not, New does not panic but every method of the returned Root fails.
func New(dir string) Root {
	if filepath.IsAbs(dir) {
		dir = filepath.Clean(dir)
	}
	return Root{dir: dir}
}

// Path returns the host path of the root directory.
func (r Root) Path() string { return r.dir }

// Join returns the host path of rel below the root, for messages and docker
// mount sources. It does not validate rel.
func (r Root) Join(rel string) string {
	return filepath.Join(r.dir, filepath.FromSlash(rel))
}

// Lstat returns information about rel without following it if it is a
// symlink (the FileInfo then has fs.ModeSymlink). A symlink in an intermediate
// component is a *SymlinkError; a missing path wraps fs.ErrNotExist. Sys()
// of the result is a *unix.Stat_t.
func (r Root) Lstat(rel string) (fs.FileInfo, error) {
	p, err := r.parse(rel)
	if err != nil {
		return nil, err
	}
	if p.isRoot() {
		fd, err := r.openRoot()
		if err != nil {
			return nil, err
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, &fs.PathError{Op: "stat", Path: r.dir, Err: err}
		}
		return newFileInfo(filepath.Base(r.dir), &st), nil
	}
	dfd, err := r.openParent("lstat", p)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	return r.lstatAt(dfd, p)
}

// CheckDir reports an error unless rel exists, no component below the root is
// a symlink and rel is a directory ("<path> is not a directory" otherwise).
func (r Root) CheckDir(rel string) error {
	p, err := r.parse(rel)
	if err != nil {
		return err
	}
	fd, err := r.openDir("check", p)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}

// CheckFile reports an error unless rel exists, no component below the root
// is a symlink and rel is a regular file ("<path> is not a regular file"
// otherwise).
func (r Root) CheckFile(rel string) error {
	fi, err := r.Lstat(rel)
	if err != nil {
		return err
	}
	return r.checkRegular(filepath.Clean(rel), fi)
}

// MkdirAll creates rel and any missing parent below the root. Each directory
// it creates gets the permission bits of perm, regardless of the umask
// (it is chmod'ed after mkdir). Existing directories are left as they are. An
// existing symlink component is a *SymlinkError; an existing non-directory
// component is an error ("<path> is not a directory").
func (r Root) MkdirAll(rel string, perm fs.FileMode) error {
	p, err := r.parse(rel)
	if err != nil {
		return err
	}
	fd, err := r.openRoot()
	if err != nil {
		return fmt.Errorf("mkdir %s: %w", r.Join(p.rel), err)
	}
	for i, name := range p.comps {
		rel := p.sub(i + 1)
		next, err := r.openOrMkdir(fd, rel, name, perm)
		unix.Close(fd)
		if err != nil {
			return r.inPath("mkdir", p, rel, err)
		}
		fd = next
	}
	unix.Close(fd)
	return nil
}

// openOrMkdir opens the directory name in dfd (at rel below the root),
// creating it with perm first if it does not exist.
func (r Root) openOrMkdir(dfd int, rel, name string, perm fs.FileMode) (int, error) {
	fd, err := openat(dfd, name, dirFlags, 0)
	if err != unix.ENOENT {
		if err != nil {
			return -1, r.openError(dfd, rel, name, err)
		}
		return fd, nil
	}
	created := true
	if err := unix.Mkdirat(dfd, name, mode(perm)); err == unix.EEXIST {
		created = false // created concurrently: open whatever is there now
	} else if err != nil {
		return -1, &fs.PathError{Op: "mkdir", Path: r.Join(rel), Err: err}
	}
	fd, err = openat(dfd, name, dirFlags, 0)
	if err != nil {
		return -1, r.openError(dfd, rel, name, err)
	}
	if created {
		if err := unix.Fchmod(fd, mode(perm)); err != nil {
			unix.Close(fd)
			return -1, &fs.PathError{Op: "chmod", Path: r.Join(rel), Err: err}
		}
	}
	return fd, nil
}

// ReadFile returns the contents of the regular file rel. It opens the file
// with O_NOFOLLOW|O_NONBLOCK and checks its type with fstat, so a symlink, a
// FIFO, a device or a directory is refused without blocking. A file larger
// than max bytes is an error naming the path and the limit.
func (r Root) ReadFile(rel string, max int64) ([]byte, error) {
	p, err := r.parse(rel)
	if err != nil {
		return nil, err
	}
	if p.isRoot() {
		return nil, fmt.Errorf("%s is not a regular file", r.dir)
	}
	dfd, err := r.openParent("read", p)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	return r.readAt(dfd, p, max)
}

// readAt reads the regular file p.name in its parent directory dfd.
func (r Root) readAt(dfd int, p relPath, max int64) ([]byte, error) {
	path := r.Join(p.rel)
	if max < 0 {
		return nil, fmt.Errorf("read %s: negative size limit %d", path, max)
	}
	fd, err := openat(dfd, p.name(), readFlags, 0)
	if err != nil {
		return nil, r.openError(dfd, p.rel, p.name(), err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := r.checkRegular(p.rel, newFileInfo(p.name(), &st)); err != nil {
		return nil, err
	}
	tooLarge := fmt.Errorf("read %s: file is larger than the limit of %d bytes", path, max)
	if st.Size > max {
		return nil, tooLarge
	}
	buf := make([]byte, 0, st.Size+1) // +1 to see EOF without growing
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 4096) // the file grew since fstat
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, tooLarge
		}
	}
}

// WriteFile atomically replaces rel by a regular file holding data with the
// permission bits of perm (regardless of the umask). The parent directory must
// already exist. The data is written to a temporary file created in the
// parent directory through the parent's descriptor, fsynced, chmod'ed and
// renamed over the final name. A symlink or a file at the final name is
// replaced, never followed; the temporary file is removed on failure.
func (r Root) WriteFile(rel string, data []byte, perm fs.FileMode) error {
	p, err := r.parse(rel)
	if err != nil {
		return err
	}
	if p.isRoot() {
		return fmt.Errorf("write %s: is the root directory", r.dir)
	}
	dfd, err := r.openParent("write", p)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return r.writeAt(dfd, p, data, perm)
}

// writeAt atomically writes p.name in its parent directory dfd.
func (r Root) writeAt(dfd int, p relPath, data []byte, perm fs.FileMode) error {
	path := r.Join(p.rel)
	tmp, fd, err := createTemp(dfd)
	if err != nil {
		return fmt.Errorf("write %s: create temporary file: %w", path, err)
	}
	err = writeAll(fd, data)
	if err == nil {
		err = unix.Fsync(fd)
	}
	if err == nil {
		err = unix.Fchmod(fd, mode(perm))
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dfd, tmp, dfd, p.name())
	}
	if err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// createTemp creates a new, empty temporary file in dfd (mode 0600, opened
// for writing) and returns its name and descriptor.
func createTemp(dfd int) (string, int, error) {
	for range 10 {
		var b [8]byte
		rand.Read(b[:])
		name := ".hostfs-" + hex.EncodeToString(b[:]) + ".tmp"
		fd, err := openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == unix.EEXIST {
			continue
		}
		return name, fd, err
	}
	return "", -1, unix.EEXIST
}

// WriteFileIfChanged is like WriteFile, but writes nothing when a regular file
// with the same bytes and permission bits is already there. changed reports
// whether the file was written.
func (r Root) WriteFileIfChanged(rel string, data []byte, perm fs.FileMode) (changed bool, err error) {
	p, err := r.parse(rel)
	if err != nil {
		return false, err
	}
	if p.isRoot() {
		return false, fmt.Errorf("write %s: is the root directory", r.dir)
	}
	dfd, err := r.openParent("write", p)
	if err != nil {
		return false, err
	}
	defer unix.Close(dfd)
	fi, err := r.lstatAt(dfd, p)
	if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() == perm.Perm() && fi.Size() == int64(len(data)) {
		old, err := r.readAt(dfd, p, int64(len(data)))
		if err == nil && bytes.Equal(old, data) {
			return false, nil
		}
	}
	if err := r.writeAt(dfd, p, data, perm); err != nil {
		return false, err
	}
	return true, nil
}

// CreateExclusive creates rel as a regular file holding data with the
// permission bits of perm (regardless of the umask), using
// O_CREAT|O_EXCL|O_NOFOLLOW. If a regular file already exists there it returns
// created=false and a nil error, and leaves it alone. A symlink there is a
// *SymlinkError; anything else there (a directory, a FIFO...) is an error.
// If writing fails, the new file is removed.
func (r Root) CreateExclusive(rel string, data []byte, perm fs.FileMode) (created bool, err error) {
	p, err := r.parse(rel)
	if err != nil {
		return false, err
	}
	path := r.Join(p.rel)
	if p.isRoot() {
		return false, fmt.Errorf("create %s: is the root directory", path)
	}
	dfd, err := r.openParent("create", p)
	if err != nil {
		return false, err
	}
	defer unix.Close(dfd)
	fd, err := openat(dfd, p.name(), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode(perm))
	if err == unix.EEXIST {
		fi, err := r.lstatAt(dfd, p)
		if err != nil {
			return false, err
		}
		return false, r.checkRegular(p.rel, fi)
	}
	if err != nil {
		return false, r.openError(dfd, p.rel, p.name(), err)
	}
	err = writeAll(fd, data)
	if err == nil {
		err = unix.Fchmod(fd, mode(perm))
	}
	if err == nil {
		err = unix.Fsync(fd)
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		unix.Unlinkat(dfd, p.name(), 0)
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	return true, nil
}

// Remove removes the file, symlink or empty directory rel without following
// it (a symlink is removed, not its target). A missing rel is not an error; a
// symlink in an intermediate component is a *SymlinkError.
func (r Root) Remove(rel string) error {
	p, err := r.parse(rel)
	if err != nil {
		return err
	}
	path := r.Join(p.rel)
	if p.isRoot() {
		return fmt.Errorf("remove %s: is the root directory", path)
	}
	dfd, err := r.openParent("remove", p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	err = unix.Unlinkat(dfd, p.name(), 0)
	if err == unix.EISDIR || err == unix.EPERM { // EPERM: darwin's unlink of a directory
		var st unix.Stat_t
		if unix.Fstatat(dfd, p.name(), &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = unix.Unlinkat(dfd, p.name(), unix.AT_REMOVEDIR)
		}
	}
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return &fs.PathError{Op: "remove", Path: path, Err: err}
	}
	return nil
}

// Rename renames oldRel to newRel within the root with renameat(2). Both
// parent directories are resolved without following symlinks; the final
// components are not followed either (a symlink is renamed, or replaced, as
// a link).
func (r Root) Rename(oldRel, newRel string) error { return r.rename(oldRel, newRel, false) }

// RenameNoReplace is Rename, except that it fails, with an error wrapping
// fs.ErrExist, when something is at newRel already (renameat2 with
// RENAME_NOREPLACE on Linux, renameatx_np with RENAME_EXCL on macOS): a
// file that appeared meanwhile is never replaced.
func (r Root) RenameNoReplace(oldRel, newRel string) error {
	return r.rename(oldRel, newRel, true)
}

// rename renames between the two parents, each opened without following
// a link; noReplace refuses to replace what is at newRel (renameNoReplace,
// per system).
func (r Root) rename(oldRel, newRel string, noReplace bool) error {
	op, err := r.parse(oldRel)
	if err != nil {
		return err
	}
	np, err := r.parse(newRel)
	if err != nil {
		return err
	}
	oldPath, newPath := r.Join(op.rel), r.Join(np.rel)
	if op.isRoot() || np.isRoot() {
		return fmt.Errorf("rename %s to %s: cannot rename the root directory", oldPath, newPath)
	}
	ofd, err := r.openParent("rename", op)
	if err != nil {
		return err
	}
	defer unix.Close(ofd)
	nfd, err := r.openParent("rename", np)
	if err != nil {
		return err
	}
	defer unix.Close(nfd)
	rename := unix.Renameat
	if noReplace {
		rename = renameNoReplace
	}
	if err := rename(ofd, op.name(), nfd, np.name()); err != nil {
		return &os.LinkError{Op: "rename", Old: oldPath, New: newPath, Err: err}
	}
	return nil
}

// OpenFile opens the existing regular file rel with flag (os.O_RDONLY,
// os.O_RDWR, …; O_CREAT is refused), never following a symbolic link:
// not below the root, and not at rel itself (O_NOFOLLOW). A FIFO or a
// device there is refused without blocking (O_NONBLOCK, then fstat).
func (r Root) OpenFile(rel string, flag int) (*os.File, error) {
	p, err := r.parse(rel)
	if err != nil {
		return nil, err
	}
	path := r.Join(p.rel)
	if p.isRoot() {
		return nil, fmt.Errorf("open %s: is the root directory", path)
	}
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		return nil, fmt.Errorf("open %s: OpenFile neither creates nor truncates", path)
	}
	dfd, err := r.openParent("open", p)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	fd, err := openat(dfd, p.name(), flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, r.openError(dfd, p.rel, p.name(), err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := r.checkRegular(p.rel, newFileInfo(p.name(), &st)); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadDir returns the entries of directory rel, sorted by name. The directory
// is opened without following symlinks; the entries are reported as they are
// (a symlink entry has type fs.ModeSymlink and is not followed). Their Info
// is gathered eagerly with fstatat(AT_SYMLINK_NOFOLLOW) on the directory's
// descriptor; entries removed while reading are skipped.
func (r Root) ReadDir(rel string) ([]fs.DirEntry, error) {
	p, err := r.parse(rel)
	if err != nil {
		return nil, err
	}
	path := r.Join(p.rel)
	fd, err := r.openDir("read directory", p)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path) // f owns fd from now on
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	slices.Sort(names)
	entries := make([]fs.DirEntry, 0, len(names))
	for _, name := range names {
		var st unix.Stat_t
		err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.ENOENT {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "lstat", Path: filepath.Join(path, name), Err: err}
		}
		entries = append(entries, fs.FileInfoToDirEntry(newFileInfo(name, &st)))
	}
	return entries, nil
}

// Sub checks rel with CheckDir and returns a Root for that directory.
func (r Root) Sub(rel string) (Root, error) {
	if err := r.CheckDir(rel); err != nil {
		return Root{}, err
	}
	return New(r.Join(rel)), nil
}

// relPath is a validated path relative to a Root.
type relPath struct {
	rel   string   // cleaned, "." for the root itself
	comps []string // components of rel; empty for the root itself
}

// parse validates and cleans rel.
func (r Root) parse(rel string) (relPath, error) {
	if !filepath.IsAbs(r.dir) {
		return relPath{}, fmt.Errorf("hostfs: root %q is not an absolute path", r.dir)
	}
	if filepath.IsAbs(rel) {
		return relPath{}, fmt.Errorf("%q: path below %s must be relative: %w", rel, r.dir, fs.ErrInvalid)
	}
	clean := filepath.Clean(rel) // "" becomes "."
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return relPath{}, fmt.Errorf("%q: path escapes %s: %w", rel, r.dir, fs.ErrInvalid)
	}
	if clean == "." {
		return relPath{rel: clean}, nil
	}
	return relPath{rel: clean, comps: strings.Split(clean, string(filepath.Separator))}, nil
}

func (p relPath) isRoot() bool { return len(p.comps) == 0 }

// name is the final component.
func (p relPath) name() string { return p.comps[len(p.comps)-1] }

// sub is the relative path of the first n components.
func (p relPath) sub(n int) string { return filepath.Join(p.comps[:n]...) }

// openRoot opens the root directory itself, following symlinks (it is trusted).
// Callers must have validated r.dir with parse.
func (r Root) openRoot() (int, error) {
	fd, err := openat(unix.AT_FDCWD, r.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOTDIR {
		return -1, &notDirError{r.dir}
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: r.dir, Err: err}
	}
	return fd, nil
}

// walk opens the directory made of the first n components of p, starting
// at the root and never following a symlink. Errors are reported as by
// inPath(op, p, ...).
func (r Root) walk(op string, p relPath, n int) (int, error) {
	fd, err := r.openRoot()
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", op, r.Join(p.rel), err)
	}
	for i, name := range p.comps[:n] {
		next, err := openat(fd, name, dirFlags, 0)
		if err != nil {
			rel := p.sub(i + 1)
			err = r.inPath(op, p, rel, r.openError(fd, rel, name, err))
		}
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// openParent opens the parent directory of the final component of p.
func (r Root) openParent(op string, p relPath) (int, error) {
	return r.walk(op, p, len(p.comps)-1)
}

// openDir opens the directory p itself.
func (r Root) openDir(op string, p relPath) (int, error) {
	return r.walk(op, p, len(p.comps))
}

// inPath returns err, which concerns the component rel of p and names its
// host path, prefixed by op and the host path of p unless rel is p itself:
// "lstat /r/a/b/c: /r/a is a symbolic link".
func (r Root) inPath(op string, p relPath, rel string, err error) error {
	if rel == p.rel {
		return err
	}
	return fmt.Errorf("%s %s: %w", op, r.Join(p.rel), err)
}

// openError turns the error of openat(dfd, name, O_NOFOLLOW...) into a
// *SymlinkError when name is a symlink (ELOOP on Linux and darwin, EMLINK on
// some BSDs, possibly ENOTDIR with O_DIRECTORY), a not-a-directory error on
// ENOTDIR, or a *fs.PathError naming rel's host path.
func (r Root) openError(dfd int, rel, name string, err error) error {
	if err == unix.ELOOP || err == unix.EMLINK || err == unix.ENOTDIR {
		var st unix.Stat_t
		if unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return &SymlinkError{Root: r.dir, Rel: rel}
		}
	}
	if err == unix.ENOTDIR {
		return &notDirError{r.Join(rel)}
	}
	return &fs.PathError{Op: "open", Path: r.Join(rel), Err: err}
}

// lstatAt returns information about p.name in its parent directory dfd,
// without following it.
func (r Root) lstatAt(dfd int, p relPath) (fs.FileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, p.name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: r.Join(p.rel), Err: err}
	}
	return newFileInfo(p.name(), &st), nil
}

// checkRegular returns nil if fi (of rel) is a regular file, a *SymlinkError
// if it is a symlink, and a "not a regular file" error otherwise.
func (r Root) checkRegular(rel string, fi fs.FileInfo) error {
	switch {
	case fi.Mode().IsRegular():
		return nil
	case fi.Mode()&fs.ModeSymlink != 0:
		return &SymlinkError{Root: r.dir, Rel: rel}
	default:
		return fmt.Errorf("%s is not a regular file (%s)", r.Join(rel), fi.Mode().Type())
	}
}

// openat is unix.Openat retried on EINTR.
func openat(dfd int, name string, flags int, perm uint32) (int, error) {
	for {
		fd, err := unix.Openat(dfd, name, flags, perm)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// writeAll writes data to fd, retrying short writes and EINTR.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// mode converts the permission bits of perm to a unix mode.
func mode(perm fs.FileMode) uint32 { return uint32(perm.Perm()) }

// fileInfo is an fs.FileInfo built from a unix.Stat_t.
type fileInfo struct {
	name string
	st   unix.Stat_t
}

func newFileInfo(name string, st *unix.Stat_t) *fileInfo {
	return &fileInfo{name: name, st: *st}
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.st.Size }
func (fi *fileInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi *fileInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi *fileInfo) Sys() any           { return &fi.st }

func (fi *fileInfo) Mode() fs.FileMode {
	m := uint32(fi.st.Mode)
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
