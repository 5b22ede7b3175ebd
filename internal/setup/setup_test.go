package setup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/imageops"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/registry"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/whitelist"
)

// These tests drive the wizard with scripted answers (the real terminal
// is driven in cmd/ai-sandbox/setup_pty_test.go): what reaches the image
// operations, the fallback tags, Ctrl-C, the base image and CA questions,
// and folders created on the way.

type setupRunner struct{ calls [][]string }

func (r *setupRunner) Output(_ context.Context, argv []string) (proc.Result, error) {
	r.calls = append(r.calls, argv)
	if len(argv) > 1 && argv[1] == "info" {
		return proc.Result{Stdout: []byte(`{"ServerVersion":"27.3.1"}`)}, nil
	}
	if len(argv) > 2 && argv[1] == "image" && argv[2] == "inspect" {
		return proc.Result{ExitCode: 1, Stderr: []byte("No such image")}, nil
	}
	return proc.Result{}, nil
}

func (r *setupRunner) Interactive(context.Context, []string, proc.Stdio, []string, func(os.Signal) bool) (int, error) {
	return 0, nil
}

type fakeImages struct {
	tags    []string
	tagsErr error
	pulled  []imageops.PullOptions
	built   []imageops.BuildOptions
}

func (f *fakeImages) ListTags(context.Context, string) ([]registry.Tag, error) {
	var out []registry.Tag
	for _, t := range f.tags {
		out = append(out, registry.Tag{Name: t})
	}
	return out, f.tagsErr
}

func (f *fakeImages) Registry(string) (string, error) { return "reg.test/o/p", nil }

func (f *fakeImages) Pull(_ context.Context, o imageops.PullOptions) error {
	f.pulled = append(f.pulled, o)
	return nil
}

func (f *fakeImages) Build(_ context.Context, o imageops.BuildOptions) error {
	f.built = append(f.built, o)
	return nil
}

// scripted answers questions by the start of their message; every
// question must have an answer. An answer that is a list of answers is
// given one by one, to the question asked again.
type scripted struct {
	t       *testing.T
	answers map[string]any
	asked   []string
	offered map[string][]string
	defs    map[string]any
	// helps are the options' descriptions of the Select questions, by
	// question then option.
	helps map[string]map[string]string
}

func (a *scripted) answer(msg string, options []string, def any) any {
	a.t.Helper()
	a.asked = append(a.asked, msg)
	if a.offered == nil {
		a.offered, a.defs = map[string][]string{}, map[string]any{}
	}
	for prefix, v := range a.answers {
		if strings.HasPrefix(msg, prefix) {
			a.offered[prefix], a.defs[prefix] = options, def
			if seq, ok := v.(sequence); ok {
				if len(seq) == 0 {
					a.t.Fatalf("question %q asked once too often", msg)
				}
				v, a.answers[prefix] = seq[0], seq[1:]
			}
			if err, ok := v.(error); ok {
				return err
			}
			return v
		}
	}
	a.t.Fatalf("unexpected question %q", msg)
	return nil
}

// sequence answers a question asked again: one answer each time.
type sequence []any

func (a *scripted) Select(msg string, options []string, def string, help func(string, int) string) (string, error) {
	if help != nil {
		if a.helps == nil {
			a.helps = map[string]map[string]string{}
		}
		a.helps[msg] = map[string]string{}
		for i, o := range options {
			a.helps[msg][o] = help(o, i)
		}
	}
	switch v := a.answer(msg, options, def).(type) {
	case error:
		return "", v
	default:
		return v.(string), nil
	}
}

func (a *scripted) MultiSelect(msg string, options []string, def []string, _ func(string, int) string) ([]string, error) {
	switch v := a.answer(msg, options, def).(type) {
	case error:
		return nil, v
	default:
		return v.([]string), nil
	}
}

func (a *scripted) Input(msg, def, _ string) (string, error) {
	switch v := a.answer(msg, nil, def).(type) {
	case error:
		return "", v
	default:
		return v.(string), nil
	}
}

func (a *scripted) Password(msg, _ string) (string, error) { return a.Input(msg, "", "") }

func (a *scripted) Confirm(msg string, def bool) (bool, error) {
	switch v := a.answer(msg, nil, def).(type) {
	case error:
		return false, v
	default:
		return v.(bool), nil
	}
}

