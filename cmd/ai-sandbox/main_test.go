package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ai-sandbox/ai-sandbox/internal/cli"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// run is the program as main runs it; it returns the exit code.
func run() int {
	return cli.Main(context.Background(), os.Args[1:], os.Getenv, ui.StdStreams(os.Getenv))
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ai-sandbox": func() { os.Exit(run()) },
		"docker":     func() { os.Exit(fakeDocker()) },
	})
}

// TestScripts runs the CLI scripts in testdata/script. Each script gets
// its own $WORK and sets HOME itself; see the scripts for the fake docker.
func TestScripts(t *testing.T) {
	// A canonical work root, so that $WORK is what canonical paths print.
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		WorkdirRoot:         root,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitCode,
			"setkey":     cmdSetKey,
			"listen":     cmdListen,
			"opencodedb": cmdOpencodeDB,
			"sqlcount":   cmdSQLCount,
			"registry":   cmdRegistry,
		},
	})
}

// cmdSetKey sets a variable to the project key of a folder, which names
// its state folder (~/.ai-sandbox/projects/<key>) and its containers:
//
//	setkey KEY $WORK/home/app
func cmdSetKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setkey NAME DIR")
	}
	dir, err := filepath.EvalSymlinks(ts.MkAbs(args[1]))
	if err != nil {
		ts.Fatalf("setkey: %v", err)
	}
	ts.Setenv(args[0], project.Key(dir))
}

// cmdListen listens on a free port of 127.0.0.1 until the script ends,
// and sets a variable to the port:
//
//	listen BUSY
func cmdListen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: listen NAME")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("listen: %v", err)
	}
	ts.Defer(func() { l.Close() })
	ts.Setenv(args[0], strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
}

// cmdRegistry serves the tag list of a registry's v2 API on 127.0.0.1
// (plain HTTP, as a local registry is) until the script ends, and sets a
// variable to its HOST:PORT. The repository is o/p; -login USER:PASSWORD
// makes it answer 401 with a Basic challenge to any other request:
//
//	registry REG [-login me:pw] base full base-v1.2.3
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: registry NAME [-login USER:PASSWORD] TAG...")
	}
	name, tags := args[0], args[1:]
	login := ""
	if len(tags) >= 2 && tags[0] == "-login" {
		login, tags = tags[1], tags[2:]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if login != "" {
			if u, p, ok := r.BasicAuth(); !ok || u+":"+p != login {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
		}
		if r.URL.Path != "/v2/o/p/tags/list" {
			http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "o/p", "tags": tags})
	}))
	ts.Defer(srv.Close)
	ts.Setenv(name, strings.TrimPrefix(srv.URL, "http://"))
}

// cmdExitCode runs a command and checks its exit code exactly:
//
//	exitcode 2 ai-sandbox completion nosuchshell
//
// stdout and stderr are kept for the next stdout/stderr checks.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
