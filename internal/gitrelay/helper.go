package gitrelay

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// The https path. The host's git remote-http(s) gets the user's own
// configuration (credential helpers) and nothing the sandbox wrote: its
// GIT_DIR is a scratch repository of the relay's, made for the request
// outside anything the sandbox can reach, so no config, hook or attribute
// of the sandbox's repository is ever read by the host's git.
//
//   - Fetch goes through stateless-connect (git's protocol v2): the host's
//     helper only carries the protocol; the sandbox's git writes the
//     objects. The helper's own fetch command, which would write objects
//     on the host, is refused (a server of protocol v0 only is not served).
//   - Push (full mode only) needs the objects to send: the sandbox's object
//     folder is given as GIT_OBJECT_DIRECTORY (read only by the host's
//     git, checked for links and alternates), and each ref pushed is
//     resolved by the relay from the sandbox's refs, as text, and written
//     into the scratch repository.
//   - Anything else that would act on the host (get, import, export,
//     connect, signed pushes) is refused.

// refName and objectID are what a pushed ref's source may be.
var refName = regexp.MustCompile(`^(HEAD|refs/[A-Za-z0-9._/+@-]+)$`)
var objectID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// scratchRepo makes an empty bare repository of the relay's for one
// request, and returns its path and its removal.
func (r *Relay) scratchRepo() (string, func(), error) {
	if err := os.MkdirAll(r.cfg.Scratch, 0o700); err != nil {
		return "", nil, fmt.Errorf("the relay's scratch folder: %w", err)
	}
	dir, err := os.MkdirTemp(r.cfg.Scratch, "req-")
	if err != nil {
		return "", nil, fmt.Errorf("the relay's scratch repository: %w", err)
	}
	done := func() { os.RemoveAll(dir) }
	for _, d := range []string{"objects", "refs/heads", "refs/tags"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			done()
			return "", nil, err
		}
	}
	files := map[string]string{
		"HEAD":   "ref: refs/heads/main\n",
		"config": "[core]\n\trepositoryformatversion = 0\n\tbare = true\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			done()
			return "", nil, err
		}
	}
	return dir, done, nil
}

// sandboxRepo is a repository of the sandbox's, read as data: its git dir
// and common dir relative to the project, both reached without a link.
type sandboxRepo struct {
	root           hostfs.Root
	gitDir, common string
}

// sandboxRepo checks the git dir a helper request names: inside the
// project, reached without a symbolic link, and its common dir too.
func (r *Relay) sandboxRepo(dir string) (*sandboxRepo, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("git dir %q is not an absolute path", dir)
	}
	rel, err := filepath.Rel(r.cfg.Project, filepath.Clean(dir))
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("git dir %s is not inside the project %s", dir, r.cfg.Project)
	}
	root := hostfs.New(r.cfg.Project)
	if err := root.CheckDir(rel); err != nil {
		return nil, fmt.Errorf("git dir: %w", err)
	}
	repo := &sandboxRepo{root: root, gitDir: rel, common: rel}
	if b, err := root.ReadFile(filepath.Join(rel, "commondir"), 4096); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(r.cfg.Project, rel, c)
		}
		crel, err := filepath.Rel(r.cfg.Project, filepath.Clean(c))
		if err != nil || strings.HasPrefix(crel, "..") || crel == "." {
			return nil, fmt.Errorf("the common dir of %s is not inside the project", dir)
		}
		if err := root.CheckDir(crel); err != nil {
			return nil, fmt.Errorf("common dir: %w", err)
		}
		repo.common = crel
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("git dir: %w", err)
	}
	return repo, nil
}

// objects returns the host path of the repository's object folder, for
// the host's git to read: a real folder with no alternates (which would
// let the host's git read other repositories).
func (s *sandboxRepo) objects() (string, error) {
	obj := filepath.Join(s.common, "objects")
	if err := s.root.CheckDir(obj); err != nil {
		return "", fmt.Errorf("object folder: %w", err)
	}
	for _, f := range []string{"info/alternates", "info/http-alternates"} {
		if _, err := s.root.Lstat(filepath.Join(obj, f)); !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("the repository has objects/%s: pushing from it over http(s) is not served (the relay's git reads no other repository)", f)
		}
	}
	return s.root.Join(obj), nil
}

