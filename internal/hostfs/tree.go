package hostfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Whole trees below a Root: their disk use, and removing them. Neither
// follows a symbolic link anywhere (a link counts as itself and is
// removed as a link), so a link an agent planted in a home never leads
// either out of the root.

// Usage is the disk use of a tree.
type Usage struct {
	Bytes int64 // allocated blocks, as du counts them
	Files int   // entries of any type, the top one included
}

// Usage returns the disk use of rel and everything below it. A missing
// rel uses nothing. A symlink in an intermediate component of rel is a
// *SymlinkError; below rel, links are counted as links.
func (r Root) Usage(rel string) (Usage, error) {
	p, err := r.parse(rel)
	if err != nil {
		return Usage{}, err
	}
	if p.isRoot() {
		fd, err := r.openRoot()
		if err != nil {
			return Usage{}, err
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return Usage{}, &fs.PathError{Op: "stat", Path: r.dir, Err: err}
		}
		u := Usage{Bytes: st.Blocks * 512, Files: 1}
		err = r.usageDir(fd, ".", &u)
		return u, err
	}
	dfd, err := r.openParent("measure", p)
	if errors.Is(err, fs.ErrNotExist) {
		return Usage{}, nil
	}
	if err != nil {
		return Usage{}, err
	}
	defer unix.Close(dfd)
	var u Usage
	err = r.usageAt(dfd, p.name(), p.rel, &u)
	return u, err
}

// usageAt adds the use of name (at rel) in dfd.
func (r Root) usageAt(dfd int, name, rel string, u *Usage) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return &fs.PathError{Op: "lstat", Path: r.Join(rel), Err: err}
	}
	u.Bytes += st.Blocks * 512
	u.Files++
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	fd, err := openat(dfd, name, dirFlags, 0)
	if err == unix.ENOENT {
		return nil
	}
	if err == unix.EACCES {
		return nil // a folder we may not read: counted as itself
	}
	if err != nil {
		return r.openError(dfd, rel, name, err)
	}
	defer unix.Close(fd)
	return r.usageDir(fd, rel, u)
}

func (r Root) usageDir(fd int, rel string, u *Usage) error {
	names, err := readNames(fd, r.Join(rel))
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := r.usageAt(fd, n, filepath.Join(rel, n), u); err != nil {
			return err
		}
	}
	return nil
}

// RemoveAll removes rel and everything below it without following any
// symbolic link: a link is removed as a link, never its target. A folder
// the user owns but may not write (an agent can chmod its own files) is
// made writable first; one the user may not read is an error naming it. A missing rel is not an error; a symlink in an
// intermediate component of rel is a *SymlinkError. The root itself
// cannot be removed (its contents can: remove each entry).
func (r Root) RemoveAll(rel string) error {
	p, err := r.parse(rel)
	if err != nil {
		return err
	}
	if p.isRoot() {
		return fmt.Errorf("remove %s: is the root directory", r.dir)
	}
	dfd, err := r.openParent("remove", p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return r.removeAt(dfd, p.name(), p.rel)
}

// removeAt removes name (at rel) in dfd, and what it holds.
func (r Root) removeAt(dfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return &fs.PathError{Op: "lstat", Path: r.Join(rel), Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := unix.Unlinkat(dfd, name, 0); err != nil && err != unix.ENOENT {
			return &fs.PathError{Op: "remove", Path: r.Join(rel), Err: err}
		}
		return nil
	}
	fd, err := openat(dfd, name, dirFlags, 0)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return r.openError(dfd, rel, name, err)
	}
	if st.Mode&0o300 != 0o300 && st.Uid == uint32(os.Getuid()) {
		// Not writable (an agent can chmod its own folders): the
		// descriptor is this very folder, so the change cannot land
		// anywhere else.
		_ = unix.Fchmod(fd, uint32(st.Mode&0o7777)|0o700)
	}
	names, err := readNames(fd, r.Join(rel))
	if err == nil {
		for _, n := range names {
			if err = r.removeAt(fd, n, filepath.Join(rel, n)); err != nil {
				break
			}
		}
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return &fs.PathError{Op: "remove", Path: r.Join(rel), Err: err}
	}
	return nil
}

// readNames lists the entries of the open folder fd (path names it in
// errors), without closing fd.
func readNames(fd int, path string) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, &fs.PathError{Op: "read directory", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(dup), path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	return names, nil
}
