package gitrelay

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// sshTarget is what git asked its ssh for.
type sshTarget struct {
	User, Host, Port string
	Service, Path    string
}

// services git runs over ssh.
func gitService(s string) bool {
	return s == "git-upload-pack" || s == "git-receive-pack" || s == "git-upload-archive"
}

// parseSSH reads the arguments git gives its ssh command (ssh.variant
// ssh): [-o OPTION]… [-p PORT] [-4|-6] [USER@]HOST 'SERVICE '\”PATH'\”'.
// The command is rebuilt from its parts, never passed on as written.
func parseSSH(args []string) (sshTarget, error) {
	var t sshTarget
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "-p":
			if i+1 >= len(args) {
				return t, fmt.Errorf("%s needs a value", a)
			}
			if a == "-p" {
				t.Port = args[i+1]
			}
			i++
		case strings.HasPrefix(a, "-p") && len(a) > 2:
			t.Port = a[2:]
		case strings.HasPrefix(a, "-o") && len(a) > 2:
		case a == "-4" || a == "-6" || a == "-T" || a == "-x":
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-"):
			return t, fmt.Errorf("ssh option %q is not one git uses", a)
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return t, fmt.Errorf("expected a host and a git command, got %q", pos)
	}
	if t.Port != "" {
		if n, err := strconv.Atoi(t.Port); err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("port %q", t.Port)
		}
	}
	dest := pos[0]
	if u, h, ok := strings.Cut(dest, "@"); ok {
		t.User, dest = u, h
	}
	if dest == "" || strings.HasPrefix(dest, "-") || strings.ContainsAny(dest, " \t\n'\"\\;|&$`") ||
		strings.ContainsAny(t.User, " \t\n'\"\\;|&$`@") {
		return t, fmt.Errorf("host %q", pos[0])
	}
	t.Host = dest
	service, rest, ok := strings.Cut(pos[1], " ")
	if !ok || !gitService(service) {
		return t, fmt.Errorf("only git-upload-pack, git-upload-archive and git-receive-pack run over the relay, not %q", pos[1])
	}
	path, err := sqUnquote(strings.TrimSpace(rest))
	if err != nil {
		return t, fmt.Errorf("the path of %s: %v", service, err)
	}
	t.Service, t.Path = service, path
	return t, nil
}

// sqQuote quotes s for a POSIX shell, as git does: in single quotes, a
// quote as '\”.
func sqQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sqUnquote reverses git's sq_quote: single-quoted runs, with \' and \!
// between them.
func sqUnquote(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", errors.New("unterminated quote")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '\'' && s[i+1] != '!') {
				return "", errors.New("unexpected backslash")
			}
			b.WriteByte(s[i+1])
			i += 2
		default:
			return "", fmt.Errorf("unquoted %q", s[i:])
		}
	}
	if b.Len() == 0 {
		return "", errors.New("empty")
	}
	return b.String(), nil
}

// remote is where a remote URL leads.
type remote struct {
	scheme string // "ssh", "http" or "https"
	host   string // with ":port" for http(s) when the URL names one
}

// parseRemote reads a remote URL: ssh://, scp-like user@host:path,
// http:// and https://. Other kinds (file, git://, local paths) are not
// relayed.
func parseRemote(raw string) (remote, bool) {
	if !strings.Contains(raw, "://") {
		// scp-like [user@]host:path (a colon before any slash)
		colon := strings.IndexByte(raw, ':')
		slash := strings.IndexByte(raw, '/')
		if colon <= 0 || (slash >= 0 && slash < colon) {
			return remote{}, false
		}
		host := raw[:colon]
		if _, h, ok := strings.Cut(host, "@"); ok {
			host = h
		}
		return remote{scheme: "ssh", host: strings.ToLower(host)}, host != ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return remote{}, false
	}
	switch u.Scheme {
	case "ssh", "git+ssh", "ssh+git":
		return remote{scheme: "ssh", host: strings.ToLower(u.Hostname())}, true
	case "http", "https":
		return remote{scheme: u.Scheme, host: strings.ToLower(u.Host)}, true
	}
	return remote{}, false
}

// allowedSSH reports whether host is the host of one of the remotes.
func allowedSSH(remotes []string, host string) bool {
	for _, r := range remotes {
		if rm, ok := parseRemote(r); ok && rm.scheme == "ssh" && rm.host == strings.ToLower(host) {
			return true
		}
	}
	return false
}

// allowedHTTP reports whether scheme://host is where one of the remotes
// leads.
func allowedHTTP(remotes []string, scheme, host string) bool {
	for _, r := range remotes {
		if rm, ok := parseRemote(r); ok && rm.scheme == scheme && rm.host == strings.ToLower(host) {
			return true
		}
	}
	return false
}

// httpRemote reads a helper's URL: its scheme and host[:port].
func httpRemote(raw string) (scheme, host string, ok bool) {
	rm, ok := parseRemote(raw)
	if !ok || (rm.scheme != "http" && rm.scheme != "https") {
		return "", "", false
	}
	return rm.scheme, rm.host, true
}

// HTTPBases are the scheme://[user@]host[:port]/ prefixes of a project's
// http and https remotes, as written, for the insteadOf rewrites that
// send them through the relay.
func HTTPBases(remotes []string) []string {
	var out []string
	for _, r := range remotes {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		// The prefix as written (insteadOf compares text).
		rest := r[strings.Index(r, "://")+3:]
		base := r[:len(r)-len(rest)] + rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			base = r[:len(r)-len(rest)+i+1]
		} else {
			base += "/"
		}
		if !slices.Contains(out, base) {
			out = append(out, base)
		}
	}
	return out
}
