// Package envfile reads ~/.ai-sandbox/env: KEY=value lines holding the
// users' API keys. Values never leave this package except as the
// environment of the docker process; callers pass names on argv.
package envfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

// Entry is one KEY=value line, or a bare KEY line.
type Entry struct {
	Key   string
	Value string
	Line  int
	// Bare is a line holding only KEY: as with docker --env-file, the
	// value comes from the environment.
	Bare bool
}

// File is a parsed env file, in file order (a later line wins).
type File struct {
	Entries []Entry
}

// LineError names the line that does not parse.
type LineError struct {
	Path string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg) }

var keyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Load reads path; a missing file is empty.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	return Parse(path, data)
}

// Parse reads KEY=value lines. Blank lines and lines starting with # are
// skipped; an "export " prefix is allowed; a value may be single-quoted
// (taken literally) or double-quoted (\" \\ \n \t \$ escapes). A line
// holding only KEY means what it means to docker --env-file: take KEY
// from the environment. Anything else is an error naming its line.
func Parse(path string, data []byte) (*File, error) {
	f := &File{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			line = strings.TrimSpace(rest)
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok {
			if !keyRe.MatchString(k) || k == "export" {
				return nil, &LineError{Path: path, Line: n, Msg: "expected KEY=value, or a KEY to take from the environment"}
			}
			f.Entries = append(f.Entries, Entry{Key: k, Line: n, Bare: true})
			continue
		}
		if !keyRe.MatchString(k) {
			return nil, &LineError{Path: path, Line: n, Msg: fmt.Sprintf("%q is not a valid variable name", k)}
		}
		val, err := unquote(strings.TrimSpace(v))
		if err != nil {
			return nil, &LineError{Path: path, Line: n, Msg: err.Error()}
		}
		f.Entries = append(f.Entries, Entry{Key: k, Value: val, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

func unquote(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch v[0] {
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return "", errors.New("unterminated single-quoted value")
		}
		inner := v[1 : len(v)-1]
		if strings.Contains(inner, "'") {
			return "", errors.New("single quote inside a single-quoted value")
		}
		return inner, nil
	case '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch c {
			case '\\':
				if i+1 >= len(v) {
					return "", errors.New("unterminated double-quoted value")
				}
				i++
				switch v[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$', '`':
					b.WriteByte(v[i])
				default:
					b.WriteByte('\\')
					b.WriteByte(v[i])
				}
			case '"':
				if rest := strings.TrimSpace(v[i+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
					// The text is part of a secret: never echo it.
					return "", errors.New("unexpected text after the closing quote")
				}
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double-quoted value")
	}
	return v, nil
}

// Lookup returns the value of the last line defining key. A bare KEY
// line has no value here (the caller takes it from the environment).
func (f *File) Lookup(key string) (string, bool) {
	for i := len(f.Entries) - 1; i >= 0; i-- {
		if f.Entries[i].Key == key {
			return f.Entries[i].Value, !f.Entries[i].Bare
		}
	}
	return "", false
}

// Keys returns the key names in first-seen order, without duplicates.
func (f *File) Keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range f.Entries {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e.Key)
		}
	}
	return out
}
