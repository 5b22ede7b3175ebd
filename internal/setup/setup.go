// Package setup is 'ai-sandbox setup': a wizard that asks, step by step,
// for what ai-sandbox needs (the Docker engine, workspaces, the sandbox
// image, API keys, host config and logins, shell aliases), then writes it
// and says what it wrote where. Every question has a flag, so setup runs
// without a terminal too.
//
// A run first decides (flags, then questions, nothing written), then
// does: config.json, the env file, the login copies, the rc files, and
// last the long part, the image pull or build. The files are:
//
//	setup.go            Deps, Run and the order of the steps
//	options.go          the flags, their validation, the answers they give
//	step_*.go           one step each: docker, workspaces, image, keys,
//	                    host config and logins, aliases
//	write_*.go          the writers: config.json, env file, login copies,
//	                    rc files
//	found.go, summary.go  what was there before; what was done
//	ask.go              the questions on a terminal (survey)
package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
	"github.com/ai-sandbox/ai-sandbox/internal/imageops"
	"github.com/ai-sandbox/ai-sandbox/internal/registry"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// Deps are the facts and services setup uses; cli builds them from its
// own Deps.
type Deps struct {
	Streams ui.Streams
	Runner  sandbox.Runner
	Tools   *tools.Table
	// Home is the user's home folder; Getwd the current folder.
	Home   string
	Getwd  func() (string, error)
	Getenv func(string) string
	Paths  config.Paths
	// Docker is the docker CLI: "docker" (when empty), "podman", a path.
	Docker string
	// LoadConfig reads config.json; nil reads it with config.Load.
	LoadConfig func() (*config.Config, error)
	// Images pulls and builds the sandbox image (imageops.Env does);
	// required.
	Images Images
	// Ask asks the questions on a terminal; nil asks them with survey on
	// the streams' files.
	Ask Asker
}

// Images is what setup needs of the sandbox images: the registry's tags,
// a pull, a build. imageops.Env is the real one.
type Images interface {
	ListTags(ctx context.Context, registry string) ([]registry.Tag, error)
	// Registry is the repository a pull uses ("" resolves it).
	Registry(flag string) (string, error)
	Pull(ctx context.Context, o imageops.PullOptions) error
	Build(ctx context.Context, o imageops.BuildOptions) error
}

// wizard is one run of setup: the answers, then what was done.
type wizard struct {
	deps Deps
	o    *Options
	ask  Asker

	cfg *config.Config
	env *envfile.File

	// answers
	toolNames   []string
	source      string // pull, build, none
	tag         string
	addons      []string
	preset      string
	baseImage   *string           // nil: the recorded one; "default" resets it
	caCerts     []string          // nil: the recorded ones; empty: none
	hostConfig  map[string]string // tool → off|ro|rw
	copyLogin   map[string]bool
	newKeys     map[string]string
	shells      []shellrc.Shell
	interactive bool
	tags        *tagList // the registry's tags, asked in the background

	// what was done
	rcChanged []shellrc.Shell // the shells whose rc file was written
	failed    []error         // rc files that could not be written
	summary   []summaryLine
}

// tagList is the registry's answer to the tag listing.
type tagList struct {
	done chan struct{}
	list []registry.Tag
	err  error
}

// Run runs setup with the answers o holds (its flags, see AddFlags).
func Run(ctx context.Context, d Deps, o *Options) error {
	if d.Docker == "" {
		d.Docker = "docker"
	}
	if d.Images == nil {
		return errors.New("setup: no image operations given")
	}
	s := &wizard{deps: d, o: o, ask: d.Ask}
	return s.run(ctx)
}

func (s *wizard) loadConfig() (*config.Config, error) {
	if s.deps.LoadConfig != nil {
		return s.deps.LoadConfig()
	}
	return config.Load(s.deps.Paths)
}

func (s *wizard) run(ctx context.Context) error {
	if err := s.validate(); err != nil {
		return err
	}
	if s.o.removeAliases {
		return s.removeAliases()
	}
	// Both files must parse before any question: neither is ever
	// overwritten when it does not.
	var err error
	if s.cfg, err = s.loadConfig(); err != nil {
		return err
	}
	envPath := s.deps.Paths.EnvFile()
	if s.env, err = envfile.Load(envPath); err != nil {
		return ui.WithHint(err, "fix that line of "+s.tilde(envPath)+", then run setup again")
	}
	st := s.deps.Streams
	// --yes answers every question a flag does not: nothing is asked.
	s.interactive = st.Interactive() && st.InFile != nil && st.OutFile != nil && !s.o.yes
	if s.interactive && s.ask == nil {
		s.ask = st.NewAsker()
	}
	if !s.interactive {
		if err := s.checkAnswers(); err != nil {
			return err
		}
	}
	s.reportFound()

	err = s.steps(ctx)
	if errors.Is(err, terminal.InterruptErr) {
		st.Infof("setup interrupted; what was written before stays")
		return &ui.ExitError{Code: 130}
	}
	return err
}

// steps asks (each step decides its answers), then writes, then pulls or
// builds the image, then says what happened.
func (s *wizard) steps(ctx context.Context) error {
	if s.interactive && s.o.tag == "" && s.impliedSource() == "" {
		s.startTagList(ctx)
	}
	for _, step := range []func(context.Context) error{
		s.checkDocker,
		s.stepWorkspaces,
		s.stepImage,
		s.stepKeys,
		s.stepHostConfig,
		s.stepShells,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	// Questions are over: write, then the long part (the image), then
	// say what happened.
	for _, write := range []func() error{s.writeConfig, s.writeEnv, s.copyLogins, s.writeAliases} {
		if err := write(); err != nil {
			return err
		}
	}
	imgErr := s.doImage(ctx)
	s.printSummary()
	st := s.deps.Streams
	var exit *ui.ExitError
	if errors.As(imgErr, &exit) {
		// The image operation has said what failed (docker's own exit
		// code comes back unchanged); say how to retry.
		for _, h := range ui.HintsOf(imgErr) {
			st.Hintf("%s", h)
		}
	}
	if imgErr == nil && len(s.failed) > 0 {
		for _, err := range s.failed[1:] {
			st.Errorf("%v", err)
			for _, h := range ui.HintsOf(err) {
				st.Hintf("%s", h)
			}
		}
		return s.failed[0]
	}
	return imgErr
}

func (s *wizard) tilde(path string) string { return shellrc.Tilde(path, s.deps.Home) }

func (s *wizard) note(what, format string, a ...any) {
	s.summary = append(s.summary, summaryLine{what, fmt.Sprintf(format, a...)})
}
