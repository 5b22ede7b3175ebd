// Package project finds the project a folder belongs to (its git
// top-level, when there is one) and computes the project id that names
// its containers and per-project data. The id is the original's, so that
// users who migrate keep their per-project OpenCode data:
//
//	<readable-name>-<first 8 hex of sha256(source)>
//	source = "git:<origin url>", else "gitroot:<top-level>", else "path:<dir>"
//
// Git facts are read from the files in .git directly (no git process),
// which keeps a launch fast.
package project

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Info is what is known about a folder's project.
type Info struct {
	// TopLevel is the git work tree top-level containing the folder, or
	// "" when the folder is not in a git work tree.
	TopLevel string
	// OriginURL is remote.origin.url as written in the git config.
	OriginURL string
	// Source is the string hashed into the id.
	Source string
	// ID is <readable>-<8 hex>.
	ID string
}

// AskGit asks git itself for remote.origin.url in dir; ok is false when
// git could not answer (not installed, say).
type AskGit func(dir string) (url string, ok bool)

// Find describes the project of dir (a canonical path): the git work tree
// it is in (looked for up to /, as git does), its origin and its id. The
// config is read the way git reads it, [remote.origin] included; when it
// uses include or includeIf, which this reader does not follow, ask (when
// not nil) asks git itself.
func Find(dir string, ask AskGit) Info {
	var in Info
	gitPath, top := findGit(dir)
	if top != "" {
		in.TopLevel = top
		if common := commonDir(gitPath); common != "" {
			url, includes := originURL(filepath.Join(common, "config"))
			in.OriginURL = url
			if includes && ask != nil {
				if u, ok := ask(dir); ok {
					in.OriginURL = u
				}
			}
		}
	}
	switch {
	case in.OriginURL != "":
		in.Source = "git:" + in.OriginURL
		in.ID = ID(readableFromURL(in.OriginURL), in.Source)
	case in.TopLevel != "":
		in.Source = "gitroot:" + in.TopLevel
		in.ID = ID(filepath.Base(in.TopLevel), in.Source)
	default:
		in.Source = "path:" + dir
		in.ID = ID(filepath.Base(dir), in.Source)
	}
	return in
}

// Key names what belongs to one project folder, whatever its content
// says: its sandbox containers and its state under ~/.ai-sandbox/projects.
// It is the original's id for a folder without git ("path:" source), and
// for any folder depends only on its canonical path, so two clones of one
// repository, or a repository whose origin an agent rewrote, never share
// a container or a home.
func Key(dir string) string {
	return ID(filepath.Base(dir), "path:"+dir)
}

// ID joins a readable name and the first 8 hex digits of sha256(source).
func ID(name, source string) string {
	sum := sha256.Sum256([]byte(source))
	return Readable(name) + "-" + hex.EncodeToString(sum[:])[:8]
}

var notNameChar = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// Readable makes a name safe for container names: spaces become "-",
// only [A-Za-z0-9_-] is kept, then lowercased, at most 30 characters,
// "workspace" if empty. The order is the original's (tr ' ' '-' |
// tr -cd '[:alnum:]_-' | tr upper lower | cut -c1-30): filtering before
// lowercasing drops letters such as "İ" or the Kelvin sign, whose
// lowercase forms would otherwise turn into ASCII and change the id.
func Readable(name string) string {
	s := strings.ReplaceAll(name, " ", "-")
	s = strings.ToLower(notNameChar.ReplaceAllString(s, ""))
	if len(s) > 30 {
		s = s[:30]
	}
	if s == "" {
		return "workspace"
	}
	return s
}

// readableFromURL is the original's sed 's|.*/||; s|\.git$||': the text
// after the last "/" (none for a trailing slash; the whole URL when there
// is no "/", as in "git@host:repo.git"), less one ".git" suffix.
func readableFromURL(u string) string {
	base := u[strings.LastIndex(u, "/")+1:]
	return strings.TrimSuffix(base, ".git")
}

// findGit walks up from dir looking for a .git entry. It returns the
// path of that entry and the folder holding it (the top-level).
func findGit(dir string) (gitPath, top string) {
	d := dir
	for {
		p := filepath.Join(d, ".git")
		if _, err := os.Lstat(p); err == nil {
			return p, d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", ""
		}
		d = parent
	}
}

