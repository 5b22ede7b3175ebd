package egress

import (
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": PolicyAllowlist, "allowlist": PolicyAllowlist, " Open ": PolicyOpen, "NONE": PolicyNone} {
		got, err := ParsePolicy(in)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParsePolicy("closed")
	if err == nil || !strings.Contains(err.Error(), `"closed"`) || !strings.Contains(err.Error(), "allowlist, open, none") {
		t.Errorf("ParsePolicy(closed): %v", err)
	}
}

func TestClientEnvPointsEverythingAtTheProxy(t *testing.T) {
	env := ClientEnv()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "npm_config_proxy", "npm_config_https_proxy"} {
		if env[k] != "http://ai-sandbox-proxy:3128" {
			t.Errorf("%s = %q", k, env[k])
		}
	}
	if env["NODE_USE_ENV_PROXY"] != "1" {
		t.Errorf("NODE_USE_ENV_PROXY = %q", env["NODE_USE_ENV_PROXY"])
	}
	if !strings.Contains(env["NO_PROXY"], "localhost") || env["NO_PROXY"] != env["no_proxy"] {
		t.Errorf("NO_PROXY %q no_proxy %q", env["NO_PROXY"], env["no_proxy"])
	}
}
