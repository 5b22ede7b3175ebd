package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/doctor"
	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
	"github.com/ai-sandbox/ai-sandbox/internal/gitguard"
	"github.com/ai-sandbox/ai-sandbox/internal/hostexec"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/probe"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// doctor --attack: the attack probe (internal/probe, run as
// 'ai-sandbox __probe' from ai-sandbox's own executable, mounted
// read-only) in a fresh sandbox of the current project, then the
// two-phase attacks in a scratch world of their own (a home, a state
// folder and a repository in a temporary folder), so that no plant ever
// lands in the user's project or state.

const (
	// doctorSandbox names the sandbox under attack: ai-doctor-<key>.
	doctorSandbox = "doctor"
	// probeInSandbox is where ai-sandbox's executable is mounted.
	probeInSandbox = "/opt/ai-sandbox/bin/ai-sandbox"
	// probeBinEnv points at a Linux ai-sandbox when this one cannot run
	// in a container (macOS).
	probeBinEnv = "AI_SANDBOX_PROBE_BIN"
)

// hostSecretFiles are the credentials a sandbox must never read, below
// the home. They are named to the probe by their SHA-256, never by a byte
// of their content.
var hostSecretFiles = []string{".ssh/id_rsa", ".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_dsa", ".aws/credentials",
	".config/gh/hosts.yml", ".docker/config.json", ".netrc", ".git-credentials", ".npmrc", ".kube/config", ".pypirc"}

// twoPhaseGitPlants are blocked in the sandbox: the plant itself must fail.
var twoPhaseGitPlants = []string{"plant-hooks-symlink", "plant-config-symlink", "plant-git-symlink",
	"plant-renamed-git", "plant-git-file", "plant-commondir"}

