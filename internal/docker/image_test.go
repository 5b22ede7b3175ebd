package docker_test

import (
	"testing"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
)

func TestImageArgvGolden(t *testing.T) {
	golden(t, "build-minimal", docker.BuildArgs(docker.BuildSpec{Context: "/tmp/ctx", Tags: []string{"ai-sandbox:latest"}}))
	golden(t, "build-full", docker.BuildArgs(docker.BuildSpec{
		Context: "/tmp/ai-sandbox-build-1", Dockerfile: "/tmp/ai-sandbox-build-1/Dockerfile",
		Tags:      []string{"ai-sandbox:latest", "ai-sandbox:base"},
		BuildArgs: map[string]string{"OPENCODE_VERSION": "1.18.33", "BASE_IMAGE": "ai-sandbox-test-base:bookworm", "GOOSE_SHA256_AMD64": "abc"},
		NoCache:   true,
	}))
	golden(t, "image-pull", docker.PullArgs("ghcr.io/ai-sandbox/ai-sandbox:base"))
	golden(t, "image-tag", docker.TagArgs("ghcr.io/ai-sandbox/ai-sandbox:base", "ai-sandbox:latest"))
	golden(t, "image-ls", docker.ImageListArgs("ai-sandbox.image"))
	golden(t, "image-inspect-many", docker.ImagesInspectArgs("{{json .Config.Labels}}", "sha256:1", "sha256:2"))
}

func TestImageRef(t *testing.T) {
	for _, c := range [][3]string{
		{"ghcr.io/a/b", "base", "ghcr.io/a/b:base"},
		{"localhost:5000/a", "full-v1.2.3", "localhost:5000/a:full-v1.2.3"},
		{"a/b@sha256:00", "base", "a/b@sha256:00"},
		{"a/b", "", "a/b"},
	} {
		if got := docker.ImageRef(c[0], c[1]); got != c[2] {
			t.Errorf("ImageRef(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
