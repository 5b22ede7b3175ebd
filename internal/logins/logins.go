// Package logins shares an agent's login between the homes it has in
// different projects, and nothing else. Each project gets its own home
// for a tool (a file planted there by one project's agent never reaches
// another's), and the tool's login files (tools.Tool.LoginFiles) are kept
// in a per-tool store: before a session the host copies the store's newer
// files into the project's home, and after it copies back the ones the
// session changed (a login, a refreshed token). For a login file that
// also holds other state (Claude Code's ~/.claude.json: MCP servers,
// per-project settings), only the declared top-level keys travel.
//
// Every read and write goes through hostfs: a symbolic link planted in a
// home is never followed, and a file that is not a regular file is left
// alone.
package logins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// File is one login file, relative to a home.
type File struct {
	Rel string
	// Keys, when set, are the top-level JSON keys that are shared; the
	// rest of the file stays in each home.
	Keys []string
}

// maxSize bounds a login file.
const maxSize = 4 << 20

// Seed decides what to copy from the store into a home before a session:
// each store file that the home lacks, or that is newer in the store and
// differs. A file the store lacks is taken from legacy (the one home per
// tool of earlier versions; "" = none) into the store first. It reads
// only; the returned ops do the writing (the store must exist by then).
func Seed(store, legacy, home string, files []File) ([]hostfs.Op, error) {
	var ops []hostfs.Op
	for _, f := range files {
		src, err := read(store, f.Rel)
		if err != nil {
			return nil, err
		}
		if src == nil && legacy != "" {
			if l, err := read(legacy, f.Rel); err == nil && l != nil {
				if f.Keys != nil {
					l.data = extract(l.data, f.Keys)
				}
				if l.data != nil {
					src = l
					if d := filepath.Dir(f.Rel); d != "." {
						ops = append(ops, hostfs.Op{Kind: hostfs.MkdirAll, Root: store, Rel: d, Perm: 0o700})
					}
					ops = append(ops, hostfs.Op{Kind: hostfs.Create, Root: store, Rel: f.Rel, Data: l.data, Perm: 0o600})
				}
			}
		}
		if src == nil {
			continue
		}
		dst, err := read(home, f.Rel)
		if err != nil {
			if errors.Is(err, hostfs.ErrSymlink) {
				return nil, fmt.Errorf("login file %s: %w; an agent may have planted it (remove the link: the login itself is kept in %s)", filepath.Join(home, f.Rel), err, store)
			}
			return nil, err
		}
		var data []byte
		switch {
		case dst == nil:
			data = src.data
		case !src.mod.After(dst.mod):
			continue // the home's is as new: collected after the session
		case f.Keys != nil:
			merged, changed := merge(dst.data, src.data)
			if !changed {
				continue
			}
			data = merged
		case bytes.Equal(src.data, dst.data):
			continue
		default:
			data = src.data
		}
		if d := filepath.Dir(f.Rel); d != "." {
			ops = append(ops, hostfs.Op{Kind: hostfs.MkdirAll, Root: home, Rel: d, Perm: 0o700})
		}
		ops = append(ops, hostfs.Op{Kind: hostfs.Write, Root: home, Rel: f.Rel, Data: data, Perm: 0o600})
	}
	return ops, nil
}

// Collect copies into the store the login files of a home that are newer
// there and differ (only the declared keys of a keyed file). With
// onlyMissing, only files the store lacks are copied (seeding the store
// from a legacy shared home). The store must exist. It returns the files
// it copied. A file that is a symbolic link or not a regular file is
// skipped.
func Collect(home, store string, files []File, onlyMissing bool) ([]string, error) {
	var copied []string
	for _, f := range files {
		src, err := read(home, f.Rel)
		if errors.Is(err, hostfs.ErrSymlink) || errors.Is(err, errNotRegular) {
			continue
		}
		if err != nil {
			return copied, err
		}
		if src == nil {
			continue
		}
		data := src.data
		if f.Keys != nil {
			data = extract(src.data, f.Keys)
			if data == nil {
				continue
			}
		}
		dst, err := read(store, f.Rel)
		if err != nil {
			return copied, err
		}
		if dst != nil && (onlyMissing || !src.mod.After(dst.mod) || bytes.Equal(dst.data, data)) {
			continue
		}
		r := hostfs.New(store)
		if d := filepath.Dir(f.Rel); d != "." {
			if err := r.MkdirAll(d, 0o700); err != nil {
				return copied, err
			}
		}
		if err := r.WriteFile(f.Rel, data, 0o600); err != nil {
			return copied, err
		}
		copied = append(copied, f.Rel)
	}
	return copied, nil
}

// Import writes a login file taken from the user's own home into the
// store (which must exist), unless the store has it already. It reports
// whether it wrote.
func Import(store string, f File, data []byte) (bool, error) {
	if f.Keys != nil {
		if data = extract(data, f.Keys); data == nil {
			return false, nil
		}
	}
	r := hostfs.New(store)
	if d := filepath.Dir(f.Rel); d != "." {
		if err := r.MkdirAll(d, 0o700); err != nil {
			return false, err
		}
	}
	return r.CreateExclusive(f.Rel, data, 0o600)
}

// Has reports whether the store holds the file.
func Has(store string, f File) bool {
	fi, err := hostfs.New(store).Lstat(f.Rel)
	return err == nil && fi.Mode().IsRegular()
}

type content struct {
	data []byte
	mod  time.Time
}

var errNotRegular = errors.New("not a regular file")

// read returns a regular file below root, or nil when there is none (the
// root itself may be missing).
func read(root, rel string) (*content, error) {
	r := hostfs.New(root)
	fi, err := r.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &hostfs.SymlinkError{Root: root, Rel: rel}
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", r.Join(rel), errNotRegular)
	}
	data, err := r.ReadFile(rel, maxSize)
	if err != nil {
		return nil, err
	}
	return &content{data: data, mod: fi.ModTime()}, nil
}

// extract keeps the given top-level keys of a JSON object (sorted, so the
// same login gives the same bytes), or nil when none is there.
func extract(data []byte, keys []string) []byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil
	}
	out := map[string]json.RawMessage{}
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return append(b, '\n')
}

// merge sets the store's keys into a home's JSON object, keeping the
// home's other keys; changed is false when nothing differs.
func merge(home, store []byte) ([]byte, bool) {
	var h, s map[string]json.RawMessage
	if json.Unmarshal(store, &s) != nil {
		return nil, false
	}
	if json.Unmarshal(home, &h) != nil || h == nil {
		h = map[string]json.RawMessage{}
	}
	changed := false
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if !bytes.Equal(compact(h[k]), compact(s[k])) {
			h[k] = s[k]
			changed = true
		}
	}
	if !changed {
		return nil, false
	}
	b, _ := json.MarshalIndent(h, "", "  ")
	return append(b, '\n'), true
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}
