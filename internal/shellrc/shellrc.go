// Package shellrc writes, replaces and removes the one block of shell
// aliases that ai-sandbox manages in a user's rc files (bash, zsh, fish).
// The block sits between a begin and an end marker line; everything
// outside it is the user's and is never changed.
package shellrc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

// Shell is a supported shell.
type Shell string

const (
	Bash Shell = "bash"
	Zsh  Shell = "zsh"
	Fish Shell = "fish"
)

// Shells are the supported shells, in a fixed order.
var shells = []Shell{Bash, Zsh, Fish}

// All returns the supported shells.
func All() []Shell { return append([]Shell(nil), shells...) }

// Parse turns a name (or a path such as /usr/bin/zsh) into a Shell.
func Parse(s string) (Shell, bool) {
	base := filepath.Base(strings.TrimSpace(s))
	base = strings.TrimPrefix(base, "-") // login shells: -zsh
	for _, sh := range shells {
		if base == string(sh) {
			return sh, true
		}
	}
	return "", false
}

// Markers delimit the managed block.
const (
	BeginMarker = "# >>> ai-sandbox aliases >>>"
	EndMarker   = "# <<< ai-sandbox aliases <<<"
	toolsPrefix = "# tools:"
)

// RCFile is the file a shell reads at the start of every interactive
// session: ~/.bashrc, ${ZDOTDIR:-~}/.zshrc, or
// ${XDG_CONFIG_HOME:-~/.config}/fish/config.fish.
func RCFile(sh Shell, home string, getenv func(string) string) string {
	switch sh {
	case Zsh:
		if d := getenv("ZDOTDIR"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, ".zshrc")
		}
		return filepath.Join(home, ".zshrc")
	case Fish:
		if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, "fish", "config.fish")
		}
		return filepath.Join(home, ".config", "fish", "config.fish")
	default:
		return filepath.Join(home, ".bashrc")
	}
}

// Detect lists the user's shells: the one in $SHELL, and each one whose
// rc file exists.
func Detect(home string, getenv func(string) string) []Shell {
	found := map[Shell]bool{}
	if sh, ok := Parse(getenv("SHELL")); ok {
		found[sh] = true
	}
	for _, sh := range shells {
		if _, err := os.Stat(RCFile(sh, home, getenv)); err == nil {
			found[sh] = true
		}
	}
	var out []Shell
	for _, sh := range shells {
		if found[sh] {
			out = append(out, sh)
		}
	}
	return out
}

// SourceHint is the command that loads an rc file in the running shell
// (the same in bash, zsh and fish).
func SourceHint(rc, home string) string {
	return "source " + Tilde(rc, home)
}

// Tilde shortens a path under home to ~/… for messages.
func Tilde(path, home string) string {
	if home != "" {
		if rel, err := filepath.Rel(home, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return "~/" + rel
		}
	}
	return path
}

