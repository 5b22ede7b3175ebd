package imageops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/registry"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// PullOptions are what to pull.
type PullOptions struct {
	// Registry is the image repository; "" is resolved by Registry.
	Registry string
	// Tag is the tag to pull: base, full, base-v<version>, …
	Tag string
}

// Registry is the image repository to pull from: flag, else
// $AI_SANDBOX_REGISTRY, else image.registry in config.json, else
// registry.Default. One that is not HOST/PATH is a usage error.
func (e Env) Registry(flag string) (string, error) {
	repo, _, err := e.RegistrySource(flag)
	return repo, err
}

// RegistrySource is Registry with where the value came from: flag, env,
// file or default.
func (e Env) RegistrySource(flag string) (repo, source string, err error) {
	repo, source = strings.TrimSpace(flag), "flag"
	if repo == "" {
		repo, source = strings.TrimSpace(e.Getenv("AI_SANDBOX_REGISTRY")), "env"
	}
	if repo == "" {
		cfg, err := e.config()
		if err != nil {
			return "", "", err
		}
		repo, source = strings.TrimSpace(cfg.Image.Registry), "file"
		if repo != "" {
			if _, _, err := registry.Split(repo); err != nil {
				return "", "", fmt.Errorf("config.json image.registry: %w", err)
			}
		}
	}
	if repo == "" {
		repo, source = registry.Default, "default"
	}
	if _, _, err := registry.Split(repo); err != nil {
		return "", "", ui.Usagef("%v", err)
	}
	return repo, source, nil
}

// Pull pulls a prebuilt image with docker's own progress on stderr, tags
// it as the image run uses, and records the agents its labels list in
// tools.installed. A docker failure comes back as a ui.ExitError with
// docker's code, said on stderr already with what the registry says of
// it: unreachable, wants a login, no such repository or no such tag.
func (e Env) Pull(ctx context.Context, o PullOptions) error {
	repo, err := e.Registry(o.Registry)
	if err != nil {
		return err
	}
	if !ValidTag(o.Tag) {
		return ui.Usagef("--tag %q: not an image tag (e.g. base, full, base-v1.2.0)", o.Tag)
	}
	s := e.Streams
	local, err := e.LocalImage()
	if err != nil {
		return err
	}
	ref := docker.ImageRef(repo, o.Tag)
	code, err := e.Runner.Interactive(ctx, e.docker(docker.PullArgs(ref)...), proc.Stdio{Out: s.Err, Err: s.Err}, nil, nil)
	if err != nil {
		return ui.WithHint(err, dockerHint)
	}
	if code != 0 {
		why, hint := e.whyPullFailed(ctx, repo, o.Tag)
		s.Errorf("docker pull %s failed (exit %d)%s", ref, code, why)
		s.Hintf("%s", hint)
		return &ui.ExitError{Code: code}
	}
	res, err := e.Runner.Output(ctx, e.docker(docker.TagArgs(ref, local)...))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("docker tag %s %s: %s", ref, local, strings.TrimSpace(string(res.Stderr)))
	}
	if labels, ok := e.Labels(ctx, local); ok {
		if names := splitComma(labels[imagebuild.LabelTools]); labels[imagebuild.LabelImage] == "1" {
			if err := config.Update(e.Paths, func(c *config.Config) error {
				c.Tools.Installed = append([]string{}, names...)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	s.Infof("pulled %s and tagged it %s", ref, local)
	return nil
}

// whyPullFailed asks the registry what docker's failed pull of repo:tag
// met, for the error line (": …", or "" when the registry does not tell)
// and its hint.
func (e Env) whyPullFailed(ctx context.Context, repo, tag string) (why, hint string) {
	tags, err := e.ListTags(ctx, repo)
	if err != nil {
		return ": " + err.Error(), TagsHint(repo, err)
	}
	var names []string
	for _, t := range tags {
		if t.Name == tag {
			return "", "the registry has the tag, so the pull failed on the way (docker's message is above); try again, or build locally with 'ai-sandbox image build'"
		}
		names = append(names, t.Name)
	}
	shown := names
	if len(shown) > 8 {
		shown = append(shown[:8:8], "…")
	}
	return fmt.Sprintf(": %s has no tag %q (it has %s)", repo, tag, strings.Join(shown, ", ")),
		"pick one with --tag; 'ai-sandbox image pull --list-tags' lists them all"
}

// TagsHint is the hint for a registry that could not list repo's tags.
func TagsHint(repo string, err error) string {
	host, _, _ := registry.Split(repo)
	var re *registry.Error
	errors.As(err, &re)
	switch registry.KindOf(err) {
	case registry.Unreachable:
		return "check the address (--registry, AI_SANDBOX_REGISTRY or image.registry in config.json) and the network, or build the image here with 'ai-sandbox image build'"
	case registry.NeedsLogin:
		if re != nil && re.LoggedIn {
			return fmt.Sprintf("log in again with 'docker login %s', then retry", host)
		}
		return fmt.Sprintf("log in with 'docker login %s' (ai-sandbox and docker both use that login), then retry", host)
	case registry.NoRepository:
		return "check the repository name (--registry, AI_SANDBOX_REGISTRY or image.registry in config.json); where nothing is published, build the image here with 'ai-sandbox image build'"
	}
	return "see the tags with 'ai-sandbox image pull --list-tags', or build locally with 'ai-sandbox image build'"
}

// ListTags lists the tags of the repository (see Registry for ""), with
// push dates when the GitHub API gives them. It says nothing: the caller
// decides what to do when the registry cannot be reached.
func (e Env) ListTags(ctx context.Context, repo string) ([]registry.Tag, error) {
	repo, err := e.Registry(repo)
	if err != nil {
		return nil, err
	}
	token := ""
	if host, _, _ := registry.Split(repo); host == "ghcr.io" {
		token = e.githubToken(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	l := registry.Lister{Client: &http.Client{Timeout: 15 * time.Second},
		Credentials: func(host string) (string, string, bool) { return e.dockerLogin(ctx, host) }}
	tags, err := l.List(ctx, repo, token)
	if err == nil && len(tags) == 0 {
		err = fmt.Errorf("%s has no tags", repo)
	}
	if err != nil {
		return nil, err
	}
	return tags, nil
}

// FallbackTags are the rolling tags, offered when the registry cannot be
// asked.
func FallbackTags() []registry.Tag {
	var tags []registry.Tag
	for _, t := range registry.FallbackTags {
		tags = append(tags, registry.Tag{Name: t})
	}
	return tags
}

// WriteTags prints tags as a table, or as JSON.
func WriteTags(w io.Writer, tags []registry.Tag, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(tags)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tPUSHED")
	for _, t := range tags {
		when := "-"
		if !t.Pushed.IsZero() {
			when = t.Pushed.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(tw, "%s\t%s\n", t.Name, when)
	}
	return tw.Flush()
}

// githubToken finds a GitHub token for the packages API: GH_TOKEN,
// GITHUB_TOKEN, else `gh auth token`; "" lists anonymously.
func (e Env) githubToken(ctx context.Context) string {
	for _, k := range []string{"GH_TOKEN", "GITHUB_TOKEN"} {
		if v := strings.TrimSpace(e.Getenv(k)); v != "" {
			return v
		}
	}
	res, err := e.Runner.Output(ctx, []string{"gh", "auth", "token"})
	if err != nil || res.ExitCode != 0 {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}
