package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestV2AnonymousTokenFlow(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			if r.URL.Query().Get("scope") != "repository:o/p:pull" || r.URL.Query().Get("service") != "reg" {
				t.Errorf("token query %v", r.URL.Query())
			}
			json.NewEncoder(w).Encode(map[string]string{"token": "anon"})
		case r.URL.Path == "/v2/o/p/tags/list":
			if r.Header.Get("Authorization") != "Bearer anon" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="reg",scope="repository:o/p:pull"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"name": "o/p", "tags": []string{"full", "base", "base-sha-abc1234"}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	l := Lister{Scheme: "http"}
	host := strings.TrimPrefix(srv.URL, "http://")
	got, err := l.List(context.Background(), host+"/o/p", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Tag{{Name: "base"}, {Name: "base-sha-abc1234"}, {Name: "full"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestGitHubVersionsWithDates(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gh-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/orgs/ai-sandbox/packages/container/ai-sandbox/versions":
			w.Write([]byte(`[
				{"updated_at":"2026-11-01T10:00:00Z","metadata":{"container":{"tags":["base","base-v1.2.0"]}}},
				{"updated_at":"2026-11-20T10:00:00Z","metadata":{"container":{"tags":["full"]}}},
				{"updated_at":"2026-10-01T10:00:00Z","metadata":{"container":{"tags":[]}}}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	l := Lister{GitHubAPI: srv.URL}
	got, err := l.List(context.Background(), Default, "gh-token")
	if err != nil {
		t.Fatal(err)
	}
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	want := []Tag{{"full", d("2026-11-20T10:00:00Z")}, {"base", d("2026-11-01T10:00:00Z")}, {"base-v1.2.0", d("2026-11-01T10:00:00Z")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestGitHubUserPackage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/me/packages/container/img/versions" {
			w.Write([]byte(`[{"created_at":"2026-01-02T00:00:00Z","metadata":{"container":{"tags":["base"]}}}]`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	got, err := Lister{GitHubAPI: srv.URL}.List(context.Background(), "ghcr.io/me/img", "t")
	if err != nil || len(got) != 1 || got[0].Name != "base" || got[0].Pushed.IsZero() {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestUnreachable(t *testing.T) {
	l := Lister{Client: &http.Client{Timeout: 2 * time.Second}}
	_, err := l.List(context.Background(), "127.0.0.1:1/o/p", "")
	if KindOf(err) != Unreachable || !strings.Contains(err.Error(), "cannot reach the registry 127.0.0.1:1") {
		t.Errorf("closed port: %v (kind %v)", err, KindOf(err))
	}
}

// basicRegistry answers like a registry with htpasswd authentication:
// 401 with a Basic challenge unless the login is me:pw, 404 for a
// repository other than o/p.
func basicRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="Registry Realm"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/v2/o/p/tags/list" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "o/p", "tags": []string{"base"}})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestBasicAuthAndKinds(t *testing.T) {
	host := basicRegistry(t)
	login := func(user, pw string) func(string) (string, string, bool) {
		return func(h string) (string, string, bool) {
			if h != host {
				t.Errorf("credentials asked for %q", h)
			}
			return user, pw, true
		}
	}
	// No scheme given: a loopback registry is tried with https, then http.
	cases := []struct {
		name     string
		l        Lister
		repo     string
		kind     Kind
		loggedIn bool
		msg      string
	}{
		{"no login", Lister{}, host + "/o/p", NeedsLogin, false, "wants a login"},
		{"wrong login", Lister{Credentials: login("me", "nope")}, host + "/o/p", NeedsLogin, true, "refused the login"},
		{"no repository", Lister{Credentials: login("me", "pw")}, host + "/o/q", NoRepository, false, "has no such repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.l.List(context.Background(), c.repo, "")
			var e *Error
			if !errors.As(err, &e) || e.Kind != c.kind || e.LoggedIn != c.loggedIn || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v (%+v), want kind %v containing %q", err, e, c.kind, c.msg)
			}
		})
	}
	got, err := Lister{Credentials: login("me", "pw")}.List(context.Background(), host+"/o/p", "")
	if err != nil || len(got) != 1 || got[0].Name != "base" {
		t.Fatalf("with the login: %v, %v", got, err)
	}
}

func TestBearerWithLogin(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "pw" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"access_token": "mine"})
		case "/v2/o/p/tags/list":
			if r.Header.Get("Authorization") != "Bearer mine" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="reg"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"tags": []string{"full"}})
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	_, err := Lister{Scheme: "http"}.List(context.Background(), host+"/o/p", "")
	if KindOf(err) != NeedsLogin {
		t.Errorf("anonymous: %v", err)
	}
	creds := func(string) (string, string, bool) { return "me", "pw", true }
	got, err := Lister{Scheme: "http", Credentials: creds}.List(context.Background(), host+"/o/p", "")
	if err != nil || len(got) != 1 || got[0].Name != "full" {
		t.Errorf("with the login: %v, %v", got, err)
	}
}

func TestLoopback(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:5000": true, "127.1.2.3": true, "[::1]:5000": true, "localhost": true,
		"ghcr.io": false, "10.0.0.1:5000": false, "registry.local:5000": false,
	} {
		if Loopback(h) != want {
			t.Errorf("Loopback(%q) = %v", h, !want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, bad := range []string{"", "ai-sandbox", "ubuntu/x", "ghcr.io/"} {
		if _, _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
	if h, p, err := Split("localhost:5000/a/b"); err != nil || h != "localhost:5000" || p != "a/b" {
		t.Errorf("Split = %q %q %v", h, p, err)
	}
}

func TestParseChallenge(t *testing.T) {
	got := parseChallenge(`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"`)
	want := map[string]string{"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:a/b:pull"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if len(parseChallenge(`Basic realm="x"`)) != 0 {
		t.Error("basic challenge parsed")
	}
}