func testDeps(t *testing.T, images Images, ask Asker) (Deps, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "proj"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := map[string]string{"HOME": home, "SHELL": "/bin/bash", "PATH": "/usr/bin:/bin"}
	getenv := func(k string) string { return env[k] }
	p, err := config.ResolvePaths(getenv, home)
	if err != nil {
		t.Fatal(err)
	}
	return Deps{
		// A terminal as far as setup can tell; the scripted asker answers.
		Streams: ui.Streams{In: os.Stdin, Out: &out, Err: &errb, InFile: os.Stdin, OutFile: os.Stdout, ErrFile: os.Stderr, InTTY: true, OutTTY: true},
		Runner:  &setupRunner{},
		Tools:   tools.New(),
		Home:    home,
		Getwd:   func() (string, error) { return home, nil },
		Getenv:  getenv,
		Paths:   p,
		Images:  images,
		Ask:     ask,
	}, &out, &errb
}

// runSetup runs setup with args as its flags and returns the exit code
// cli would give.
func runSetup(t *testing.T, d Deps, args ...string) int {
	t.Helper()
	o := &Options{}
	f := pflag.NewFlagSet("setup", pflag.ContinueOnError)
	o.AddFlags(f)
	if err := f.Parse(args); err != nil {
		t.Fatalf("flags %q: %v", args, err)
	}
	err := Run(context.Background(), d, o)
	if err == nil {
		return 0
	}
	t.Logf("error: %v (hints %q)", err, ui.HintsOf(err))
	var exit *ui.ExitError
	var usage *ui.UsageError
	switch {
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &usage):
		return 2
	}
	return 1
}

func TestWizardBuildGoesToTheImageOperations(t *testing.T) {
	images := &fakeImages{}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":    "~/proj",
		"Sandbox image":           "build",
		"Agents to install":       []string{"aider", "claude"},
		"Add-ons to build":        []string{"openspec"},
		"Image preset":            "full",
		"Base image to build":     imagebuild.DefaultBaseImage,
		"CA certificates":         "none",
		"Keys for aider":          []string{},
		"Keys for claude":         []string{},
		"Share your aider config": "off",
		"Share your claude":       "read-only",
		"Write the aliases":       []string{},
	}}
	d, out, _ := testDeps(t, images, ask)
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(images.built) != 1 {
		t.Fatalf("built %d times", len(images.built))
	}
	b := images.built[0]
	if !slices.Equal(b.Tools, []string{"aider", "claude"}) || !slices.Equal(b.Addons, []string{"openspec"}) || *b.Preset != "full" {
		t.Errorf("build options %+v", b)
	}
	// The default base image, taken as it is shown: the default (nothing
	// recorded); no CA: none, given (not "the recorded ones").
	if b.BaseImage == nil || *b.BaseImage != "default" || b.CACerts == nil || len(b.CACerts) != 0 {
		t.Errorf("base image %v, CA %#v", b.BaseImage, b.CACerts)
	}
	// With no image there and none published (the registry lists no
	// tags), the wizard says so and offers the build first.
	if ask.defs["Sandbox image"] != "build" {
		t.Errorf("default image source %v, want build", ask.defs["Sandbox image"])
	}
	if h := ask.helps["Sandbox image (ai-sandbox:latest):"]["pull"]; h != "no prebuilt image found at reg.test/o/p (no tags): build instead, or set image.registry" {
		t.Errorf("pull described as %q", h)
	}
	// Every agent of the table is offered, aider included; opencode is
	// the default with nothing set up yet.
	if got := ask.offered["Agents to install"]; !slices.Equal(got, d.Tools.Names()) || !slices.Contains(got, "aider") {
		t.Errorf("agents offered %q", got)
	}
	if def := ask.defs["Agents to install"].([]string); !slices.Equal(def, []string{"opencode"}) {
		t.Errorf("default agents %q", def)
	}
	if ask.defs["Base image to build"] != imagebuild.DefaultBaseImage || ask.defs["CA certificates"] != "none" {
		t.Errorf("defaults: base image %v, CA %v", ask.defs["Base image to build"], ask.defs["CA certificates"])
	}
	// Keys are asked once: claude is not offered aider's ANTHROPIC_API_KEY again.
	if slices.Contains(ask.offered["Keys for claude"], "ANTHROPIC_API_KEY") {
		t.Errorf("ANTHROPIC_API_KEY offered twice: %q", ask.offered["Keys for claude"])
	}
	if !strings.Contains(out.String(), "built ai-sandbox:latest (agents: aider, claude; preset full; add-ons: openspec)\n") {
		t.Errorf("summary:\n%s", out)
	}
}

