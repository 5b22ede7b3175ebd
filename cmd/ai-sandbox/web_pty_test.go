package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// webEnv is a HOME with a whitelisted project and a fake docker that
// records its argv (docker.log), the server password it gets in its
// environment (docker.env), and lists two networks.
func webEnv(t *testing.T) (home, proj string, env []string) {
	t.Helper()
	home = t.TempDir()
	bin := filepath.Join(home, "bin")
	proj = filepath.Join(home, "proj")
	for _, d := range []string{bin, proj, filepath.Join(home, ".ai-sandbox")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake := `#!/bin/sh
echo "$*" >> "$HOME/docker.log"
case "$1" in
exec)
	case "$*" in *" cat /proc/net/tcp"*) exit 0;; esac
	echo "pw=$OPENCODE_SERVER_PASSWORD" >> "$HOME/docker.env"
	echo session-ran;;
network)
	if [ "$2" = ls ]; then printf 'bridge\t\napp_default\tapp\nmynet\t\n'; else printf 'app_default\tapp-web-1 app-db-1 \nmynet\t\n'; fi;;
esac
exit 0
`
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"version": 2, "workspaces": [` + strconv.Quote(proj) + `]}`
	if err := os.WriteFile(filepath.Join(home, ".ai-sandbox", "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = []string{"HOME=" + home, "PATH=" + bin + ":" + os.Getenv("PATH"), "TERM=xterm", "NO_COLOR=1"}
	return home, proj, env
}

func freeTCPPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWebPasswordGenerated: on a terminal with no password, the menu's
// first answer generates one of 24+ characters, shows it once, and it
// reaches the session by name only.
func TestWebPasswordGenerated(t *testing.T) {
	home, proj, env := webEnv(t)
	port := freeTCPPort(t)
	term := startTerminal(t, proj, env, "run", "opencode", "web", "--port", port)
	term.expect(`opencode web has no password: anyone who can reach http://127\.0\.0\.1:` + port + `/ can use it`)
	term.expect(`Choose 1-3 \[1\]: `)
	term.send("1\r")
	term.expect(`session-ran`)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, term.Output())
	}
	m := regexp.MustCompile(`the password of http://127\.0\.0\.1:` + port + `/ \(user opencode\): ([A-Za-z0-9]+)`).FindStringSubmatch(term.Output())
	if m == nil || len(m[1]) < 24 {
		t.Fatalf("no password of 24+ characters shown:\n%s", term.Output())
	}
	if got := readFile(t, filepath.Join(home, "docker.env")); !strings.Contains(got, "pw="+m[1]+"\n") {
		t.Errorf("the session did not get the password: %q", got)
	}
	if log := readFile(t, filepath.Join(home, "docker.log")); strings.Contains(log, m[1]) {
		t.Errorf("the password is on a docker argv:\n%s", log)
	}
	if strings.Count(term.Output(), m[1]) != 1 {
		t.Errorf("the password is shown more than once:\n%s", term.Output())
	}
	assertNotInState(t, home, m[1])
}

// TestWebPasswordEntered: the second answer reads a password without
// echoing it.
func TestWebPasswordEntered(t *testing.T) {
	home, proj, env := webEnv(t)
	port := freeTCPPort(t)
	term := startTerminal(t, proj, env, "run", "opencode", "web", "--port", port)
	term.expect(`Choose 1-3 \[1\]: `)
	term.send("2\r")
	term.expect(`Password: `)
	term.send("hunter2-typed\r")
	term.expect(`session-ran`)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, term.Output())
	}
	if strings.Contains(term.Output(), "hunter2-typed") {
		t.Errorf("the typed password was echoed:\n%s", term.Output())
	}
	if got := readFile(t, filepath.Join(home, "docker.env")); !strings.Contains(got, "pw=hunter2-typed\n") {
		t.Errorf("the session did not get the password: %q", got)
	}
	assertNotInState(t, home, "hunter2-typed")
}

// assertNotInState: the password is in no file ai-sandbox wrote.
func assertNotInState(t *testing.T, home, secret string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(home, ".ai-sandbox"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), secret) {
				t.Errorf("the password is written in %s", p)
			}
		}
		return nil
	})
}

// TestNetworkPicker: -n without a name on a terminal lists the networks
// (compose ones first, with their containers), takes numbers, and saves
// the choice for the workspace when asked to.
func TestNetworkPicker(t *testing.T) {
	home, proj, env := webEnv(t)
	term := startTerminal(t, proj, env, "run", "--egress", "open", "-n", "--", "true")
	term.expect(`compose networks:`)
	term.expect(`1\) app_default — app-db-1, app-web-1`)
	term.expect(`other networks:`)
	term.expect(`2\) mynet`)
	term.expect(`Numbers to join \(e\.g\. 1 3\), a for all, Enter for none: `)
	term.send("7\r")
	term.expect(`"7": give numbers from 1 to 2`)
	term.send("2 1\r")
	term.expect(`Join mynet, app_default from now on\?`)
	term.expect(`Choose 1-3 \[3\]: `)
	term.send("1\r")
	term.expect(`session-ran`)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, term.Output())
	}
	var c struct {
		Networks struct {
			Workspaces map[string][]string `json:"workspaces"`
		} `json:"networks"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(home, ".ai-sandbox", "config.json"))), &c); err != nil {
		t.Fatal(err)
	}
	if got := c.Networks.Workspaces[proj]; strings.Join(got, ",") != "mynet,app_default" {
		t.Errorf("saved for %s: %q", proj, got)
	}
}
