package imageops

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

const testCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

// fakeDocker records argv; a build exits with code.
type fakeDocker struct {
	argv [][]string
	code int
}

func (f *fakeDocker) Output(_ context.Context, argv []string) (proc.Result, error) {
	f.argv = append(f.argv, argv)
	if len(argv) > 1 && argv[1] == "version" {
		return proc.Result{Stdout: []byte("amd64\n")}, nil
	}
	return proc.Result{}, nil
}

func (f *fakeDocker) Interactive(_ context.Context, argv []string, _ proc.Stdio, _ []string, _ func(os.Signal) bool) (int, error) {
	f.argv = append(f.argv, argv)
	return f.code, nil
}

func testEnv(t *testing.T) (Env, *fakeDocker, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "ca.pem"), []byte(testCert), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &fakeDocker{}
	var out, errb bytes.Buffer
	return Env{
		Docker: "docker", Runner: d, Streams: ui.Streams{Out: &out, Err: &errb},
		Paths: config.Paths{Root: filepath.Join(home, ".ai-sandbox")}, Tools: tools.New(),
		Getenv: func(string) string { return "" }, Home: home,
		Getwd: func() (string, error) { return home, nil },
	}, d, &out
}

func ptr(s string) *string { return &s }

func lastBuild(d *fakeDocker) string {
	for i := len(d.argv) - 1; i >= 0; i-- {
		if len(d.argv[i]) > 1 && d.argv[i][1] == "build" {
			return strings.Join(d.argv[i][:len(d.argv[i])-1], " ")
		}
	}
	return ""
}

func TestBuildRecordsAndKeepsChoices(t *testing.T) {
	e, d, _ := testEnv(t)
	ctx := context.Background()
	err := e.Build(ctx, BuildOptions{Tools: []string{"claude"}, BaseImage: ptr("mirror/node:22"), CACerts: []string{"~/ca.pem"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := lastBuild(d); got != "docker build --tag ai-sandbox:latest --build-arg BASE_IMAGE=mirror/node:22" {
		t.Errorf("argv %q", got)
	}
	c, err := config.Load(e.Paths)
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.BaseImage != "mirror/node:22" || !slices.Equal(c.Image.CACerts, []string{filepath.Join(e.Home, "ca.pem")}) ||
		!slices.Equal(c.Image.Tools, []string{"claude"}) || c.Image.Preset != "base" {
		t.Errorf("recorded %+v", c.Image)
	}

	// Nothing given: the recorded choices again.
	if err := e.Build(ctx, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := lastBuild(d); got != "docker build --tag ai-sandbox:latest --build-arg BASE_IMAGE=mirror/node:22" {
		t.Errorf("argv %q", got)
	}

	// Given empty: none; "default": the built-in base image.
	if err := e.Build(ctx, BuildOptions{CACerts: []string{}, BaseImage: ptr("default"), Tools: []string{"none"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ = config.Load(e.Paths); c.Image.BaseImage != "" || c.Image.CACerts != nil || len(c.Image.Tools) != 0 {
		t.Errorf("recorded %+v", c.Image)
	}

	// A failed build: docker's code, nothing recorded.
	d.code = 7
	before, _ := os.ReadFile(e.Paths.ConfigFile())
	err = e.Build(ctx, BuildOptions{Tools: []string{"codex"}})
	var exit *ui.ExitError
	if !errors.As(err, &exit) || exit.Code != 7 {
		t.Errorf("err %v, want exit 7", err)
	}
	if after, _ := os.ReadFile(e.Paths.ConfigFile()); !bytes.Equal(before, after) {
		t.Error("a failed build changed config.json")
	}
}

func TestBuildRefusesBadChoices(t *testing.T) {
	e, d, out := testEnv(t)
	ctx := context.Background()
	var usage *ui.UsageError
	for _, o := range []BuildOptions{
		{Tools: []string{"nosuch"}},
		{Addons: []string{"nosuch"}},
		{Preset: ptr("huge")},
		{BaseImage: ptr("")},
		{BaseImage: ptr("two words")},
		{BuildArgs: []string{"BASE_IMAGE=x"}},
	} {
		if err := e.Build(ctx, o); !errors.As(err, &usage) {
			t.Errorf("%+v: err %v, want a usage error", o, err)
		}
	}
	if err := e.Build(ctx, BuildOptions{CACerts: []string{"missing.pem"}}); err == nil || !strings.Contains(err.Error(), filepath.Join(e.Home, "missing.pem")) {
		t.Errorf("a missing CA file: %v", err)
	}
	if lastBuild(d) != "" {
		t.Error("a refused build ran docker build")
	}
	// --print: the Dockerfile, nothing built or recorded.
	if err := e.Build(ctx, BuildOptions{Print: true}); err != nil || !strings.Contains(out.String(), "FROM ${BASE_IMAGE}") {
		t.Errorf("print: %v\n%s", err, out)
	}
	if _, err := os.Stat(e.Paths.ConfigFile()); err == nil {
		t.Error("--print recorded")
	}
}

// A project's add-ons go on top of the given or recorded ones, once, not
// repeating the preset's; they are recorded with them.
func TestBuildAddsProjectAddons(t *testing.T) {
	e, _, _ := testEnv(t)
	ctx := context.Background()
	if err := e.Build(ctx, BuildOptions{Preset: ptr("lean"), Addons: []string{"openspec"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Build(ctx, BuildOptions{ProjectAddons: []string{"go", "pnpm", "openspec", "go"}}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(e.Paths)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"openspec", "go", "pnpm"}; !slices.Equal(c.Image.Addons, want) {
		t.Errorf("recorded add-ons %q, want %q", c.Image.Addons, want)
	}
	// The full preset has go and pnpm: nothing to add.
	if err := e.Build(ctx, BuildOptions{Preset: ptr("full"), Addons: []string{}, ProjectAddons: []string{"go", "pnpm"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ = config.Load(e.Paths); len(c.Image.Addons) != 0 {
		t.Errorf("recorded add-ons %q, want none", c.Image.Addons)
	}
}
