package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// ParseError says where and why config.json does not parse.
type ParseError struct {
	Path   string
	Line   int    // 0 when unknown
	Column int    // 0 when unknown
	Key    string // the offending key, when known
	Msg    string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads config.json (a missing file gives the defaults) and merges
// the legacy one-path-per-line workspaces file into Workspaces.
func Load(p Paths) (*Config, error) {
	c, err := loadFile(p.ConfigFile())
	if err != nil {
		return nil, err
	}
	legacy, err := ReadLegacyWorkspaces(p.LegacyWorkspaces())
	if err != nil {
		return nil, err
	}
	for _, w := range legacy {
		if !slices.Contains(c.Workspaces, w) {
			c.Workspaces = append(c.Workspaces, w)
		}
	}
	return c, nil
}

func loadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c := Default()
		c.normalize()
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Decode(path, data)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Decode parses config.json: wrong types, trailing data and truncated
// files are errors that name the place. An empty file is the default
// configuration. Keys this version does not know (a newer ai-sandbox or
// the original may write them) are kept as they are, written back by
// Save, and listed by UnknownKeys.
func Decode(path string, data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		c := Default()
		c.normalize()
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(path, data, dec, err)
	}
	if dec.More() {
		line, col := position(data, dec.InputOffset())
		return nil, &ParseError{Path: path, Line: line, Column: col, Msg: "unexpected data after the JSON object"}
	}
	if c.Version > CurrentVersion || c.Version < 0 {
		return nil, &ParseError{Path: path, Key: "version", Msg: fmt.Sprintf("unsupported version %d: it was written by a newer ai-sandbox (this one reads versions 1 and 2); upgrade ai-sandbox", c.Version)}
	}
	c.unknown = unknownKeys(data, reflect.TypeOf(Config{}))
	c.normalize()
	return &c, nil
}

// unknownKey is a key of config.json that the schema has no field for,
// kept with its value.
type unknownKey struct {
	path []string
	raw  json.RawMessage
}

// UnknownKeys lists, dotted, the keys this version does not know.
func (c *Config) UnknownKeys() []string {
	var out []string
	for _, u := range c.unknown {
		out = append(out, strings.Join(u.path, "."))
	}
	return out
}

// unknownKeys walks data as the decoder does and collects every object key
// that t has no field for (matched case-insensitively, as encoding/json
// does), with its raw value.
func unknownKeys(data []byte, t reflect.Type) []unknownKey {
	var out []unknownKey
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(t reflect.Type, path []string)
	walk = func(t reflect.Type, path []string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		kind := t.Kind()
		if kind != reflect.Struct && kind != reflect.Map && kind != reflect.Slice {
			var skip json.RawMessage
			_ = dec.Decode(&skip)
			return
		}
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' && d != '[' {
			return // a scalar or null where an object was expected
		}
		for dec.More() {
			elem, child := t, path
			if kind == reflect.Slice {
				elem = t.Elem()
			} else {
				tok, err := dec.Token()
				if err != nil {
					return
				}
				key, _ := tok.(string)
				child = append(append([]string{}, path...), key)
				if kind == reflect.Map {
					elem = t.Elem()
				} else if f, ok := jsonField(t, key); ok {
					elem = f.Type
				} else {
					var raw json.RawMessage
					if dec.Decode(&raw) != nil {
						return
					}
					out = append(out, unknownKey{path: child, raw: raw})
					continue
				}
			}
			walk(elem, child)
		}
		_, _ = dec.Token() // the closing bracket
	}
	walk(t, nil)
	return out
}