// Where Docker Hub cannot be reached: the base image and CA questions
// show the recorded choices; a CA file that is not a certificate is
// explained and asked again; the answers reach the build.
func TestWizardBuildAsksBaseImageAndCA(t *testing.T) {
	images := &fakeImages{}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":       "",
		"Sandbox image":              "build",
		"Agents to install":          []string{"opencode"},
		"Add-ons to build":           []string{},
		"Image preset":               "base",
		"Base image to build":        sequence{"not an image", "mirror.example/library/node:22-bookworm-slim"},
		"CA certificates":            sequence{"~/key.pem", "~/corp.pem"},
		"Keys for opencode":          []string{},
		"Share your opencode config": "off",
		"Write the aliases":          []string{},
	}}
	d, out, errb := testDeps(t, images, ask)
	cert := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	for name, content := range map[string]string{
		"corp.pem": cert, "old.pem": cert,
		"key.pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		if err := os.WriteFile(filepath.Join(d.Home, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := config.Save(d.Paths, &config.Config{Version: 2, Image: config.Image{
		BaseImage: "old-mirror/node:22", CACerts: []string{filepath.Join(d.Home, "old.pem")}}}); err != nil {
		t.Fatal(err)
	}
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if ask.defs["Base image to build"] != "old-mirror/node:22" || ask.defs["CA certificates"] != "~/old.pem" {
		t.Errorf("defaults: base image %v, CA %v", ask.defs["Base image to build"], ask.defs["CA certificates"])
	}
	for _, want := range []string{
		`warning: "not an image" is not an image reference (e.g. debian:bookworm-slim)`,
		"warning: CA certificate " + filepath.Join(d.Home, "key.pem") + ": holds a PRIVATE KEY block",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	b := images.built[0]
	if *b.BaseImage != "mirror.example/library/node:22-bookworm-slim" || !slices.Equal(b.CACerts, []string{filepath.Join(d.Home, "corp.pem")}) {
		t.Errorf("base image %q, CA %q", *b.BaseImage, b.CACerts)
	}
	if want := "(agents: opencode; preset base; add-ons: none; from mirror.example/library/node:22-bookworm-slim; CA certificates: ~/corp.pem)"; !strings.Contains(out.String(), want) {
		t.Errorf("summary lacks %s:\n%s", want, out)
	}
}

// A registry that lists tags: the pull is the default, and its tags are
// offered with base first.
func TestWizardPullOffersPublishedTags(t *testing.T) {
	images := &fakeImages{tags: []string{"full", "base", "base-v1.0.0"}}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":       "",
		"Sandbox image":              "pull",
		"Image tag to pull":          "base-v1.0.0",
		"Agents you use":             []string{"opencode"},
		"Keys for opencode":          []string{},
		"Share your opencode config": "off",
		"Write the aliases":          []string{},
	}}
	d, _, _ := testDeps(t, images, ask)
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if ask.defs["Sandbox image"] != "pull" || ask.helps["Sandbox image (ai-sandbox:latest):"]["pull"] != "pull a prebuilt image from reg.test/o/p (a few minutes)" {
		t.Errorf("image source: default %v, pull described as %q", ask.defs["Sandbox image"], ask.helps["Sandbox image (ai-sandbox:latest):"]["pull"])
	}
	if got := ask.offered["Image tag to pull"]; !slices.Equal(got, []string{"full", "base", "base-v1.0.0"}) || ask.defs["Image tag to pull"] != "base" {
		t.Errorf("tags offered %q, default %v", got, ask.defs["Image tag to pull"])
	}
	if len(images.pulled) != 1 || images.pulled[0].Tag != "base-v1.0.0" {
		t.Errorf("pulled %+v", images.pulled)
	}
}

func TestWizardPullFallsBackToRollingTags(t *testing.T) {
	images := &fakeImages{tagsErr: errors.New("offline")}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":       "",
		"Sandbox image":              "pull",
		"Image tag to pull":          "full",
		"Agents you use":             []string{"opencode"},
		"Keys for opencode":          []string{},
		"Share your opencode config": "off",
		"Write the aliases":          []string{},
	}}
	d, _, errb := testDeps(t, images, ask)
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := ask.offered["Image tag to pull"]; !slices.Equal(got, []string{"base", "full"}) {
		t.Errorf("tags offered %q", got)
	}
	if ask.defs["Image tag to pull"] != "base" {
		t.Errorf("default tag %v", ask.defs["Image tag to pull"])
	}
	if len(images.pulled) != 1 || images.pulled[0].Tag != "full" {
		t.Errorf("pulled %+v", images.pulled)
	}
	if ask.defs["Sandbox image"] != "build" || !strings.HasPrefix(ask.helps["Sandbox image (ai-sandbox:latest):"]["pull"], "no prebuilt image found at reg.test/o/p (it did not list its tags)") {
		t.Errorf("image source: default %v, pull described as %q", ask.defs["Sandbox image"], ask.helps["Sandbox image (ai-sandbox:latest):"]["pull"])
	}
	if !strings.Contains(errb.String(), "cannot list the registry's tags (offline); offering base and full") {
		t.Errorf("stderr:\n%s", errb)
	}
	for _, q := range ask.asked {
		if strings.HasPrefix(q, "Base image") || strings.HasPrefix(q, "CA certificates") {
			t.Errorf("a pull asked %q", q)
		}
	}
}

