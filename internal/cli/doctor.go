package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/clean"
	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/doctor"
	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
	"github.com/ai-sandbox/ai-sandbox/internal/hostexec"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/proc"
	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

const doctorLong = `Check what ai-sandbox depends on, and say what to do about what is wrong:

  docker          the CLI, the engine (version, rootless or not, runtimes,
                  seccomp)
  image           the sandbox image: there, the agents in it, its age
  configuration   config.json and env parse, and only you may read them (0600)
  workspaces      each whitelisted folder exists and is still allowed
  aliases         the rc files holding ai-sandbox's aliases, and your own
                  definitions that shadow them
  terminal        whether your terminal copies what the sandbox's clipboard
                  commands send (OSC52)
  disk            the use of ~/.ai-sandbox
  this project    its .git is not tampered with (as a launch checks), the
                  host-executed files (git hooks and config, .envrc,
                  Makefile, …) its last sandbox sessions changed, and the
                  image has the add-ons its toolchain needs (go.mod: go,
                  pnpm-lock.yaml: pnpm, …; see 'image build --for-project')

It exits 1 when a check fails, 0 otherwise (warnings included).

--attack runs the attack probe inside a fresh sandbox of the current
project, with ai-sandbox's own executable mounted read-only (nothing is
downloaded): it tries to read host secrets (your SSH keys, cloud
credentials and env file are named by their SHA-256, never read into the
sandbox), other workspaces, to write outside the project, to gain
capabilities or root, to see host processes, reach the docker socket,
mount, ptrace, read keys it was not given, and fork without limit. Then
the two-phase attacks: plants in a scratch repository made for the
occasion (never your project) of what the host would later obey — links
for .git/hooks and .git/config, a replaced .git, a commondir, a nested
repository — followed by a relaunch and your git on the host. It prints a
scorecard and exits 1 if any attack succeeded. The sandbox is made with
the settings a launch here would use; the run flags below change them, so
that you can test the settings you use. It takes a minute or two.`

// doctorRunFlags are run's flags that --attack accepts: the settings of
// the sandbox under attack.
var doctorRunFlags = []string{"image", "pids-limit", "memory", "cpus", "tmp-size", "cpu-shares", "seccomp", "mount", "network", "env"}

