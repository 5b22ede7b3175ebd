// Package tools is the table of known agents: the only place in the code
// that knows about particular agents. Everything else asks it.
//
// Facts come from each agent's own package or docs (see
// shared/reference/agents.md); where the original wrapper had a config
// path wrong (~/.config/gemini, ~/.config/codex, …) the real one is used.
package tools

import "sort"

// Method is how an agent is installed in the image.
type Method string

const (
	NPM    Method = "npm"    // npm install -g --ignore-scripts PACKAGE@VERSION
	UV     Method = "uv"     // uv tool install PACKAGE==VERSION (kept for compatibility; the image uses pipx)
	Pipx   Method = "pipx"   // pipx install PACKAGE==VERSION (Debian's pipx; no curl-installed uv needed)
	Binary Method = "binary" // a release download, checked against a pinned SHA-256 before it is unpacked
)

// Install says how the image gets the agent. Version is the pinned
// default; VersionArg is the Dockerfile build argument overriding it.
type Install struct {
	Method     Method
	Package    string
	Version    string
	VersionArg string
	// Env is set in the image for this agent (auto-updaters off, …).
	Env map[string]string

	// Native, for NPM agents that are one prebuilt binary shipped in a
	// per-platform npm package: that package is installed instead of
	// Package, so no install script runs and no other platform's binary
	// lands in the image.
	Native *Native
	// OwnScript, for NPM agents, is the agent's own install script
	// (relative to its package) that must run because the package is
	// useless without it; dependencies' scripts still never run.
	// ScriptWhy says why it is needed.
	OwnScript string
	ScriptWhy string

	// For Binary: Package is the download URL, with ${VersionArg} and
	// the placeholders {goarch} (amd64|arm64), {uname} (x86_64|aarch64)
	// and {node} (x64|arm64). SHA256 holds the pinned digest per goarch;
	// a missing one must be given with --build-arg <SHA256Arg>_<GOARCH>.
	// Member is the path of the executable inside the archive ("" = the
	// download itself is the executable).
	SHA256 map[string]string
	Member string
}

// Native is a per-platform npm package holding an agent's binary.
type Native struct {
	// Package has {arch} for x64 or arm64, e.g. "opencode-linux-{arch}".
	Package string
	// Baseline is the x64 build for CPUs without AVX2, "" when none.
	Baseline string
	// Path is the executable inside the package, e.g. "bin/opencode".
	Path string
}

// SHA256Arg is the build-argument prefix of a Binary agent's digests:
// <SHA256Arg>_AMD64 and <SHA256Arg>_ARM64.
func (i Install) SHA256Arg() string {
	if i.VersionArg == "" {
		return ""
	}
	return trimSuffix(i.VersionArg, "_VERSION") + "_SHA256"
}

func trimSuffix(s, suf string) string {
	if len(s) >= len(suf) && s[len(s)-len(suf):] == suf {
		return s[:len(s)-len(suf)]
	}
	return s
}

// DB is an agent's SQLite database, which gets a per-project folder
// mounted and pointed to by the agent's own variable (DESIGN.md §4).
type DB struct {
	Env  string // the variable naming the database file, e.g. OPENCODE_DB
	File string // the file name inside the per-project folder
}

// Tool is one agent.
type Tool struct {
	Name        string
	Description string
	Binary      string
	Install     Install
	// HostConfig are the agent's config and state folders under the
	// host's home (relative to it), for opt-in sharing.
	HostConfig []string
	// LoginFiles are the agent's login files under its home (relative to
	// it): kept in a per-tool store and synced into the agent's home in
	// every project, so that a user logs in once. Setup may import them
	// from the host's home.
	LoginFiles []string
	// LoginKeys, for a login file that also holds other state, are the
	// top-level JSON keys that are shared; the rest stays per project.
	LoginKeys map[string][]string
	// EnvKeys are the env-file keys the agent may use. Only these (plus
	// what the user lists for the tool) reach its container.
	EnvKeys []string
	// Ports are the agent's default server ports (web UIs, callbacks).
	Ports []int
	// NoSandbox is the argument that turns off the agent's own nested
	// sandbox, which cannot start inside a container; "" when none.
	NoSandbox string
	DB        *DB
	// SkillsDir is where the agent reads user skills (SKILL.md folders),
	// relative to its home; "" when it has none.
	SkillsDir string
	// OwnFlags are wrapper flags (WrapperFlags) that the agent has itself,
	// by subcommand ("" = its top level and every subcommand): after the
	// agent's name they stay the agent's.
	OwnFlags map[string][]string
	// FlagsChecked names the version whose --help OwnFlags was read from;
	// "" = not checked, and then no wrapper flag is taken after its name.
	FlagsChecked string
	// Web is the agent's server command, when it has one.
	Web *Web
	// Note records what could not be checked about this entry.
	Note string
}