func runDoctorAttack(ctx context.Context, deps *Deps, ro *runOptions, asJSON bool) error {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		return err
	}
	proj, err := currentProject(deps)
	if err != nil {
		return err
	}
	if proj.Workspace == "" {
		return ui.WithHint(fmt.Errorf("%s is not inside a whitelisted workspace: there is no sandbox of it to attack", proj.Dir),
			"cd into a project of a whitelisted workspace ('ai-sandbox workspace list'), or whitelist this one: ai-sandbox workspace add "+docker.Quote([]string{proj.Dir}))
	}
	exe, err := probeExecutable(deps)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ai-sandbox-doctor-")
	if err != nil {
		return fmt.Errorf("make a scratch folder: %w", err)
	}
	if tmp, err = filepath.EvalSymlinks(tmp); err != nil {
		return err
	}
	defer removeScratch(tmp)
	if !asJSON {
		s.Infof("attacking a fresh sandbox of %s; this takes a minute or two", proj.Dir)
	}

	// A host process the sandbox must not see, and a planted secret.
	canary := "ai-sandbox-doctor-canary-" + randomHex(8)
	markerCtx, stopMarker := context.WithCancel(ctx)
	defer stopMarker()
	processMarker := startMarker(markerCtx, deps, exe, "ai-sandbox-doctor-marker-"+randomHex(8))
	canaryFile := filepath.Join(tmp, "canary", "id_rsa")
	if err := writeScratch(canaryFile, "-----BEGIN OPENSSH PRIVATE KEY-----\n"+canary+"\n-----END OPENSSH PRIVATE KEY-----\n"); err != nil {
		return err
	}
	secrets, markers := hostSecrets(deps.Home, p)
	secrets = append([]string{canaryFile}, secrets...)
	markers = append([]string{canary}, markers...)
	env, err := envfile.Load(p.EnvFile())
	if err != nil {
		return err
	}

	card := doctor.Scorecard{Project: proj.Dir, Sandbox: sandbox.ContainerName(doctorSandbox, proj.Key), Scratch: filepath.Join(tmp, "ws", "project")}

	// 1. The probe's attacks in a fresh sandbox of the project.
	flags := []string{"-secrets", strings.Join(secrets, ","), "-markers", strings.Join(markers, ","), "-host-home", deps.Home,
		"-project", proj.Dir, "-env", strings.Join(undeclaredNames(deps, env), ",")}
	if others := otherWorkspaces(cfg.Workspaces, proj); len(others) > 0 {
		flags = append(flags, "-other", strings.Join(others, ","))
	}
	if processMarker != "" {
		flags = append(flags, "-process-marker", processMarker)
	}
	o := &runOptions{quiet: true, sandbox: doctorSandbox, flags: ro.flags, mounts: ro.mounts, networks: ro.networks, envNames: ro.envNames,
		command: append(append([]string{probeInSandbox, probeCommand}, flags...), "all")}
	homeRel := filepath.Join("projects", proj.Key, "homes", doctorSandbox)
	_ = hostfs.New(p.Root).RemoveAll(homeRel)
	out, image, lerr := doctorLaunch(ctx, deps, o, exe)
	_ = hostfs.New(p.Root).RemoveAll(homeRel)
	card.Image = image
	results, perr := parseProbe(out, lerr)
	for _, c := range probe.Checks() {
		if !c.Explicit {
			card.Attempts = append(card.Attempts, attempt("sandbox", c.Name, c.What, results, perr))
		}
	}

	// 2. The two-phase attacks, in a scratch world.
	tp, err := twoPhase(ctx, deps, ro, exe, tmp)
	if err != nil {
		return err
	}
	card.Attempts = append(card.Attempts, tp.attempts...)
	card.Notes = append(card.Notes, tp.notes...)
	if elfDynamic(exe) {
		card.Notes = append(card.Notes, exe+" is not a static binary; build ai-sandbox with CGO_ENABLED=0 so that it runs in any image")
	}

	if asJSON {
		if err := card.WriteJSON(s.Out); err != nil {
			return err
		}
	} else {
		card.WriteText(s.Out, s.OutTTY && deps.Getenv("NO_COLOR") == "")
	}
	var broken []string
	for _, a := range card.Unfinished() {
		broken = append(broken, a.Name)
	}
	if holes := card.Holes(); len(holes) > 0 {
		var names []string
		for _, h := range holes {
			names = append(names, h.Name)
		}
		return fmt.Errorf("%d of %d attacks succeeded: %s", len(holes), len(card.Attempts), strings.Join(names, ", "))
	}
	if len(broken) > 0 {
		return fmt.Errorf("%d attacks did not run to the end: %s", len(broken), strings.Join(broken, ", "))
	}
	return nil
}

// probeExecutable is the ai-sandbox executable to mount into the
// sandbox: this one (a static Linux binary), or $AI_SANDBOX_PROBE_BIN.
func probeExecutable(deps *Deps) (string, error) {
	exe := deps.Getenv(probeBinEnv)
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find the ai-sandbox executable: %w", err)
		}
	}
	exe, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", fmt.Errorf("%s: %w", exe, err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		return "", ui.WithHint(fmt.Errorf("%s is not a Linux executable, so it cannot run in a sandbox", exe),
			"build a Linux one (CGO_ENABLED=0 GOOS=linux GOARCH=<the engine's> go build ./cmd/ai-sandbox) and set "+probeBinEnv+" to its path")
	}
	f.Close()
	return exe, nil
}