func NewCmdDoctor(deps *Deps) *cobra.Command {
	var asJSON, attack bool
	var ro runOptions
	cmd := &cobra.Command{
		Use:   "doctor [--json] [--attack [run flags]]",
		Short: "Check docker, the image, the configuration and this project; --attack tries to break out",
		Long:  doctorLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !attack {
				var changed []string
				ro.flags.Visit(func(f *pflag.Flag) {
					if slices.Contains(doctorRunFlags, f.Name) {
						changed = append(changed, "--"+f.Name)
					}
				})
				if len(changed) > 0 {
					return ui.Usagef("%s go with --attack (the settings of the sandbox under attack)", strings.Join(changed, ", "))
				}
				return runDoctor(cmd.Context(), deps, asJSON)
			}
			return runDoctorAttack(cmd.Context(), deps, &ro, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&attack, "attack", false, "run the attack probe in a fresh sandbox of this project and print a scorecard")
	fs := newRunFlags(&ro)
	fs.VisitAll(func(f *pflag.Flag) {
		for _, n := range doctorRunFlags {
			if f.Name == n {
				f.Usage += " (with --attack)"
				cmd.Flags().AddFlag(f)
			}
		}
	})
	ro.flags = cmd.Flags()
	return cmd
}

// runDoctor gathers the facts, checks them and prints the findings.
func runDoctor(ctx context.Context, deps *Deps, asJSON bool) error {
	s := deps.Streams
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	var rep doctor.Report

	// docker
	ef := engineFacts(ctx, deps)
	rep.Add(doctor.Engine(ef)...)

	// configuration
	cfgFacts := doctor.FileFacts{Name: "config.json", Path: p.ConfigFile(), Optional: true}
	cfg, cfgErr := config.Load(p)
	statInto(&cfgFacts, p.ConfigFile())
	if cfgErr != nil {
		cfgFacts.Err = cfgErr.Error()
	} else {
		cfgFacts.ParseOK = true
		cfgFacts.Extra = fmt.Sprintf("%d workspaces", len(cfg.Workspaces))
		if u := cfg.UnknownKeys(); len(u) > 0 {
			cfgFacts.Extra += "; keys this version does not know, kept: " + strings.Join(u, ", ")
		}
	}
	envFacts := doctor.FileFacts{Name: "env", Path: p.EnvFile(), Optional: true}
	statInto(&envFacts, p.EnvFile())
	if env, err := envfile.Load(p.EnvFile()); err != nil {
		envFacts.Err = err.Error()
	} else {
		envFacts.ParseOK = true
		envFacts.Extra = fmt.Sprintf("%d keys", len(env.Keys()))
	}

	// image
	settings := config.Settings{}
	if cfg != nil {
		settings = cfg.Settings
	}
	resolved, err := config.Resolve(settings, deps.Getenv, nil)
	if err != nil {
		return &ui.UsageError{Err: err}
	}
	imf := doctor.ImageFacts{Name: resolved.Image}
	if cfg != nil {
		imf.Installed = cfg.Tools.Installed
	}
	if ef.Server == "" {
		imf.Err = "the engine does not answer"
	} else {
		imageFacts(ctx, deps, &imf)
	}
	rep.Add(doctor.Image(imf, time.Now())...)
	rep.Add(doctor.File(cfgFacts)...)
	rep.Add(doctor.File(envFacts)...)
	rep.Add(doctor.Caches(doctor.CacheFacts{Shared: resolved.SharedCaches, Source: resolved.Source["shared-caches"],
		Dir: tilde(deps.Home, p.SharedCaches())})...)

	// workspaces
	if cfg != nil {
		var ws []doctor.WorkspaceFacts
		for _, w := range cfg.Workspaces {
			wf := doctor.WorkspaceFacts{Path: w}
			if st, err := os.Stat(w); err == nil && st.IsDir() {
				wf.Exists = true
				canon := w
				if c, err := filepath.EvalSymlinks(w); err == nil {
					canon = c
				}
				if err := workspace.Check(canon, deps.Home, p.Root); err != nil {
					wf.Refused = err.Error()
				}
			}
			ws = append(ws, wf)
		}
		rep.Add(doctor.Workspaces(ws)...)
	}

	// aliases, terminal, disk
	rep.Add(doctor.Aliases(rcFacts(deps))...)
	rep.Add(doctor.Terminal(doctor.DetectOSC52(deps.Getenv))...)
	rep.Add(doctor.Disk(diskFacts(p), clean.Human)...)

	// this project
	if cfg != nil {
		pf := projectFacts(deps, p, cfg)
		rep.Add(doctor.Project(pf)...)
		if pf.Workspace != "" {
			rep.Add(doctor.Toolchain(toolchainFacts(pf.Dir, imf))...)
		}
	}

	if asJSON {
		if err := rep.WriteJSON(s.Out); err != nil {
			return err
		}
	} else {
		rep.WriteText(s.Out, s.OutTTY && deps.Getenv("NO_COLOR") == "")
	}
	if rep.Failed() {
		return &ui.ExitError{Code: 1}
	}
	return nil
}

func statInto(f *doctor.FileFacts, path string) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	f.Exists, f.Mode = true, uint32(st.Mode().Perm())
}

// engineFacts asks docker version and docker info.
func engineFacts(ctx context.Context, deps *Deps) doctor.EngineFacts {
	dk := deps.Docker()
	var ef doctor.EngineFacts
	path, err := proc.LookPath(dk)
	if err != nil {
		return ef
	}
	ef.CLI = path
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res, err := deps.Runner.Output(ctx, append([]string{dk}, docker.VersionArgs("{{.Client.Version}}|{{.Server.Version}}")...))
	if err != nil {
		ef.ServerErr = err.Error()
		return ef
	}
	// "|": docker version passes its format through a tabwriter.
	client, server, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), "|")
	ef.Client, ef.Server = strings.TrimSpace(client), strings.TrimSpace(server)
	if res.ExitCode != 0 || ef.Server == "" {
		ef.Server = ""
		ef.ServerErr = ui.FirstLine(strings.TrimSpace(string(res.Stderr)))
		return ef
	}
	res, err = deps.Runner.Output(ctx, append([]string{dk}, docker.InfoArgs("{{json .}}")...))
	if err == nil && res.ExitCode == 0 {
		var info map[string]any
		if json.Unmarshal(res.Stdout, &info) == nil {
			ef.Info = info
		}
	}
	return ef
}

// imageFacts asks docker about the image run uses.
func imageFacts(ctx context.Context, deps *Deps, f *doctor.ImageFacts) {
	res, err := deps.Runner.Output(ctx, append([]string{deps.Docker()}, docker.ImageInspectArgs(f.Name, "{{json .Config.Labels}}\t{{.Created}}")...))
	if err != nil {
		f.Err = err.Error()
		return
	}
	if res.ExitCode != 0 {
		if strings.Contains(string(res.Stderr), "No such image") || strings.Contains(string(res.Stderr), "image not known") {
			return
		}
		f.Err = ui.FirstLine(strings.TrimSpace(string(res.Stderr)))
		return
	}
	f.Present = true
	labels, created, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), "\t")
	_ = json.Unmarshal([]byte(labels), &f.Labels)
	f.Created, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(created))
}

