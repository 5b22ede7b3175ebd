package imageops

import (
	"context"
	"encoding/json"
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
	// Registry is the image repository; "" is $AI_SANDBOX_REGISTRY, else
	// registry.Default.
	Registry string
	// Tag is the tag to pull: base, full, base-v<version>, …
	Tag string
}

// Registry is the image repository to pull from: flag, else
// $AI_SANDBOX_REGISTRY, else registry.Default. One that is not HOST/PATH
// is a usage error.
func (e Env) Registry(flag string) (string, error) {
	repo := strings.TrimSpace(flag)
	if repo == "" {
		repo = strings.TrimSpace(e.Getenv("AI_SANDBOX_REGISTRY"))
	}
	if repo == "" {
		repo = registry.Default
	}
	if _, _, err := registry.Split(repo); err != nil {
		return "", ui.Usagef("%v", err)
	}
	return repo, nil
}

// Pull pulls a prebuilt image with docker's own progress on stderr, tags
// it as the image run uses, and records the agents its labels list in
// tools.installed. A docker failure comes back as a ui.ExitError with
// docker's code, said on stderr already.
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
		s.Errorf("docker pull %s failed (exit %d)", ref, code)
		s.Hintf("see the tags with 'ai-sandbox image pull --list-tags', or build locally with 'ai-sandbox image build'")
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
	l := registry.Lister{Client: &http.Client{Timeout: 15 * time.Second}}
	tags, err := l.List(ctx, repo, token)
	if err == nil && len(tags) == 0 {
		err = fmt.Errorf("the registry listed no tags")
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
