package hostfs

import (
	"fmt"
	"io/fs"
	"path/filepath"
)

// OpKind is what an Op does.
type OpKind int

const (
	// MkdirAll creates the folder and its missing parents (Perm).
	MkdirAll OpKind = iota
	// Write writes Data atomically, unless the file holds it already.
	Write
	// Create writes Data only when nothing is at the path yet.
	Create
	// CheckDir requires a folder, with no symbolic link below Root on the
	// way: a bind-mount source (docker follows links when it binds).
	CheckDir
	// CheckFile is CheckDir for a regular file.
	CheckFile
)

// Op is one host-side change or check of a launch, below a trusted Root.
// A launch decides all of them first, as plain values, and Apply carries
// them out in order; --print shows them instead.
type Op struct {
	Kind OpKind
	Root string // trusted folder, absolute
	Rel  string // path below Root ("" = Root itself, for the checks)
	Data []byte
	Perm fs.FileMode
}

// Path is the op's host path.
func (o Op) Path() string { return filepath.Join(o.Root, o.Rel) }

// String describes the op for --print.
func (o Op) String() string {
	switch o.Kind {
	case MkdirAll:
		return "create folder " + o.Path()
	case Write:
		return fmt.Sprintf("write %s (%d bytes)", o.Path(), len(o.Data))
	case Create:
		return fmt.Sprintf("create %s unless it exists (%d bytes)", o.Path(), len(o.Data))
	case CheckDir:
		return "check that " + o.Path() + " is a folder reached without a symbolic link"
	case CheckFile:
		return "check that " + o.Path() + " is a file reached without a symbolic link"
	}
	return "unknown op on " + o.Path()
}

// Apply carries out ops in order and stops at the first failure. No op
// follows a symbolic link below its Root.
func Apply(ops []Op) error {
	for _, o := range ops {
		r := New(o.Root)
		var err error
		switch o.Kind {
		case MkdirAll:
			err = r.MkdirAll(o.Rel, o.Perm)
		case Write:
			_, err = r.WriteFileIfChanged(o.Rel, o.Data, o.Perm)
		case Create:
			_, err = r.CreateExclusive(o.Rel, o.Data, o.Perm)
		case CheckDir:
			err = r.CheckDir(o.Rel)
		case CheckFile:
			err = r.CheckFile(o.Rel)
		default:
			err = fmt.Errorf("unknown op %d on %s", o.Kind, o.Path())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
