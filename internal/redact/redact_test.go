package redact

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct {
		name, in string
		hidden   []string // must not be in the output
		kept     []string // must be
	}{
		{"json keys", `{"provider":{"anthropic":{"options":{"apiKey":"plain-value-1234"}}},"model":"claude","keybindings":{"a":"b"},"max_tokens":5}`,
			[]string{"plain-value-1234"}, []string{`"model": "claude"`, `"keybindings"`, `"max_tokens": 5`, "masked, 16 characters"}},
		{"json nested secret object", `{"auth":{"type":"oauth","refresh":"r-123","access":"a-456"},"name":"x"}`,
			[]string{"r-123", "a-456", `"oauth"`}, []string{`"name": "x"`}},
		{"opencode auth.json", `{"anthropic":{"type":"oauth","refresh":"r-1","access":"a-2","expires":1},"openai":{"type":"api","key":"k-3"}}`,
			[]string{"r-1", "a-2", "k-3"}, []string{`"type": "api"`}},
		{"json value shapes", `{"note":"use sk-ant-api03-abcdefghijklmnop here","gh":"ghp_abcdefghijklmnopqrstuvwxyz"}`,
			[]string{"sk-ant-api03-abcdefghijklmnop", "ghp_abcdefghijklmnopqrstuvwxyz"}, []string{"use ", " here"}},
		{"env", "# keys\nANTHROPIC_API_KEY=sk-ant-xyz12345678\nexport GITHUB_TOKEN='tok-1'\nEDITOR=vim\n",
			[]string{"sk-ant-xyz12345678", "tok-1"}, []string{"# keys\n", "EDITOR=vim\n", "ANTHROPIC_API_KEY=***", "export GITHUB_TOKEN='***"}},
		{"yaml", "model: gpt-4\nopenai-api-key: abc123secret\napi_base: https://x\n",
			[]string{"abc123secret"}, []string{"model: gpt-4\n", "api_base: https://x\n"}},
		{"toml", "[auth]\npassword = \"hunter2\"\nuser = \"me\"\n", []string{"hunter2"}, []string{"user = \"me\""}},
		{"private key", "id: x\nkey: |\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
			[]string{"AAAA"}, []string{"id: x"}},
		{"aws", "aws_access_key_id = AKIAABCDEFGHIJKLMNOP\nregion = eu\n", []string{"AKIAABCDEFGHIJKLMNOP"}, []string{"region = eu"}},
	}
	for _, c := range cases {
		out := string(Redact([]byte(c.in)))
		for _, h := range c.hidden {
			if strings.Contains(out, h) {
				t.Errorf("%s: %q shown:\n%s", c.name, h, out)
			}
		}
		for _, k := range c.kept {
			if !strings.Contains(out, k) {
				t.Errorf("%s: %q missing:\n%s", c.name, k, out)
			}
		}
	}
}
