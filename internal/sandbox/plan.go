// Package sandbox owns the lifecycle of a project's container for a tool:
// what it looks like (a plan built from gathered facts by a pure
// function), and bringing it up, attaching sessions to it and stopping it.
//
// One container per (tool, project folder), named ai-<tool>-<project key>. PID 1 is
// docker's init running a small keeper loop, never the agent; every
// session, the first included, is a `docker exec`. The keeper ends the
// container once no session has been attached for the idle grace period.
package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// Label keys.
const (
	LabelTool      = "ai-sandbox.tool"
	LabelProject   = "ai-sandbox.project"
	LabelWorkspace = "ai-sandbox.workspace"
	LabelPath      = "ai-sandbox.path"
	LabelSpecHash  = "ai-sandbox.spec-hash"
	LabelIdle      = "ai-sandbox.idle-timeout"
	// LabelOwner is the uid of the user who started the sandbox: ps and
	// stop act on the caller's own.
	LabelOwner = "ai-sandbox.owner"
	// LabelGit is the sandbox's git mode (off, fetch-only, full).
	LabelGit = "ai-sandbox.git"
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
	ProjectID string // the original's project id (origin URL or path)
	Key       string // the project folder's key (path only): names the container
	Project   string // the folder mounted (git top-level or cwd), canonical
	Workspace string // the whitelisted workspace containing it
	Cwd       string // canonical current folder, inside Project
	UID, GID  int
	Image     string

	// State is ai-sandbox's state folder: the trusted root of every
	// host path below, which the plan creates and checks without
	// following links.
	State  string
	Home   string // the tool's home for this project
	Passwd string // generated passwd file
	Group  string // generated group file
	DB     string // per-project database folder ("" = none)
	DBEnv  string // variable naming the database file, e.g. OPENCODE_DB
	DBFile string // file name inside DB
	// SharedCaches is the host folder of the package caches shared by
	// every project (one folder per CacheKinds), mounted at CacheDir;
	// "" = none shared: each agent home keeps its own caches.
	SharedCaches string
	// Seccomp is the seccomp profile file ("" = the engine's default)
	// and SeccompProfile its content.
	Seccomp        string
	SeccompProfile []byte

	// Protect are the mounts that keep the project's git metadata from
	// being turned against the host (gitguard).
	Protect []docker.Mount
	// ExtraMounts are explicit mounts asked for by the user.
	ExtraMounts []docker.Mount
	// HostConfig are opt-in shares of the host's own config for the tool.
	HostConfig []docker.Mount
	// HostOps are host changes and checks decided while gathering (git
	// metadata, login files, skills, the CA bundle, owner records); the
	// plan adds its own around them.
	HostOps []hostfs.Op

	IdleTimeout time.Duration
	PidsLimit   int64
	Memory      string
	CPUs        string
	CPUShares   int64
	TmpSize     string // size of /tmp and of /var/tmp
	PortBind    string // "localhost" or "all"
	Ports       []int
	Networks    []string
	// Egress is the egress policy (egress.PolicyAllowlist, …; "" =
	// open). For the allowlist: Allow is the sandbox's allowlist, Binary
	// the static ai-sandbox binary the proxy runs, Refused the host's
	// own addresses.
	Egress  egress.Policy
	Allow   []string
	Binary  string
	Refused []string
	// ImageEnv are literal, non-secret variables for the container
	// (CA bundle locations and the like).
	ImageEnv map[string]string
	// ImageMounts are read-only mounts that go with ImageEnv.
	ImageMounts []docker.Mount
	// GitMode is the git access (off, fetch-only, full); GitMounts and
	// GitEnv give the sandbox the relay's socket, the shims and the
	// system git config that points git at them.
	GitMode   string
	GitMounts []docker.Mount
	GitEnv    map[string]string

	// Session.
	Cmd         []string
	TTY         bool
	Rows, Cols  int // the terminal's size, when TTY
	Interactive bool
	TermEnv     map[string]string // TERM, COLORTERM, … from the host
	SecretNames []string          // env-file keys passed by name
	SessionID   string
}

// Plan is what will be done: the host changes, the container, the session.
type Plan struct {
	Name string
	// Host are the host-side changes and checks, applied in order before
	// the container starts (hostfs.Apply); --print shows them instead.
	Host     []hostfs.Op
	Run      docker.RunSpec
	Exec     docker.ExecSpec // the session behind the Guard, as a launch runs it
	Cmd      []string        // the session's own command
	SpecHash string
	// ExtraNetworks are joined after start (older engines accept one
	// --network on docker run).
	ExtraNetworks []string
	// Egress is set for the allowlist policy: the network and the proxy
	// made ready before the container starts.
	Egress *EgressPlan
	// SessionID names the session's processes (signals are forwarded to
	// them) and its start token.
	SessionID  string
	rows, cols int
}

