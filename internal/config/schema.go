package config

// CurrentVersion is the schema version written. Version 2 is the
// original's; ours is a superset of it and keeps the number.
const CurrentVersion = 2

// Config is config.json. Every key of the original's version-2 schema is
// here, so a file it wrote loads unchanged; keys added by ai-sandbox are
// optional. A key this version does not know is kept and written back.
type Config struct {
	Version    int      `json:"version"`
	Workspaces []string `json:"workspaces"`
	Git        Git      `json:"git"`
	Networks   Networks `json:"networks"`
	Tools      Tools    `json:"tools"`
	MCP        MCP      `json:"mcp"`

	// Added by ai-sandbox.
	Settings Settings `json:"settings"`
	Image    Image    `json:"image"`
	Egress   Egress   `json:"egress"`

	unknown []unknownKey
}

// Git is the per-workspace git access mode.
type Git struct {
	AllowedWorkspaces   []string `json:"allowedWorkspaces"`
	FetchOnlyWorkspaces []string `json:"fetchOnlyWorkspaces"`
	// WritableHooksWorkspaces (ai-sandbox's own) are the folders whose
	// full-mode sandboxes may write the project's .git/hooks.
	WritableHooksWorkspaces []string `json:"writableHooksWorkspaces,omitempty"`
	// KeySelections is kept as the original wrote it (it never used it),
	// "{}" included, so that a file saved here keeps every original key.
	KeySelections map[string]any `json:"keySelections"`
}

// Networks are docker networks joined by default.
type Networks struct {
	Global     []string            `json:"global"`
	Workspaces map[string][]string `json:"workspaces"`
}

// Egress is what the sandboxes may reach: the policy per workspace (over
// settings.egress) and the hosts allowed beyond each agent's own, for
// every sandbox, per workspace and per agent.
type Egress struct {
	Workspaces map[string]string   `json:"workspaces,omitempty"`
	Allow      []string            `json:"allow,omitempty"`
	AllowIn    map[string][]string `json:"allowWorkspaces,omitempty"`
	AllowTools map[string][]string `json:"allowTools,omitempty"`
}

// Tools records what the image holds and per-tool choices.
type Tools struct {
	Installed []string `json:"installed"`
	// Env lists extra env-file keys passed to a tool, by tool name.
	Env map[string][]string `json:"env,omitempty"`
	// HostConfig is the opt-in sharing of a tool's host config folders:
	// "off" (default), "ro" or "rw".
	HostConfig map[string]string `json:"hostConfig,omitempty"`
}

// MCP is the original's browser-MCP choice.
type MCP struct {
	Installed  []string `json:"installed"`
	ChromePath string   `json:"chromePath,omitempty"`
}

// Settings are scalar run settings. Each can also come from a flag or an
// AI_SANDBOX_* variable (flag > env > this file > default).
type Settings struct {
	Image       string `json:"image,omitempty"`
	IdleTimeout string `json:"idleTimeout,omitempty"`
	PidsLimit   *int64 `json:"pidsLimit,omitempty"`
	Memory      string `json:"memory,omitempty"`
	CPUs        string `json:"cpus,omitempty"`
	PortBind    string `json:"portBind,omitempty"`
	TmpSize     string `json:"tmpSize,omitempty"`
	CPUShares   *int64 `json:"cpuShares,omitempty"`
	Seccomp     string `json:"seccomp,omitempty"`
	Egress      string `json:"egress,omitempty"`
	// SharedCaches shares the package caches (Go, npm, pnpm, uv, bun)
	// between the user's projects: off by default, since a sandbox that
	// writes a shared cache can plant code that later runs in another
	// project's sandbox.
	SharedCaches *bool `json:"sharedCaches,omitempty"`
}

// Image records how the sandbox image was built, so that a rebuild with
// no flags gives the same image.
type Image struct {
	// Registry is the repository 'image pull' and setup pull from
	// (HOST/PATH); "" is the published one (registry.Default).
	Registry  string   `json:"registry,omitempty"`
	Preset    string   `json:"preset,omitempty"`
	Tools     []string `json:"tools,omitempty"`
	Addons    []string `json:"addons,omitempty"`
	BaseImage string   `json:"baseImage,omitempty"`
	CACerts   []string `json:"caCerts,omitempty"`
	// BuildArgs are --build-arg values (pinned versions, checksums).
	BuildArgs map[string]string `json:"buildArgs,omitempty"`
}

// Default is the configuration used when no file exists.
func Default() *Config {
	return &Config{Version: CurrentVersion}
}

// normalize fills nil slices and maps so the file always shows every key.
func (c *Config) normalize() {
	if c.Version == 0 {
		c.Version = CurrentVersion
	}
	if c.Workspaces == nil {
		c.Workspaces = []string{}
	}
	if c.Git.AllowedWorkspaces == nil {
		c.Git.AllowedWorkspaces = []string{}
	}
	if c.Git.FetchOnlyWorkspaces == nil {
		c.Git.FetchOnlyWorkspaces = []string{}
	}
	if c.Git.KeySelections == nil {
		c.Git.KeySelections = map[string]any{}
	}
	if c.Networks.Global == nil {
		c.Networks.Global = []string{}
	}
	if c.Networks.Workspaces == nil {
		c.Networks.Workspaces = map[string][]string{}
	}
	if c.Tools.Installed == nil {
		c.Tools.Installed = []string{}
	}
	if c.MCP.Installed == nil {
		c.MCP.Installed = []string{}
	}
}
