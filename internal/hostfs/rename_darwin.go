package hostfs

import "golang.org/x/sys/unix"

// renameNoReplace is renameatx_np(2) with RENAME_EXCL: EEXIST when
// something is at the new name.
func renameNoReplace(oldDirfd int, oldName string, newDirfd int, newName string) error {
	return unix.RenameatxNp(oldDirfd, oldName, newDirfd, newName, unix.RENAME_EXCL)
}