// withUnknown adds the kept unknown keys to the encoded configuration.
func withUnknown(data []byte, unknown []unknownKey) ([]byte, error) {
	if len(unknown) == 0 {
		return data, nil
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	for _, u := range unknown {
		obj := doc
		for _, k := range u.path[:len(u.path)-1] {
			next, ok := obj[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				obj[k] = next
			}
			obj = next
		}
		obj[u.path[len(u.path)-1]] = u.raw
	}
	return json.MarshalIndent(doc, "", "  ")
}

func decodeError(path string, data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte: point at it, not past it.
		line, col := position(data, syn.Offset-1)
		return &ParseError{Path: path, Line: line, Column: col, Msg: syn.Error()}
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return &ParseError{Path: path, Line: line, Column: col, Key: typ.Field,
			Msg: fmt.Sprintf("expected %s, found a JSON %s", typ.Type, typ.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := position(data, int64(len(data)))
		return &ParseError{Path: path, Line: line, Column: col, Msg: "file ends in the middle of the JSON (truncated?)"}
	default:
		line, col := position(data, dec.InputOffset())
		return &ParseError{Path: path, Line: line, Column: col, Msg: err.Error()}
	}
}

// jsonField finds the struct field that encoding/json decodes key into.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// ReadLegacyWorkspaces reads the original's one-path-per-line file.
// Blank lines and # comments are skipped; a missing file is empty.
func ReadLegacyWorkspaces(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read legacy workspaces file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// Save writes c atomically (temp file in the same folder, fsync, rename)
// with mode 0600. Callers that read-modify-write use Update instead.
func Save(p Paths, c *Config) error {
	c.normalize()
	data, err := json.MarshalIndent(c, "", "  ")
	if err == nil {
		data, err = withUnknown(data, c.unknown)
	}
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return WriteFileAtomic(p.ConfigFile(), append(data, '\n'), 0o600)
}

// WriteFileAtomic replaces path with data: a reader sees the old file or
// the new one, never a mix, and a crash never leaves a truncated file.
func WriteFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	cleanup := func() { tmp.Close(); os.Remove(name) }
	if err := tmp.Chmod(mode); err != nil {
		cleanup()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		cleanup()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		cleanup()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// lockTimeout bounds the wait for one other ai-sandbox process: the
// wait starts again each time the lock changes hands, so that many
// processes queued behind each other (a hundred launches at once, on a
// busy machine) all get their turn, and only a holder that keeps it this
// long makes the others fail.
var lockTimeout = 30 * time.Second

// Lock takes the cross-process lock on the state folder.
func Lock(p Paths) (unlock func(), err error) {
	if err := os.MkdirAll(p.Root, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", p.Root, err)
	}
	l := flock.New(p.LockFile())
	holder := p.LockFile() + ".holder"
	last := readHolder(holder)
	deadline := time.Now().Add(lockTimeout)
	for {
		ok, err := l.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", p.LockFile(), err)
		}
		if ok {
			writeHolder(holder)
			return func() { _ = l.Unlock() }, nil
		}
		if cur := readHolder(holder); cur != last {
			last, deadline = cur, time.Now().Add(lockTimeout)
		}
		if time.Now().After(deadline) {
			who := "another ai-sandbox"
			if pid, _, ok := strings.Cut(last, " "); ok && pid != "" {
				who += " (pid " + pid + ")"
			}
			return nil, fmt.Errorf("lock %s: %s holds it for over %s", p.LockFile(), who, lockTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeHolder records who took the lock ("PID NANOSECONDS"): waiters see
// the lock change hands. It is a hint only; a failure to write it is not
// an error.
func writeHolder(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%d %d", os.Getpid(), time.Now().UnixNano())
	f.Close()
}

func readHolder(path string) string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	return string(buf[:n])
}

// Update reads config.json under the lock, lets fn change it, and writes
// it back atomically. When the file does not parse, fn is not called and
// nothing is written. When fn returns ErrNoChange, nothing is written.
func Update(p Paths, fn func(c *Config) error) error {
	unlock, err := Lock(p)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := loadFile(p.ConfigFile())
	if err != nil {
		return err
	}
	if err := fn(c); err != nil {
		if errors.Is(err, ErrNoChange) {
			return nil
		}
		return err
	}
	return Save(p, c)
}

// ErrNoChange tells Update that fn changed nothing.
var ErrNoChange = errors.New("no change")

// AppendLegacyWorkspace adds path to the legacy workspaces file when that
// file exists (the original reads its whitelist from there), so that both
// programs see the same list. Call it while holding the lock.
func AppendLegacyWorkspace(p Paths, path string) error {
	data, err := os.ReadFile(p.LegacyWorkspaces())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read legacy workspaces file: %w", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	return WriteFileAtomic(p.LegacyWorkspaces(), append(data, path+"\n"...), 0o600)
}

// RemoveLegacyWorkspace drops path from the legacy workspaces file, if it
// is there, so that it does not come back through the merge. Call it
// while holding the lock.
func RemoveLegacyWorkspace(p Paths, path string) (bool, error) {
	data, err := os.ReadFile(p.LegacyWorkspaces())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read legacy workspaces file: %w", err)
	}
	var kept []string
	removed := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == path {
			removed = true
			continue
		}
		kept = append(kept, line)
	}
	if !removed {
		return false, nil
	}
	return true, WriteFileAtomic(p.LegacyWorkspaces(), []byte(strings.Join(kept, "\n")), 0o600)
}