// elfDynamic reports whether an executable needs a dynamic loader.
func elfDynamic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// doctorLaunch gathers and runs one probe session with the executable
// mounted, in a container that is new (any old one is removed first)
// and goes away at once after. It returns the session's stdout and the
// image it ran.
func doctorLaunch(ctx context.Context, deps *Deps, o *runOptions, exe string) (string, string, error) {
	var errb bytes.Buffer
	d := *deps
	d.Streams = ui.Streams{Out: &errb, Err: &errb}
	rf, err := gatherRun(ctx, &d, o)
	if err != nil {
		return "", "", err
	}
	rf.facts.IdleTimeout = 0
	rf.facts.ExtraMounts = append(rf.facts.ExtraMounts, docker.Mount{Source: exe, Target: probeInSandbox, ReadOnly: true})
	name := sandbox.ContainerName(rf.facts.Tool, rf.facts.Key)
	rm := func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = deps.Runner.Output(c, append([]string{deps.Docker()}, docker.RemoveArgs(name)...))
	}
	rm()
	defer rm()
	var out bytes.Buffer
	code, err := launch(ctx, &d, o, rf, proc.Stdio{Out: &out, Err: &errb})
	if err == nil && code != 0 {
		err = fmt.Errorf("the probe exited with %d", code)
	}
	if err != nil {
		return out.String(), rf.facts.Image, fmt.Errorf("%w\n%s", err, lastLines(errb.String(), 12))
	}
	return out.String(), rf.facts.Image, nil
}

func parseProbe(out string, launchErr error) (map[string]probe.Result, error) {
	if launchErr != nil {
		return nil, launchErr
	}
	return probe.Parse([]byte(out))
}

// attempt scores one check from the probe's results.
func attempt(phase, name, what string, results map[string]probe.Result, err error) doctor.Attempt {
	a := doctor.Attempt{Phase: phase, Name: name, What: what}
	r, ok := results[name]
	switch {
	case err != nil:
		a.Outcome, a.Detail = doctor.Broken, "the probe did not run: "+ui.FirstLine(err.Error())
	case !ok:
		var got []string
		for k := range results {
			got = append(got, k)
		}
		a.Outcome, a.Detail = doctor.Broken, "not reported by the probe (it reported: "+strings.Join(got, ", ")+")"
	case r.Succeeded:
		a.Outcome, a.Evidence = doctor.Hole, r.Evidence
	case r.Skipped:
		a.Outcome, a.Detail = doctor.Skipped, r.Detail
	case r.TimedOut:
		a.Outcome, a.Detail = doctor.Broken, r.Detail
	default:
		a.Outcome = doctor.Blocked
	}
	return a
}

// hostSecrets are the credential files under the home (and the env
// file), with their SHA-256 as markers.
func hostSecrets(home string, p config.Paths) (paths, markers []string) {
	add := func(root, rel string) {
		data, err := hostfs.New(root).ReadFile(rel, 1<<20)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			return
		}
		sum := sha256.Sum256(data)
		paths = append(paths, filepath.Join(root, rel))
		markers = append(markers, "sha256:"+hex.EncodeToString(sum[:]))
	}
	for _, rel := range hostSecretFiles {
		add(home, rel)
	}
	add(p.Root, "env")
	return paths, markers
}

// undeclaredNames are the keys a sandbox of no agent must not get: every
// env-file key, every key an agent declares, and a canary.
func undeclaredNames(deps *Deps, env *envfile.File) []string {
	names := append([]string{"AI_SANDBOX_DOCTOR_CANARY"}, env.Keys()...)
	for _, t := range deps.Tools.All() {
		names = append(names, t.EnvKeys...)
	}
	return dedupe(names)
}

// otherWorkspaces are the whitelisted workspaces that neither hold the
// project nor lie in it.
func otherWorkspaces(list []string, proj projectAt) []string {
	var out []string
	for _, w := range canonicalWorkspaces(list) {
		if w == proj.Workspace || w == proj.Dir || workspace.Within(proj.Dir, w) || workspace.Within(w, proj.Dir) {
			continue
		}
		if st, err := os.Stat(w); err == nil && st.IsDir() {
			out = append(out, w)
		}
	}
	return out
}

// startMarker starts a host process the sandbox must not see or trace
// ('ai-sandbox __probe __marker M'), ended with ctx. It returns the
// marker, or "" when it could not start one.
func startMarker(ctx context.Context, deps *Deps, exe, marker string) string {
	r, ok := deps.Runner.(interface {
		Run(context.Context, []string, proc.Stdio, []string) (int, error)
	})
	if !ok {
		return ""
	}
	go func() { _, _ = r.Run(ctx, []string{exe, probeCommand, "__marker", marker}, proc.Stdio{}, nil) }()
	return marker
}