// ContainerName is ai-<tool>-<project key>.
func ContainerName(tool, key string) string {
	return "ai-" + tool + "-" + key
}

// The health check: cheap, and not counted as a session by the keeper.
var health = docker.Health{Cmd: HealthCmd, Interval: "60s", Timeout: "10s", Retries: 3}

// NewPlan decides the host changes, the container and the session from
// facts. It is pure.
func NewPlan(f Facts) Plan {
	name := ContainerName(f.Tool, f.Key)
	mounts := []docker.Mount{
		{Source: f.Project, Target: f.Project},                    // the project, at the same path
		{Source: f.Home, Target: AgentHome},                       // the tool's home for this project
		{Source: f.Passwd, Target: "/etc/passwd", ReadOnly: true}, // any uid gets a name
		{Source: f.Group, Target: "/etc/group", ReadOnly: true},
	}
	mounts = append(mounts, f.Protect...)
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
	cacheM, cacheEnv := cacheMounts(f.SharedCaches)
	mounts = append(mounts, cacheM...)
	for k, v := range cacheEnv {
		env[k] = v
	}
	mounts = append(mounts, f.HostConfig...)
	mounts = append(mounts, f.ImageMounts...)
	mounts = append(mounts, f.GitMounts...)
	mounts = append(mounts, f.ExtraMounts...)
	for k, v := range f.ImageEnv {
		env[k] = v
	}
	for k, v := range f.GitEnv {
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
	var dns []string
	var egressPlan *EgressPlan
	switch f.Egress {
	case egress.PolicyNone:
		network, extra, published = "none", nil, nil
	case egress.PolicyAllowlist:
		// The sandbox's own internal network, and nothing else: the
		// gatherer refuses ports and networks that would open a way out.
		network, extra = EgressNetwork(name), nil
		dns = []string{egress.NoResolver}
		for k, v := range egress.ClientEnv() {
			env[k] = v
		}
		egressPlan = &EgressPlan{
			Network: network,
			Proxy:   ProxySpec(f.UID, f.GID, f.Image, f.Binary, filepath.Join(f.State, "egress")),
			Entry:   egress.ConfigSandbox{Name: name, Allow: append([]string{}, f.Allow...), Workspace: f.Workspace, Tool: f.Tool},
			Refused: append([]string(nil), f.Refused...),
			Store:   EgressStore(f.State),
		}
		// An internal network publishes nothing: a forwarder on the
		// bridge publishes the ports and relays them to the sandbox.
		if len(published) > 0 {
			fwd := ForwarderSpec(name, f.UID, f.GID, f.Image, f.Binary, filepath.Join(f.State, "egress"), published)
			egressPlan.Forwarder = &fwd
			published = nil
		}
	}
	secOpt := []string{"no-new-privileges"}
	if f.Seccomp != "" {
		secOpt = append(secOpt, "seccomp="+f.Seccomp)
	}
	tmp := "rw,nosuid,nodev,exec,mode=1777"
	if f.TmpSize != "" {
		tmp += ",size=" + f.TmpSize
	}

	run := docker.RunSpec{
		Name:        name,
		Image:       f.Image,
		User:        strconv.Itoa(f.UID) + ":" + strconv.Itoa(f.GID),
		ReadOnly:    true,
		CapDrop:     []string{"ALL"},
		SecurityOpt: secOpt,
		PidsLimit:   f.PidsLimit,
		Memory:      f.Memory,
		CPUs:        f.CPUs,
		CPUShares:   f.CPUShares,
		Init:        true,
		Health:      &health,
		Tmpfs: []docker.Tmpfs{
			{Target: "/tmp", Options: tmp},
			{Target: "/var/tmp", Options: tmp},
			// The user's own /run, as a login would have; small: it holds
			// only the keeper's files.
			{Target: "/run", Options: "rw,nosuid,nodev,noexec,size=16m,mode=0755,uid=" + strconv.Itoa(f.UID) + ",gid=" + strconv.Itoa(f.GID)},
		},
		Mounts:     mounts,
		Env:        env,
		Network:    network,
		DNS:        dns,
		Ports:      published,
		Workdir:    f.Project,
		Entrypoint: []string{"/bin/sh", "-c", keeperEntry, "ai-sandbox-keeper", Keeper},
		Cmd:        []string{strconv.Itoa(int(f.IdleTimeout / time.Second))},
	}
	var forwarded []docker.Port
	if egressPlan != nil && egressPlan.Forwarder != nil {
		forwarded = egressPlan.Forwarder.Ports
	}
	hash := specHash(run, extra, forwarded)
	run.Env["AI_SANDBOX_SPEC"] = hash
	run.Labels = map[string]string{
		LabelTool:      f.Tool,
		LabelProject:   f.ProjectID,
		LabelWorkspace: f.Workspace,
		LabelPath:      f.Project,
		LabelSpecHash:  hash,
		LabelIdle:      f.IdleTimeout.String(),
		LabelOwner:     strconv.Itoa(f.UID),
		LabelGit:       gitMode(f.GitMode),
		LabelEgress:    egressLabel(f.Egress),
	}
	if f.SharedCaches != "" {
		run.Labels[LabelCaches] = "shared"
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
	p := Plan{Name: name, Host: hostOps(f), Run: run, Cmd: f.Cmd, SpecHash: hash, ExtraNetworks: extra,
		Egress: egressPlan, SessionID: f.SessionID, rows: f.Rows, cols: f.Cols}
	p.Exec = exec
	p.Exec = p.session(hash, f.TTY, !f.TTY)
	return p
}

func egressLabel(p egress.Policy) string {
	if p == "" {
		return string(egress.PolicyOpen)
	}
	return string(p)
}

func gitMode(m string) string {
	if m == "" {
		return "off"
	}
	return m
}

// hostOps are the host changes of a launch, in order: the folders and
// files under the state folder, what the gatherer decided (git metadata
// and its mount checks, logins, skills, the CA bundle, …), then a check
// of the plan's own mount sources: docker follows symbolic links when it
// binds, so none may be on the way below the state folder or the project.
func hostOps(f Facts) []hostfs.Op {
	var ops []hostfs.Op
	add := func(kind hostfs.OpKind, path string, data []byte, perm fs.FileMode) {
		if rel, ok := below(f.State, path); ok {
			ops = append(ops, hostfs.Op{Kind: kind, Root: f.State, Rel: rel, Data: data, Perm: perm})
		}
	}
	add(hostfs.MkdirAll, f.Home, nil, 0o700)
	if f.DB != "" {
		add(hostfs.MkdirAll, f.DB, nil, 0o700)
	}
	for _, m := range cacheSources(f.SharedCaches) {
		add(hostfs.MkdirAll, m, nil, 0o700)
	}
	add(hostfs.MkdirAll, filepath.Dir(f.Passwd), nil, 0o700)
	passwd, group := PasswdFor(f.UID, f.GID)
	add(hostfs.Write, f.Passwd, []byte(passwd), 0o644)
	add(hostfs.Write, f.Group, []byte(group), 0o644)
	if f.Seccomp != "" {
		add(hostfs.MkdirAll, filepath.Dir(f.Seccomp), nil, 0o700)
		add(hostfs.Write, f.Seccomp, f.SeccompProfile, 0o644)
	}
	if f.Egress == egress.PolicyAllowlist {
		// The proxy's config (mounted read-only into it) and its log.
		add(hostfs.MkdirAll, filepath.Join(f.State, "egress", egress.ConfDir), nil, 0o700)
		add(hostfs.MkdirAll, filepath.Join(f.State, "egress", egress.LogDir), nil, 0o700)
	}
	ops = append(ops, f.HostOps...)
	ops = append(ops, hostfs.Op{Kind: hostfs.CheckDir, Root: f.Project})
	add(hostfs.CheckDir, f.Home, nil, 0)
	add(hostfs.CheckFile, f.Passwd, nil, 0)
	add(hostfs.CheckFile, f.Group, nil, 0)
	if f.DB != "" {
		add(hostfs.CheckDir, f.DB, nil, 0)
	}
	for _, m := range cacheSources(f.SharedCaches) {
		add(hostfs.CheckDir, m, nil, 0)
	}
	if f.Egress == egress.PolicyAllowlist {
		add(hostfs.CheckDir, filepath.Join(f.State, "egress", egress.ConfDir), nil, 0)
		add(hostfs.CheckDir, filepath.Join(f.State, "egress", egress.LogDir), nil, 0)
	}
	return ops
}

// inside reports whether path is dir or below it.
func inside(path, dir string) bool {
	return dir != "" && (path == dir || strings.HasPrefix(path, dir+string(filepath.Separator)))
}

// below returns path relative to dir, when it lies there.
func below(dir, path string) (string, bool) {
	if !inside(path, dir) {
		return "", false
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return "", false
	}
	if rel == "." {
		rel = ""
	}
	return rel, true
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
func specHash(run docker.RunSpec, extraNetworks []string, forwarded []docker.Port) string {
	run.Labels = nil
	data, _ := json.Marshal(struct {
		Run      docker.RunSpec
		Networks []string
		Forward  []docker.Port `json:",omitempty"`
	}{run, extraNetworks, forwarded})
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
