package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/gitguard"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/logins"
	"github.com/ai-sandbox/ai-sandbox/internal/opencodedb"
	"github.com/ai-sandbox/ai-sandbox/internal/project"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/seccomp"
	"github.com/ai-sandbox/ai-sandbox/internal/skills"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
	"github.com/ai-sandbox/ai-sandbox/internal/workspace"
)

// projectAt is the project a folder belongs to: the folder mounted (the
// git top-level when it lies in the workspace, else the folder), the
// workspace, the original's project id and the folder's key.
type projectAt struct {
	Dir       string
	Workspace string
	ID        string // the original's id (origin URL, git root or path)
	Key       string // path only: names containers and per-project state
}

// findProject resolves the project of cwd (canonical) inside ws. The id
// follows git (its top-level may be above the workspace, as the original
// computes it); the folder mounted never leaves the workspace.
func findProject(deps *Deps, cwd, ws string) projectAt {
	proj := project.Find(cwd, deps.askGit)
	dir := cwd
	if proj.TopLevel != "" && (proj.TopLevel == ws || workspace.Within(proj.TopLevel, ws)) {
		dir = proj.TopLevel
	}
	return projectAt{Dir: dir, Workspace: ws, ID: proj.ID, Key: project.Key(dir)}
}

// askGit asks the host's git for remote.origin.url, for configs that use
// includes (read-only: git config runs no hook and no fsmonitor).
func (d *Deps) askGit(dir string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := d.Runner.Output(ctx, []string{"git", "-C", dir, "config", "--get", "remote.origin.url"})
	if err != nil || (res.ExitCode != 0 && res.ExitCode != 1) {
		return "", false
	}
	return strings.TrimRight(string(res.Stdout), "\n"), true
}

// projectRecord is kept in the project's state folder: the folder it
// belongs to and its .git, so that a .git replaced between sessions is
// noticed.
type projectRecord struct {
	Path     string `json:"path"`
	GitInode uint64 `json:"gitInode,omitempty"`
	// Noted are the notes said once for this project already.
	Noted []string `json:"noted,omitempty"`
}

const recordFile = "project.json"

// readRecord reads a project's record ("" path when there is none).
func readRecord(p config.Paths, key string) (projectRecord, error) {
	var rec projectRecord
	data, err := hostfs.New(p.Root).ReadFile(filepath.Join("projects", key, recordFile), 1<<16)
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w", filepath.Join(p.ProjectState(key), recordFile), err)
	}
	return rec, nil
}

// recordOps writes the project's record.
func recordOps(p config.Paths, key string, rec projectRecord) []hostfs.Op {
	data, _ := json.MarshalIndent(rec, "", "  ")
	return []hostfs.Op{
		{Kind: hostfs.MkdirAll, Root: p.Root, Rel: filepath.Join("projects", key), Perm: 0o700},
		{Kind: hostfs.Write, Root: p.Root, Rel: filepath.Join("projects", key, recordFile), Data: append(data, '\n'), Perm: 0o600},
	}
}

// gitFacts protects the project's git metadata and checks that its .git
// is the one of the last session. It returns the project's record as it
// was (the caller writes it back, updated).
func gitFacts(p config.Paths, proj projectAt) (gitguard.Guard, projectRecord, error) {
	g, err := gitguard.Protect(proj.Dir, p.Root)
	var te *gitguard.TamperedError
	if errors.As(err, &te) {
		return g, projectRecord{}, ui.WithHint(err, te.Hint())
	}
	if err != nil {
		return g, projectRecord{}, fmt.Errorf("inspect the git metadata of %s: %w", proj.Dir, err)
	}
	rec, err := readRecord(p, proj.Key)
	if err != nil {
		return g, rec, err
	}
	if rec.Path != "" && rec.Path != proj.Dir {
		return g, rec, fmt.Errorf("the state folder %s belongs to %s, not to %s", p.ProjectState(proj.Key), rec.Path, proj.Dir)
	}
	if rec.GitInode != 0 && g.GitInode != 0 && rec.GitInode != g.GitInode {
		gitPath := filepath.Join(proj.Dir, ".git")
		return g, rec, ui.WithHint(fmt.Errorf("%s was replaced since the last sandbox session here; an agent may have made its own, which your git would obey on the host", gitPath),
			"inspect it ('git -C "+docker.Quote([]string{proj.Dir})+" config --list --show-origin', 'ls -la "+docker.Quote([]string{gitPath})+"/hooks'); if you replaced it yourself, run 'ai-sandbox project rebind' here")
	}
	return g, rec, nil
}

