// Command gitserver is the git server of the end-to-end tests of git
// access: a static HTTP server that runs `git http-backend` (as CGI) for
// the bare repositories below ROOT, behind HTTP basic auth, so that a
// repository can be fetched and pushed only with the password.
//
//	gitserver ADDR ROOT     (the password in $GITD_PASSWORD; user: $GITD_USER, default tester)
//
// It logs one line per request on stderr. It uses only the standard
// library and builds with CGO_ENABLED=0, to run in any image.
package main

import (
	"crypto/subtle"
	"fmt"
	"log"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gitserver ADDR ROOT  (password in $GITD_PASSWORD)")
		os.Exit(2)
	}
	addr, root := os.Args[1], os.Args[2]
	user, pass := os.Getenv("GITD_USER"), os.Getenv("GITD_PASSWORD")
	if user == "" {
		user = "tester"
	}
	if pass == "" {
		log.Fatal("gitserver: GITD_PASSWORD is empty")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		log.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
			log.Printf("%s %s: 401 (auth given: %v)", r.Method, r.URL, ok)
			w.Header().Set("WWW-Authenticate", `Basic realm="e2e"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		log.Printf("%s %s: as %s", r.Method, r.URL, u)
		cg := &cgi.Handler{
			Path: git,
			Args: []string{"http-backend"},
			Dir:  root,
			Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + u,
				"HOME=" + root, "PATH=/usr/local/bin:/usr/bin:/bin"},
		}
		cg.ServeHTTP(w, r)
	})
	log.Printf("gitserver: %s on %s", root, addr)
	log.Fatal(http.ListenAndServe(addr, h))
}
