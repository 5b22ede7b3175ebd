// Package sandbox owns the lifecycle of a project's container for a tool:
// what it looks like (a plan built from gathered facts by a pure
// function), and bringing it up, attaching sessions to it and stopping it.
//
// One container per (tool, project), named ai-<tool>-<projectid>. PID 1 is
// docker's init running a small keeper loop, never the agent; every
// session, the first included, is a `docker exec`. The keeper ends the
// container once no session has been attached for the idle grace period.
package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
)

// Label keys.
const (
	LabelTool      = "ai-sandbox.tool"
	LabelProject   = "ai-sandbox.project"
	LabelWorkspace = "ai-sandbox.workspace"
	LabelPath      = "ai-sandbox.path"
	LabelSpecHash  = "ai-sandbox.spec-hash"
	LabelIdle      = "ai-sandbox.idle-timeout"
)

// Paths inside the container.
const (
	AgentHome = "/home/agent"
	DBDir     = "/var/lib/ai-sandbox/db"
	// ShellTool is the sandbox of commands that are not known agents.
	ShellTool = "shell"
)

// Facts are everything gathered before deciding: no I/O happens after.
type Facts struct {
	Tool      string // sandbox name: an agent's name, or "shell"
	ProjectID string
	Project   string // the folder mounted (git top-level or cwd), canonical
	Workspace string // the whitelisted workspace containing it
	Cwd       string // canonical current folder, inside Project
	UID, GID  int
	Image     string

	// Host-side folders and files, already created by the gatherer.
	Home   string // the tool's sandbox home
	Passwd string // generated passwd file
	Group  string // generated group file
	DB     string // per-project database folder ("" = none)
	DBEnv  string // variable naming the database file, e.g. OPENCODE_DB
	DBFile string // file name inside DB

	// ReadOnlyInProject are existing paths inside the project that the
	// sandbox must not change (.git/hooks, .git/config).
	ReadOnlyInProject []string
	// ExtraMounts are explicit mounts asked for by the user.
	ExtraMounts []docker.Mount
	// HostConfig are opt-in shares of the host's own config for the tool.
	HostConfig []docker.Mount

	IdleTimeout time.Duration
	PidsLimit   int64
	Memory      string
	CPUs        string
	PortBind    string // "localhost" or "all"
	Ports       []int
	Networks    []string
	// ImageEnv are literal, non-secret variables for the container
	// (CA bundle locations and the like).
	ImageEnv map[string]string
	// ImageMounts are read-only mounts that go with ImageEnv.
	ImageMounts []docker.Mount

	// Session.
	Cmd         []string
	TTY         bool
	Rows, Cols  int // the terminal's size, when TTY
	Interactive bool
	TermEnv     map[string]string // TERM, COLORTERM, … from the host
	SecretNames []string          // env-file keys passed by name
	SessionID   string
}

// Plan is what will be run.
type Plan struct {
	Name     string
	Run      docker.RunSpec
	Exec     docker.ExecSpec // the session behind the Guard, as a launch runs it
	Cmd      []string        // the session's own command
	SpecHash string
	// ExtraNetworks are joined after start (older engines accept one
	// --network on docker run).
	ExtraNetworks []string
	// SessionID names the session's processes (signals are forwarded to
	// them) and its start token.
	SessionID  string
	rows, cols int
}

// ContainerName is ai-<tool>-<projectid>.
func ContainerName(tool, projectID string) string {
	return "ai-" + tool + "-" + projectID
}

