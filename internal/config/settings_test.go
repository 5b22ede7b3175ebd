package config_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// settingFlags declares every setting as a flag, as commands do, and
// sets the given ones.
func settingFlags(t *testing.T, set map[string]string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	for _, k := range config.SettingKeys() {
		fs.String(k, "", "")
	}
	var args []string
	for k, v := range set {
		args = append(args, "--"+k+"="+v)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func int64p(v int64) *int64 { return &v }

func TestSettingKeysAndEnv(t *testing.T) {
	want := []string{"image", "idle-timeout", "pids-limit", "memory", "cpus", "port-bind", "tmp-size", "cpu-shares", "seccomp", "egress", "shared-caches"}
	if diff := cmp.Diff(want, config.SettingKeys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	for _, k := range want {
		env := config.SettingEnv(k)
		if env != "AI_SANDBOX_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")) {
			t.Errorf("SettingEnv(%q) = %q", k, env)
		}
	}
	if config.SettingEnv("nope") != "" {
		t.Error("SettingEnv of an unknown key must be empty")
	}
}

func TestResolveDefaults(t *testing.T) {
	r, err := config.Resolve(config.Settings{}, envMap(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Resolved{
		Image: config.DefaultImage, IdleTimeout: config.DefaultIdleTimeout, PidsLimit: config.DefaultPidsLimit,
		Memory: config.DefaultMemory, CPUs: "", PortBind: "localhost",
		TmpSize: "2048m", CPUShares: config.DefaultCPUShares, Seccomp: "ai-sandbox", Egress: "allowlist",
		Source: map[string]string{"image": "default", "idle-timeout": "default", "pids-limit": "default",
			"memory": "default", "cpus": "default", "port-bind": "default",
			"tmp-size": "default", "cpu-shares": "default", "seccomp": "default", "egress": "default",
			"shared-caches": "default"},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// For each setting, four layers are stacked one by one: the highest
// present one wins and is named as the source.
func TestResolvePrecedence(t *testing.T) {
	type layer struct{ file, env, flag string }
	tests := []struct {
		key    string
		values layer
		file   func(v string) config.Settings
		get    func(r config.Resolved) string
		def    string
	}{
		{"image", layer{"file:img", "env:img", "flag:img"},
			func(v string) config.Settings { return config.Settings{Image: v} },
			func(r config.Resolved) string { return r.Image }, config.DefaultImage},
		{"idle-timeout", layer{"1m0s", "2m0s", "3m0s"},
			func(v string) config.Settings { return config.Settings{IdleTimeout: v} },
			func(r config.Resolved) string { return r.IdleTimeout.String() }, "5m0s"},
		{"pids-limit", layer{"100", "200", "300"},
			func(v string) config.Settings {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					panic(err)
				}
				return config.Settings{PidsLimit: int64p(n)}
			},
			func(r config.Resolved) string { return strconv.FormatInt(r.PidsLimit, 10) }, "1024"},
		{"memory", layer{"1g", "2g", "3g"},
			func(v string) config.Settings { return config.Settings{Memory: v} },
			func(r config.Resolved) string { return r.Memory }, "8g"},
		{"cpus", layer{"1", "2", "3.5"},
			func(v string) config.Settings { return config.Settings{CPUs: v} },
			func(r config.Resolved) string { return r.CPUs }, ""},
		{"port-bind", layer{"all", "localhost", "all"},
			func(v string) config.Settings { return config.Settings{PortBind: v} },
			func(r config.Resolved) string { return r.PortBind }, "localhost"},
		{"shared-caches", layer{"true", "false", "true"},
			func(v string) config.Settings { b := v == "true"; return config.Settings{SharedCaches: &b} },
			func(r config.Resolved) string { return strconv.FormatBool(r.SharedCaches) }, "false"},
	}
	for _, tt := range tests {
		envName := config.SettingEnv(tt.key)
		steps := []struct {
			name               string
			file, env, flagVal string
			want, source       string
		}{
			{"default", "", "", "", tt.def, "default"},
			{"file", tt.values.file, "", "", tt.values.file, "file"},
			{"env over file", tt.values.file, tt.values.env, "", tt.values.env, "env"},
			{"flag over env and file", tt.values.file, tt.values.env, tt.values.flag, tt.values.flag, "flag"},
			{"flag over default", "", "", tt.values.flag, tt.values.flag, "flag"},
			{"env over default", "", tt.values.env, "", tt.values.env, "env"},
		}
		for _, st := range steps {
			t.Run(tt.key+"/"+st.name, func(t *testing.T) {
				var file config.Settings
				if st.file != "" {
					file = tt.file(st.file)
				}
				env := map[string]string{}
				if st.env != "" {
					env[envName] = st.env
				}
				flags := map[string]string{}
				if st.flagVal != "" {
					flags[tt.key] = st.flagVal
				}
				r, err := config.Resolve(file, envMap(env), settingFlags(t, flags))
				if err != nil {
					t.Fatal(err)
				}
				if got := tt.get(r); got != st.want {
					t.Errorf("%s = %q, want %q", tt.key, got, st.want)
				}
				if r.Source[tt.key] != st.source {
					t.Errorf("source of %s = %q, want %q", tt.key, r.Source[tt.key], st.source)
				}
				for k, src := range r.Source {
					if k != tt.key && src != "default" {
						t.Errorf("setting %s leaked into %s (source %s)", tt.key, k, src)
					}
				}
			})
		}
	}
}

func TestResolveUnchangedFlagDoesNotCount(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("image", "flag-default:latest", "")
	r, err := config.Resolve(config.Settings{Image: "file:img"}, envMap(nil), fs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Image != "file:img" || r.Source["image"] != "file" {
		t.Errorf("an unset flag's default won: %q from %s", r.Image, r.Source["image"])
	}
}

func TestResolvePortBindFallback(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		want, from string
	}{
		{"PORT_BIND alone", map[string]string{"PORT_BIND": "all"}, "all", "env"},
		{"PORT_BIND=0.0.0.0", map[string]string{"PORT_BIND": "0.0.0.0"}, "all", "env"},
		{"AI_SANDBOX_PORT_BIND wins over PORT_BIND", map[string]string{"PORT_BIND": "all", "AI_SANDBOX_PORT_BIND": "localhost"}, "localhost", "env"},
		{"127.0.0.1 is localhost", map[string]string{"AI_SANDBOX_PORT_BIND": "127.0.0.1"}, "localhost", "env"},
		{"case-insensitive", map[string]string{"PORT_BIND": "ALL"}, "all", "env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := config.Resolve(config.Settings{}, envMap(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.PortBind != tt.want || r.Source["port-bind"] != tt.from {
				t.Errorf("port-bind = %q from %s, want %q from %s", r.PortBind, r.Source["port-bind"], tt.want, tt.from)
			}
		})
	}
	// The flag still beats PORT_BIND.
	r, err := config.Resolve(config.Settings{}, envMap(map[string]string{"PORT_BIND": "all"}), settingFlags(t, map[string]string{"port-bind": "localhost"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.PortBind != "localhost" || r.Source["port-bind"] != "flag" {
		t.Errorf("flag vs PORT_BIND: %q from %s", r.PortBind, r.Source["port-bind"])
	}
}

func TestResolveAcceptedValues(t *testing.T) {
	tests := []struct {
		env   string
		value string
		check func(r config.Resolved) bool
	}{
		{"AI_SANDBOX_IDLE_TIMEOUT", "90", func(r config.Resolved) bool { return r.IdleTimeout == 90*time.Second }},
		{"AI_SANDBOX_IDLE_TIMEOUT", "0", func(r config.Resolved) bool { return r.IdleTimeout == 0 }},
		{"AI_SANDBOX_IDLE_TIMEOUT", "1h30m", func(r config.Resolved) bool { return r.IdleTimeout == 90*time.Minute }},
		{"AI_SANDBOX_PIDS_LIMIT", "-1", func(r config.Resolved) bool { return r.PidsLimit == -1 }},
		{"AI_SANDBOX_MEMORY", "none", func(r config.Resolved) bool { return r.Memory == "" }},
		{"AI_SANDBOX_MEMORY", "0", func(r config.Resolved) bool { return r.Memory == "" }},
		{"AI_SANDBOX_MEMORY", "512M", func(r config.Resolved) bool { return r.Memory == "512m" }},
		{"AI_SANDBOX_MEMORY", "1073741824", func(r config.Resolved) bool { return r.Memory == "1073741824" }},
		{"AI_SANDBOX_CPUS", "1.5", func(r config.Resolved) bool { return r.CPUs == "1.5" }},
		{"AI_SANDBOX_IMAGE", "registry.local/sandbox:v1", func(r config.Resolved) bool { return r.Image == "registry.local/sandbox:v1" }},
		{"AI_SANDBOX_MEMORY", "1g", func(r config.Resolved) bool { return r.TmpSize == "256m" }},
		{"AI_SANDBOX_MEMORY", "none", func(r config.Resolved) bool { return r.TmpSize == "1g" }},
		{"AI_SANDBOX_TMP_SIZE", "3G", func(r config.Resolved) bool { return r.TmpSize == "3g" }},
		{"AI_SANDBOX_CPU_SHARES", "1024", func(r config.Resolved) bool { return r.CPUShares == 1024 }},
		{"AI_SANDBOX_SECCOMP", "docker", func(r config.Resolved) bool { return r.Seccomp == "docker" }},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			r, err := config.Resolve(config.Settings{}, envMap(map[string]string{tt.env: tt.value}), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(r) {
				t.Errorf("unexpected result %+v", r)
			}
		})
	}
}

func TestResolveRejectsBadValues(t *testing.T) {
	tests := []struct {
		name    string
		file    config.Settings
		env     map[string]string
		flags   map[string]string
		wantErr []string // substrings of the error
	}{
		{"blank image from env", config.Settings{}, map[string]string{"AI_SANDBOX_IMAGE": "   "}, nil, []string{"image", "from env"}},
		{"idle-timeout not a duration", config.Settings{IdleTimeout: "soon"}, nil, nil, []string{"idle-timeout", `"soon"`, "from file"}},
		{"idle-timeout negative", config.Settings{}, map[string]string{"AI_SANDBOX_IDLE_TIMEOUT": "-5m"}, nil, []string{"idle-timeout", "from env"}},
		{"pids-limit zero", config.Settings{PidsLimit: int64p(0)}, nil, nil, []string{"pids-limit", `"0"`, "from file"}},
		{"pids-limit below -1", config.Settings{}, nil, map[string]string{"pids-limit": "-2"}, []string{"pids-limit", "from flag"}},
		{"pids-limit not a number", config.Settings{}, map[string]string{"AI_SANDBOX_PIDS_LIMIT": "lots"}, nil, []string{"pids-limit", `"lots"`}},
		{"memory unit unknown", config.Settings{Memory: "8x"}, nil, nil, []string{"memory", `"8x"`, "from file"}},
		{"memory unit only", config.Settings{}, map[string]string{"AI_SANDBOX_MEMORY": "g"}, nil, []string{"memory"}},
		{"memory two units", config.Settings{}, nil, map[string]string{"memory": "8gg"}, []string{"memory", "from flag"}},
		{"cpus zero", config.Settings{CPUs: "0"}, nil, nil, []string{"cpus", "from file"}},
		{"cpus not a number", config.Settings{}, map[string]string{"AI_SANDBOX_CPUS": "two"}, nil, []string{"cpus", `"two"`}},
		{"port-bind unknown", config.Settings{}, map[string]string{"PORT_BIND": "public"}, nil, []string{"port-bind", `"public"`, "from env"}},
		{"port-bind unknown in file", config.Settings{PortBind: "10.0.0.1"}, nil, nil, []string{"port-bind", "from file"}},
		{"tmp-size zero", config.Settings{TmpSize: "0"}, nil, nil, []string{"tmp-size", `"0"`, "from file"}},
		{"tmp-size not a size", config.Settings{}, map[string]string{"AI_SANDBOX_TMP_SIZE": "big"}, nil, []string{"tmp-size", "from env"}},
		{"cpu-shares too low", config.Settings{}, map[string]string{"AI_SANDBOX_CPU_SHARES": "1"}, nil, []string{"cpu-shares", "1024"}},
		{"seccomp unconfined is not offered", config.Settings{Seccomp: "unconfined"}, nil, nil, []string{"seccomp", `"unconfined"`, "from file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Resolve(tt.file, envMap(tt.env), settingFlags(t, tt.flags))
			if err == nil {
				t.Fatal("bad value accepted")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.HasSuffix(err.Error(), ".") || err.Error() != strings.TrimSpace(err.Error()) {
				t.Errorf("error %q: no trailing period or space", err)
			}
		})
	}
}

func TestResolveEgress(t *testing.T) {
	r, err := config.Resolve(config.Settings{Egress: "none"}, envMap(map[string]string{"AI_SANDBOX_EGRESS": "open"}), nil)
	if err != nil || r.Egress != "open" || r.Source["egress"] != "env" {
		t.Errorf("env over file: %q from %s, %v", r.Egress, r.Source["egress"], err)
	}
	_, err = config.Resolve(config.Settings{Egress: "closed"}, envMap(nil), nil)
	if err == nil || !strings.Contains(err.Error(), "egress (from file)") || !strings.Contains(err.Error(), "allowlist, open, none") {
		t.Errorf("bad policy: %v", err)
	}
}

func TestResolveSharedCaches(t *testing.T) {
	on := true
	for _, v := range []string{"1", "yes", "ON", "true"} {
		r, err := config.Resolve(config.Settings{}, envMap(map[string]string{"AI_SANDBOX_SHARED_CACHES": v}), nil)
		if err != nil || !r.SharedCaches || r.Source["shared-caches"] != "env" {
			t.Errorf("%q: %v from %s, %v", v, r.SharedCaches, r.Source["shared-caches"], err)
		}
	}
	r, err := config.Resolve(config.Settings{SharedCaches: &on}, envMap(map[string]string{"AI_SANDBOX_SHARED_CACHES": "off"}), nil)
	if err != nil || r.SharedCaches || r.Source["shared-caches"] != "env" {
		t.Errorf("env off over file on: %v from %s, %v", r.SharedCaches, r.Source["shared-caches"], err)
	}
	_, err = config.Resolve(config.Settings{}, envMap(map[string]string{"AI_SANDBOX_SHARED_CACHES": "maybe"}), nil)
	if err == nil || !strings.Contains(err.Error(), `shared-caches "maybe" (from env)`) {
		t.Errorf("bad value: %v", err)
	}
}
