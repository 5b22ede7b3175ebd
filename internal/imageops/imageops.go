// Package imageops builds, pulls and lists the sandbox images: the work
// behind 'ai-sandbox image build|pull|list', which setup calls directly.
// The cobra commands in internal/cli are thin wiring over it.
//
// Everything an operation needs comes in an Env (the docker CLI, a
// process runner, the streams, the state folder, the tools table); what
// it is asked to do comes in an options struct. Docker's own progress goes
// to stderr with our messages; data (a Dockerfile, a list) to stdout.
package imageops

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// Env is what the image operations need.
type Env struct {
	// Docker is the docker CLI to call: "docker", "podman", a path.
	Docker  string
	Runner  sandbox.Runner
	Streams ui.Streams
	Paths   config.Paths
	Tools   *tools.Table
	Getenv  func(string) string
	// Home is the user's home folder (for ~/ in CA paths); Getwd the
	// current folder (for relative ones).
	Home  string
	Getwd func() (string, error)
	// LoadConfig reads config.json; nil reads it with config.Load.
	LoadConfig func() (*config.Config, error)
	// Version is the ai-sandbox version recorded in a built image's labels.
	Version string
}

// dockerHint is the hint for a docker CLI that cannot be started.
const dockerHint = "is docker installed? set AI_SANDBOX_DOCKER to use another CLI, e.g. podman"

func (e Env) config() (*config.Config, error) {
	if e.LoadConfig != nil {
		return e.LoadConfig()
	}
	return config.Load(e.Paths)
}

func (e Env) docker(args ...string) []string {
	return append([]string{e.Docker}, args...)
}

// LocalImage is the image 'ai-sandbox run' starts, as the configuration
// says: AI_SANDBOX_IMAGE, else settings.image, else ai-sandbox:latest.
func LocalImage(cfg *config.Config, getenv func(string) string) (string, error) {
	r, err := config.Resolve(cfg.Settings, getenv, nil)
	if err != nil {
		return "", err
	}
	return r.Image, nil
}

// LocalImage reads the configuration and says which image run starts.
func (e Env) LocalImage() (string, error) {
	cfg, err := e.config()
	if err != nil {
		return "", err
	}
	return LocalImage(cfg, e.Getenv)
}

// Labels reads an image's labels; ok is false when it is missing.
func (e Env) Labels(ctx context.Context, image string) (map[string]string, bool) {
	res, err := e.Runner.Output(ctx, e.docker(docker.ImageInspectArgs(image, "{{json .Config.Labels}}")...))
	if err != nil || res.ExitCode != 0 {
		return nil, false
	}
	labels := map[string]string{}
	_ = json.Unmarshal([]byte(strings.TrimSpace(string(res.Stdout))), &labels)
	return labels, true
}

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidTag reports whether tag can be an image tag (base, full-v1.2.0, …).
func ValidTag(tag string) bool { return tagPattern.MatchString(tag) }

// isNone reports a list given as 'none' (or empty): choose nothing.
func isNone(list []string) bool {
	return len(list) == 0 || (len(list) == 1 && strings.EqualFold(strings.TrimSpace(list[0]), "none"))
}

// cleanList trims the entries and drops empty and repeated ones.
func cleanList(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range list {
		v = strings.TrimSpace(v)
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func splitComma(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func noneIfEmpty(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ",")
}
