package workspace_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// realTempDir is t.TempDir() with symlinks resolved, so that expected
// canonical paths can be written down.
func realTempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mkdirs(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpand(t *testing.T) {
	const home, cwd = "/home/u", "/home/u/src"
	tests := []struct {
		in, want string
		err      string
	}{
		{in: "~", want: "/home/u"},
		{in: "~/", want: "/home/u"},
		{in: "~/projects/app", want: "/home/u/projects/app"},
		{in: "app", want: "/home/u/src/app"},
		{in: "./app/", want: "/home/u/src/app"},
		{in: "../other", want: "/home/u/other"},
		{in: ".", want: "/home/u/src"},
		{in: "/a/./b/../c//d/", want: "/a/c/d"},
		{in: "my app, v2", want: "/home/u/src/my app, v2"},
		{in: "~bob/app", err: "~user paths are not supported"},
		{in: "", err: "empty path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := workspace.Expand(tt.in, home, cwd)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Expand(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	root := realTempDir(t)
	home := filepath.Join(root, "home")
	proj := filepath.Join(home, "projects", "app")
	mkdirs(t, proj, filepath.Join(home, "cwd"), filepath.Join(home, "app"))
	if err := os.Symlink(proj, filepath.Join(home, "link")); err != nil {
		t.Fatal(err)
	}
	// A symlink to a symlink, relative.
	if err := os.Symlink("link", filepath.Join(home, "link2")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "file.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, "gone"), filepath.Join(home, "dangling")); err != nil {
		t.Fatal(err)
	}
	cwd := filepath.Join(home, "cwd")

	tests := []struct {
		in, want string
		err      string
	}{
		{in: proj, want: proj},
		{in: "~/projects/app", want: proj},
		{in: "../projects/app", want: proj},
		{in: "~/link", want: proj},
		{in: "~/link2/", want: proj},
		{in: "~/link/../app", want: filepath.Join(home, "app")}, // cleaned lexically first, as a shell's cd does
		{in: "~/missing", err: filepath.Join(home, "missing") + " does not exist"},
		{in: "~/dangling", err: "does not exist"},
		{in: "~/file.txt", err: filepath.Join(home, "file.txt") + " is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := workspace.Canonical(tt.in, home, cwd)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Canonical(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		path, dir string
		want      bool
	}{
		{"/home/u/app/src", "/home/u/app", true},
		{"/home/u/app", "/home/u/app", false}, // strictly inside
		{"/home/u/app2", "/home/u/app", false},
		{"/home/u/app-old/x", "/home/u/app", false},
		{"/home/u/ap", "/home/u/app", false},
		{"/home/u", "/home/u/app", false},
		{"/anything", "/", true},
		{"/", "/", false},
		{"/home/u/app/", "/home/u/app/", false},
		{"/home/u/app/x/", "/home/u/app/", true},
	}
	for _, tt := range tests {
		if got := workspace.Within(tt.path, tt.dir); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	list := []string{"/home/u/app", "/home/u/work", "/home/u/work/client/deep", "/home/u/work/client", "/srv/x/"}
	tests := []struct {
		dir, want string
	}{
		{"/home/u/app", "/home/u/app"},
		{"/home/u/app/src/pkg", "/home/u/app"},
		{"/home/u/app2", ""},
		{"/home/u/app2/src", ""},
		{"/home/u", ""},
		{"/home/u/work/client/deep/x", "/home/u/work/client/deep"}, // deepest wins, whatever the order
		{"/home/u/work/client/other", "/home/u/work/client"},
		{"/home/u/work/clientele", "/home/u/work"},
		{"/srv/x/y", "/srv/x"}, // entries are cleaned
	}
	for _, tt := range tests {
		got, ok := workspace.Match(list, tt.dir)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", tt.dir, got, ok, tt.want)
		}
	}
	if _, ok := workspace.Match(nil, "/home/u/app"); ok {
		t.Error("an empty whitelist matched")
	}
}

// The credential folders the issue names, relative to the home.
var mustRefuse = []string{".ssh", ".gnupg", ".aws", ".config/gh", ".docker", ".kube", ".ai-sandbox",
	".azure", ".config/gcloud", ".password-store", ".claude", ".codex", ".gemini", ".config/opencode", ".local/share/opencode"}

func TestCheckRefusals(t *testing.T) {
	root := realTempDir(t)
	home := filepath.Join(root, "home", "u")
	state := filepath.Join(root, "state", "ai-sandbox") // AI_SANDBOX_HOME outside the home
	mkdirs(t, home, state)

	type tc struct {
		path   string
		reason string
	}
	tests := []tc{
		{"/", "root of the file system"},
		{home, "your home folder"},
		{home + "/", "your home folder"},
		{filepath.Dir(home), "contains your home folder"},
		{root, "contains your home folder"},
		{state, "state folder"},
		{filepath.Join(state, "tools", "claude"), "state folder"},
		{filepath.Dir(state), "state folder"},
		{"/etc", "system folder"},
		{"/etc/ssh", "system folder"},
		{"/proc/self", "system folder"},
		{"/sys", "system folder"},
		{"/dev", "system folder"},
		{"/boot", "system folder"},
		{"/run", "system folder"},
		{"/var/run/docker", "system folder"},
		{"/var/lib/docker/volumes", "system folder"},
		{"/var/lib", "contains the system folder"},
	}
	for _, d := range mustRefuse {
		tests = append(tests,
			tc{filepath.Join(home, d), "~/" + d},
			tc{filepath.Join(home, d, "sub", "dir"), "~/" + d})
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := workspace.Check(tt.path, home, state)
			var re *workspace.RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Check(%q) = %v, want a *workspace.RefusedError", tt.path, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "refusing ") || !strings.Contains(msg, tt.reason) {
				t.Errorf("message %q, want it to say %q", msg, tt.reason)
			}
			if strings.HasSuffix(msg, ".") || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("message %q: lower case start, no trailing period", msg)
			}
		})
	}
}

