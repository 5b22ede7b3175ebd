// Package registry lists the tags of a prebuilt sandbox image: from the
// GitHub Packages API (with push dates) when a GitHub token is at hand and
// the image is on ghcr.io, else anonymously from the registry's own v2 API
// (tags only). It starts no process; the caller finds the token.
package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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
	// Scheme is the registry's scheme. "" is https, with plain http tried
	// after it for a loopback registry (as docker does: it treats
	// 127.0.0.0/8 and localhost as insecure registries).
	Scheme string
	// Credentials gives the login for a registry host (docker login's),
	// used when the registry asks for one; nil or !ok lists anonymously.
	Credentials func(host string) (user, secret string, ok bool)
}

// Kind says why a registry could not be asked.
type Kind int

const (
	// Failed is any other failure (a bad answer, a server error).
	Failed Kind = iota
	// Unreachable: no connection (no such host, refused, timed out, TLS).
	Unreachable
	// NeedsLogin: the registry refused without a login, or refused the login.
	NeedsLogin
	// NoRepository: the registry does not know the repository.
	NoRepository
)

// Error is a failure to list a repository's tags, with its kind.
type Error struct {
	Kind Kind
	Host string
	// LoggedIn says a login was sent (and refused) for NeedsLogin.
	LoggedIn bool
	Err      error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Unreachable:
		return fmt.Sprintf("cannot reach the registry %s: %v", e.Host, e.Err)
	case NeedsLogin:
		if e.LoggedIn {
			return fmt.Sprintf("the registry %s refused the login: %v", e.Host, e.Err)
		}
		return fmt.Sprintf("the registry %s wants a login: %v", e.Host, e.Err)
	case NoRepository:
		return fmt.Sprintf("the registry %s has no such repository: %v", e.Host, e.Err)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a listing error (Failed for any other error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Failed
}

// Split parses "host/owner/name" into the registry host and the path.
func Split(repo string) (host, path string, err error) {
	host, path, ok := strings.Cut(repo, "/")
	if !ok || path == "" || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return "", "", fmt.Errorf("registry repository %q: expected HOST/PATH such as %s", repo, Default)
	}
	return host, path, nil
}

// Loopback says whether a registry host (with or without its port) is
// this machine: localhost, 127.0.0.0/8 or ::1.
func Loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
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

func (l Lister) schemes(host string) []string {
	if l.Scheme != "" {
		return []string{l.Scheme}
	}
	if Loopback(host) {
		return []string{"https", "http"}
	}
	return []string{"https"}
}

// v2 lists tags through the registry API, with a token when the registry
// asks for one (anonymous, or for the login that Credentials gives), or
// with the login itself when the registry asks for basic authentication.
// Its errors are *Error with their Kind.
func (l Lister) v2(ctx context.Context, host, path string) ([]Tag, error) {
	var list struct {
		Tags []string `json:"tags"`
	}
	var (
		u      string
		hdr    http.Header
		status int
		err    error
	)
	for _, scheme := range l.schemes(host) {
		u = fmt.Sprintf("%s://%s/v2/%s/tags/list?n=1000", scheme, host, path)
		if hdr, status, err = l.get(ctx, u, "", &list); status != 0 {
			break // it answered
		}
	}
	loggedIn := false
	if status == http.StatusUnauthorized {
		auth, sent, aerr := l.authorize(ctx, host, path, hdr.Get("Www-Authenticate"))
		if aerr != nil {
			return nil, aerr
		}
		loggedIn = sent
		_, status, err = l.get(ctx, u, auth, &list)
	}
	if err != nil {
		return nil, classify(host, status, loggedIn, err)
	}
	var tags []Tag
	for _, t := range list.Tags {
		tags = append(tags, Tag{Name: t})
	}
	return tags, nil
}

// classify turns a failed request into an *Error by its status (0: none).
func classify(host string, status int, loggedIn bool, err error) error {
	switch status {
	case 0:
		return &Error{Kind: Unreachable, Host: host, Err: err}
	case http.StatusUnauthorized, http.StatusForbidden:
		return &Error{Kind: NeedsLogin, Host: host, LoggedIn: loggedIn, Err: err}
	case http.StatusNotFound:
		return &Error{Kind: NoRepository, Host: host, Err: err}
	}
	return &Error{Kind: Failed, Host: host, Err: err}
}

// authorize answers a 401's challenge: the Authorization header to send
// again, and whether it carries the user's login.
func (l Lister) authorize(ctx context.Context, host, path, challenge string) (string, bool, error) {
	var user, secret string
	have := false
	if l.Credentials != nil {
		user, secret, have = l.Credentials(host)
	}
	scheme, _, _ := strings.Cut(strings.TrimSpace(challenge), " ")
	switch strings.ToLower(scheme) {
	case "basic":
		if !have {
			return "", false, &Error{Kind: NeedsLogin, Host: host, Err: errors.New("it answered 401 Unauthorized and asks for a user and password")}
		}
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret)), true, nil
	case "bearer":
		token, err := l.token(ctx, host, challenge, path, user, secret, have)
		if err != nil {
			return "", have, err
		}
		return "Bearer " + token, have, nil
	}
	return "", false, &Error{Kind: NeedsLogin, Host: host, Err: fmt.Errorf("it answered 401 Unauthorized with the challenge %q", challenge)}
}

// token gets a pull token from the registry's token service, anonymously
// or with the user's login.
func (l Lister) token(ctx context.Context, host, challenge, path, user, secret string, withLogin bool) (string, error) {
	params := parseChallenge(challenge)
	realm := params["realm"]
	if realm == "" {
		return "", &Error{Kind: Failed, Host: host, Err: errors.New("the registry wants a token but names no token service")}
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
	auth := ""
	if withLogin {
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if _, status, err := l.get(ctx, realm+"?"+q.Encode(), auth, &tok); err != nil {
		return "", classify(host, status, withLogin, err)
	}
	if tok.Token != "" {
		return tok.Token, nil
	}
	if tok.AccessToken != "" {
		return tok.AccessToken, nil
	}
	return "", &Error{Kind: Failed, Host: host, Err: errors.New("the registry's token service returned no token")}
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