// noteOnce reports whether a note is due for the project (and records it
// as said).
func (r *projectRecord) noteOnce(name string) bool {
	if slices.Contains(r.Noted, name) {
		return false
	}
	r.Noted = append(r.Noted, name)
	return true
}

// claimDB finds the per-project database folder of tool for the project:
// opencode-dbs/<id> (the original's layout), owned by the folder that
// first used it (its path is recorded in opencode-dbs/.owners/<id>). A
// project folder never gets another folder's database: a second clone of
// the same repository (or a folder whose origin an agent rewrote) gets
// its own, <id>-<hash of its path>; a folder whose database belongs to a
// path that is gone was probably moved, and is told how to rebind it.
func claimDB(p config.Paths, tool string, proj projectAt) (dir string, ops []hostfs.Op, note string, err error) {
	id := proj.ID
	for try := 0; try < 2; try++ {
		owner, err := readOwner(p, tool, id)
		if err != nil {
			return "", nil, "", err
		}
		switch {
		case owner == proj.Dir:
			return p.ProjectDB(tool, id), nil, note, nil
		case owner == "":
			data := []byte(proj.Dir + "\n")
			ownerRel, _ := filepath.Rel(p.Root, p.DBOwner(tool, id))
			ops = []hostfs.Op{
				{Kind: hostfs.MkdirAll, Root: p.Root, Rel: filepath.Dir(ownerRel), Perm: 0o700},
				{Kind: hostfs.Create, Root: p.Root, Rel: ownerRel, Data: data, Perm: 0o600},
			}
			return p.ProjectDB(tool, id), ops, note, nil
		}
		if _, err := os.Stat(owner); errors.Is(err, fs.ErrNotExist) && id == proj.ID {
			return "", nil, "", ui.WithHint(
				fmt.Errorf("the %s database of this project (%s) belongs to %s, which no longer exists", tool, p.ProjectDB(tool, id), owner),
				"if you moved the project here, run 'ai-sandbox project rebind' in it to take its data along")
		}
		note = fmt.Sprintf("%s uses the %s database %s already; this folder gets its own", owner, tool, p.ProjectDB(tool, id))
		id = proj.ID + "-" + pathHash(proj.Dir)
	}
	return "", nil, "", fmt.Errorf("the %s database folder %s belongs to another folder", tool, p.ProjectDB(tool, id))
}