func TestCheckAllows(t *testing.T) {
	root := realTempDir(t)
	home := filepath.Join(root, "home", "u")
	state := filepath.Join(home, ".ai-sandbox")
	ok := []string{
		filepath.Join(home, "projects", "app"),
		filepath.Join(home, ".sshfoo"),                 // not ~/.ssh: whole segments
		filepath.Join(home, "code", ".ssh-notes"),      // a .ssh-like name deeper down
		filepath.Join(home, "src", "dotfiles", ".ssh"), // only ~/.ssh is a credential folder
		filepath.Join(home, ".config", "nvim"),
		filepath.Join(home, ".ai-sandbox-old"),
		filepath.Join(home, "my app"),
		filepath.Join(home, `it's "quoted"`),
		filepath.Join(home, "a,b,c"),
		filepath.Join(home, "proj=1;$HOME&`x`"),
		filepath.Join(home, "café", "日本語", "ünïcødé"),
		"/srv/projects/app",
		"/etcetera",
		"/opt/work",
	}
	for _, p := range ok {
		if err := workspace.Check(p, home, state); err != nil {
			t.Errorf("Check(%q) = %v, want nil", p, err)
		}
	}
}

// A symlinked home is compared in its canonical form: the real home and
// the real credential folders are refused too.
func TestCheckSymlinkedHome(t *testing.T) {
	root := realTempDir(t)
	realHome := filepath.Join(root, "data", "u")
	mkdirs(t, filepath.Join(realHome, ".ssh"))
	link := filepath.Join(root, "home-link")
	if err := os.Symlink(realHome, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{realHome, filepath.Join(realHome, ".ssh"), filepath.Dir(realHome)} {
		if err := workspace.Check(p, link, ""); err == nil {
			t.Errorf("Check(%q) with home %s passed", p, link)
		}
	}
}

// A symlink inside a project that points into ~/.ssh is resolved by
// Canonical and then refused by Check: no escape through links.
func TestSymlinkIntoCredentialsIsRefused(t *testing.T) {
	root := realTempDir(t)
	home := filepath.Join(root, "home")
	mkdirs(t, filepath.Join(home, ".ssh", "keys"), filepath.Join(home, "proj"))
	if err := os.Symlink(filepath.Join(home, ".ssh", "keys"), filepath.Join(home, "proj", "innocent")); err != nil {
		t.Fatal(err)
	}
	canon, err := workspace.Canonical("~/proj/innocent", home, home)
	if err != nil {
		t.Fatal(err)
	}
	if canon != filepath.Join(home, ".ssh", "keys") {
		t.Fatalf("Canonical = %q", canon)
	}
	if err := workspace.Check(canon, home, ""); err == nil || !strings.Contains(err.Error(), "~/.ssh") {
		t.Errorf("Check(%q) = %v, want a refusal naming ~/.ssh", canon, err)
	}
}

func TestOddButValidNamesSurviveCanonical(t *testing.T) {
	root := realTempDir(t)
	home := filepath.Join(root, "home")
	names := []string{"my app", `it's "quoted"`, "a,b,c", "café ☕", "日本語", " leading and trailing ", "back\\slash", "$HOME", "*?[glob]"}
	for _, n := range names {
		want := filepath.Join(home, n)
		mkdirs(t, want)
		got, err := workspace.Canonical(filepath.Join("~", n), home, home)
		if err != nil {
			t.Errorf("Canonical(%q): %v", n, err)
			continue
		}
		if got != want {
			t.Errorf("Canonical(%q) = %q, want %q (never truncated or split)", n, got, want)
		}
		if err := workspace.Check(got, home, filepath.Join(home, ".ai-sandbox")); err != nil {
			t.Errorf("Check(%q): %v", got, err)
		}
	}
}

func TestControlCharactersAreRefused(t *testing.T) {
	root := realTempDir(t)
	home := filepath.Join(root, "home")
	for _, n := range []string{"new\nline", "tab\there", "cr\rhere", "bell\x07", "del\x7f"} {
		dir := filepath.Join(home, n)
		mkdirs(t, dir) // it exists: the refusal is about the name
		_, err := workspace.Canonical(dir, home, home)
		var re *workspace.RefusedError
		if !errors.As(err, &re) {
			t.Errorf("Canonical(%q) = %v, want a *workspace.RefusedError", n, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "control character") {
			t.Errorf("message %q does not name the problem", msg)
		}
		if strings.ContainsAny(msg, "\n\t\r\x07\x7f") {
			t.Errorf("message %q must show the path escaped, on one line", msg)
		}
		if err := workspace.Check(dir, home, ""); err == nil {
			t.Errorf("Check(%q) passed", n)
		}
	}
}
