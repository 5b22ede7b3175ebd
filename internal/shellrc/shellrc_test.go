package shellrc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testAliases = []Alias{
	{Name: "claude", Args: []string{"run", "claude"}},
	{Name: "opencode", Args: []string{"run", "opencode"}},
	{Name: "ai-run", Args: []string{"run"}},
}

func mustBlock(t *testing.T, sh Shell, exe string) string {
	t.Helper()
	b, err := Block(sh, exe, []string{"claude", "opencode"}, testAliases)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlockPlainPath(t *testing.T) {
	got := mustBlock(t, Bash, "/usr/local/bin/ai-sandbox")
	want := BeginMarker + `
# Written by 'ai-sandbox setup'; it rewrites this block, so edit outside it.
# Remove it with 'ai-sandbox setup --remove-aliases'.
# tools: claude opencode
alias claude='/usr/local/bin/ai-sandbox run claude'
alias opencode='/usr/local/bin/ai-sandbox run opencode'
alias ai-run='/usr/local/bin/ai-sandbox run'
` + EndMarker + "\n"
	if got != want {
		t.Errorf("bash block:\n%s\nwant:\n%s", got, want)
	}
	fish := mustBlock(t, Fish, "/usr/local/bin/ai-sandbox")
	for _, line := range []string{
		"function claude --description 'ai-sandbox run claude'\n    /usr/local/bin/ai-sandbox run claude $argv\nend\n",
		"function ai-run --description 'ai-sandbox run'\n    /usr/local/bin/ai-sandbox run $argv\nend\n",
	} {
		if !strings.Contains(fish, line) {
			t.Errorf("fish block lacks %q:\n%s", line, fish)
		}
	}
}

func TestBlockQuotesAwkwardPaths(t *testing.T) {
	exe := `/opt/my tools/it's "here"/ai-sandbox`
	bash := mustBlock(t, Bash, exe)
	// The word is quoted, then the alias text as a whole.
	want := `alias claude=''\''/opt/my tools/it'\''\'\'''\''s "here"/ai-sandbox'\'' run claude'`
	if !strings.Contains(bash, want+"\n") {
		t.Errorf("bash block:\n%s\nlacks %s", bash, want)
	}
	fish := mustBlock(t, Fish, exe)
	if want := `    '/opt/my tools/it\'s "here"/ai-sandbox' run claude $argv`; !strings.Contains(fish, want+"\n") {
		t.Errorf("fish block:\n%s\nlacks %s", fish, want)
	}
	if _, err := Block(Bash, exe, nil, []Alias{{Name: "bad name", Args: []string{"run"}}}); err == nil {
		t.Error("an alias name with a space was accepted")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/x":  "/usr/bin/x",
		"a b":         "'a b'",
		"it's":        `'it'\''s'`,
		"":            "''",
		"$HOME":       "'$HOME'",
		`back\slash`:  `'back\slash'`,
		"semi;colon":  "'semi;colon'",
		"tilde~":      "'tilde~'",
		"new\nline":   "'new\nline'",
		"star*":       "'star*'",
		"double\"quo": `'double"quo'`,
	} {
		if got := ShQuote(in); got != want {
			t.Errorf("ShQuote(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/usr/bin/x": "/usr/bin/x",
		"a b":        "'a b'",
		"it's":       `'it\'s'`,
		`back\slash`: `'back\\slash'`,
		"$x":         "'$x'",
	} {
		if got := FishQuote(in); got != want {
			t.Errorf("FishQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestApplyReplaceRemove(t *testing.T) {
	block1 := mustBlock(t, Bash, "/bin/a")
	block2, _ := Block(Bash, "/bin/b", []string{"codex"}, []Alias{{Name: "codex", Args: []string{"run", "codex"}}})
	user := "# my bashrc\nexport EDITOR=vim\n"

	// Written once, after a blank line.
	once, changed, err := Apply(user, block1)
	if err != nil || !changed {
		t.Fatalf("Apply: %v, changed=%v", err, changed)
	}
	if once != user+"\n"+block1 {
		t.Errorf("first write:\n%q", once)
	}
	// The same block again changes nothing.
	again, changed, err := Apply(once, block1)
	if err != nil || changed || again != once {
		t.Errorf("second Apply changed the file: %v %v\n%q", err, changed, again)
	}
	// User lines added after the block stay where they are; the block is
	// replaced in place, never duplicated.
	withTail := once + "alias ll='ls -l'\n"
	replaced, changed, err := Apply(withTail, block2)
	if err != nil || !changed {
		t.Fatalf("replace: %v %v", err, changed)
	}
	if want := user + "\n" + block2 + "alias ll='ls -l'\n"; replaced != want {
		t.Errorf("replaced:\n%q\nwant\n%q", replaced, want)
	}
	if n := strings.Count(replaced, BeginMarker); n != 1 {
		t.Errorf("%d blocks", n)
	}
	if got := Tools(replaced); strings.Join(got, ",") != "codex" {
		t.Errorf("Tools = %v", got)
	}
	// Removed, with the blank line put before it.
	removed, changed, err := Remove(replaced)
	if err != nil || !changed {
		t.Fatalf("Remove: %v %v", err, changed)
	}
	if want := user + "alias ll='ls -l'\n"; removed != want {
		t.Errorf("removed:\n%q\nwant\n%q", removed, want)
	}
	if _, changed, _ := Remove(removed); changed {
		t.Error("Remove without a block changed the file")
	}
	// Round trips: the file comes back, give or take a final newline
	// added or a trailing blank line taken.
	for start, want := range map[string]string{"": "", "x": "x\n", "\n": "\n", "a\n": "a\n", "a\n\n": "a\n"} {
		w, _, _ := Apply(start, block1)
		if r, _, _ := Remove(w); r != want {
			t.Errorf("Apply+Remove of %q gave %q, want %q", start, r, want)
		}
	}
}

func TestApplyMergesDuplicateBlocks(t *testing.T) {
	b1 := mustBlock(t, Bash, "/bin/a")
	b2, _ := Block(Bash, "/bin/b", nil, nil)
	content := "a\n" + b1 + "b\n" + b1 + "c\n"
	got, _, err := Apply(content, b2)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\n" + b2 + "b\nc\n"; got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestUnbalancedMarkersAreRefused(t *testing.T) {
	for name, content := range map[string]string{
		"begin only":   "x\n" + BeginMarker + "\nalias a=b\n",
		"end only":     "x\n" + EndMarker + "\n",
		"nested begin": BeginMarker + "\n" + BeginMarker + "\n" + EndMarker + "\n",
	} {
		if _, _, err := Apply(content, "b\n"); err == nil {
			t.Errorf("%s: Apply accepted it", name)
		}
		if _, _, err := Remove(content); err == nil {
			t.Errorf("%s: Remove accepted it", name)
		}
	}
	_, _, err := Apply("x\n"+BeginMarker+"\n", "b\n")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error does not name the line: %v", err)
	}
}

func TestConflicts(t *testing.T) {
	bashrc := strings.Join([]string{
		"alias ll='ls -l' claude='claude --verbose'", // 1
		"# alias opencode=nope",                      // 2: a comment
		"opencode() { command opencode \"$@\"; }",    // 3
		mustBlock(t, Bash, "/bin/a") + // 4..11: ours
			"function codex {", // 12, after the block
		"}",
		"alias -g gemini=x",
		"",
	}, "\n")
	got := Conflicts(Bash, bashrc, []string{"claude", "opencode", "codex", "ai-run", "gemini", "aider"})
	type c struct {
		name, kind string
		after      bool
	}
	var short []c
	for _, x := range got {
		short = append(short, c{x.Name, x.Kind, x.AfterBlock})
	}
	want := []c{{"claude", "alias", false}, {"opencode", "function", false}, {"codex", "function", true}, {"gemini", "alias", true}}
	if len(short) != len(want) {
		t.Fatalf("conflicts %+v, want %+v", got, want)
	}
	for i := range want {
		if short[i] != want[i] {
			t.Errorf("conflict %d = %+v, want %+v", i, short[i], want[i])
		}
	}
	if got[0].Line != 1 || got[1].Line != 3 {
		t.Errorf("lines %d, %d", got[0].Line, got[1].Line)
	}

	fish := "alias claude 'claude --x'\nfunction opencode\nend\nabbr -a codex 'codex --y'\nalias --save aider=foo\n"
	var names []string
	for _, x := range Conflicts(Fish, fish, []string{"claude", "opencode", "codex", "aider"}) {
		names = append(names, x.Kind+":"+x.Name)
	}
	if strings.Join(names, ",") != "alias:claude,function:opencode,abbreviation:codex,alias:aider" {
		t.Errorf("fish conflicts %v", names)
	}
}

func TestRCFileAndDetect(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := RCFile(Zsh, home, getenv); got != filepath.Join(home, ".zshrc") {
		t.Error(got)
	}
	env["ZDOTDIR"] = "/z"
	env["XDG_CONFIG_HOME"] = "/cfg"
	if RCFile(Zsh, home, getenv) != "/z/.zshrc" || RCFile(Fish, home, getenv) != "/cfg/fish/config.fish" || RCFile(Bash, home, getenv) != filepath.Join(home, ".bashrc") {
		t.Error("ZDOTDIR / XDG_CONFIG_HOME not honoured")
	}
	env = map[string]string{"SHELL": "/usr/bin/zsh"}
	if got := Detect(home, getenv); len(got) != 1 || got[0] != Zsh {
		t.Errorf("Detect = %v", got)
	}
	os.MkdirAll(filepath.Join(home, ".config", "fish"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "fish", "config.fish"), nil, 0o644)
	os.WriteFile(filepath.Join(home, ".bashrc"), nil, 0o644)
	if got := Detect(home, getenv); len(got) != 3 {
		t.Errorf("Detect = %v", got)
	}
	if sh, ok := Parse("-zsh"); !ok || sh != Zsh {
		t.Error("login shell name")
	}
	if _, ok := Parse("/bin/tcsh"); ok {
		t.Error("tcsh accepted")
	}
}

func TestWriteFileKeepsModeAndSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "bashrc")
	os.MkdirAll(filepath.Dir(real), 0o755)
	if err := os.WriteFile(real, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".bashrc")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, "new\n"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink replaced")
	}
	st, _ := os.Stat(real)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %o", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(real); string(b) != "new\n" {
		t.Errorf("content %q", b)
	}
	fresh := filepath.Join(dir, "x", "config.fish")
	if err := WriteFile(fresh, "a\n"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %o", st.Mode().Perm())
	}
}
