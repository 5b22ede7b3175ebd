package envfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []envfile.Entry
	}{
		{"empty", "", nil},
		{"comments and blanks", "# API keys\n\n   \n\t# indented comment\nA=1\n", []envfile.Entry{{Key: "A", Value: "1", Line: 5}}},
		{"export prefix", "export OPENAI_API_KEY=sk-1\nexport   B=2\n", []envfile.Entry{{Key: "OPENAI_API_KEY", Value: "sk-1", Line: 1}, {Key: "B", Value: "2", Line: 2}}},
		{"spaces around", "  A = spaced value  \n", []envfile.Entry{{Key: "A", Value: "spaced value", Line: 1}}},
		{"empty value", "EMPTY=\nQ=\"\"\nS=''\n", []envfile.Entry{{Key: "EMPTY", Value: "", Line: 1}, {Key: "Q", Value: "", Line: 2}, {Key: "S", Value: "", Line: 3}}},
		{"equals in value", "URL=https://x/?a=b&c=d\n", []envfile.Entry{{Key: "URL", Value: "https://x/?a=b&c=d", Line: 1}}},
		{"unquoted hash is literal", "A=abc#def # not a comment\n", []envfile.Entry{{Key: "A", Value: "abc#def # not a comment", Line: 1}}},
		{"single quotes are literal", `A='$HOME \n "x"'` + "\n", []envfile.Entry{{Key: "A", Value: `$HOME \n "x"`, Line: 1}}},
		{"double quotes with escapes", `A="line1\nline2\ttab \"q\" back\\slash \$HOME \` + "`" + `cmd\` + "`" + ` \x"` + "\n",
			[]envfile.Entry{{Key: "A", Value: "line1\nline2\ttab \"q\" back\\slash $HOME `cmd` \\x", Line: 1}}},
		{"double quotes then comment", `A="v" # note` + "\n", []envfile.Entry{{Key: "A", Value: "v", Line: 1}}},
		{"CRLF line endings", "# c\r\nA=1\r\nB=\"two\"\r\n\r\nC='3'\r\n", []envfile.Entry{{Key: "A", Value: "1", Line: 2}, {Key: "B", Value: "two", Line: 3}, {Key: "C", Value: "3", Line: 5}}},
		{"no final newline", "A=1", []envfile.Entry{{Key: "A", Value: "1", Line: 1}}},
		{"non-ASCII value", "GREETING=héllo wörld ☕\n", []envfile.Entry{{Key: "GREETING", Value: "héllo wörld ☕", Line: 1}}},
		{"underscore names", "_X=1\nA_1_B=2\n", []envfile.Entry{{Key: "_X", Value: "1", Line: 1}, {Key: "A_1_B", Value: "2", Line: 2}}},
		{"duplicates are all kept in order", "A=1\nB=2\nA=3\n", []envfile.Entry{{Key: "A", Value: "1", Line: 1}, {Key: "B", Value: "2", Line: 2}, {Key: "A", Value: "3", Line: 3}}},
		{"a bare name comes from the environment", "A=1\nOPENAI_API_KEY\nexport B\n", []envfile.Entry{{Key: "A", Value: "1", Line: 1}, {Key: "OPENAI_API_KEY", Line: 2, Bare: true}, {Key: "B", Line: 3, Bare: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := envfile.Parse("env", []byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Entries); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		line  int
		msg   string
	}{
		{"no equals sign", "A=1\n# ok\nthis is not a pair\n", 3, "expected KEY=value"},
		{"bad name", "A=1\nMY-KEY=2\n", 2, `"MY-KEY" is not a valid variable name`},
		{"name starts with a digit", "1A=1\n", 1, "not a valid variable name"},
		{"empty name", "=value\n", 1, "not a valid variable name"},
		{"unterminated double quote", "A=1\nB=2\nC=\"abc\n", 3, "unterminated double-quoted value"},
		{"trailing backslash in quotes", `A="abc\`, 1, "unterminated double-quoted value"},
		{"unterminated single quote", "\n\nA='abc\n", 3, "unterminated single-quoted value"},
		{"single quote inside single quotes", "A='it's'\n", 1, "single quote inside"},
		{"text after closing quote", "A=\"abc\"def\n", 1, "unexpected text after the closing quote"},
		{"line counted with CRLF", "A=1\r\nB=2\r\nbroken line\r\n", 3, "expected KEY=value"},
		{"export alone", "export\n", 1, "expected KEY=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := envfile.Parse("/home/u/.ai-sandbox/env", []byte(tt.input))
			var le *envfile.LineError
			if !errors.As(err, &le) {
				t.Fatalf("error = %v, want a *envfile.LineError", err)
			}
			if le.Line != tt.line || le.Path != "/home/u/.ai-sandbox/env" {
				t.Errorf("at %s:%d, want line %d", le.Path, le.Line, tt.line)
			}
			if !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("Msg = %q, want %q", le.Msg, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "/home/u/.ai-sandbox/env:") {
				t.Errorf("Error() = %q, want path:line first", err)
			}
		})
	}
}

// An error about a malformed value never repeats the value: it is a secret.
func TestParseErrorsNeverShowValues(t *testing.T) {
	inputs := []string{
		"API_KEY=\"sk-secretvalue\"trailing-secretvalue\n",
		"API_KEY=\"sk-secretvalue\n",
		"API_KEY='sk-secretvalue\n",
		"API_KEY='sk-'secretvalue'\n",
		"sk-secretvalue\n",
	}
	for _, in := range inputs {
		_, err := envfile.Parse("env", []byte(in))
		if err == nil {
			t.Errorf("Parse(%q) accepted a malformed line", in)
			continue
		}
		if strings.Contains(err.Error(), "secretvalue") {
			t.Errorf("error for %q shows the value: %v", in, err)
		}
	}
}

func TestLookupLastWinsAndKeysOrder(t *testing.T) {
	f, err := envfile.Parse("env", []byte("B=1\nA=2\nB=3\nC=4\nA=5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"B", "A", "C"}, f.Keys()); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	for key, want := range map[string]string{"A": "5", "B": "3", "C": "4"} {
		if got, ok := f.Lookup(key); !ok || got != want {
			t.Errorf("Lookup(%s) = %q, %v; want %q", key, got, ok, want)
		}
	}
	if _, ok := f.Lookup("D"); ok {
		t.Error("Lookup of a missing key succeeded")
	}
	bare, _ := envfile.Parse("env", []byte("K=file\nK\n"))
	if _, ok := bare.Lookup("K"); ok {
		t.Error("a later bare K must leave K to the environment")
	}
	empty, _ := envfile.Parse("env", nil)
	if empty.Keys() != nil {
		t.Errorf("Keys of an empty file = %#v", empty.Keys())
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	f, err := envfile.Load(filepath.Join(dir, "missing"))
	if err != nil || len(f.Entries) != 0 {
		t.Fatalf("a missing file must be empty: %+v, %v", f, err)
	}
	path := filepath.Join(dir, "env")
	if err := os.WriteFile(path, []byte("X=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err = envfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Lookup("X"); v != "1" {
		t.Errorf("X = %q", v)
	}
	if err := os.WriteFile(path, []byte("X=1\nbad line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = envfile.Load(path)
	var le *envfile.LineError
	if !errors.As(err, &le) || le.Path != path || le.Line != 2 {
		t.Errorf("Load of a bad file: %v", err)
	}
}