func TestWizardCtrlC(t *testing.T) {
	ask := &scripted{t: t, answers: map[string]any{"Folders to whitelist": terminal.InterruptErr}}
	d, _, errb := testDeps(t, &fakeImages{}, ask)
	if code := runSetup(t, d); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if !strings.Contains(errb.String(), "setup interrupted") {
		t.Errorf("stderr:\n%s", errb)
	}
	if _, err := os.Stat(filepath.Join(d.Home, ".ai-sandbox", "env")); err == nil {
		t.Error("an interrupted setup wrote the env file")
	}
}

func TestWizardKeepsWorkspacesAndKeys(t *testing.T) {
	ask := &scripted{t: t, answers: map[string]any{
		"Workspaces:":             "keep",
		"Sandbox image":           "none",
		"Agents you use":          []string{"codex"},
		"Keys for codex":          []string{"OPENAI_API_KEY", "OPENAI_BASE_URL"},
		"OPENAI_API_KEY (hidden":  "", // empty: keep
		"OPENAI_BASE_URL:":        "https://example.test/v1",
		"Share your codex config": "off",
		"Write the aliases":       []string{},
	}}
	d, _, _ := testDeps(t, &fakeImages{}, ask)
	if _, _, err := whitelist.Add(d.Paths, d.Home, "~/proj", d.Getwd); err != nil {
		t.Fatal(err)
	}
	envPath := d.Paths.EnvFile()
	if err := os.WriteFile(envPath, []byte("# mine\nOPENAI_API_KEY=sk-old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got, _ := os.ReadFile(envPath)
	if want := "# mine\nOPENAI_API_KEY=sk-old\nOPENAI_BASE_URL=https://example.test/v1\n"; string(got) != want {
		t.Errorf("env:\n%s\nwant:\n%s", got, want)
	}
	cfg, err := config.Load(d.Paths)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(d.Home, "proj")}; !slices.Equal(cfg.Workspaces, want) {
		t.Errorf("workspaces %q", cfg.Workspaces)
	}
}

// A folder that does not exist yet: created when the user says yes,
// asked again when no; one the rules refuse is never created.
func TestWizardCreatesMissingWorkspace(t *testing.T) {
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":                         "~/new/app, ~/nope, ~/.ssh/keys",
		"Other folders instead of ~/nope, ~/.ssh/keys": "",
		"Sandbox image":                                "none",
		"Agents you use":                               []string{},
		"Write the aliases":                            []string{},
	}}
	d, out, errb := testDeps(t, &fakeImages{}, ask)
	ask.answers[filepath.Join(d.Home, "new", "app")+" does not exist. Create it?"] = true
	ask.answers[filepath.Join(d.Home, "nope")+" does not exist. Create it?"] = false
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	app := filepath.Join(d.Home, "new", "app")
	if st, err := os.Stat(app); err != nil || !st.IsDir() {
		t.Fatalf("%s was not created: %v", app, err)
	}
	for _, p := range []string{filepath.Join(d.Home, "nope"), filepath.Join(d.Home, ".ssh")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	if ask.defs[app+" does not exist. Create it?"] != true {
		t.Errorf("the create question does not default to yes")
	}
	cfg, err := config.Load(d.Paths)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Workspaces, []string{app}) {
		t.Errorf("workspaces %q", cfg.Workspaces)
	}
	if !strings.Contains(errb.String(), "ai-sandbox: created "+app+"\n") ||
		!strings.Contains(errb.String(), "refusing "+filepath.Join(d.Home, ".ssh", "keys")+": ~/.ssh holds credentials") {
		t.Errorf("stderr:\n%s", errb)
	}
	if !strings.Contains(out.String(), app+" (created, added)") {
		t.Errorf("summary:\n%s", out)
	}
}

