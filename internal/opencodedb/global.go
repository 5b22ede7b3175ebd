package opencodedb

import (
	"path/filepath"
)

// DataHome is the host's XDG data folder, where OpenCode keeps its
// global database: $XDG_DATA_HOME when it is absolute, else
// ~/.local/share (OpenCode follows XDG).
func DataHome(getenv func(string) string, home string) string {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Clean(d)
	}
	return filepath.Join(home, ".local", "share")
}

// Global is a tool's global database (opencode: <data home>/opencode/
// opencode.db), below the data home, which is trusted as the user has it
// (links in it resolved): below it, nothing is followed.
func Global(getenv func(string) string, home, tool, file string) File {
	data := DataHome(getenv, home)
	if real, err := filepath.EvalSymlinks(data); err == nil {
		data = real
	}
	return File{Root: newRoot(data), Rel: filepath.Join(tool, file)}
}

// At is a database file named by the user: its folder is trusted as
// given (links in it resolved), the file itself is not followed.
func At(path string) (File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return File{}, err
	}
	dir := filepath.Dir(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return File{Root: newRoot(dir), Rel: filepath.Base(abs)}, nil
}