// Web is an agent's web or server command: run as one of Commands, it
// listens on Port (or the value of PortFlag) on the host given with
// HostFlag; PasswordEnv and UsernameEnv are its basic-auth variables.
type Web struct {
	Commands             []string
	Port                 int
	PortFlag, HostFlag   string
	PasswordEnv, UserEnv string
	DefaultUser          string
}

// WrapperFlags are the long flags of 'ai-sandbox run' that are the
// wrapper's after an agent's name too (the original's documented forms,
// opencode --expose 3000), unless the agent has a flag of that name.
// Their short forms are the wrapper's only before the tool.
func WrapperFlags() []string {
	return []string{"expose", "network", "password", "password-env", "allow-unsecured", "git-fetch", "shell"}
}

// TakesFlag reports whether, after the agent's name and subcommand sub,
// the wrapper's long flag is the wrapper's.
func (t Tool) TakesFlag(sub, flag string) bool {
	if t.FlagsChecked == "" {
		return false
	}
	for _, f := range append(append([]string{}, t.OwnFlags[""]...), t.OwnFlags[sub]...) {
		if f == flag {
			return false
		}
	}
	return true
}

// Table holds the known agents.
type Table struct {
	byName map[string]Tool
	names  []string
}

// New returns the table of known agents.
func New() *Table {
	t := &Table{byName: map[string]Tool{}}
	for _, tool := range all() {
		t.byName[tool.Name] = tool
		t.names = append(t.names, tool.Name)
	}
	sort.Strings(t.names)
	return t
}

// Lookup finds an agent by name or by binary name.
func (t *Table) Lookup(name string) (Tool, bool) {
	if tool, ok := t.byName[name]; ok {
		return tool, true
	}
	for _, n := range t.names {
		if t.byName[n].Binary == name {
			return t.byName[n], true
		}
	}
	return Tool{}, false
}

// Names lists the agents in alphabetical order.
func (t *Table) Names() []string { return append([]string(nil), t.names...) }

// All lists the agents in alphabetical order.
func (t *Table) All() []Tool {
	out := make([]Tool, 0, len(t.names))
	for _, n := range t.names {
		out = append(out, t.byName[n])
	}
	return out
}

func npm(pkg, version, arg string, env map[string]string) Install {
	return Install{Method: NPM, Package: pkg, Version: version, VersionArg: arg, Env: env}
}

func native(i Install, n Native) Install {
	i.Native = &n
	return i
}

