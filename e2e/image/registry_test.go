package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
)

// registryModule is the CNCF distribution registry, built from its Go
// source through the module proxy: a real OCI registry with no image from
// any registry.
const registryModule = "github.com/distribution/distribution/v3/cmd/registry@v3.1.2"

// registryBinary builds the registry once per test binary run.
func registryBinary(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "ai-sandbox-e2e-registry-v3.1.2")
	bin := filepath.Join(dir, "registry")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	start := time.Now()
	cmd := exec.Command("go", "install", registryModule)
	cmd.Dir = os.TempDir() // outside our module: the registry's own go.mod pins its dependencies
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", registryModule, err, tail(string(out), 30))
	}
	t.Logf("built the registry in %s", time.Since(start).Round(time.Second))
	return bin
}

// localRegistry is a registry process on 127.0.0.1; docker treats a
// loopback registry as insecure, so it speaks plain HTTP.
type localRegistry struct {
	host string // 127.0.0.1:PORT
}

// startRegistry runs the registry until the test ends; login "user:pw"
// turns on htpasswd authentication.
func startRegistry(t *testing.T, bin, login string) localRegistry {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), host)
	if login != "" {
		user, pw, _ := strings.Cut(login, ":")
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		conf += fmt.Sprintf("auth:\n  htpasswd:\n    realm: e2e\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("registry %s log:\n%s", host, tail(logBuf.String(), 40))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return localRegistry{host: host}
			}
		}
		select {
		case <-done:
			t.Fatalf("the registry exited: %s", tail(logBuf.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry on %s did not answer in 30s: %v\n%s", host, err, tail(logBuf.String(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dockerCmd runs the docker CLI with a docker config folder of the test's
// own (logins never reach the user's), and fails the test on an error.
func (e *env) dockerCmd(t *testing.T, dockerConfig string, args ...string) string {
	t.Helper()
	cmd := exec.Command(e.docker, args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 20))
	}
	return string(out)
}

// TestImagePullFromRegistry publishes a test image as a release does (the
// release labels, the seed's tag names) to a real registry on this
// machine, and pulls it with ai-sandbox image pull: the tags are listed,
// the pinned tag becomes the image run uses, tools reads its agents, and a
// missing tag, an unreachable registry and a registry that wants a login
// each fail with what the registry said and a hint. With docker login's
// login, the private registry is listed and pulled too.
func TestImagePullFromRegistry(t *testing.T) {
	e := setup(t)
	bin := registryBinary(t)
	dockerConfig := t.TempDir()
	reg := startRegistry(t, bin, "")
	repo := reg.host + "/ai-sandbox/ai-sandbox"

	// The release image: the test base with the labels a release image
	// carries (the ones 'image build' writes).
	src := e.tag + "-release"
	labels := map[string]string{
		imagebuild.LabelImage: "1", imagebuild.LabelPreset: "base", imagebuild.LabelTools: "claude,opencode",
		imagebuild.LabelAddons: "", imagebuild.LabelBuilder: "v0.9.0",
		imagebuild.LabelVersionPrefix + "opencode": "1.18.33", imagebuild.LabelVersionPrefix + "claude": "2.1.332",
	}
	dockerfile := "ARG BASE\nFROM ${BASE}\nLABEL"
	for k, v := range labels {
		dockerfile += fmt.Sprintf(" %s=%q", k, v)
	}
	build := exec.Command(e.docker, "build", "--quiet", "--build-arg", "BASE="+e.base, "-t", src, "-")
	build.Stdin = strings.NewReader(dockerfile + "\n")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(e.docker, "image", "rm", "--force", src).Run() })
	srcID := strings.TrimSpace(e.dockerCmd(t, dockerConfig, "image", "inspect", "--format", "{{.Id}}", src))

	pushed := []string{"base", "base-v0.9.0", "base-sha-1a2b3c4", "full"}
	for _, tag := range pushed {
		ref := repo + ":" + tag
		e.dockerCmd(t, dockerConfig, "tag", src, ref)
		t.Cleanup(func() { exec.Command(e.docker, "image", "rm", ref).Run() })
		e.dockerCmd(t, dockerConfig, "push", ref)
	}
	// The pulled copies must come from the registry, not from these names.
	for _, tag := range pushed {
		exec.Command(e.docker, "image", "rm", repo+":"+tag).Run()
	}

	sandbox := func(args ...string) (string, string, error) {
		cmd := exec.Command(e.bin, args...)
		cmd.Env = append(os.Environ(), "HOME="+e.home, "AI_SANDBOX_HOME="+e.state, "AI_SANDBOX_IMAGE="+e.tag,
			"NO_COLOR=1", "DOCKER_CONFIG="+dockerConfig, "AI_SANDBOX_REGISTRY=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}

	t.Run("list tags", func(t *testing.T) {
		out, stderr, err := sandbox("image", "pull", "--registry", repo, "--list-tags", "--json")
		if err != nil {
			t.Fatalf("--list-tags: %v\n%s", err, stderr)
		}
		var tags []struct{ Name string }
		if err := json.Unmarshal([]byte(out), &tags); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var names []string
		for _, tg := range tags {
			names = append(names, tg.Name)
		}
		if got, want := strings.Join(names, ","), "base,base-sha-1a2b3c4,base-v0.9.0,full"; got != want {
			t.Errorf("tags %s, want %s", got, want)
		}
		out, _, err = sandbox("image", "pull", "--registry", repo, "--list-tags")
		if err != nil || !strings.Contains(out, "base-v0.9.0") {
			t.Errorf("table: %v\n%s", err, out)
		}
	})

	t.Run("pull a pinned tag", func(t *testing.T) {
		_, stderr, err := sandbox("image", "pull", "--registry", repo, "--tag", "base-v0.9.0")
		if err != nil {
			t.Fatalf("image pull: %v\n%s", err, tail(stderr, 20))
		}
		if !strings.Contains(stderr, "pulled "+repo+":base-v0.9.0 and tagged it "+e.tag) {
			t.Errorf("stderr:\n%s", stderr)
		}
		t.Cleanup(func() { exec.Command(e.docker, "image", "rm", repo+":base-v0.9.0").Run() })
		id := strings.TrimSpace(e.dockerCmd(t, dockerConfig, "image", "inspect", "--format", "{{.Id}}", e.tag))
		if id != srcID {
			t.Errorf("%s is %s, want the pushed image %s", e.tag, id, srcID)
		}
		digests := e.dockerCmd(t, dockerConfig, "image", "inspect", "--format", "{{json .RepoDigests}}", e.tag)
		if !strings.Contains(digests, repo+"@sha256:") {
			t.Errorf("%s has no digest from the registry: %s", e.tag, digests)
		}
		// tools reads the agents from its labels.
		out, stderr, err := sandbox("tools", "--json")
		if err != nil {
			t.Fatalf("tools: %v\n%s", err, stderr)
		}
		var list struct {
			Image        string
			ImagePresent bool
			Tools        []struct {
				Name         string
				InImage      bool
				ImageVersion string
			}
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		in := map[string]string{}
		for _, tl := range list.Tools {
			if tl.InImage {
				in[tl.Name] = tl.ImageVersion
			}
		}
		if list.Image != e.tag || !list.ImagePresent || len(in) != 2 || in["opencode"] != "1.18.33" || in["claude"] != "2.1.332" {
			t.Errorf("tools: image %s present %v, in image %v", list.Image, list.ImagePresent, in)
		}
		cfg, err := os.ReadFile(filepath.Join(e.state, "config.json"))
		if err != nil || !strings.Contains(string(cfg), "\"installed\": [\n      \"claude\",\n      \"opencode\"\n    ]") {
			t.Errorf("config.json tools.installed: %v\n%s", err, cfg)
		}
	})

	t.Run("missing tag", func(t *testing.T) {
		_, stderr, err := sandbox("image", "pull", "--registry", repo, "--tag", "base-v9.9.9")
		if err == nil {
			t.Fatal("pulling a missing tag succeeded")
		}
		for _, want := range []string{
			"error: docker pull " + repo + ":base-v9.9.9 failed (exit 1): " + repo + ` has no tag "base-v9.9.9" (it has base, base-sha-1a2b3c4, base-v0.9.0, full)`,
			"hint: pick one with --tag; 'ai-sandbox image pull --list-tags' lists them all",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		_, stderr, err := sandbox("image", "pull", "--registry", closed+"/ai-sandbox/ai-sandbox", "--tag", "base")
		if err == nil {
			t.Fatal("pulling from a closed port succeeded")
		}
		for _, want := range []string{
			"failed (exit 1): cannot reach the registry " + closed + ": ",
			"hint: check the address (--registry, AI_SANDBOX_REGISTRY or image.registry in config.json) and the network",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		_, stderr, err = sandbox("image", "pull", "--registry", closed+"/ai-sandbox/ai-sandbox", "--list-tags")
		if err == nil || !strings.Contains(stderr, "error: cannot list the tags of "+closed+"/ai-sandbox/ai-sandbox: cannot reach the registry") {
			t.Errorf("--list-tags: %v\n%s", err, stderr)
		}
	})

	t.Run("login", func(t *testing.T) {
		priv := startRegistry(t, bin, "me:s3cret-pw")
		privRepo := priv.host + "/team/sandbox"
		_, stderr, err := sandbox("image", "pull", "--registry", privRepo, "--tag", "base")
		if err == nil {
			t.Fatal("pulling from a registry that wants a login succeeded without one")
		}
		for _, want := range []string{
			"failed (exit 1): the registry " + priv.host + " wants a login: ",
			"hint: log in with 'docker login " + priv.host + "' (ai-sandbox and docker both use that login), then retry",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		// As the hint says: docker login, then both the listing and the
		// pull work (the login is in the test's own DOCKER_CONFIG).
		login := exec.Command(e.docker, "login", "--username", "me", "--password-stdin", priv.host)
		login.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
		login.Stdin = strings.NewReader("s3cret-pw")
		if out, err := login.CombinedOutput(); err != nil {
			t.Fatalf("docker login: %v\n%s", err, out)
		}
		e.dockerCmd(t, dockerConfig, "tag", src, privRepo+":base")
		t.Cleanup(func() { exec.Command(e.docker, "image", "rm", privRepo+":base").Run() })
		e.dockerCmd(t, dockerConfig, "push", privRepo+":base")
		e.dockerCmd(t, dockerConfig, "image", "rm", privRepo+":base")
		out, stderr, err := sandbox("image", "pull", "--registry", privRepo, "--list-tags")
		if err != nil || !strings.Contains(out, "base") {
			t.Errorf("--list-tags with the login: %v\n%s%s", err, out, stderr)
		}
		if _, stderr, err := sandbox("image", "pull", "--registry", privRepo, "--tag", "base"); err != nil {
			t.Errorf("pull with the login: %v\n%s", err, tail(stderr, 20))
		}
		// A wrong login is told apart from none.
		wrong := exec.Command(e.docker, "logout", priv.host)
		wrong.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
		wrong.Run()
		bad := fmt.Sprintf(`{"auths":{%q:{"auth":"bWU6bm9wZQ=="}}}`, priv.host) // me:nope
		if err := os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, err = sandbox("image", "pull", "--registry", privRepo, "--list-tags")
		if err == nil || !strings.Contains(stderr, "the registry "+priv.host+" refused the login") ||
			!strings.Contains(stderr, "hint: log in again with 'docker login "+priv.host+"'") {
			t.Errorf("wrong login: %v\n%s", err, stderr)
		}
	})
}
