package imageops

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/proc"
)

// dockerConfig is the part of docker's config.json that keeps logins.
type dockerConfig struct {
	Auths map[string]struct {
		Auth string `json:"auth"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// dockerLogin is the login 'docker login HOST' kept: in docker's
// config.json ($DOCKER_CONFIG, else ~/.docker) or in the credential helper
// it names. ok is false when there is none, so the registry is asked
// anonymously. The secret is only ever sent to that registry.
func (e Env) dockerLogin(ctx context.Context, host string) (user, secret string, ok bool) {
	dir := e.Getenv("DOCKER_CONFIG")
	if dir == "" {
		if e.Home == "" {
			return "", "", false
		}
		dir = filepath.Join(e.Home, ".docker")
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", "", false
	}
	var c dockerConfig
	if json.Unmarshal(data, &c) != nil {
		return "", "", false
	}
	helper := c.CredHelpers[host]
	if helper == "" {
		helper = c.CredsStore
	}
	if helper != "" && !strings.ContainsAny(helper, "/\\ ") {
		if u, s, ok := e.credentialHelper(ctx, helper, host); ok {
			return u, s, true
		}
	}
	for _, key := range []string{host, "https://" + host, "http://" + host} {
		if a, found := c.Auths[key]; found && a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				continue
			}
			if u, s, ok := strings.Cut(string(raw), ":"); ok {
				return u, s, true
			}
		}
	}
	return "", "", false
}

// credentialHelper asks docker-credential-HELPER for host's login.
func (e Env) credentialHelper(ctx context.Context, helper, host string) (string, string, bool) {
	var out bytes.Buffer
	code, err := e.Runner.Interactive(ctx, []string{"docker-credential-" + helper, "get"},
		proc.Stdio{In: strings.NewReader(host), Out: &out, Err: &bytes.Buffer{}}, nil, nil)
	if err != nil || code != 0 {
		return "", "", false
	}
	var v struct{ Username, Secret string }
	if json.Unmarshal(out.Bytes(), &v) != nil || v.Secret == "" {
		return "", "", false
	}
	return v.Username, v.Secret, true
}