// commonDir resolves a .git entry (a folder, or a "gitdir:" file for
// worktrees and submodules) to the git common dir holding the config.
func commonDir(gitPath string) string {
	st, err := os.Lstat(gitPath)
	if err != nil || st.Mode()&fs.ModeSymlink != 0 {
		return "" // a linked .git is refused by the launch's git checks
	}
	gitDir := gitPath
	if !st.IsDir() {
		data, err := readSmall(gitPath)
		if err != nil {
			return ""
		}
		line := strings.TrimSpace(string(data))
		if !strings.HasPrefix(line, "gitdir:") {
			return ""
		}
		gitDir = strings.TrimSpace(strings.TrimPrefix(line, "gitdir:"))
		if !filepath.IsAbs(gitDir) {
			gitDir = filepath.Join(filepath.Dir(gitPath), gitDir)
		}
	}
	if data, err := readSmall(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(data))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		return filepath.Clean(c)
	}
	return gitDir
}

// originURL reads remote.origin.url from a git config file: the last
// value wins, as with `git config --get`. includes is true when the file
// has include or includeIf sections, which may set it too.
func originURL(configPath string) (url string, includes bool) {
	includes = readConfig(configPath, func(section, sub, key, value string) {
		if section == "remote" && sub == "origin" && key == "url" {
			url = value
		}
	})
	return url, includes
}

// RemoteURLs lists the URLs the repository of dir (its git top-level or a
// folder in it) fetches from and pushes to: remote.*.url and pushurl, and
// submodule.*.url of its config (not .gitmodules: the config is the
// user's, .gitmodules the work tree's).
func RemoteURLs(dir string) []string {
	gitPath, _ := findGit(dir)
	if gitPath == "" {
		return nil
	}
	common := commonDir(gitPath)
	if common == "" {
		return nil
	}
	var out []string
	readConfig(filepath.Join(common, "config"), func(section, sub, key, value string) {
		if (section == "remote" && (key == "url" || key == "pushurl")) || (section == "submodule" && key == "url") {
			if value != "" && !slices.Contains(out, value) {
				out = append(out, value)
			}
		}
	})
	return out
}

// readConfig calls fn for each key of a git config file, with the
// section and key lowercased (the subsection as written, or lowercased
// in the deprecated [section.sub] syntax) and the value unquoted. It
// reports whether the file has include or includeIf sections, which it
// does not follow.
func readConfig(path string, fn func(section, sub, key, value string)) (includes bool) {
	data, err := readSmall(path)
	if err != nil {
		return false
	}
	section, sub := "", ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			section, sub = parseSection(line[1:end])
			if section == "include" || section == "includeif" {
				includes = true
			}
			// A "[section] key = value" line: the rest is a key.
			line = strings.TrimSpace(line[end+1:])
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
		}
		k, v, _ := strings.Cut(line, "=")
		fn(section, sub, strings.ToLower(strings.TrimSpace(k)), gitValue(strings.TrimSpace(v)))
	}
	return includes
}

// parseSection reads `name "sub"` or the deprecated "name.sub" (whose
// subsection git lowercases).
func parseSection(s string) (section, sub string) {
	s = strings.TrimSpace(s)
	if name, rest, ok := strings.Cut(s, " "); ok {
		rest = strings.TrimSpace(rest)
		if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
			rest = rest[1 : len(rest)-1]
		}
		return strings.ToLower(name), rest
	}
	name, rest, _ := strings.Cut(s, ".")
	return strings.ToLower(name), strings.ToLower(rest)
}

// gitValue unquotes a git config value and drops a trailing comment.
func gitValue(v string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(v[i])
			}
		case (c == '#' || c == ';') && !inQuote:
			return strings.TrimSpace(b.String())
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// readSmall reads a regular file of at most 1 MiB without following a
// symbolic link at its name and without blocking on a FIFO: the files
// read here are the agent's to write.
func readSmall(path string) ([]byte, error) {
	return hostfs.New(filepath.Dir(path)).ReadFile(filepath.Base(path), 1<<20)
}
