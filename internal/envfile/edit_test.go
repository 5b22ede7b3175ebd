package envfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	tests := []struct {
		name   string
		before *string // nil: no file
		values map[string]string
		want   string
	}{
		{
			name:   "missing file, no values: header only",
			values: nil,
			want:   Header,
		},
		{
			name:   "missing file, values appended sorted",
			values: map[string]string{"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"},
			want:   Header + "ANTHROPIC_API_KEY=sk-a\nOPENAI_API_KEY=sk-o\n",
		},
		{
			name:   "comments, blank lines, order and other keys kept",
			before: ptr("# my keys\n\nB=2\n# the anthropic one\nA=old\n  # indented comment\nC=3\n"),
			values: map[string]string{"A": "new"},
			want:   "# my keys\n\nB=2\n# the anthropic one\nA=new\n  # indented comment\nC=3\n",
		},
		{
			name:   "new key appended after a file without a final newline",
			before: ptr("A=1"),
			values: map[string]string{"B": "2"},
			want:   "A=1\nB=2\n",
		},
		{
			name:   "export prefix and indentation kept",
			before: ptr("  export A='x'\n"),
			values: map[string]string{"A": "y"},
			want:   "  export A=y\n",
		},
		{
			name:   "duplicates: first line replaced, later ones dropped",
			before: ptr("A=1\nB=2\nA=3\n"),
			values: map[string]string{"A": "9"},
			want:   "A=9\nB=2\n",
		},
		{
			name:   "duplicates of keys not given are left alone",
			before: ptr("A=1\nA=3\n"),
			values: map[string]string{"B": "2"},
			want:   "A=1\nA=3\nB=2\n",
		},
		{
			name:   "CRLF line endings kept",
			before: ptr("# c\r\nA=1\r\nB=2\r\n"),
			values: map[string]string{"A": "x"},
			want:   "# c\r\nA=x\r\nB=2\r\n",
		},
		{
			name:   "values that need quotes are quoted; inner quotes and $ stay plain",
			before: ptr("A=1\n"),
			values: map[string]string{"A": ` lead`, "B": "x\"y$z`\\", "C": "two\nlines", "D": `'q'`, "E": ""},
			want:   "A=\" lead\"\nB=x\"y$z`\\\nC=\"two\\nlines\"\nD=\"'q'\"\nE=\n",
		},
		{
			name:   "hash and equals in a plain value stay plain",
			before: ptr(""),
			values: map[string]string{"A": "abc#def=ghi"},
			want:   "A=abc#def=ghi\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "env")
			if tt.before != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(*tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := Set(path, tt.values); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file:\n%q\nwant:\n%q", got, tt.want)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode %o, want 600", st.Mode().Perm())
			}
			// Every value given reads back exactly.
			f, err := Load(path)
			if err != nil {
				t.Fatalf("Load after Set: %v", err)
			}
			for k, v := range tt.values {
				if got, ok := f.Lookup(k); !ok || got != v {
					t.Errorf("Lookup(%s) = %q, %v; want %q", k, got, ok, v)
				}
			}
		})
	}
}

func TestSetRoundTripsAwkwardValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	values := []string{"", " ", "a b", "\"", "'", "'a'", "\"a\"", "a\\b", "$HOME", "`x`", "a\tb", "tab\t",
		"line\nbreak", "trail ", "#hash", "x=y", "ünïcödé", "cr\rin"}
	for i, v := range values {
		key := "K" + strings.Repeat("X", i)
		if err := Set(path, map[string]string{key: v}); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
		f, err := Load(path)
		if err != nil {
			t.Fatalf("Load after %q: %v", v, err)
		}
		if got, _ := f.Lookup(key); got != v {
			t.Errorf("value %q read back as %q", v, got)
		}
	}
}

func TestSetRefusesUnparsableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	before := "A=1\nthis is not an assignment\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Set(path, map[string]string{"A": "2"})
	if err == nil || !strings.Contains(err.Error(), ":2: expected KEY=value") {
		t.Fatalf("err = %v, want a line error", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != before {
		t.Errorf("file changed to %q", got)
	}
}

func TestSetRefusesBadKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	for _, k := range []string{"", "1A", "A-B", "A B"} {
		if err := Set(path, map[string]string{k: "v"}); err == nil {
			t.Errorf("Set with key %q: no error", k)
		}
	}
	if err := Set(path, map[string]string{"A": "x\x00y"}); err == nil {
		t.Error("Set with a NUL byte: no error")
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a refused Set created the file")
	}
}

func TestSetNoChangeKeepsFileButTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	before := "# keep\nA=1\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	st0, _ := os.Stat(path)
	if err := Set(path, map[string]string{"A": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := Set(path, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != before {
		t.Errorf("file changed to %q", got)
	}
	st, _ := os.Stat(path)
	if !os.SameFile(st0, st) {
		t.Error("an unchanged file was replaced")
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", st.Mode().Perm())
	}
}

func TestSetFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "secrets", "env")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "env")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := Set(link, map[string]string{"B": "2"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	got, _ := os.ReadFile(real)
	if string(got) != "A=1\nB=2\n" {
		t.Errorf("target = %q", got)
	}
}

func ptr(s string) *string { return &s }
