package probe

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// The probe's helpers for the web and network tests. Copied as opencode,
// "opencode web|serve [--port N] [--hostname H]" stands in for opencode's
// server: it answers 200 only with HTTP basic auth of
// OPENCODE_SERVER_USERNAME (default opencode) and OPENCODE_SERVER_PASSWORD
// when the password is set, 401 otherwise.
//
//	probe __listen ADDR   an HTTP server on ADDR answering "hello from HOSTNAME"
//	probe __get URL       GET URL: the body on stdout, exit 1 on failure

// webStub is opencode web/serve.
func webStub(args []string) int {
	port, host := "0", "127.0.0.1"
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--port" && i+1 < len(args):
			port = args[i+1]
			i++
		case len(a) > 7 && a[:7] == "--port=":
			port = a[7:]
		case a == "--hostname" && i+1 < len(args):
			host = args[i+1]
			i++
		}
	}
	user := os.Getenv("OPENCODE_SERVER_USERNAME")
	if user == "" {
		user = "opencode"
	}
	pass := os.Getenv("OPENCODE_SERVER_PASSWORD")
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("listening on %s (password set: %v)\n", net.JoinHostPort(host, port), pass != "")
	return serve(l, func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if pass != "" && (!ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1) {
			w.Header().Set("WWW-Authenticate", `Basic realm="opencode"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "opencode stand-in")
	})
}

func listenChild(addr string) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	host, _ := os.Hostname()
	fmt.Println("ready")
	return serve(l, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
}

func serve(l net.Listener, h http.HandlerFunc) int {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func getChild(url string) int {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, resp.Status)
		return 1
	}
	return 0
}