// readOwner returns the folder recorded as the owner of a database
// folder ("" when none is).
func readOwner(p config.Paths, tool, id string) (string, error) {
	rel, _ := filepath.Rel(p.Root, p.DBOwner(tool, id))
	data, err := hostfs.New(p.Root).ReadFile(rel, 1<<16)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(trimNewline(data)), nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func pathHash(dir string) string {
	sum := sha256.Sum256([]byte("path:" + dir))
	return hex.EncodeToString(sum[:])[:8]
}

// loginFiles are a tool's login files, with the keys shared of each.
func loginFiles(t tools.Tool) []logins.File {
	var out []logins.File
	for _, rel := range t.LoginFiles {
		out = append(out, logins.File{Rel: rel, Keys: t.LoginKeys[rel]})
	}
	return out
}

// loginOps make the tool's login store and copy its newer login files
// into the project's home.
func loginOps(p config.Paths, agent *tools.Tool, home string) ([]hostfs.Op, error) {
	files := loginFiles(*agent)
	if len(files) == 0 {
		return nil, nil
	}
	store := p.LoginStore(agent.Name)
	storeRel, _ := filepath.Rel(p.Root, store)
	seed, err := logins.Seed(store, p.LegacyToolHome(agent.Name), home, files)
	if err != nil {
		return nil, ui.WithHint(err, "inspect it with 'ls -la' and remove the link; 'ai-sandbox project show' names the project's state folder")
	}
	return append([]hostfs.Op{{Kind: hostfs.MkdirAll, Root: p.Root, Rel: storeRel, Perm: 0o700}}, seed...), nil
}

// hostConfigFacts shares the host's own config of a tool when the user
// opted in (read-only or read-write), with mount points made in the home
// by the user (docker would make them as root).
func hostConfigFacts(deps *Deps, cfg *config.Config, agent *tools.Tool, home string) ([]docker.Mount, []hostfs.Op, error) {
	mode := cfg.Tools.HostConfig[agent.Name]
	switch mode {
	case "", "off":
		return nil, nil, nil
	case "ro", "rw":
	default:
		return nil, nil, fmt.Errorf("config.json tools.hostConfig.%s: %q is not off, ro or rw", agent.Name, mode)
	}
	exists := func(path string) bool { _, err := os.Stat(path); return err == nil }
	mounts := sandbox.HostConfigMounts(deps.Home, agent.HostConfig, exists, mode == "ro")
	var ops []hostfs.Op
	for _, m := range mounts {
		rel, _ := filepath.Rel(sandbox.AgentHome, m.Target)
		st, err := os.Stat(m.Source)
		if err != nil {
			continue
		}
		if st.IsDir() {
			ops = append(ops, hostfs.Op{Kind: hostfs.MkdirAll, Root: home, Rel: rel, Perm: 0o700})
			continue
		}
		if d := filepath.Dir(rel); d != "." {
			ops = append(ops, hostfs.Op{Kind: hostfs.MkdirAll, Root: home, Rel: d, Perm: 0o700})
		}
		ops = append(ops, hostfs.Op{Kind: hostfs.Create, Root: home, Rel: rel, Perm: 0o600})
	}
	return mounts, ops, nil
}

// caFacts trusts the CA certificates of image.caCerts at run time: one
// bundle in the cache, mounted read-only, with the variables that point
// programs at it.
func caFacts(p config.Paths, cfg *config.Config, f *sandbox.Facts, print bool) error {
	if len(cfg.Image.CACerts) == 0 {
		return nil
	}
	bundle := filepath.Join(p.Cache(), "ca-bundle.pem")
	f.ImageMounts, f.ImageEnv = imagebuild.RuntimeCA(bundle)
	if print {
		return nil
	}
	data, err := imagebuild.CABundle(cfg.Image.CACerts)
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(p.Root, bundle)
	f.HostOps = append(f.HostOps,
		hostfs.Op{Kind: hostfs.MkdirAll, Root: p.Root, Rel: filepath.Dir(rel), Perm: 0o700},
		hostfs.Op{Kind: hostfs.Write, Root: p.Root, Rel: rel, Data: data, Perm: 0o644},
		hostfs.Op{Kind: hostfs.CheckFile, Root: p.Root, Rel: rel})
	return nil
}

// seccompFacts points the sandbox at ai-sandbox's seccomp profile (file
// named by its hash, so a new profile makes a new container spec), or at
// the engine's default.
func seccompFacts(p config.Paths, setting string, f *sandbox.Facts) {
	if setting != "ai-sandbox" {
		return
	}
	f.Seccomp = filepath.Join(p.Cache(), "seccomp-"+seccomp.Hash()+".json")
	f.SeccompProfile = seccomp.Profile()
}

// skillsOps install the bundled skills into the agent's home for this
// project, on its first run there.
func skillsOps(home, tool string) ([]hostfs.Op, []string, error) {
	ops, names, err := skills.Plan(home, tool)
	if err != nil {
		return nil, nil, fmt.Errorf("bundled skills: %w", err)
	}
	return ops, names, nil
}

// passwdPaths are the generated passwd and group files for a uid:gid.
func passwdPaths(p config.Paths, uid, gid int) (string, string) {
	dir := filepath.Join(p.Cache(), "passwd", strconv.Itoa(uid)+"-"+strconv.Itoa(gid))
	return filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
}

// projectNotes are the notes said once per project: a sandbox that
// mounts several projects at once, and git config being read-only inside.
func projectNotes(s ui.Streams, rec *projectRecord, g gitguard.Guard, proj projectAt, shell bool) {
	var subs []string
	for _, r := range g.Repos {
		if r != "." {
			subs = append(subs, r)
		}
	}
	if !slices.Contains(g.Repos, ".") && len(subs) >= 2 && rec.noteOnce("several-projects") {
		shown := subs
		if len(shown) > 8 {
			shown = append(shown[:8:8], fmt.Sprintf("… %d more", len(subs)-8))
		}
		s.Infof("note: this sandbox mounts all of %s, which holds %d projects (%s); run it inside one of them to give the agent only that one",
			proj.Dir, len(subs), strings.Join(shown, ", "))
	}
	if shell && len(g.Repos) > 0 && rec.noteOnce("git-config") {
		s.Infof("note: in the sandbox the repository's .git/config and hooks are read-only (your git on the host obeys them); 'git config' there fails with 'Device or resource busy': use 'git config --global' (the sandbox's own home) for settings such as user.email")
	}
}

// dbFacts decides an agent's database: its project's folder (claimDB),
// after a one-time backup of the global database; or, when the user
// opted out with <ENV>_ISOLATION=0 (OPENCODE_DB_ISOLATION, KILO_DB_…),
// the database every project's sandbox shares — the user's own global
// one when its data folder is shared read-write (tools.hostConfig), else
// ai-sandbox's shared one, which starts as a copy of the global one.
func dbFacts(deps *Deps, p config.Paths, cfg *config.Config, o *runOptions, agent *tools.Tool, proj projectAt, rf *runFacts, f *sandbox.Facts) error {
	s := deps.Streams
	global := opencodedb.Global(deps.Getenv, deps.Home, agent.Name, agent.DB.File)
	dbRoot := hostfs.New(p.DBRoot(agent.Name))
	variable := agent.DB.Env + "_ISOLATION"
	if isolationOff(deps.Getenv(variable)) {
		if cfg.Tools.HostConfig[agent.Name] == "rw" {
			// Its data folder is mounted at its place in the home: the
			// agent's default database is the user's own.
			if !o.quiet {
				s.Warnf("%s=0 with tools.hostConfig.%s rw: this sandbox uses your own %s database (%s), which every project's sandbox and %s on your host use too; two at once wait on each other's writes, and across Docker Desktop's file sharing, NFS or WSL can corrupt it",
					variable, agent.Name, agent.Name, tilde(deps.Home, global.Path()), agent.Name)
			}
			return nil
		}
		f.DB, f.DBEnv, f.DBFile = p.ProjectDB(agent.Name, opencodedb.SharedID), agent.DB.Env, agent.DB.File
		rf.db = &dbRun{seed: true, global: global, dbRoot: dbRoot, file: agent.DB.File, tool: agent.Name}
		if !o.quiet {
			s.Warnf("%s=0: this sandbox uses the %s database that every project's sandbox shares (%s); sandboxes using it at the same time wait on each other's writes, and across Docker Desktop's file sharing, NFS or WSL can corrupt it",
				variable, agent.Name, tilde(deps.Home, f.DB))
		}
		return nil
	}
	dir, ops, note, err := claimDB(p, agent.Name, proj)
	if err != nil {
		return err
	}
	if note != "" && !o.quiet && len(ops) > 0 {
		s.Infof("%s", note)
	}
	f.DB, f.DBEnv, f.DBFile = dir, agent.DB.Env, agent.DB.File
	f.HostOps = append(f.HostOps, ops...)
	if !opencodedb.BackupDone(dbRoot) {
		rf.db = &dbRun{global: global, dbRoot: dbRoot, file: agent.DB.File, tool: agent.Name}
	}
	return nil
}

// isolationOff reads OPENCODE_DB_ISOLATION (the original's variable:
// "0" turns per-project databases off).
func isolationOff(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "0", "false", "no", "off":
		return true
	}
	return false
}