// ---- two-phase ------------------------------------------------------------

type twoPhaseResult struct {
	attempts []doctor.Attempt
	notes    []string
}

// scratch is the world of the two-phase attacks: a home with a planted
// SSH key, a state folder with an env file and a login, a workspace
// holding a git repository, and a second workspace.
type scratch struct {
	root, home, state, ws, project, other string
	sshKey, canary, envCanary             string
}

func makeScratch(tmp string) (*scratch, error) {
	sc := &scratch{root: tmp, home: filepath.Join(tmp, "home"), ws: filepath.Join(tmp, "ws"), other: filepath.Join(tmp, "other"),
		canary: "ai-sandbox-doctor-plant-" + randomHex(8), envCanary: "sk-doctor-" + randomHex(8)}
	sc.state = filepath.Join(sc.home, ".ai-sandbox")
	sc.project = filepath.Join(sc.ws, "project")
	sc.sshKey = filepath.Join(sc.home, ".ssh", "id_rsa")
	cfg := fmt.Sprintf(`{"version": 2, "workspaces": [%q, %q]}`, sc.ws, sc.other)
	files := []struct{ path, content string }{
		{sc.sshKey, "-----BEGIN OPENSSH PRIVATE KEY-----\n" + sc.canary + "\n-----END OPENSSH PRIVATE KEY-----\n"},
		{filepath.Join(sc.state, "config.json"), cfg + "\n"},
		{filepath.Join(sc.state, "env"), "ANTHROPIC_API_KEY=" + sc.envCanary + "\n"},
		{filepath.Join(sc.state, "tools", "claude", "login", ".claude", ".credentials.json"), `{"claudeAiOauth":"doctor-scratch-login"}` + "\n"},
		{filepath.Join(sc.other, "notes.txt"), "the other workspace's notes\n"},
		{filepath.Join(sc.project, "README.md"), "a scratch project of ai-sandbox doctor --attack\n"},
		{filepath.Join(sc.project, ".git", "HEAD"), "ref: refs/heads/main\n"},
		{filepath.Join(sc.project, ".git", "config"), "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"},
		{filepath.Join(sc.project, ".git", "description"), "scratch\n"},
	}
	for _, f := range files {
		if err := writeScratch(f.path, f.content); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags", "hooks", "info"} {
		if err := os.MkdirAll(filepath.Join(sc.project, ".git", d), 0o755); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{sc.ws, sc.project, sc.other} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// deps is the scratch world's: its home, state and current folder, none
// of the user's keys in the environment, and messages kept apart.
func (sc *scratch) deps(deps *Deps, msgs *bytes.Buffer) *Deps {
	d := *deps
	d.Home = sc.home
	p := config.Paths{Root: sc.state}
	d.paths = &p
	d.Getwd = func() (string, error) { return sc.project, nil }
	keys := map[string]bool{"AI_SANDBOX_HOME": true}
	for _, t := range deps.Tools.All() {
		for _, k := range t.EnvKeys {
			keys[k] = true
		}
	}
	d.Getenv = func(k string) string {
		if keys[k] {
			return ""
		}
		return deps.Getenv(k)
	}
	d.Streams = ui.Streams{Out: msgs, Err: msgs}
	return &d
}

// twoPhase plants from inside a sandbox of the scratch project, relaunches,
// and checks the host: the plants on .git are refused in the sandbox, a
// relaunch reads no secret through what was planted, the user's git runs
// nothing planted, the end of the session names what could not be
// prevented, and the host follows no link planted in the agent's home.
func twoPhase(ctx context.Context, deps *Deps, ro *runOptions, exe, tmp string) (twoPhaseResult, error) {
	var res twoPhaseResult
	sc, err := makeScratch(tmp)
	if err != nil {
		return res, fmt.Errorf("make the scratch repository: %w", err)
	}
	var msgs bytes.Buffer
	d := sc.deps(deps, &msgs)
	what := map[string]string{}
	for _, c := range probe.Checks() {
		what[c.Name] = c.What
	}
	base := []string{"-secrets", sc.sshKey, "-markers", sc.canary, "-host-home", sc.home, "-other", sc.other, "-project", sc.project}
	run := func(extra ...string) (map[string]probe.Result, error) {
		// The settings flags (image, limits, seccomp) apply here too; the
		// mounts, networks and keys are the project's, not the scratch's.
		o := &runOptions{quiet: true, toolArgs: []string{"claude"}, flags: ro.flags,
			command: append([]string{probeInSandbox, probeCommand}, extra...)}
		out, _, err := doctorLaunch(ctx, d, o, exe)
		if err != nil {
			return nil, err
		}
		return probe.Parse([]byte(out))
	}

	// Phase one: the plants on .git (refused), and those no sandbox can
	// prevent (a nested repository, an .envrc, a gitlink in the index).
	plants := append(slices.Clone(twoPhaseGitPlants), "plant-nested-repo", "plant-index-gitlink")
	results, err := run(append(slices.Clone(base), plants...)...)
	for _, name := range twoPhaseGitPlants {
		res.attempts = append(res.attempts, attempt("two-phase", name, what[name], results, err))
	}
	unpreventable := err == nil && results["plant-nested-repo"].Succeeded && results["plant-index-gitlink"].Succeeded

	// The end of the session named what no sandbox can prevent (read
	// now: the next session's end writes the report again).
	report := doctor.Attempt{Phase: "two-phase", Name: "exit-report", What: "plant an .envrc and repositories without the end of the session naming them"}
	switch {
	case !unpreventable:
		report.Outcome, report.Detail = doctor.Broken, "the plants the report must name did not take effect"
	default:
		missing := unreported(sc, ".envrc", "nested-repo/.git/config", "gitlinked/.git/config")
		if len(missing) > 0 {
			report.Outcome, report.Evidence = doctor.Hole, prefix("not in the exit report: ", missing)
		} else {
			report.Outcome = doctor.Blocked
		}
	}
	res.attempts = append(res.attempts, report)

	// Phase two: a relaunch reads no secret through the project's .git.
	relaunch := doctor.Attempt{Phase: "two-phase", Name: "relaunch", What: "read a host secret through the planted .git after a relaunch"}
	rs, err := run("-secrets", strings.Join([]string{sc.sshKey, filepath.Join(sc.project, ".git", "hooks", "id_rsa"), filepath.Join(sc.project, ".git", "config")}, ","),
		"-markers", sc.canary+","+sc.envCanary, "-host-home", sc.home, "read-host-secret")
	scored := attempt("two-phase", "read-host-secret", relaunch.What, rs, err)
	scored.Name = relaunch.Name
	if refusedTampered(err) {
		// The launch refused a tampered .git: the defense, not a hole.
		scored.Outcome, scored.Detail = doctor.Blocked, "the launch refused the tampered .git"
	}
	res.attempts = append(res.attempts, scored)

	// Your git on the host runs nothing planted.
	hostGit := doctor.Attempt{Phase: "two-phase", Name: "host-git", What: "run a planted command through your git on the host (git status, git commit)"}
	if git, err := proc.LookPath("git"); err != nil {
		hostGit.Outcome, hostGit.Detail = doctor.Skipped, "git is not installed on the host"
	} else {
		env := []string{"HOME=" + sc.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=doctor",
			"GIT_AUTHOR_EMAIL=doctor@example.invalid", "GIT_COMMITTER_NAME=doctor", "GIT_COMMITTER_EMAIL=doctor@example.invalid"}
		for _, args := range [][]string{{"status"}, {"commit", "--allow-empty", "-q", "-m", "doctor"}} {
			var out bytes.Buffer
			c, cancel := context.WithTimeout(ctx, time.Minute)
			_, _ = deps.Runner.Interactive(c, append([]string{git, "-C", sc.project}, args...), proc.Stdio{Out: &out, Err: &out}, env, nil)
			cancel()
		}
		if data, err := os.ReadFile(filepath.Join(sc.project, probe.PlantMarker)); err == nil {
			hostGit.Outcome, hostGit.Evidence = doctor.Hole, strings.Split(strings.TrimSpace(string(data)), "\n")
		} else {
			hostGit.Outcome = doctor.Blocked
		}
	}
	res.attempts = append(res.attempts, hostGit)

	// Links planted in the agent's home are never followed by the host.
	homeLinks := doctor.Attempt{Phase: "two-phase", Name: "plant-home-links", What: what["plant-home-links"] + ", for the host to follow"}
	before := treeSum(sc.other) + treeSum(filepath.Dir(sc.sshKey))
	hr, err := run(append(slices.Clone(base), "plant-home-links")...)
	switch {
	case err != nil:
		homeLinks.Outcome, homeLinks.Detail = doctor.Broken, "the probe did not run: "+ui.FirstLine(err.Error())
	case !hr["plant-home-links"].Succeeded:
		homeLinks.Outcome, homeLinks.Detail = doctor.Broken, "the links were not planted: "+hr["plant-home-links"].Detail
	default:
		_, _ = run("__sleep", "0") // the relaunch copies the login and installs the skills
		var ev []string
		for _, f := range filesWith(sc.state, []string{sc.canary}) {
			ev = append(ev, "the planted SSH key was copied to "+f)
		}
		if treeSum(sc.other)+treeSum(filepath.Dir(sc.sshKey)) != before {
			ev = append(ev, "files outside the sandbox's folders changed: "+sc.other+" or "+filepath.Dir(sc.sshKey))
		}
		if len(ev) > 0 {
			homeLinks.Outcome, homeLinks.Evidence = doctor.Hole, ev
		} else {
			homeLinks.Outcome = doctor.Blocked
		}
	}
	res.attempts = append(res.attempts, homeLinks)
	return res, nil
}

// refusedTampered reports a launch refused for a tampered .git.
func refusedTampered(err error) bool {
	var te *gitguard.TamperedError
	return errors.As(err, &te) || (err != nil && strings.Contains(err.Error(), "was replaced since the last sandbox session"))
}

// unreported are the paths the scratch project's last exit report lacks.
func unreported(sc *scratch, paths ...string) []string {
	key := project.Key(sc.project)
	data, err := hostfs.New(sc.state).ReadFile(reportRel(key), 8<<20)
	if err != nil {
		return paths
	}
	var rep hostexec.Report
	if json.Unmarshal(data, &rep) != nil {
		return paths
	}
	var missing []string
	for _, p := range paths {
		if !slices.ContainsFunc(rep.Changes, func(c hostexec.Change) bool { return c.Path == p }) {
			missing = append(missing, p)
		}
	}
	return missing
}

// filesWith lists the regular files below dir (links not followed) that
// hold a marker.
func filesWith(dir string, markers []string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := hostfs.New(filepath.Dir(path)).ReadFile(filepath.Base(path), 8<<20)
		if err == nil && probe.ContainsAny(data, markers) {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// treeSum fingerprints everything below dir (links as links).
func treeSum(dir string) string {
	h := sha256.New()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		fmt.Fprintf(h, "%s %v\n", path, err)
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", info.Mode(), info.Size(), info.ModTime().UnixNano())
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t, _ := os.Readlink(path)
			fmt.Fprintf(h, "-> %s\n", t)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func writeScratch(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o600)
}

// removeScratch removes the scratch folder without following a link the
// sandbox planted in it.
func removeScratch(dir string) {
	_ = hostfs.New(filepath.Dir(dir)).RemoveAll(filepath.Base(dir))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func prefix(p string, list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = p + v
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
