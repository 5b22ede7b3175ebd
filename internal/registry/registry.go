// Package registry lists the tags of a prebuilt sandbox image: from the
// GitHub Packages API (with push dates) when a GitHub token is at hand and
// the image is on ghcr.io, else anonymously from the registry's own v2 API
// (tags only). It starts no process; the caller finds the token.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Default is the repository of the published sandbox images.
const Default = "ghcr.io/ai-sandbox/ai-sandbox"

// FallbackTags are shown when the registry cannot be asked: the rolling
// tags of the two presets.
var FallbackTags = []string{"base", "full"}

// Tag is one tag; Pushed is zero when the source does not say.
type Tag struct {
	Name   string    `json:"name"`
	Pushed time.Time `json:"pushed,omitzero"`
}

// Lister asks registries. Zero fields take the public defaults.
type Lister struct {
	Client *http.Client
	// GitHubAPI is the GitHub REST API root (tests point it elsewhere).
	GitHubAPI string
	// Scheme is the registry's scheme, "https" unless a test says "http".
	Scheme string
}

// Split parses "host/owner/name" into the registry host and the path.
func Split(repo string) (host, path string, err error) {
	host, path, ok := strings.Cut(repo, "/")
	if !ok || path == "" || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return "", "", fmt.Errorf("registry repository %q: expected HOST/PATH such as %s", repo, Default)
	}
	return host, path, nil
}

// List returns repo's tags, newest push first when dates are known, else
// by name. githubToken may be "".
func (l Lister) List(ctx context.Context, repo, githubToken string) ([]Tag, error) {
	host, path, err := Split(repo)
	if err != nil {
		return nil, err
	}
	var tags []Tag
	if host == "ghcr.io" && githubToken != "" {
		tags, err = l.github(ctx, path, githubToken)
		if err != nil {
			// A token without read:packages still lets the anonymous API work.
			var anonErr error
			if tags, anonErr = l.v2(ctx, host, path); anonErr != nil {
				return nil, fmt.Errorf("%v; anonymously: %v", err, anonErr)
			}
		}
	} else {
		tags, err = l.v2(ctx, host, path)
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(tags, func(i, j int) bool {
		if !tags[i].Pushed.Equal(tags[j].Pushed) {
			return tags[i].Pushed.After(tags[j].Pushed)
		}
		return tags[i].Name < tags[j].Name
	})
	return tags, nil
}

func (l Lister) client() *http.Client {
	if l.Client != nil {
		return l.Client
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (l Lister) get(ctx context.Context, u, auth string, out any) (http.Header, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := l.client().Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.Header, resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.Header, resp.StatusCode, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp.Header, resp.StatusCode, fmt.Errorf("GET %s: %v", u, err)
	}
	return resp.Header, resp.StatusCode, nil
}

// github lists a ghcr.io package's versions with their tags and dates.
func (l Lister) github(ctx context.Context, path, token string) ([]Tag, error) {
	api := l.GitHubAPI
	if api == "" {
		api = "https://api.github.com"
	}
	owner, pkg, ok := strings.Cut(path, "/")
	if !ok {
		return nil, fmt.Errorf("ghcr.io/%s: expected OWNER/PACKAGE", path)
	}
	var lastErr error
	for _, kind := range []string{"orgs", "users"} {
		var versions []struct {
			CreatedAt time.Time `json:"created_at"`
			UpdatedAt time.Time `json:"updated_at"`
			Metadata  struct {
				Container struct {
					Tags []string `json:"tags"`
				} `json:"container"`
			} `json:"metadata"`
		}
		u := fmt.Sprintf("%s/%s/%s/packages/container/%s/versions?per_page=100", api, kind, url.PathEscape(owner), url.PathEscape(pkg))
		_, status, err := l.get(ctx, u, "Bearer "+token, &versions)
		if status == http.StatusNotFound {
			lastErr = err
			continue
		}
		if err != nil {
			return nil, err
		}
		var tags []Tag
		for _, v := range versions {
			when := v.UpdatedAt
			if when.IsZero() {
				when = v.CreatedAt
			}
			for _, t := range v.Metadata.Container.Tags {
				tags = append(tags, Tag{Name: t, Pushed: when})
			}
		}
		return tags, nil
	}
	return nil, lastErr
}

// v2 lists tags through the registry API, getting an anonymous pull
// token when the registry asks for one (ghcr.io, Docker Hub, …).
func (l Lister) v2(ctx context.Context, host, path string) ([]Tag, error) {
	scheme := l.Scheme
	if scheme == "" {
		scheme = "https"
	}
	u := fmt.Sprintf("%s://%s/v2/%s/tags/list?n=1000", scheme, host, path)
	var list struct {
		Tags []string `json:"tags"`
	}
	hdr, status, err := l.get(ctx, u, "", &list)
	if status == http.StatusUnauthorized {
		token, terr := l.anonymousToken(ctx, hdr.Get("Www-Authenticate"), path)
		if terr != nil {
			return nil, terr
		}
		_, _, err = l.get(ctx, u, "Bearer "+token, &list)
	}
	if err != nil {
		return nil, err
	}
	var tags []Tag
	for _, t := range list.Tags {
		tags = append(tags, Tag{Name: t})
	}
	return tags, nil
}

func (l Lister) anonymousToken(ctx context.Context, challenge, path string) (string, error) {
	params := parseChallenge(challenge)
	realm := params["realm"]
	if realm == "" {
		return "", errors.New("registry wants authentication but names no token service")
	}
	q := url.Values{}
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	scope := params["scope"]
	if scope == "" {
		scope = "repository:" + path + ":pull"
	}
	q.Set("scope", scope)
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if _, _, err := l.get(ctx, realm+"?"+q.Encode(), "", &tok); err != nil {
		return "", err
	}
	if tok.Token != "" {
		return tok.Token, nil
	}
	if tok.AccessToken != "" {
		return tok.AccessToken, nil
	}
	return "", errors.New("registry token service returned no token")
}

// parseChallenge reads `Bearer realm="…",service="…",scope="…"`.
func parseChallenge(h string) map[string]string {
	out := map[string]string{}
	_, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(strings.SplitN(h, " ", 2)[0], "bearer") {
		return out
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.TrimSpace(k)
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				out[k] = v[1:]
				break
			}
			out[k] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, r, _ := strings.Cut(v, ",")
			out[k] = val
			rest = r
		}
	}
	return out
}
