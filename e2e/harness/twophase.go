package harness

// Helpers of the two-phase attacks: phase one plants something from
// inside a sandbox (the probe's plant-* checks), the test stops the
// sandbox, and phase two launches again and runs the user's own tools on
// the host. These run host commands as the test user, stop a project's
// sandboxes, and take listings of folders to compare before and after.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// PlantMarker is the file, below a project, to which the commands that
// the probe plants (git hooks, core.fsmonitor, .envrc) append a line when
// they run: the probe's plantMarker.
const PlantMarker = ".planted-ran"

// Planted returns what planted commands wrote to dir's marker file, ""
// when none ran.
func Planted(dir string) string {
	data, _ := os.ReadFile(filepath.Join(dir, PlantMarker))
	return string(data)
}

// HostCommand prepares name ARGS as the test user's own tools run on the
// host (git, make, a shell): in dir, HOME=e.Home, with a git identity and
// without the system's git config, in its own process group (killed whole
// when ctx ends).
func (e *Env) HostCommand(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(minimalEnv(), "HOME="+e.Home, "USER=aisbx-e2e", "LOGNAME=aisbx-e2e", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.invalid",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.invalid")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: e.S.Credential}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// HostRun runs name ARGS on the host as the test user in dir (see
// HostCommand), within two minutes, and returns the combined output; a
// command that fails or exits non-zero is an error holding it.
func (e *Env) HostRun(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := e.HostCommand(ctx, dir, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out), nil
}

// HostSh runs a shell script on the host as the test user in dir; a
// failure fails the test.
func (e *Env) HostSh(dir, script string) string {
	e.T.Helper()
	out, err := e.HostRun(dir, "sh", "-c", script)
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// GitInit makes dir (created when missing; its parent must be the test
// user's) a git repository of the test user.
func (e *Env) GitInit(dir string) {
	e.T.Helper()
	if _, err := e.HostRun(filepath.Dir(dir), "git", "init", "-q", dir); err != nil {
		e.T.Fatal(err)
	}
}

// ContainersOf lists the ids of the containers (running or not) of the
// project folder dir, of tool when it is not "".
func (e *Env) ContainersOf(dir, tool string) []string {
	e.T.Helper()
	args := []string{"ps", "--all", "--quiet", "--no-trunc", "--filter", "label=ai-sandbox.path=" + dir}
	if tool != "" {
		args = append(args, "--filter", "label=ai-sandbox.tool="+tool)
	}
	return strings.Fields(e.S.DockerOut(e.T, args...))
}

// StopIn stops the sandboxes of the project of dir ('ai-sandbox stop'
// there) and waits until none of its containers is left, so that the
// next launch starts a new one. A sandbox that went away by itself
// meanwhile (--idle-timeout 0) makes 'ai-sandbox stop' fail with "No
// such container"; that is only logged.
func (e *Env) StopIn(dir string) {
	e.T.Helper()
	if r := e.RunIn(dir, RunOpts{}, "stop"); r.Code != 0 {
		if !strings.Contains(r.Stderr, "No such container") {
			e.T.Fatalf("ai-sandbox stop in %s:\n%s", dir, r)
		}
		e.T.Logf("ai-sandbox stop raced with a sandbox stopping by itself:\n%s", r.Stderr)
	}
	if !WaitFor(time.Minute, func() bool { return len(e.ContainersOf(dir, "")) == 0 }) {
		e.T.Fatalf("the sandboxes of %s are still there a minute after 'ai-sandbox stop': %v", dir, e.ContainersOf(dir, ""))
	}
}

// ProbeAs makes a folder holding the probe under each of names (e.g.
// "opencode"), to be mounted with --mount DIR:/usr/local/bin:ro instead
// of the suite's ProbeDir.
func (e *Env) ProbeAs(names ...string) string {
	e.T.Helper()
	dir, err := os.MkdirTemp(e.Dir, "probe-as-")
	if err != nil {
		e.T.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		e.T.Fatal(err)
	}
	for _, n := range names {
		if err := copyFile(e.S.Probe, filepath.Join(dir, n), 0o755); err != nil {
			e.T.Fatal(err)
		}
	}
	return dir
}

// Tree lists every entry below dir, without following symbolic links:
// its path, type and permissions, and the size, modification time and
// SHA-256 of a regular file, or a link's target. Two equal listings mean
// that nothing below dir changed. An entry that cannot be read (a
// missing dir too) lists with its error.
func Tree(dir string) string {
	var lines []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			lines = append(lines, fmt.Sprintf("%s: %v", path, err))
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			lines = append(lines, fmt.Sprintf("%s: %v", rel, err))
			return nil
		}
		line := rel + " " + info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			line += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			sum := sha256.Sum256(data)
			line += fmt.Sprintf(" %d %d %s %v", info.Size(), info.ModTime().UnixNano(), hex.EncodeToString(sum[:8]), err)
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// FilesWith lists the regular files below dir (links not followed) that
// hold one of the markers.
func FilesWith(dir string, markers []string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, m := range markers {
			if m != "" && strings.Contains(string(data), m) {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	return out
}