// projectDeps are testDeps with the current folder a project that uses
// Go, pnpm and TypeScript.
func projectDeps(t *testing.T, images Images, ask Asker) (Deps, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	d, out, errb := testDeps(t, images, ask)
	proj := filepath.Join(d.Home, "proj")
	for _, f := range []string{"go.mod", "pnpm-lock.yaml", "tsconfig.json"} {
		if err := os.WriteFile(filepath.Join(proj, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.Getwd = func() (string, error) { return proj, nil }
	return d, out, errb
}

// In a project whose toolchain needs add-ons, a build asks once whether
// to add them (yes by default); the answer reaches the build.
func TestWizardOffersTheProjectsAddons(t *testing.T) {
	const q = "This project (~/proj) uses Go, pnpm, TypeScript: add the add-ons go, pnpm, lsp to the image?"
	for _, yes := range []bool{true, false} {
		images := &fakeImages{}
		ask := &scripted{t: t, answers: map[string]any{
			"Folders to whitelist":       "",
			"Sandbox image":              "build",
			"Agents to install":          []string{"opencode"},
			"Add-ons to build":           []string{"openspec"},
			"Image preset":               "lean",
			q:                            yes,
			"Base image to build":        imagebuild.DefaultBaseImage,
			"CA certificates":            "none",
			"Keys for opencode":          []string{},
			"Share your opencode config": "off",
			"Write the aliases":          []string{},
		}}
		d, out, _ := projectDeps(t, images, ask)
		if code := runSetup(t, d); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if !slices.Contains(ask.asked, q) || ask.defs[q] != true {
			t.Errorf("asked %q (default %v)", ask.asked, ask.defs[q])
		}
		want := []string{"openspec"}
		if yes {
			want = []string{"openspec", "go", "pnpm", "lsp"}
		}
		if got := images.built[0].Addons; !slices.Equal(got, want) {
			t.Errorf("answer %v: add-ons %q, want %q", yes, got, want)
		}
		if yes && !strings.Contains(out.String(), "add-ons: openspec, go, pnpm, lsp)") {
			t.Errorf("summary:\n%s", out)
		}
	}
}

// The full preset has them all: nothing to ask (the scripted asker
// fails on a question it has no answer for).
func TestWizardAsksNothingWhenThePresetHasTheProjectsAddons(t *testing.T) {
	images := &fakeImages{}
	ask := &scripted{t: t, answers: map[string]any{
		"Folders to whitelist":       "",
		"Sandbox image":              "build",
		"Agents to install":          []string{"opencode"},
		"Add-ons to build":           []string{},
		"Image preset":               "full",
		"Base image to build":        imagebuild.DefaultBaseImage,
		"CA certificates":            "none",
		"Keys for opencode":          []string{},
		"Share your opencode config": "off",
		"Write the aliases":          []string{},
	}}
	d, _, _ := projectDeps(t, images, ask)
	if code := runSetup(t, d); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := images.built[0].Addons; len(got) != 0 {
		t.Errorf("add-ons %q, want none", got)
	}
}

// Without a terminal: --yes takes the default (yes) unless --addons gives
// the add-ons; --for-project adds them to --addons; --for-project=false
// adds none.
func TestSetupProjectAddonsWithoutTerminal(t *testing.T) {
	base := []string{"--yes", "--image-source", "build", "--preset", "lean", "--tools", "opencode"}
	cases := []struct {
		args []string
		want []string
	}{
		{nil, []string{"go", "pnpm", "lsp"}},
		{[]string{"--addons", "openspec"}, []string{"openspec"}},
		{[]string{"--addons", "openspec", "--for-project"}, []string{"openspec", "go", "pnpm", "lsp"}},
		{[]string{"--for-project=false"}, []string{}},
		{[]string{"--addons", "pnpm", "--for-project"}, []string{"pnpm", "go", "lsp"}},
	}
	for _, c := range cases {
		images := &fakeImages{}
		d, _, _ := projectDeps(t, images, nil)
		if code := runSetup(t, d, append(append([]string{}, base...), c.args...)...); code != 0 {
			t.Fatalf("%q: exit %d", c.args, code)
		}
		if got := images.built[0].Addons; !slices.Equal(got, c.want) {
			t.Errorf("%q: add-ons %q, want %q", c.args, got, c.want)
		}
	}
	// --for-project is a build's.
	d, _, _ := projectDeps(t, &fakeImages{}, nil)
	if code := runSetup(t, d, "--yes", "--image-source", "pull", "--for-project"); code != 2 {
		t.Errorf("--image-source pull --for-project: exit %d, want 2", code)
	}
}