// Alias is one alias in the block: Name runs the binary with Args.
type Alias struct {
	Name string
	Args []string
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

// Block renders the managed block for sh: each alias runs exe (an
// absolute path, quoted for sh) with its arguments. tools are recorded
// in a comment so that the next setup knows them.
func Block(sh Shell, exe string, tools []string, aliases []Alias) (string, error) {
	var b strings.Builder
	b.WriteString(BeginMarker + "\n")
	b.WriteString("# Written by 'ai-sandbox setup'; it rewrites this block, so edit outside it.\n")
	b.WriteString("# Remove it with 'ai-sandbox setup --remove-aliases'.\n")
	b.WriteString(toolsPrefix + " " + strings.Join(tools, " ") + "\n")
	for _, a := range aliases {
		if !nameRe.MatchString(a.Name) {
			return "", fmt.Errorf("%q cannot be an alias name", a.Name)
		}
		words := append([]string{exe}, a.Args...)
		switch sh {
		case Fish:
			// A function, not fish's alias (which wraps one anyway): the
			// command is fish code, each word quoted for fish.
			q := make([]string, len(words))
			for i, w := range words {
				q[i] = FishQuote(w)
			}
			fmt.Fprintf(&b, "function %s --description %s\n    %s $argv\nend\n",
				a.Name, FishQuote(strings.Join(append([]string{"ai-sandbox"}, a.Args...), " ")), strings.Join(q, " "))
		default:
			// The alias text is read again as shell words when the alias
			// is used: quote each word, then the whole text.
			q := make([]string, len(words))
			for i, w := range words {
				q[i] = ShQuote(w)
			}
			fmt.Fprintf(&b, "alias %s=%s\n", a.Name, ShQuote(strings.Join(q, " ")))
		}
	}
	b.WriteString(EndMarker + "\n")
	return b.String(), nil
}

var shSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// ShQuote quotes s as one word for sh, bash and zsh.
func ShQuote(s string) string {
	if shSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// FishQuote quotes s as one word for fish (in single quotes, only \ and '
// are special).
func FishQuote(s string) string {
	if shSafe.MatchString(s) {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// span is where a block is: byte offsets of its first line and of the
// end of its last line (including the newline).
type span struct{ start, end, line int }

// MarkerError is a begin marker with no end marker (or the reverse).
type MarkerError struct {
	Line int
	Msg  string
}

func (e *MarkerError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// find locates every managed block in content.
func find(content string) ([]span, error) {
	var out []span
	off, line := 0, 0
	open := -1
	openLine := 0
	for off < len(content) {
		line++
		next := strings.IndexByte(content[off:], '\n')
		end := len(content)
		if next >= 0 {
			end = off + next + 1
		}
		text := strings.TrimSpace(content[off:end])
		switch text {
		case BeginMarker:
			if open >= 0 {
				return nil, &MarkerError{Line: line, Msg: fmt.Sprintf("a second %q before the end of the block begun on line %d", BeginMarker, openLine)}
			}
			open, openLine = off, line
		case EndMarker:
			if open < 0 {
				return nil, &MarkerError{Line: line, Msg: fmt.Sprintf("%q without a begin marker", EndMarker)}
			}
			out = append(out, span{start: open, end: end, line: openLine})
			open = -1
		}
		off = end
	}
	if open >= 0 {
		return nil, &MarkerError{Line: openLine, Msg: fmt.Sprintf("%q without an end marker", BeginMarker)}
	}
	return out, nil
}

// Apply puts block into content: in place of the first managed block
// (any later ones are removed), or appended at the end after a blank
// line. It reports whether content changed.
func Apply(content, block string) (string, bool, error) {
	spans, err := find(content)
	if err != nil {
		return "", false, err
	}
	var out string
	if len(spans) == 0 {
		out = content
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if out != "" && !strings.HasSuffix(out, "\n\n") {
			out += "\n"
		}
		out += block
	} else {
		var b strings.Builder
		prev := 0
		for i, s := range spans {
			b.WriteString(content[prev:s.start])
			if i == 0 {
				b.WriteString(block)
			}
			prev = s.end
		}
		b.WriteString(content[prev:])
		out = b.String()
	}
	return out, out != content, nil
}

// Remove takes every managed block out of content, with the blank line
// that Apply put before it. It reports whether content changed.
func Remove(content string) (string, bool, error) {
	spans, err := find(content)
	if err != nil {
		return "", false, err
	}
	if len(spans) == 0 {
		return content, false, nil
	}
	var b strings.Builder
	prev := 0
	for _, s := range spans {
		before := content[prev:s.start]
		if strings.HasSuffix(before, "\n\n") {
			// The blank line Apply put before the block goes with it.
			before = before[:len(before)-1]
		}
		b.WriteString(before)
		prev = s.end
	}
	b.WriteString(content[prev:])
	return b.String(), true, nil
}

// Tools returns the tools recorded in the first managed block.
func Tools(content string) []string {
	spans, err := find(content)
	if err != nil || len(spans) == 0 {
		return nil
	}
	for _, l := range strings.Split(content[spans[0].start:spans[0].end], "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), toolsPrefix); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// Conflict is a user's own definition of a name the block defines.
type Conflict struct {
	Name string
	Kind string // "alias", "function" or "abbreviation"
	Line int
	// AfterBlock is true when the user's definition comes later in the
	// file than the block and so wins over it.
	AfterBlock bool
}

// Conflicts finds, outside the managed block, the user's aliases,
// functions and (fish) abbreviations named like one of names. A block
// not yet written counts as appended at the end.
func Conflicts(sh Shell, content string, names []string) []Conflict {
	spans, _ := find(content)
	blockStart := len(content) + 1
	if len(spans) > 0 {
		blockStart = spans[0].start
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Conflict
	off := 0
	for i, l := range strings.SplitAfter(content, "\n") {
		start := off
		off += len(l)
		inside := false
		for _, s := range spans {
			if start >= s.start && start < s.end {
				inside = true
			}
		}
		if inside {
			continue
		}
		for _, d := range definitions(sh, l) {
			if want[d.name] {
				out = append(out, Conflict{Name: d.name, Kind: d.kind, Line: i + 1, AfterBlock: start > blockStart})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

type definition struct{ name, kind string }

var (
	shAliasRe  = regexp.MustCompile(`^\s*(?:builtin\s+|command\s+)?alias\s+(.*)$`)
	shAliasArg = regexp.MustCompile(`(?:^|\s)(?:-[a-zA-Z]+\s+)*['"]?([A-Za-z0-9_][A-Za-z0-9_.+-]*)=`)
	shFuncRe   = regexp.MustCompile(`^\s*(?:function\s+([A-Za-z0-9_][A-Za-z0-9_.+-]*)|([A-Za-z0-9_][A-Za-z0-9_.+-]*)\s*\(\s*\))`)
	fishAlias  = regexp.MustCompile(`^\s*alias\s+(?:--save\s+|-s\s+)?['"]?([A-Za-z0-9_][A-Za-z0-9_.+-]*)['"]?(?:\s|=)`)
	fishFunc   = regexp.MustCompile(`^\s*function\s+['"]?([A-Za-z0-9_][A-Za-z0-9_.+-]*)`)
	fishAbbr   = regexp.MustCompile(`^\s*abbr\s+(?:(?:-a|--add|-g|--global|-U|--universal)\s+)*['"]?([A-Za-z0-9_][A-Za-z0-9_.+-]*)`)
)

// definitions finds the names a line of an rc file defines. It is a
// heuristic for a warning, not a parser: one alias command may define
// several names; a function is "name()" or "function name".
func definitions(sh Shell, line string) []definition {
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(strings.TrimSpace(line), "#") {
		return nil
	}
	var out []definition
	if sh == Fish {
		if m := fishAlias.FindStringSubmatch(line); m != nil {
			out = append(out, definition{m[1], "alias"})
		}
		if m := fishFunc.FindStringSubmatch(line); m != nil {
			out = append(out, definition{m[1], "function"})
		}
		if m := fishAbbr.FindStringSubmatch(line); m != nil {
			out = append(out, definition{m[1], "abbreviation"})
		}
		return out
	}
	if m := shAliasRe.FindStringSubmatch(line); m != nil {
		for _, a := range shAliasArg.FindAllStringSubmatch(m[1], -1) {
			out = append(out, definition{a[1], "alias"})
		}
	}
	if m := shFuncRe.FindStringSubmatch(line); m != nil {
		name := m[1]
		if name == "" {
			name = m[2]
		}
		out = append(out, definition{name, "function"})
	}
	return out
}

// ReadFile reads an rc file; a missing one is empty.
func ReadFile(path string) (string, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(data), true, nil
}

// WriteFile replaces an rc file's content atomically. A symlink (as made
// by dotfile managers) is followed, not replaced; the file's mode is
// kept, and a new file gets 0644.
func WriteFile(path, content string) error {
	target := path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		target = r
	} else if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink to a missing file: %w", path, err)
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(target); err == nil {
		mode = st.Mode().Perm()
	}
	return config.WriteFileAtomic(target, []byte(content), mode)
}

// HasBlock reports whether content holds a managed block.
func HasBlock(content string) (bool, error) {
	spans, err := find(content)
	return len(spans) > 0, err
}

// Exe returns the ai-sandbox executable that the block's aliases call
// ("" when there is no block, or it cannot be read back).
func Exe(sh Shell, content string) string {
	spans, err := find(content)
	if err != nil || len(spans) == 0 {
		return ""
	}
	lines := strings.Split(content[spans[0].start:spans[0].end], "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if sh == Fish {
			if strings.HasPrefix(l, "function ") && i+1 < len(lines) {
				if w := firstWord(strings.TrimSpace(lines[i+1]), true); w != "" {
					return w
				}
			}
			continue
		}
		if rest, ok := strings.CutPrefix(l, "alias "); ok {
			_, text, ok := strings.Cut(rest, "=")
			if !ok {
				continue
			}
			if inner := firstWord(text, false); inner != "" {
				if w := firstWord(inner, false); w != "" {
					return w
				}
			}
		}
	}
	return ""
}

// firstWord reads the first shell word of s: single quotes (fish: with
// \' and \\ inside), double quotes, backslashes.
func firstWord(s string, fish bool) string {
	var b strings.Builder
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	started := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if started {
				return b.String()
			}
			i++
			continue
		case c == '\'':
			started = true
			i++
			for i < len(s) && s[i] != '\'' {
				if fish && s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\') {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			continue
		case c == '"':
			started = true
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			continue
		case c == '\\' && i+1 < len(s):
			i++
		}
		started = true
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