func all() []Tool {
	return []Tool{
		{
			Name: "opencode", Description: "OpenCode (sst/anomalyco)", Binary: "opencode",
			// opencode-ai's postinstall only copies the binary out of its
			// per-platform optional dependency; installing that package
			// directly gives the same binary with no script and without the
			// three other x64 variants npm would also fetch (185 MB each).
			Install: native(npm("opencode-ai", "1.18.33", "OPENCODE_VERSION", map[string]string{"OPENCODE_DISABLE_AUTOUPDATE": "1"}),
				Native{Package: "opencode-linux-{arch}", Baseline: "opencode-linux-x64-baseline", Path: "bin/opencode"}),
			HostConfig: []string{".config/opencode", ".local/share/opencode", ".local/state/opencode"},
			LoginFiles: []string{".local/share/opencode/auth.json"},
			EnvKeys: []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "GEMINI_API_KEY",
				"OPENROUTER_API_KEY", "OPENCODE_API_KEY", "GROQ_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY",
				"AWS_BEARER_TOKEN_BEDROCK", "OPENCODE_SERVER_PASSWORD", "OPENCODE_SERVER_USERNAME"},
			Ports:     []int{4096},
			DB:        &DB{Env: "OPENCODE_DB", File: "opencode.db"},
			SkillsDir: ".config/opencode/skills",
			// opencode run has -p/--password (for --attach): there it stays opencode's.
			OwnFlags: map[string][]string{"run": {"password"}}, FlagsChecked: "1.18.33",
			Web: &Web{Commands: []string{"web", "serve"}, Port: 4096, PortFlag: "--port", HostFlag: "--hostname",
				PasswordEnv: "OPENCODE_SERVER_PASSWORD", UserEnv: "OPENCODE_SERVER_USERNAME", DefaultUser: "opencode"},
		},
		{
			Name: "claude", Description: "Claude Code (Anthropic)", Binary: "claude",
			// Since 2.x the npm package is a placeholder whose postinstall
			// copies the native binary from @anthropic-ai/claude-code-linux-<arch>.
			Install: native(npm("@anthropic-ai/claude-code", "2.1.332", "CLAUDE_CODE_VERSION", map[string]string{"DISABLE_AUTOUPDATER": "1"}),
				Native{Package: "@anthropic-ai/claude-code-linux-{arch}", Path: "claude"}),
			HostConfig: []string{".claude", ".claude.json"},
			LoginFiles: []string{".claude/.credentials.json", ".claude.json"},
			// ~/.claude.json also holds MCP servers and per-project state,
			// which must not travel from one project to another.
			LoginKeys: map[string][]string{".claude.json": {"oauthAccount", "userID", "hasCompletedOnboarding",
				"lastOnboardingVersion", "primaryApiKey", "customApiKeyResponses"}},
			EnvKeys: []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL",
				"ANTHROPIC_MODEL", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"},
			SkillsDir:    ".claude/skills",
			FlagsChecked: "2.1.332",
		},
		{
			Name: "gemini", Description: "Gemini CLI (Google)", Binary: "gemini",
			// A JS bundle with no install script; node-pty and keytar are
			// optional prebuilt packages it works without.
			Install:      npm("@google/gemini-cli", "0.61.0", "GEMINI_CLI_VERSION", nil),
			HostConfig:   []string{".gemini"}, // not ~/.config/gemini as the original mounted
			LoginFiles:   []string{".gemini/oauth_creds.json"},
			EnvKeys:      []string{"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_USE_VERTEXAI"},
			SkillsDir:    ".gemini/skills",
			FlagsChecked: "0.61.0",
		},
		{
			Name: "codex", Description: "Codex CLI (OpenAI)", Binary: "codex",
			// No install script; the static musl binary is an aliased
			// optional dependency selected by os/cpu.
			Install:    npm("@openai/codex", "0.171.0", "CODEX_VERSION", nil),
			HostConfig: []string{".codex"}, // not ~/.config/codex as the original mounted
			LoginFiles: []string{".codex/auth.json"},
			EnvKeys:    []string{"OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_ACCESS_TOKEN", "OPENAI_BASE_URL"},
			Ports:      []int{1455}, // ChatGPT login callback
			// Turns off only codex's own (bubblewrap/landlock) sandbox, which
			// cannot start without capabilities; its approvals stay on.
			NoSandbox:    "--sandbox=danger-full-access",
			SkillsDir:    ".codex/skills",
			FlagsChecked: "0.171.0",
		},
		{
			Name: "aider", Description: "Aider", Binary: "aider",
			Install: Install{Method: Pipx, Package: "aider-chat", Version: "0.86.2", VersionArg: "AIDER_VERSION",
				Env: map[string]string{"AIDER_CHECK_UPDATE": "false"}},
			HostConfig: []string{".aider", ".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json"},
			LoginFiles: []string{".aider/oauth-keys.env"},
			EnvKeys: []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
				"DEEPSEEK_API_KEY", "OPENAI_API_BASE"},
			Ports: []int{8501}, // --gui (Streamlit)
		},
		{
			Name: "amp", Description: "Amp (Sourcegraph)", Binary: "amp",
			// @sourcegraph/amp was renamed @ampcode/cli, whose postinstall
			// copies the binary from @ampcode/cli-linux-<arch>.
			Install: native(npm("@ampcode/cli", "0.0.1790142911-g7618fb", "AMP_VERSION", nil),
				Native{Package: "@ampcode/cli-linux-{arch}", Path: "amp"}),
			HostConfig:   []string{".config/amp", ".local/share/amp"},
			LoginFiles:   []string{".local/share/amp/secrets.json"},
			EnvKeys:      []string{"AMP_API_KEY", "AMP_URL"},
			FlagsChecked: "0.0.1790142911-g7618fb",
		},
		{
			Name: "qwen", Description: "Qwen Code (Alibaba)", Binary: "qwen",
			Install:      npm("@qwen-code/qwen-code", "0.24.4", "QWEN_CODE_VERSION", nil),
			HostConfig:   []string{".qwen"}, // not ~/.config/qwen as the original mounted
			LoginFiles:   []string{".qwen/oauth_creds.json"},
			EnvKeys:      []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "DASHSCOPE_API_KEY"},
			Note:         "needs Node 22 (engines); Debian 12's nodejs is 18",
			FlagsChecked: "0.24.4",
		},
		{
			Name: "kilo", Description: "Kilo Code CLI", Binary: "kilo",
			// A fork of OpenCode, packaged the same way.
			Install: native(npm("@kilocode/cli", "7.7.9", "KILO_VERSION", map[string]string{"KILO_DISABLE_AUTOUPDATE": "1"}),
				Native{Package: "@kilocode/cli-linux-{arch}", Baseline: "@kilocode/cli-linux-x64-baseline", Path: "bin/kilo"}),
			HostConfig: []string{".config/kilo", ".local/share/kilo", ".local/state/kilo"},
			LoginFiles: []string{".local/share/kilo/auth.json"},
			EnvKeys: []string{"KILO_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY",
				"KILO_SERVER_PASSWORD", "KILO_SERVER_USERNAME"},
			Ports:     []int{4096},
			DB:        &DB{Env: "KILO_DB", File: "kilo.db"},
			SkillsDir: ".config/kilo/skills",
			Note:      "KILO_DISABLE_AUTOUPDATE mirrors OpenCode's variable; not seen in kilo's strings",
			OwnFlags:  map[string][]string{"run": {"password"}}, FlagsChecked: "7.7.9",
			Web: &Web{Commands: []string{"web", "serve"}, Port: 4096, PortFlag: "--port", HostFlag: "--hostname",
				PasswordEnv: "KILO_SERVER_PASSWORD", UserEnv: "KILO_SERVER_USERNAME", DefaultUser: "kilo"},
		},
		{
			Name: "droid", Description: "Droid (Factory)", Binary: "droid",
			// droid's postinstall links the binary from @factory/cli-linux-<arch>.
			Install: native(npm("droid", "0.215.0", "DROID_VERSION", nil),
				Native{Package: "@factory/cli-linux-{arch}", Baseline: "@factory/cli-linux-x64-baseline", Path: "bin/droid"}),
			HostConfig:   []string{".factory"}, // not ~/.config/droid as the original mounted
			EnvKeys:      []string{"FACTORY_API_KEY"},
			FlagsChecked: "0.215.0",
		},
		{
			Name: "qoder", Description: "Qoder CLI", Binary: "qodercli",
			// Its postinstall only edits shell rc files to add a PATH entry
			// and links an optional ripgrep; neither is wanted in an image.
			Install:      npm("@qoder-ai/qodercli", "1.1.52", "QODER_VERSION", nil),
			HostConfig:   []string{".qoder"},
			EnvKeys:      []string{"QODER_PERSONAL_ACCESS_TOKEN"},
			Note:         "config folder not checked against qoder's docs",
			FlagsChecked: "1.1.52",
		},
		{
			Name: "auggie", Description: "Auggie (Augment Code)", Binary: "auggie",
			Install:    npm("@augmentcode/auggie", "0.36.0", "AUGGIE_VERSION", nil),
			HostConfig: []string{".augment"},
			EnvKeys:    []string{"AUGMENT_SESSION_AUTH", "AUGMENT_API_TOKEN"},
			OwnFlags:   map[string][]string{"": {"shell"}}, FlagsChecked: "0.36.0",
		},
		{
			Name: "codebuddy", Description: "CodeBuddy Code (Tencent)", Binary: "codebuddy",
			Install:    npm("@tencent-ai/codebuddy-code", "2.10.0", "CODEBUDDY_VERSION", nil),
			HostConfig: []string{".codebuddy"},
			EnvKeys:    []string{"CODEBUDDY_API_KEY"},
			Note:       "package not in the registry mirror used here; version and scripts unchecked",
		},
		{
			Name: "jules", Description: "Jules (Google)", Binary: "jules",
			// The npm package's postinstall downloads this same archive with
			// no checksum, so the image fetches it itself and checks it.
			Install: Install{Method: Binary,
				Package: "https://storage.googleapis.com/jules-cli/v${JULES_VERSION}/jules_external_v${JULES_VERSION}_linux_{goarch}.tar.gz",
				Version: "0.1.42", VersionArg: "JULES_VERSION", Member: "jules"},
			HostConfig: []string{".jules"},
			EnvKeys:    []string{"JULES_API_KEY"},
			Note:       "no SHA-256 pinned yet; config folder unchecked",
		},
		{
			Name: "shai", Description: "SHAI (OVHcloud)", Binary: "shai",
			Install: Install{Method: Binary, Package: "https://github.com/ovh/shai/releases/download/v${SHAI_VERSION}/shai-linux-{uname}",
				Version: "0.1.9", VersionArg: "SHAI_VERSION"},
			HostConfig: []string{".config/shai"},
			EnvKeys:    []string{"OVH_BASE_URL", "SHAI_API_KEY"},
			Note:       "no SHA-256 pinned yet",
		},
		{
			Name: "crush", Description: "Crush (Charm)", Binary: "crush",
			Install: Install{Method: NPM, Package: "@charmland/crush", Version: "0.96.1", VersionArg: "CRUSH_VERSION",
				OwnScript: "install.js",
				ScriptWhy: "the package holds no binary: install.js downloads the release archive named in its package.json and checks the SHA-256 given there (so the digest comes with npm's integrity check); without it crush would try the download at run time into a read-only folder"},
			HostConfig: []string{".config/crush", ".local/share/crush"},
			EnvKeys: []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
				"GROQ_API_KEY", "HYPER_API_KEY", "OPENCODE_API_KEY"},
		},
		{
			Name: "goose", Description: "Goose (Block)", Binary: "goose",
			Install: Install{Method: Binary, Package: "https://github.com/block/goose/releases/download/v${GOOSE_VERSION}/goose-{uname}-unknown-linux-gnu.tar.bz2",
				Version: "1.9.3", VersionArg: "GOOSE_VERSION", Member: "goose",
				Env: map[string]string{"GOOSE_DISABLE_KEYRING": "1"}},
			HostConfig: []string{".config/goose", ".local/share/goose", ".local/state/goose"},
			EnvKeys:    []string{"GOOSE_PROVIDER", "GOOSE_MODEL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY"},
			Ports:      []int{3000},
			Note:       "no SHA-256 pinned yet",
		},
		{
			Name: "cursor-agent", Description: "Cursor CLI", Binary: "cursor-agent",
			Install: Install{Method: Binary, Package: "https://downloads.cursor.com/lab/${CURSOR_AGENT_VERSION}/linux/{node}/agent-cli-package.tar.gz",
				Version: "2026.11.20", VersionArg: "CURSOR_AGENT_VERSION", Member: "dist-package/cursor-agent"},
			HostConfig: []string{".cursor", ".config/cursor"},
			LoginFiles: []string{".config/cursor/auth.json"},
			EnvKeys:    []string{"CURSOR_API_KEY"},
			Note:       "not on npm; no SHA-256 pinned yet; version and archive layout unchecked",
		},
		{
			Name: "copilot", Description: "GitHub Copilot CLI", Binary: "copilot",
			Install:    npm("@github/copilot", "1.0.102", "COPILOT_VERSION", map[string]string{"COPILOT_AUTO_UPDATE": "false"}),
			HostConfig: []string{".copilot"},
			EnvKeys: []string{"COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN",
				"COPILOT_PROVIDER_BASE_URL", "COPILOT_PROVIDER_API_KEY", "COPILOT_PROVIDER_TYPE", "COPILOT_MODEL"},
		},
	}
}
