package registry

import (
	"context"
	"encoding/json"
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
	if _, err := l.List(context.Background(), "127.0.0.1:1/o/p", ""); err == nil {
		t.Error("no error from a closed port")
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
