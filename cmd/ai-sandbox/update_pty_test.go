package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestUpdateMenuInTerminal drives 'ai-sandbox update' through a real
// terminal (tmux, as the setup wizard's test): the menu names each
// entry's command, whitelists a folder, sets the current folder's git
// mode, and exits; config.json holds both.
func TestUpdateMenuInTerminal(t *testing.T) {
	tmux := needTool(t, "tmux")
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "home")
	exe := filepath.Join(root, "bin", "ai-sandbox")
	copyExecutable(t, exe)
	fakeBin := filepath.Join(root, "fakebin")
	// A docker that is there and knows no network.
	write(t, filepath.Join(fakeBin, "docker"), 0o755, "#!/bin/sh\nexit 0\n")
	proj := filepath.Join(home, "code", "app")
	for _, d := range []string{proj, filepath.Join(home, "more")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(home, ".ai-sandbox")
	write(t, filepath.Join(state, "config.json"), 0o600, `{"version": 2, "workspaces": ["`+filepath.Join(home, "code")+`"]}`)

	p := startPane(t, tmux, root, []string{
		"env", "-i", "HOME=" + home, "PATH=" + fakeBin + ":/usr/bin:/bin", "TERM=screen",
		"sh", "-c", `cd "$1" && exec "$2" update`, "sh", proj, exe,
	})

	p.waitFor(`\? What do you want to change\?`)
	p.waitFor(`same as: ai-sandbox workspace add\|remove PATH`)
	p.keys("Enter") // Workspaces
	p.waitFor(`\? Workspaces:`)
	p.keys("Enter") // Add a folder
	p.waitFor(`\? Folder to whitelist:`)
	p.typeText("~/more")
	p.keys("Enter")
	p.waitFor(`whitelisted ` + filepath.Join(home, "more"))
	p.waitFor(`\(the command for this: ai-sandbox workspace add ` + filepath.Join(home, "more") + `\)`)

	p.waitFor(`(?s)command for this: ai-sandbox workspace add.*\? What do you want to change\?`)
	p.keys("Down")
	p.waitFor(`> Git access for a folder`)
	p.keys("Enter")
	p.waitFor(`\? Git access for which folder\?`)
	p.keys("Enter") // the current folder comes first
	p.waitFor(`\? Git access for ` + proj + `:`)
	p.keys("Down") // off -> fetch-only
	p.waitFor(`> fetch-only`)
	p.keys("Enter")
	p.waitFor(`\(the command for this: ai-sandbox git fetch-only ` + proj + `\)`)

	p.waitFor(`(?s)command for this: ai-sandbox git fetch-only.*\? What do you want to change\?`)
	p.typeText("Exit")
	p.waitFor(`> Exit`)
	p.keys("Enter")
	p.waitExit(0)

	b, err := os.ReadFile(filepath.Join(state, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Workspaces []string `json:"workspaces"`
		Git        struct {
			FetchOnly []string `json:"fetchOnlyWorkspaces"`
		} `json:"git"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.Workspaces, filepath.Join(home, "more")) || !slices.Contains(cfg.Git.FetchOnly, proj) {
		t.Errorf("config.json after the menu:\n%s", b)
	}
}
