package envfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

// Header is the comment a new env file starts with.
const Header = `# API keys for ai-sandbox: KEY=value, one per line (mode 0600).
# A sandbox gets only the keys its agent declares ('ai-sandbox tools'),
# passed by name, never on a command line.
`

// Set edits the env file at path in place: the lines defining a key of
// values get the new value, keys not in the file are appended in sorted
// order, and every other line (comments, blank lines, other keys, their
// order) is kept as it is. When a key is defined more than once, the
// first line gets the value and the later ones are dropped, so that no
// stale secret stays behind. A missing file is created, starting with
// Header; with no values that makes an empty env file. The file is
// written atomically with mode 0600 (a symlink is followed, not
// replaced); a file that does not parse is never overwritten.
func Set(path string, values map[string]string) error {
	for k, v := range values {
		if !keyRe.MatchString(k) {
			return fmt.Errorf("%q is not a valid variable name", k)
		}
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("the value of %s contains a NUL byte", k)
		}
	}
	target := path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		target = r
	}
	old, err := os.ReadFile(target)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("read env file: %w", err)
	}
	if !missing {
		// Refuse to rewrite what cannot be read back.
		if _, err := Parse(path, old); err != nil {
			return err
		}
	}
	var data []byte
	if missing {
		data = edit([]byte(Header), values)
	} else {
		data = edit(old, values)
	}
	if !missing && string(data) == string(old) {
		// Nothing to write; still make sure no one else may read it.
		st, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("stat env file: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(target, 0o600); err != nil {
				return fmt.Errorf("chmod env file: %w", err)
			}
		}
		return nil
	}
	return config.WriteFileAtomic(target, data, 0o600)
}

// edit applies values to the lines of a file that parses.
func edit(data []byte, values map[string]string) []byte {
	text := string(data)
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	done := map[string]bool{}
	var out strings.Builder
	for _, raw := range lines {
		key, export := lineKey(raw)
		v, ok := values[key]
		if key == "" || !ok {
			out.WriteString(raw)
			continue
		}
		if done[key] {
			continue // a later duplicate of a key just set
		}
		done[key] = true
		eol := ""
		switch {
		case strings.HasSuffix(raw, "\r\n"):
			eol = "\r\n"
		case strings.HasSuffix(raw, "\n"):
			eol = "\n"
		}
		indent := raw[:len(raw)-len(strings.TrimLeft(raw, " \t"))]
		prefix := ""
		if export {
			prefix = "export "
		}
		out.WriteString(indent + prefix + Line(key, v) + eol)
	}
	var add []string
	for k := range values {
		if !done[k] {
			add = append(add, k)
		}
	}
	sort.Strings(add)
	if len(add) > 0 && out.Len() > 0 && !strings.HasSuffix(out.String(), "\n") {
		out.WriteString("\n")
	}
	for _, k := range add {
		out.WriteString(Line(k, values[k]) + "\n")
	}
	return []byte(out.String())
}

// lineKey returns the key a line defines ("" for blank lines and
// comments) and whether it has an "export " prefix; Parse has accepted
// the line already.
func lineKey(raw string) (string, bool) {
	line := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r"))
	if line == "" || strings.HasPrefix(line, "#") {
		return "", false
	}
	export := false
	if rest, ok := strings.CutPrefix(line, "export "); ok {
		line, export = strings.TrimSpace(rest), true
	}
	k, _, _ := strings.Cut(line, "=") // a bare NAME line defines NAME too
	return strings.TrimSpace(k), export
}

// Line renders KEY=value so that Parse reads value back exactly: plain
// when that is unambiguous, else double-quoted with escapes.
func Line(key, value string) string {
	if plain(value) {
		return key + "=" + value
	}
	var b strings.Builder
	b.WriteString(key + `="`)
	for _, r := range value {
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '"', '\\', '$', '`':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(`"`)
	return b.String()
}

// plain reports whether value reads back unchanged without quotes.
func plain(value string) bool {
	if value == "" {
		return true
	}
	if strings.TrimSpace(value) != value || strings.ContainsAny(value, "\n\r\t") {
		return false
	}
	return value[0] != '"' && value[0] != '\''
}
