package tools

import "slices"

// Hosts of the model providers an agent may be pointed at, by provider.
var providerHosts = map[string][]string{
	"anthropic":  {"api.anthropic.com", "*.anthropic.com", "claude.ai"},
	"openai":     {"api.openai.com", "*.openai.com", "chatgpt.com"},
	"google":     {"generativelanguage.googleapis.com", "*.googleapis.com", "accounts.google.com"},
	"openrouter": {"openrouter.ai"},
	"groq":       {"api.groq.com"},
	"deepseek":   {"api.deepseek.com"},
	"xai":        {"api.x.ai"},
	"bedrock":    {"*.amazonaws.com"},
}

func providers(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, providerHosts[n]...)
	}
	return out
}

// agentHosts are the hosts each agent needs under the allowlist policy:
// its own service (login, model list, updates are off) and the model
// providers it speaks to. A user adds more with 'ai-sandbox network
// allow'.
var agentHosts = map[string][]string{
	"opencode":     append([]string{"opencode.ai", "*.opencode.ai", "models.dev"}, providers("anthropic", "openai", "google", "openrouter", "groq", "deepseek", "xai", "bedrock")...),
	"claude":       append([]string{"*.sentry.io"}, providers("anthropic")...),
	"gemini":       append([]string{"oauth2.googleapis.com"}, providers("google")...),
	"codex":        append([]string{"auth.openai.com"}, providers("openai")...),
	"aider":        providers("anthropic", "openai", "google", "openrouter", "deepseek"),
	"amp":          {"ampcode.com", "*.ampcode.com"},
	"qwen":         {"chat.qwen.ai", "dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com", "*.aliyuncs.com"},
	"kilo":         append([]string{"kilocode.ai", "*.kilocode.ai"}, providers("anthropic", "openai", "openrouter")...),
	"droid":        {"factory.ai", "*.factory.ai"},
	"qoder":        {"qoder.com", "*.qoder.com"},
	"auggie":       {"augmentcode.com", "*.augmentcode.com"},
	"codebuddy":    {"codebuddy.ai", "*.codebuddy.ai"},
	"jules":        {"jules.googleapis.com", "accounts.google.com", "oauth2.googleapis.com"},
	"shai":         {"*.ai.cloud.ovh.net"},
	"crush":        append([]string{"catwalk.charm.sh"}, providers("anthropic", "openai", "google", "openrouter")...),
	"goose":        providers("anthropic", "openai", "google", "openrouter"),
	"cursor-agent": {"cursor.com", "*.cursor.com", "*.cursor.sh"},
	"copilot":      {"github.com", "api.github.com", "*.githubcopilot.com"},
}

// CommonHosts are allowed for every sandbox under the allowlist policy:
// the package registries and source hosts an agent installs and fetches
// from while it works.
var CommonHosts = []string{
	"registry.npmjs.org", "registry.yarnpkg.com",
	"pypi.org", "files.pythonhosted.org",
	"proxy.golang.org", "sum.golang.org",
	"crates.io", "index.crates.io", "static.crates.io",
	"rubygems.org",
	"github.com", "api.github.com", "codeload.github.com", "*.githubusercontent.com",
	"gitlab.com", "registry.gitlab.com",
}

// EgressHosts are the hosts the agent needs (nil for a command that is
// not an agent: the common hosts only).
func (t Tool) EgressHosts() []string { return slices.Clone(agentHosts[t.Name]) }

// ProxyUse says how an agent's runtime reaches the egress proxy: the
// runtime, what it needs (the sandbox sets the proxy variables for all,
// and NODE_USE_ENV_PROXY=1 for Node's built-in fetch), and the test that
// verified it against a stand-in API host ("" when none has yet).
type ProxyUse struct {
	Runtime  string `json:"runtime"`
	Needs    string `json:"needs"`
	Verified string `json:"verified,omitempty"`
}

const (
	needsEnv  = "HTTPS_PROXY/HTTP_PROXY/NO_PROXY (read natively)"
	needsNode = "HTTPS_PROXY/NO_PROXY and NODE_USE_ENV_PROXY=1 (Node's fetch ignores the variables without it)"
)

var proxyUse = map[string]ProxyUse{
	"opencode":     {Runtime: "Bun", Needs: needsEnv, Verified: "e2e/image TestBaseImageWithOpencode: Bun's fetch reaches an allowlisted stand-in only through the proxy, and gets its refusal for another host"},
	"claude":       {Runtime: "Node", Needs: needsNode},
	"gemini":       {Runtime: "Node", Needs: needsNode},
	"codex":        {Runtime: "Rust (reqwest)", Needs: needsEnv},
	"aider":        {Runtime: "Python (httpx, requests)", Needs: needsEnv},
	"amp":          {Runtime: "Node", Needs: needsNode},
	"qwen":         {Runtime: "Node", Needs: needsNode},
	"kilo":         {Runtime: "Node", Needs: needsNode},
	"qoder":        {Runtime: "Node", Needs: needsNode},
	"auggie":       {Runtime: "Node", Needs: needsNode},
	"codebuddy":    {Runtime: "Node", Needs: needsNode},
	"jules":        {Runtime: "Node", Needs: needsNode},
	"crush":        {Runtime: "Go", Needs: needsEnv},
	"goose":        {Runtime: "Rust", Needs: needsEnv},
	"shai":         {Runtime: "Rust", Needs: needsEnv},
	"cursor-agent": {Runtime: "Node", Needs: needsNode},
	"copilot":      {Runtime: "Node", Needs: needsNode},
}

// Proxy is how the agent's runtime reaches the egress proxy (a zero
// ProxyUse: not known).
func (t Tool) Proxy() ProxyUse { return proxyUse[t.Name] }