// NewPlan decides the container and the session from facts. It is pure.
func NewPlan(f Facts) Plan {
	name := ContainerName(f.Tool, f.ProjectID)
	mounts := []docker.Mount{
		{Source: f.Project, Target: f.Project},                    // the project, at the same path
		{Source: f.Home, Target: AgentHome},                       // the tool's own persistent home
		{Source: f.Passwd, Target: "/etc/passwd", ReadOnly: true}, // any uid gets a name
		{Source: f.Group, Target: "/etc/group", ReadOnly: true},
	}
	for _, p := range f.ReadOnlyInProject {
		mounts = append(mounts, docker.Mount{Source: p, Target: p, ReadOnly: true})
	}
	env := map[string]string{
		"HOME":               AgentHome,
		"USER":               "agent",
		"LOGNAME":            "agent",
		"AI_SANDBOX":         "1",
		"AI_SANDBOX_TOOL":    f.Tool,
		"AI_SANDBOX_PROJECT": f.ProjectID,
	}
	if f.DB != "" {
		mounts = append(mounts, docker.Mount{Source: f.DB, Target: DBDir})
		env[f.DBEnv] = DBDir + "/" + f.DBFile
	}
	mounts = append(mounts, f.HostConfig...)
	mounts = append(mounts, f.ImageMounts...)
	mounts = append(mounts, f.ExtraMounts...)
	for k, v := range f.ImageEnv {
		env[k] = v
	}

	bind := "127.0.0.1"
	if f.PortBind == "all" {
		bind = "0.0.0.0"
	}
	ports := append([]int(nil), f.Ports...)
	sort.Ints(ports)
	var published []docker.Port
	for _, p := range ports {
		published = append(published, docker.Port{HostIP: bind, HostPort: p, ContainerPort: p})
	}

	network := ""
	var extra []string
	if len(f.Networks) > 0 {
		network = f.Networks[0]
		extra = append(extra, f.Networks[1:]...)
	}

	run := docker.RunSpec{
		Name:        name,
		Image:       f.Image,
		User:        strconv.Itoa(f.UID) + ":" + strconv.Itoa(f.GID),
		ReadOnly:    true,
		CapDrop:     []string{"ALL"},
		SecurityOpt: []string{"no-new-privileges"},
		PidsLimit:   f.PidsLimit,
		Memory:      f.Memory,
		CPUs:        f.CPUs,
		Init:        true,
		Tmpfs: []docker.Tmpfs{
			{Target: "/tmp", Options: "rw,nosuid,nodev,exec,mode=1777"},
			{Target: "/var/tmp", Options: "rw,nosuid,nodev,exec,mode=1777"},
			// The user's own /run, as a login would have.
			{Target: "/run", Options: "rw,nosuid,nodev,noexec,mode=0755,uid=" + strconv.Itoa(f.UID) + ",gid=" + strconv.Itoa(f.GID)},
		},
		Mounts:     mounts,
		Env:        env,
		Network:    network,
		Ports:      published,
		Workdir:    f.Project,
		Entrypoint: []string{"/bin/sh", "-c", keeperEntry, "ai-sandbox-keeper", Keeper},
		Cmd:        []string{strconv.Itoa(int(f.IdleTimeout / time.Second))},
	}
	hash := specHash(run, extra)
	run.Env["AI_SANDBOX_SPEC"] = hash
	run.Labels = map[string]string{
		LabelTool:      f.Tool,
		LabelProject:   f.ProjectID,
		LabelWorkspace: f.Workspace,
		LabelPath:      f.Project,
		LabelSpecHash:  hash,
		LabelIdle:      f.IdleTimeout.String(),
	}

	execEnv := map[string]string{}
	for k, v := range f.TermEnv {
		execEnv[k] = v
	}
	if f.SessionID != "" {
		execEnv["AI_SANDBOX_SESSION"] = f.SessionID
	}
	exec := docker.ExecSpec{
		Container:   name,
		Interactive: f.Interactive,
		TTY:         f.TTY,
		Workdir:     f.Cwd,
		Env:         execEnv,
		PassEnv:     f.SecretNames,
	}
	p := Plan{Name: name, Run: run, Cmd: f.Cmd, SpecHash: hash, ExtraNetworks: extra,
		SessionID: f.SessionID, rows: f.Rows, cols: f.Cols}
	p.Exec = exec
	p.Exec = p.session(hash, f.TTY, !f.TTY)
	return p
}

// session is the session's docker exec behind the Guard: spec is the spec
// hash the guard checks ("-" = any), held says the launch holds the
// container, token that the guard writes the start token.
func (p Plan) session(spec string, held, token bool) docker.ExecSpec {
	e := p.Exec
	e.Cmd = append([]string{"/bin/sh", "-c", Guard, spec, p.SessionID, strconv.Itoa(p.rows), strconv.Itoa(p.cols), bit(held), bit(token)}, p.Cmd...)
	return e
}

// hold is the short docker exec that holds the container for a session.
func (p Plan) hold(spec string) docker.ExecSpec {
	return docker.ExecSpec{Container: p.Name, Cmd: []string{"/bin/sh", "-c", Hold, spec}}
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// specHash fingerprints what makes two containers different: image,
// mounts, limits, ports, networks, environment (names and non-secret
// values; secrets travel per session and never count).
func specHash(run docker.RunSpec, extraNetworks []string) string {
	run.Labels = nil
	data, _ := json.Marshal(struct {
		Run      docker.RunSpec
		Networks []string
	}{run, extraNetworks})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:12]
}

// ShellCmd is the command of a shell session: bash when the image has it.
func ShellCmd() []string {
	return []string{"/bin/sh", "-c", `if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi`}
}

// PasswdFor renders the passwd and group files that give the sandbox
// user a name and the agent home, whatever its uid.
func PasswdFor(uid, gid int) (passwd, group string) {
	u, g := strconv.Itoa(uid), strconv.Itoa(gid)
	if uid == 0 {
		passwd = "root:x:0:0:root:" + AgentHome + ":/bin/bash\n"
	} else {
		passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
			"agent:x:" + u + ":" + g + ":ai-sandbox agent:" + AgentHome + ":/bin/bash\n"
	}
	passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	if gid == 0 {
		group = "root:x:0:\n"
	} else {
		group = "root:x:0:\nagent:x:" + g + ":\n"
	}
	group += "nogroup:x:65534:\n"
	return passwd, group
}

// HostConfigMounts maps the host's config paths (relative to home) into
// the agent home; only paths that exist are shared.
func HostConfigMounts(home string, rel []string, exists func(string) bool, readOnly bool) []docker.Mount {
	var out []docker.Mount
	for _, r := range rel {
		src := filepath.Join(home, r)
		if !exists(src) {
			continue
		}
		out = append(out, docker.Mount{Source: src, Target: filepath.Join(AgentHome, r), ReadOnly: readOnly})
	}
	return out
}
