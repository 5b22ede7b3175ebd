package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/gitaccess"
	"github.com/ai-sandbox/ai-sandbox/internal/gitrelay"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// In the sandbox: the relay's folder, and where the shims are.
const (
	relayMount = "/run/ai-sandbox-git"
	shimDir    = "/usr/local/bin"
)

// gitRun is a launch's git access.
type gitRun struct {
	mode     gitaccess.Mode
	relayDir string // projects/<key>/git/<mode>, mounted: the socket and the gitconfig
}

// The relay's lock and log lie next to its folder, not in it: the
// sandbox could hold a lock it can open.
func relayLock(dir string) string { return dir + ".lock" }
func relayLog(dir string) string  { return dir + ".log" }

func (g gitRun) socket() string { return filepath.Join(g.relayDir, "relay.sock") }

// decideGit finds the launch's git mode: --git-fetch, else the saved
// mode, else (on a terminal, for a repository with remotes) the answer
// to the original's question, else off.
func decideGit(deps *Deps, cfg *config.Config, o *runOptions, proj projectAt) (gitaccess.Mode, error) {
	if o.gitFetch {
		return gitaccess.FetchOnly, nil
	}
	d := gitaccess.For(cfg, proj.Dir)
	if d.Folder != "" || o.print || o.quiet || !deps.Streams.Interactive() || len(project.RemoteURLs(proj.Dir)) == 0 {
		return d.Mode, nil
	}
	choices := gitaccess.Choices()
	var labels []string
	for _, c := range choices {
		labels = append(labels, c.Label)
	}
	i, err := deps.Streams.Choose("Git access for "+proj.Dir+": may the agent's git use your credentials? (they never enter the sandbox)", labels, 3)
	if err != nil {
		return gitaccess.Off, fmt.Errorf("git access question: %w", err)
	}
	c := choices[i]
	if c.Save {
		p, err := deps.Paths()
		if err != nil {
			return c.Mode, err
		}
		if err := config.Update(p, func(cf *config.Config) error { gitaccess.Set(cf, proj.Dir, c.Mode); return nil }); err != nil {
			return c.Mode, err
		}
		deps.Streams.Infof("saved: git access %s for %s ('ai-sandbox git status' lists the saved modes)", c.Mode, proj.Dir)
	}
	return c.Mode, nil
}

// gitAccessFacts gives the sandbox the relay's folder, the shims and a
// read-only system git config that points git at them; off gives nothing.
func gitAccessFacts(deps *Deps, p config.Paths, mode gitaccess.Mode, writableHooks bool, proj projectAt, f *sandbox.Facts) gitRun {
	g := gitRun{mode: mode}
	f.GitMode = string(mode)
	if mode == gitaccess.Full && writableHooks {
		// The user opted in ('git full --writable-hooks'): the project's
		// own hooks only; its config and nested repositories stay read-only.
		hooks := filepath.Join(proj.Dir, ".git", "hooks")
		for i, m := range f.Protect {
			if m.Target == hooks {
				f.Protect[i].ReadOnly = false
			}
		}
		if len(firstTimes(p, []string{"writable-hooks " + proj.Dir})) > 0 {
			deps.Streams.Warnf("this sandbox may write %s (saved with 'git full --writable-hooks'): your git on the host runs what the agent writes there", hooks)
		}
	}
	if mode == gitaccess.Off {
		return g
	}
	g.relayDir = filepath.Join(p.ProjectState(proj.Key), "git", string(mode))
	shims := filepath.Join(p.Cache(), "git-shims", gitrelay.ShimsHash())
	rel := func(path string) string { r, _ := filepath.Rel(p.Root, path); return r }
	f.HostOps = append(f.HostOps,
		hostfs.Op{Kind: hostfs.MkdirAll, Root: p.Root, Rel: rel(g.relayDir), Perm: 0o700},
		hostfs.Op{Kind: hostfs.MkdirAll, Root: p.Root, Rel: rel(shims), Perm: 0o755})
	for _, sh := range gitrelay.Shims() {
		name, body := sh.Name, sh.Body
		f.HostOps = append(f.HostOps,
			hostfs.Op{Kind: hostfs.Write, Root: p.Root, Rel: rel(filepath.Join(shims, name)), Data: []byte(body), Perm: 0o755},
			hostfs.Op{Kind: hostfs.CheckFile, Root: p.Root, Rel: rel(filepath.Join(shims, name))})
		f.GitMounts = append(f.GitMounts, docker.Mount{Source: filepath.Join(shims, name), Target: shimDir + "/" + name, ReadOnly: true})
	}
	name, email := deps.gitIdentity()
	cfg := "[include]\n\tpath = /etc/gitconfig\n" + gitrelay.Gitconfig(name, email, gitrelay.HTTPBases(project.RemoteURLs(proj.Dir)), shimDir)
	f.HostOps = append(f.HostOps,
		hostfs.Op{Kind: hostfs.Write, Root: p.Root, Rel: rel(filepath.Join(g.relayDir, "gitconfig")), Data: []byte(cfg), Perm: 0o644},
		hostfs.Op{Kind: hostfs.CheckDir, Root: p.Root, Rel: rel(g.relayDir)})
	f.GitMounts = append(f.GitMounts, docker.Mount{Source: g.relayDir, Target: relayMount, ReadOnly: true})
	f.GitEnv = map[string]string{
		"GIT_CONFIG_SYSTEM": relayMount + "/gitconfig",
		gitrelay.SocketEnv:  relayMount + "/relay.sock",
	}
	return g
}

