package gitaccess

import (
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

func TestForMostSpecificFolderWins(t *testing.T) {
	c := config.Default()
	c.Git.AllowedWorkspaces = []string{"/w", "/w/app/deep"}
	c.Git.FetchOnlyWorkspaces = []string{"/w/app", "/w/app/deep"}
	for dir, want := range map[string]Decision{
		"/w/other":      {Full, "/w"},
		"/w":            {Full, "/w"},
		"/w/app":        {FetchOnly, "/w/app"},
		"/w/app/sub":    {FetchOnly, "/w/app"},
		"/w/app/deep/x": {FetchOnly, "/w/app/deep"}, // a tie: fetch-only wins
		"/elsewhere":    {Off, ""},
		"/w2":           {Off, ""}, // whole segments only
	} {
		if got := For(c, dir); got != want {
			t.Errorf("%s: %+v, want %+v", dir, got, want)
		}
	}
}

func TestSetKeepsOneListPerFolder(t *testing.T) {
	c := config.Default()
	Set(c, "/w/app", Full)
	Set(c, "/w/app", FetchOnly)
	if len(c.Git.AllowedWorkspaces) != 0 || len(c.Git.FetchOnlyWorkspaces) != 1 {
		t.Errorf("%+v", c.Git)
	}
	Set(c, "/w/app", Off)
	if len(c.Git.AllowedWorkspaces)+len(c.Git.FetchOnlyWorkspaces) != 0 {
		t.Errorf("%+v", c.Git)
	}
	if For(c, "/w/app").Mode != Off {
		t.Error("off must fall back to the default")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Mode{"enable": Full, "full": Full, "disable": Off, "off": Off, "fetch-only": FetchOnly, "Fetch": FetchOnly} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := Parse("push"); err == nil {
		t.Error("push accepted")
	}
	if c := Choices(); len(c) != 5 || c[2].Mode != Off || !c[1].Save || c[3].Save {
		t.Errorf("choices %+v", c)
	}
}

// Writable hooks are an opt-in of full mode: a mode set again takes them
// away, and a fetch-only folder below never has them.
func TestWritableHooks(t *testing.T) {
	c := config.Default()
	Set(c, "/w", Full)
	SetWritableHooks(c, "/w")
	Set(c, "/w/app", FetchOnly)
	for dir, want := range map[string]bool{"/w": true, "/w/x": true, "/w/app": false, "/w/app/sub": false, "/other": false} {
		if got := WritableHooks(c, dir); got != want {
			t.Errorf("%s: %v, want %v", dir, got, want)
		}
	}
	Set(c, "/w", Full)
	if WritableHooks(c, "/w") {
		t.Error("git full again kept writable hooks")
	}
	SetWritableHooks(c, "/w")
	Set(c, "/w", Off)
	if len(c.Git.WritableHooksWorkspaces) != 0 || WritableHooks(c, "/w") {
		t.Errorf("git off kept writable hooks: %+v", c.Git)
	}
}
