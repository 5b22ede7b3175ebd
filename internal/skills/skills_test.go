package skills

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBundled(t *testing.T) {
	if diff := cmp.Diff([]string{"dd-pup", "rtk", "rtk-setup"}, Names()); diff != "" {
		t.Fatal(diff)
	}
	for _, n := range Names() {
		b, err := Content(n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "---\nname: "+n+"\ndescription: ") {
			t.Errorf("%s: SKILL.md must start with front matter naming it", n)
		}
	}
}

func TestInstallNeverOverwrites(t *testing.T) {
	home := t.TempDir()
	got, err := Install(home, "opencode")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dd-pup", "rtk", "rtk-setup"}, got); diff != "" {
		t.Fatal(diff)
	}
	skill := filepath.Join(home, ".config/opencode/skills/rtk/SKILL.md")
	if b, err := os.ReadFile(skill); err != nil || !strings.Contains(string(b), "name: rtk") {
		t.Fatalf("rtk not installed: %v", err)
	}
	// The user edits one; a second run changes nothing.
	os.WriteFile(skill, []byte("mine"), 0o644)
	got, err = Install(home, "opencode")
	if err != nil || len(got) != 0 {
		t.Fatalf("second Install = %v, %v", got, err)
	}
	if b, _ := os.ReadFile(skill); string(b) != "mine" {
		t.Error("an installed skill was overwritten")
	}
}

// A skills folder the agent replaced with a link to another folder of the
// host is never written through.
func TestInstallNeverFollowsALink(t *testing.T) {
	home, other := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(home, ".config/opencode"), 0o755)
	os.Symlink(other, filepath.Join(home, ".config/opencode/skills"))
	if _, err := Install(home, "opencode"); err == nil {
		t.Error("installed through a planted link")
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("written into the link's target: %v", entries)
	}
}

func TestInstallPerTool(t *testing.T) {
	for tool, dir := range map[string]string{"claude": ".claude/skills", "codex": ".codex/skills", "gemini": ".gemini/skills", "kilo": ".config/kilo/skills"} {
		home := t.TempDir()
		if _, err := Install(home, tool); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(home, dir, "rtk-setup", "SKILL.md")); err != nil {
			t.Errorf("%s: %v", tool, err)
		}
	}
	for _, tool := range []string{"aider", "no-such-agent", ""} {
		got, err := Install(t.TempDir(), tool)
		if err != nil || got != nil {
			t.Errorf("%s: Install = %v, %v", tool, got, err)
		}
	}
}

func TestOutdated(t *testing.T) {
	home := t.TempDir()
	if _, err := Install(home, "opencode"); err != nil {
		t.Fatal(err)
	}
	if got, _ := Outdated(home, "opencode"); len(got) != 0 {
		t.Errorf("fresh install outdated: %v", got)
	}
	marker := filepath.Join(home, ".config/opencode/skills/rtk", Marker)
	os.WriteFile(marker, []byte("version=0\n"), 0o644)
	os.Remove(filepath.Join(home, ".config/opencode/skills/rtk-setup", Marker))
	got, err := Outdated(home, "opencode")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"rtk"}, got); diff != "" {
		t.Error(diff)
	}
}
