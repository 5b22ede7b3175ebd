package hostfs

import "golang.org/x/sys/unix"

// renameNoReplace is renameat2(2) with RENAME_NOREPLACE: EEXIST when
// something is at the new name.
func renameNoReplace(oldDirfd int, oldName string, newDirfd int, newName string) error {
	return unix.Renameat2(oldDirfd, oldName, newDirfd, newName, unix.RENAME_NOREPLACE)
}
