//go:build !linux

package gitrelay

// procFDPath: there is no /proc/self/fd here (ok is false), so shortPath
// links the folder from /tmp instead.
func procFDPath(string, string) (string, func(), bool, error) { return "", nil, false, nil }
