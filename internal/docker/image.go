package docker

import (
	"maps"
	"slices"
	"strings"
)

// Image argv: build, pull, tag, list and inspect sandbox images. Like the
// rest of this package they do no I/O. Build arguments are versions, a
// base image and checksums, never secrets.

// BuildSpec is one `docker build` of the sandbox image.
type BuildSpec struct {
	Context    string            // the generated build context folder
	Dockerfile string            // "" = <Context>/Dockerfile
	Tags       []string          // the first is the image run uses
	BuildArgs  map[string]string // BASE_IMAGE, *_VERSION, *_SHA256_* overrides
	NoCache    bool
}

// BuildArgs renders `docker build …` for spec.
func BuildArgs(s BuildSpec) []string {
	a := []string{"build"}
	for _, t := range s.Tags {
		a = append(a, "--tag", t) // what `ai-sandbox run` starts
	}
	if s.Dockerfile != "" {
		a = append(a, "--file", s.Dockerfile)
	}
	for _, k := range slices.Sorted(maps.Keys(s.BuildArgs)) {
		a = append(a, "--build-arg", k+"="+s.BuildArgs[k]) // pins: base image, versions, digests
	}
	if s.NoCache {
		a = append(a, "--no-cache") // rebuild every layer, e.g. for Debian security updates
	}
	return append(a, s.Context)
}

// PullArgs fetches a prebuilt image.
func PullArgs(ref string) []string { return []string{"pull", ref} }

// TagArgs gives an image another name (the one run uses).
func TagArgs(src, dst string) []string { return []string{"tag", src, dst} }

// ImageListArgs lists local images carrying label, one tab-separated line
// each: full ID, repository, tag. Labels, size and dates come from
// ImagesInspectArgs, which reports them exactly.
func ImageListArgs(label string) []string {
	return []string{"image", "ls", "--no-trunc", "--filter", "label=" + label,
		"--format", "{{.ID}}\t{{.Repository}}\t{{.Tag}}"}
}

// ImagesInspectArgs inspects several images with one format line each.
func ImagesInspectArgs(format string, images ...string) []string {
	return append([]string{"image", "inspect", "--format", format}, images...)
}

// ImageRef joins a repository and a tag.
func ImageRef(repo, tag string) string {
	if tag == "" || strings.Contains(repo, "@") {
		return repo
	}
	return repo + ":" + tag
}