// rcFacts reads each shell's rc file for the alias block.
func rcFacts(deps *Deps) []doctor.RCFacts {
	current, _ := shellrc.Parse(deps.Getenv("SHELL"))
	var out []doctor.RCFacts
	for _, sh := range shellrc.All() {
		path := shellrc.RCFile(sh, deps.Home, deps.Getenv)
		f := doctor.RCFacts{Shell: string(sh), Path: shellrc.Tilde(path, deps.Home), Current: sh == current}
		content, exists, err := shellrc.ReadFile(path)
		f.Exists = exists
		if err != nil {
			f.Err = err.Error()
			out = append(out, f)
			continue
		}
		block, err := shellrc.HasBlock(content)
		if err != nil {
			f.Err = fmt.Sprintf("the ai-sandbox block's markers are broken (%v)", err)
			out = append(out, f)
			continue
		}
		f.Block = block
		if block {
			f.Tools = shellrc.Tools(content)
			f.Exe = shellrc.Exe(sh, content)
			if f.Exe != "" {
				_, err := os.Stat(f.Exe)
				f.ExeExists = err == nil
			}
			names := []string{"ai-run"}
			for _, t := range f.Tools {
				names = append(names, t)
				if tool, ok := deps.Tools.Lookup(t); ok && tool.Binary != t {
					names = append(names, tool.Binary)
				}
			}
			for _, c := range shellrc.Conflicts(sh, content, names) {
				if c.AfterBlock {
					f.Shadowed = append(f.Shadowed, fmt.Sprintf("%s (%s, line %d)", c.Name, c.Kind, c.Line))
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// diskFacts measures the state folder, by its top-level entries, without
// following links.
func diskFacts(p config.Paths) doctor.DiskFacts {
	d := doctor.DiskFacts{Root: p.Root, Parts: map[string]int64{}}
	r := hostfs.New(p.Root)
	entries, err := r.ReadDir(".")
	if errors.Is(err, fs.ErrNotExist) {
		d.Err = "does not exist yet"
		return d
	}
	if err != nil {
		d.Err = err.Error()
		return d
	}
	for _, e := range entries {
		u, err := r.Usage(e.Name())
		if err != nil {
			continue
		}
		d.Total += u.Bytes
		name := e.Name()
		if !e.IsDir() {
			name = "files"
		}
		d.Parts[name] += u.Bytes
	}
	return d
}

// projectFacts checks the current project's .git as a launch would, and
// reads its last report of host-executed files.
func projectFacts(deps *Deps, p config.Paths, cfg *config.Config) doctor.ProjectFacts {
	var pf doctor.ProjectFacts
	wd, err := deps.Getwd()
	if err != nil {
		pf.Dir = "."
		return pf
	}
	cwd, err := filepath.EvalSymlinks(wd)
	if err != nil {
		cwd = wd
	}
	ws, _ := workspace.Match(canonicalWorkspaces(cfg.Workspaces), cwd)
	proj := findProject(deps, cwd, ws)
	pf.Dir, pf.Workspace = proj.Dir, proj.Workspace
	if ws == "" {
		pf.Dir = cwd
		return pf
	}
	if _, err := os.Lstat(filepath.Join(proj.Dir, ".git")); err == nil {
		pf.HasGit = true
	}
	if _, _, err := gitFacts(p, proj); err != nil {
		pf.HasGit = true
		pf.Tampered = err.Error()
		pf.TamperHint = strings.Join(ui.HintsOf(err), "; ")
	}
	data, err := hostfs.New(p.Root).ReadFile(reportRel(proj.Key), 8<<20)
	if err == nil {
		var rep hostexec.Report
		if json.Unmarshal(data, &rep) == nil {
			pf.LastSession = rep.Until
			for _, c := range summarize(rep.Changes) {
				pf.Changes = append(pf.Changes, doctor.Change{Path: c.Path, Why: c.Why})
			}
		}
	}
	t := hostexec.Tracker{Dir: p.ProjectState(proj.Key), Project: proj.Dir}
	if running, pending, err := t.Pending(); err == nil {
		pf.Running = running
		for _, c := range summarize(pending) {
			pf.Pending = append(pf.Pending, doctor.Change{Path: c.Path, Why: c.Why})
		}
	}
	return pf
}
