// Package tools is the table of known agents: the only place in the code
// that knows about particular agents. Everything else asks it.
package tools

import "sort"

// Method is how an agent is installed in the image.
type Method string

const (
	NPM    Method = "npm"    // npm install -g PACKAGE@VERSION
	UV     Method = "uv"     // uv tool install PACKAGE==VERSION
	Binary Method = "binary" // a release binary, fetched and checked against a SHA-256
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
	// EnvKeys are the env-file keys the agent may use. Only these (plus
	// what the user lists for the tool) reach its container.
	EnvKeys []string
	// Ports are the agent's default server ports (web UIs, callbacks).
	Ports []int
	// NoSandbox is the argument that turns off the agent's own nested
	// sandbox, which cannot start inside a container; "" when none.
	NoSandbox string
	DB        *DB
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

func all() []Tool {
	return []Tool{
		{
			Name: "opencode", Description: "OpenCode (sst/anomalyco)", Binary: "opencode",
			Install:    npm("opencode-ai", "1.18.33", "OPENCODE_VERSION", map[string]string{"OPENCODE_DISABLE_AUTOUPDATE": "1"}),
			HostConfig: []string{".config/opencode", ".local/share/opencode"},
			EnvKeys: []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "GEMINI_API_KEY",
				"OPENROUTER_API_KEY", "OPENCODE_API_KEY", "GROQ_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY",
				"AWS_BEARER_TOKEN_BEDROCK", "OPENCODE_SERVER_PASSWORD", "OPENCODE_SERVER_USERNAME"},
			Ports: []int{4096},
			DB:    &DB{Env: "OPENCODE_DB", File: "opencode.db"},
		},
		{
			Name: "claude", Description: "Claude Code (Anthropic)", Binary: "claude",
			Install:    npm("@anthropic-ai/claude-code", "2.1.328", "CLAUDE_CODE_VERSION", map[string]string{"DISABLE_AUTOUPDATER": "1"}),
			HostConfig: []string{".claude", ".claude.json"},
			EnvKeys: []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL",
				"ANTHROPIC_MODEL", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"},
		},
		{
			Name: "gemini", Description: "Gemini CLI (Google)", Binary: "gemini",
			Install:    npm("@google/gemini-cli", "0.61.0", "GEMINI_CLI_VERSION", nil),
			HostConfig: []string{".gemini"},
			EnvKeys:    []string{"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_USE_VERTEXAI"},
		},
		{
			Name: "codex", Description: "Codex CLI (OpenAI)", Binary: "codex",
			Install:    npm("@openai/codex", "0.169.0", "CODEX_VERSION", nil),
			HostConfig: []string{".codex"},
			EnvKeys:    []string{"OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"},
			Ports:      []int{1455},
			NoSandbox:  "--dangerously-bypass-approvals-and-sandbox",
		},
		{
			Name: "aider", Description: "Aider", Binary: "aider",
			Install:    Install{Method: UV, Package: "aider-chat", Version: "0.86.2", VersionArg: "AIDER_VERSION"},
			HostConfig: []string{".aider", ".aider.conf.yml"},
			EnvKeys: []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
				"DEEPSEEK_API_KEY", "OPENAI_API_BASE"},
			Ports: []int{8501},
		},
		{
			Name: "amp", Description: "Amp (Sourcegraph)", Binary: "amp",
			Install:    npm("@sourcegraph/amp", "0.0.1790142911-g7618fb", "AMP_VERSION", nil),
			HostConfig: []string{".config/amp", ".local/share/amp"},
			EnvKeys:    []string{"AMP_API_KEY", "AMP_URL"},
		},
		{
			Name: "qwen", Description: "Qwen Code (Alibaba)", Binary: "qwen",
			Install:    npm("@qwen-code/qwen-code", "0.24.4", "QWEN_CODE_VERSION", nil),
			HostConfig: []string{".qwen"},
			EnvKeys:    []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "DASHSCOPE_API_KEY"},
		},
		{
			Name: "kilo", Description: "Kilo Code CLI", Binary: "kilo",
			Install:    npm("@kilocode/cli", "7.8.1", "KILO_VERSION", nil),
			HostConfig: []string{".config/kilo", ".local/share/kilo"},
			EnvKeys: []string{"KILO_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY",
				"KILO_SERVER_PASSWORD", "KILO_SERVER_USERNAME"},
			Ports: []int{4096},
			DB:    &DB{Env: "KILO_DB", File: "kilo.db"},
		},
		{
			Name: "droid", Description: "Droid (Factory)", Binary: "droid",
			Install:    npm("droid", "0.215.0", "DROID_VERSION", nil),
			HostConfig: []string{".factory"},
			EnvKeys:    []string{"FACTORY_API_KEY"},
		},
		{
			Name: "qoder", Description: "Qoder CLI", Binary: "qodercli",
			Install:    npm("@qoder-ai/qodercli", "1.1.52", "QODER_VERSION", nil),
			HostConfig: []string{".qoder"},
			EnvKeys:    []string{"QODER_PERSONAL_ACCESS_TOKEN"},
		},
		{
			Name: "auggie", Description: "Auggie (Augment Code)", Binary: "auggie",
			Install:    npm("@augmentcode/auggie", "0.36.0", "AUGGIE_VERSION", nil),
			HostConfig: []string{".augment"},
			EnvKeys:    []string{"AUGMENT_SESSION_AUTH", "AUGMENT_API_TOKEN"},
		},
		{
			Name: "codebuddy", Description: "CodeBuddy Code (Tencent)", Binary: "codebuddy",
			Install:    npm("@tencent-ai/codebuddy-code", "2.10.0", "CODEBUDDY_VERSION", nil),
			HostConfig: []string{".codebuddy"},
			EnvKeys:    []string{"CODEBUDDY_API_KEY"},
		},
		{
			Name: "jules", Description: "Jules (Google)", Binary: "jules",
			Install:    npm("@google/jules", "0.1.42", "JULES_VERSION", nil),
			HostConfig: []string{".jules"},
			EnvKeys:    []string{"JULES_API_KEY"},
		},
		{
			Name: "shai", Description: "SHAI (OVHcloud)", Binary: "shai",
			Install:    Install{Method: Binary, Package: "https://github.com/ovh/shai/releases/download/v${SHAI_VERSION}/shai-linux-x86_64", Version: "0.1.9", VersionArg: "SHAI_VERSION"},
			HostConfig: []string{".config/shai"},
			EnvKeys:    []string{"OVH_BASE_URL", "SHAI_API_KEY"},
		},
		{
			Name: "crush", Description: "Crush (Charm)", Binary: "crush",
			Install:    npm("@charmland/crush", "0.96.1", "CRUSH_VERSION", nil),
			HostConfig: []string{".config/crush", ".local/share/crush"},
			EnvKeys: []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
				"GROQ_API_KEY", "HYPER_API_KEY", "OPENCODE_API_KEY"},
		},
		{
			Name: "goose", Description: "Goose (Block)", Binary: "goose",
			Install: Install{Method: Binary, Package: "https://github.com/block/goose/releases/download/v${GOOSE_VERSION}/goose-x86_64-unknown-linux-gnu.tar.bz2",
				Version: "1.9.3", VersionArg: "GOOSE_VERSION", Env: map[string]string{"GOOSE_DISABLE_KEYRING": "1"}},
			HostConfig: []string{".config/goose", ".local/share/goose"},
			EnvKeys:    []string{"GOOSE_PROVIDER", "GOOSE_MODEL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY"},
			Ports:      []int{3000},
		},
		{
			Name: "cursor-agent", Description: "Cursor CLI", Binary: "cursor-agent",
			Install:    Install{Method: Binary, Package: "https://downloads.cursor.com/lab/${CURSOR_AGENT_VERSION}/linux/x64/agent-cli-package.tar.gz", Version: "2026.11.20", VersionArg: "CURSOR_AGENT_VERSION"},
			HostConfig: []string{".cursor", ".config/cursor"},
			EnvKeys:    []string{"CURSOR_API_KEY"},
		},
		{
			Name: "copilot", Description: "GitHub Copilot CLI", Binary: "copilot",
			Install:    npm("@github/copilot", "1.0.102", "COPILOT_VERSION", map[string]string{"COPILOT_AUTO_UPDATE": "false"}),
			HostConfig: []string{".copilot"},
			EnvKeys:    []string{"COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"},
		},
	}
}