// dbRun is a database step of a launch, done after the host changes and
// before the sandbox starts: the one-time backup of the global database,
// or the first copy of it into the shared database.
type dbRun struct {
	seed   bool
	global opencodedb.File
	dbRoot hostfs.Root
	file   string
	tool   string
}

func (d *dbRun) String() string {
	if d.seed {
		return fmt.Sprintf("unless %s exists, copy %s into it with SQLite's backup API", filepath.Join(d.dbRoot.Path(), opencodedb.SharedID, d.file), d.global.Path())
	}
	return fmt.Sprintf("once: back up %s (if there is one) into %s/<time>/ with SQLite's backup API", d.global.Path(), filepath.Join(d.dbRoot.Path(), opencodedb.BackupsDir))
}

// do carries the step out; a failure is a warning (the global database
// is never changed by a launch).
func (d *dbRun) do(ctx context.Context, s ui.Streams, quiet bool) {
	if d.seed {
		seeded, err := opencodedb.SeedShared(ctx, d.global, d.dbRoot, d.file)
		if err != nil {
			s.Warnf("the shared %s database starts empty: copying %s failed: %v", d.tool, d.global.Path(), err)
		} else if seeded && !quiet {
			s.Infof("the shared %s database starts as a copy of %s", d.tool, d.global.Path())
		}
		return
	}
	dir, err := opencodedb.BackupOnce(ctx, d.global, d.dbRoot, time.Now())
	if err != nil {
		s.Warnf("back up %s before the first per-project run: %v (it is left as it is; ai-sandbox tries again next time)", d.global.Path(), err)
		return
	}
	if dir != "" && !quiet {
		s.Infof("backed up %s to %s before the first run with per-project databases; 'ai-sandbox migrate-opencode-db' moves its sessions into them", d.global.Path(), dir)
	}
}
