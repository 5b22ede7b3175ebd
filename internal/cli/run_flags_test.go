package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/tools"
)

func parsed(t *testing.T, args ...string) *runOptions {
	t.Helper()
	var o runOptions
	if err := parseRunArgs(newRunFlags(&o), &o, tools.New(), args); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return &o
}

// Every agent × every wrapper flag after the agent's name: taken by the
// wrapper exactly when the tool table says the agent has no such flag
// (checked against its --help), else left to the agent. Short forms
// after the tool are always the agent's.
func TestWrapperFlagsAfterEachAgent(t *testing.T) {
	values := map[string]string{"expose": "3000", "network": "mynet", "password": "pw", "password-env": "PW"}
	for _, tool := range tools.New().All() {
		for _, flag := range tools.WrapperFlags() {
			args := []string{tool.Name, "web", "--" + flag}
			if v, ok := values[flag]; ok {
				args = append(args, v)
			}
			o := parsed(t, args...)
			moved := len(o.moved) > 0
			if moved != tool.TakesFlag("web", flag) {
				t.Errorf("%s --%s: moved=%v, the table says %v (checked: %q)", tool.Name, flag, moved, tool.TakesFlag("web", flag), tool.FlagsChecked)
			}
			if moved && slices.Contains(o.toolArgs, "--"+flag) {
				t.Errorf("%s --%s reached the agent too", tool.Name, flag)
			}
			if !moved && !slices.Contains(o.toolArgs, "--"+flag) {
				t.Errorf("%s --%s was lost: %q", tool.Name, flag, o.toolArgs)
			}
		}
	}
}

func TestWrapperFlagsRouting(t *testing.T) {
	tests := []struct {
		args             []string
		tool             []string
		expose, networks []string
		password         string
		gitFetch, shell  bool
		moved, shadowed  []string
	}{
		// The original's documented forms, through an alias.
		{args: []string{"opencode", "--expose", "3000"}, tool: []string{"opencode"}, expose: []string{"3000"}, moved: []string{"--expose", "3000"}},
		{args: []string{"opencode", "web", "--network=db,cache", "--git-fetch"}, tool: []string{"opencode", "web"}, networks: []string{"db", "cache"}, gitFetch: true, moved: []string{"--network=db,cache", "--git-fetch"}},
		{args: []string{"opencode", "web", "--password", "s3cret"}, tool: []string{"opencode", "web"}, password: "s3cret", moved: []string{"--password", "s3cret"}},
		// opencode run has its own --password (for --attach).
		{args: []string{"opencode", "run", "--password", "x", "--attach", "http://h"}, tool: []string{"opencode", "run", "--password", "x", "--attach", "http://h"}, shadowed: []string{"--password"}},
		// Short forms after the tool are the agent's: claude -p, -n.
		{args: []string{"claude", "-p", "hi", "-n", "name", "-e", "x"}, tool: []string{"claude", "-p", "hi", "-n", "name", "-e", "x"}, shadowed: []string{"-n", "-e"}},
		// Before the tool: all forms are the wrapper's.
		{args: []string{"-e", "8080", "-n", "db", "--git-fetch", "claude", "-p", "x"}, tool: []string{"claude", "-p", "x"}, expose: []string{"8080"}, networks: []string{"db"}, gitFetch: true},
		// "--" after the tool: the rest is the agent's.
		{args: []string{"opencode", "--", "--expose", "1"}, tool: []string{"opencode", "--", "--expose", "1"}},
		// An agent whose flags were not checked takes none.
		{args: []string{"crush", "--expose", "3000"}, tool: []string{"crush", "--expose", "3000"}, shadowed: []string{"--expose"}},
		// Not an agent: nothing after it is the wrapper's.
		{args: []string{"make", "--expose", "1"}, tool: []string{"make", "--expose", "1"}},
		// --network without a name: pick (before the tool -n too).
		{args: []string{"-n", "opencode"}, tool: []string{"opencode"}, networks: []string{pickNetwork}},
		{args: []string{"opencode", "--network"}, tool: []string{"opencode"}, networks: []string{pickNetwork}, moved: []string{"--network=?"}},
		{args: []string{"claude", "-n"}, tool: []string{"claude", "-n"}, shadowed: []string{"-n"}},
		{args: []string{"claude", "--shell"}, tool: []string{"claude"}, shell: true, moved: []string{"--shell"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o := parsed(t, tt.args...)
			eq := func(what string, got, want []string) {
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s %q, want %q", what, got, want)
				}
			}
			eq("tool args", o.toolArgs, tt.tool)
			eq("expose", o.expose, tt.expose)
			eq("networks", o.networks, tt.networks)
			eq("moved", o.moved, tt.moved)
			eq("shadowed", o.shadowed, tt.shadowed)
			if o.password != tt.password || o.gitFetch != tt.gitFetch || o.shell != tt.shell {
				t.Errorf("password %q git-fetch %v shell %v", o.password, o.gitFetch, o.shell)
			}
		})
	}
}
