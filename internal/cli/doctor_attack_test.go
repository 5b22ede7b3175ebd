package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/doctor"
	"github.com/ai-sandbox/ai-sandbox/internal/gitguard"
	"github.com/ai-sandbox/ai-sandbox/internal/probe"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// The scorecard's verdicts, fed each condition the probe can report: a
// check that succeeded is a hole, whatever else it says.
func TestAttemptScoring(t *testing.T) {
	results := map[string]probe.Result{
		"hole":    {Succeeded: true, Evidence: []string{"read /x"}},
		"blocked": {Detail: "EPERM"},
		"skipped": {Skipped: true, Detail: "skipped: no -other given"},
		"late":    {TimedOut: true, Detail: "did not finish"},
	}
	for name, want := range map[string]doctor.Outcome{"hole": doctor.Hole, "blocked": doctor.Blocked, "skipped": doctor.Skipped,
		"late": doctor.Broken, "absent": doctor.Broken} {
		if got := attempt("sandbox", name, "", results, nil); got.Outcome != want {
			t.Errorf("%s: %s, want %s", name, got.Outcome, want)
		}
	}
	if got := attempt("sandbox", "hole", "", results, errors.New("docker said no")); got.Outcome != doctor.Broken {
		t.Errorf("a probe that did not run: %s", got.Outcome)
	}
	if a := attempt("sandbox", "hole", "", results, nil); !slices.Equal(a.Evidence, []string{"read /x"}) {
		t.Errorf("evidence: %q", a.Evidence)
	}
}

func TestRefusedTampered(t *testing.T) {
	err := ui.WithHint(&gitguard.TamperedError{Path: "/p/.git", What: "is a symbolic link"}, "inspect it")
	if !refusedTampered(err) || refusedTampered(errors.New("docker said no")) || refusedTampered(nil) {
		t.Error("refusedTampered")
	}
}

// hostSecrets names real secrets by their digest; empty files and links
// are left out.
func TestHostSecretsByDigest(t *testing.T) {
	home := t.TempDir()
	state := filepath.Join(home, ".ai-sandbox")
	for _, d := range []string{".ssh", ".aws", ".ai-sandbox"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	key := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nreal\n")
	os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), key, 0o600)
	os.WriteFile(filepath.Join(home, ".aws", "credentials"), nil, 0o600)
	os.WriteFile(filepath.Join(state, "env"), []byte("K=v\n"), 0o600)
	os.Symlink(filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_rsa"))
	paths, markers := hostSecrets(home, config.Paths{Root: state})
	sum := sha256.Sum256(key)
	want := []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(state, "env")}
	if !slices.Equal(paths, want) || len(markers) != 2 || markers[0] != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("paths %q markers %q", paths, markers)
	}
	for _, m := range markers {
		if len(m) != len("sha256:")+64 {
			t.Errorf("marker %q is not a digest", m)
		}
	}
}