// resolve reads a ref of the sandbox's repository as text: HEAD and
// per-worktree refs in the git dir, the rest in the common dir, loose or
// packed; symbolic refs are followed a few times.
func (s *sandboxRepo) resolve(name string) (string, error) {
	for range 5 {
		if !refName.MatchString(name) || strings.Contains(name, "..") || strings.Contains(name, "//") ||
			strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".lock") || strings.Contains(name, "/.") {
			return "", fmt.Errorf("%q is not a ref name", name)
		}
		var content string
		for _, dir := range []string{s.gitDir, s.common} {
			b, err := s.root.ReadFile(filepath.Join(dir, name), 4096)
			if err == nil {
				content = strings.TrimSpace(string(b))
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		if content == "" {
			return s.packed(name)
		}
		if target, ok := strings.CutPrefix(content, "ref: "); ok {
			name = strings.TrimSpace(target)
			continue
		}
		if !objectID.MatchString(content) {
			return "", fmt.Errorf("the ref %s holds %q, not an object id", name, content)
		}
		return content, nil
	}
	return "", fmt.Errorf("the ref %s: too many symbolic refs", name)
}

func (s *sandboxRepo) packed(name string) (string, error) {
	b, err := s.root.ReadFile(filepath.Join(s.common, "packed-refs"), 256<<20)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		oid, ref, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && ref == name && objectID.MatchString(oid) {
			return oid, nil
		}
	}
	return "", fmt.Errorf("the ref %s does not exist in the repository", name)
}

// helperFilter passes git's remote-helper commands to the host's helper,
// refusing those the relay does not serve and preparing pushes. Once an
// upload-pack connection is established, the rest is that protocol.
type helperFilter struct {
	src     *bufio.Reader
	r       *Relay
	out     *frameWriter
	host    string
	scratch string
	repo    *sandboxRepo // nil: pushes are refused (no repository in the project)
	repoErr error
	raw     bool
	buf     []byte
	err     error
}

func (f *helperFilter) Read(p []byte) (int, error) {
	for len(f.buf) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		if f.raw {
			return f.src.Read(p)
		}
		line, err := f.src.ReadString('\n')
		f.err = err
		cmd := strings.TrimSpace(line)
		if why := f.check(cmd); why != "" {
			f.r.refuse(f.out, "%s", why)
			f.err = errors.New("refused")
			return 0, f.err
		}
		if cmd == "stateless-connect git-upload-pack" {
			f.raw = true
		}
		if strings.HasPrefix(cmd, "option pushcert") {
			// Signed pushes would use the host's signing key: not served.
			f.out.frame(frameStdout, []byte("unsupported\n"))
			continue
		}
		f.buf = []byte(line)
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}

// check returns why a command is refused ("" = passed on).
func (f *helperFilter) check(cmd string) string {
	push := f.r.cfg.Push
	noPush := fmt.Sprintf("push to %s refused: this sandbox has fetch-only git access (ai-sandbox git full PATH gives it push)", f.host)
	switch {
	case cmd == "" || cmd == "capabilities" || cmd == "list" || strings.HasPrefix(cmd, "option "):
		return ""
	case cmd == "stateless-connect git-upload-pack":
		return ""
	case cmd == "list for-push":
		if !push {
			return noPush
		}
		return ""
	case strings.HasPrefix(cmd, "push "):
		if !push {
			return noPush
		}
		return f.preparePush(strings.TrimPrefix(cmd, "push "))
	case strings.HasPrefix(cmd, "stateless-connect ") || strings.HasPrefix(cmd, "connect "):
		if strings.HasSuffix(cmd, "git-receive-pack") && !push {
			return noPush
		}
		return fmt.Sprintf("the remote-helper command %q is not served by the relay", cmd)
	case strings.HasPrefix(cmd, "fetch "):
		return fmt.Sprintf("%s answers only git's old protocol (v0) over http: the relay serves protocol v2 (GitHub, GitLab, Bitbucket, Gitea and git http-backend 2.18+ speak it); use an ssh remote", f.host)
	}
	return fmt.Sprintf("the remote-helper command %q is not served by the relay", strings.Fields(cmd)[0])
}

// preparePush writes the pushed ref's object id into the scratch
// repository, read from the sandbox's repository.
func (f *helperFilter) preparePush(spec string) string {
	src, _, ok := strings.Cut(strings.TrimPrefix(spec, "+"), ":")
	if !ok {
		return fmt.Sprintf("push %q: expected SRC:DST", spec)
	}
	if src == "" || objectID.MatchString(src) {
		return "" // a delete, or an object id send-pack reads directly
	}
	if f.repo == nil {
		return fmt.Sprintf("push over http(s) works from a repository inside the project: %v", f.repoErr)
	}
	oid, err := f.repo.resolve(src)
	if err != nil {
		return fmt.Sprintf("push %s: %v", src, err)
	}
	path := filepath.Join(f.scratch, filepath.FromSlash(src))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Sprintf("push %s: %v", src, err)
	}
	if err := os.WriteFile(path, []byte(oid+"\n"), 0o600); err != nil {
		return fmt.Sprintf("push %s: %v", src, err)
	}
	return ""
}