// gitIdentity is the user's git name and email on the host (their
// global config), the only part of it that reaches the sandbox.
func (d *Deps) gitIdentity() (name, email string) {
	get := func(key string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := d.Runner.Output(ctx, []string{"git", "config", "--global", "--get", key})
		if err != nil || res.ExitCode != 0 {
			return ""
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	return get("user.name"), get("user.email")
}

// detacher starts a process that outlives this one (proc.Runner does).
type detacher interface {
	StartDetached(argv []string, logPath string) error
}

// ensureRelay makes sure the project's relay for the mode answers: one
// runs already (a ping on its socket: no docker call), or one is started
// in the background. It ends by itself when the sandbox is gone.
func ensureRelay(deps *Deps, g gitRun, projectDir, container string) error {
	if g.mode == gitaccess.Off {
		return nil
	}
	if _, err := pingRelay(g.socket()); err == nil {
		return nil
	}
	d, ok := deps.Runner.(detacher)
	if !ok {
		return errors.New("cannot start the git relay: no process starter")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start the git relay: %w", err)
	}
	argv := []string{exe, "__git-relay", "--project", projectDir, "--dir", g.relayDir, "--container", container, "--mode", string(g.mode)}
	if err := d.StartDetached(argv, relayLog(g.relayDir)); err != nil {
		return fmt.Errorf("start the git relay: %w", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := pingRelay(g.socket()); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return ui.WithHint(fmt.Errorf("the git relay did not start (its socket is %s)", g.socket()),
				"see "+relayLog(g.relayDir))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pingRelay asks a relay who it is.
func pingRelay(sock string) (gitrelay.Pong, error) {
	var p gitrelay.Pong
	c, err := gitrelay.Dial(sock, time.Second)
	if err != nil {
		return p, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(`{"kind":"ping"}` + "\n")); err != nil {
		return p, err
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(line, &p)
}

// NewCmdGitRelay is the relay a launch starts in the background; it is
// not for users.
func NewCmdGitRelay(deps *Deps) *cobra.Command {
	var dir, proj, container, mode string
	cmd := &cobra.Command{
		Use:    "__git-relay",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := gitaccess.Parse(mode)
			if err != nil || m == gitaccess.Off {
				return fmt.Errorf("--mode %q", mode)
			}
			lock := flock.New(relayLock(dir))
			if ok, err := lock.TryLock(); err != nil || !ok {
				return nil // another relay serves this folder
			}
			defer lock.Unlock()
			sock := filepath.Join(dir, "relay.sock")
			_ = os.Remove(sock) // a dead relay's; we hold the lock
			ln, err := gitrelay.Listen(sock)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			relay := gitrelay.New(gitrelay.Config{Project: proj, Push: m == gitaccess.Full, Scratch: dir + ".scratch"}, proc.New(os.Environ()), os.Stderr)
			go watchContainer(ctx, cancel, deps.manager(), container, relay.LastPing)
			fmt.Fprintf(os.Stderr, "%s relay for %s (%s) on %s\n", time.Now().Format(time.RFC3339), proj, m, sock)
			err = relay.Serve(ctx, ln)
			_ = os.Remove(sock)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the relay's folder")
	cmd.Flags().StringVar(&proj, "project", "", "the project folder")
	cmd.Flags().StringVar(&container, "container", "", "the sandbox container: the relay ends when it is gone")
	cmd.Flags().StringVar(&mode, "mode", "", "fetch-only or full")
	return cmd
}

// watchContainer cancels once the sandbox has gone (two looks in a row),
// or never came within two minutes. A launch that pinged the relay in the
// last half minute may be bringing the sandbox up again: no look counts
// then.
func watchContainer(ctx context.Context, cancel func(), m *sandbox.Manager, name string, lastPing func() time.Time) {
	seen, misses := false, 0
	start := time.Now()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := m.Inspect(ctx, name)
		switch {
		case err == nil && st.Running:
			seen, misses = true, 0
		case time.Since(lastPing()) < 30*time.Second:
			misses = 0
		case seen || time.Since(start) > 2*time.Minute:
			if misses++; misses >= 2 {
				cancel()
				return
			}
		}
	}
}
