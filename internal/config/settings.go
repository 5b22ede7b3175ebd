package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/egress"
	"github.com/spf13/viper"
)

// Defaults of the scalar settings.
const (
	DefaultImage       = "ai-sandbox:latest"
	DefaultIdleTimeout = 5 * time.Minute
	DefaultPidsLimit   = 1024
	DefaultMemory      = "8g"
	DefaultPortBind    = "localhost"
	// DefaultCPUShares is below docker's 1024, so that a busy sandbox
	// yields the CPU to the rest of the machine.
	DefaultCPUShares = 512
	// DefaultSeccomp is ai-sandbox's profile: docker's default minus
	// ptrace and process_vm_* (see internal/seccomp).
	DefaultSeccomp = "ai-sandbox"
)

// Resolved are the scalar settings after precedence:
// flag > AI_SANDBOX_* variable > config.json "settings" > default.
type Resolved struct {
	Image       string
	IdleTimeout time.Duration
	PidsLimit   int64
	Memory      string // "" = no limit
	CPUs        string // "" = no limit
	PortBind    string // "localhost" or "all"
	// TmpSize is the size of /tmp and of /var/tmp each, in docker's
	// notation ("" = a quarter of Memory, 1g when memory is unlimited).
	TmpSize   string
	CPUShares int64  // relative CPU weight (docker's default is 1024)
	Seccomp   string // "ai-sandbox" (our profile) or "docker" (the engine's default)
	Egress    egress.Policy
	// SharedCaches mounts the package caches shared by every project
	// (~/.ai-sandbox/cache/shared) instead of keeping them in each
	// project's agent home.
	SharedCaches bool
	// Source says where each setting came from: flag, env, file or default.
	Source map[string]string
}

// setting describes one scalar setting: its key (also the flag name),
// its variable and its config.json value.
type setting struct {
	key, env string
	file     func(Settings) (any, bool)
	def      any
}

func settingsTable() []setting {
	str := func(f func(Settings) string) func(Settings) (any, bool) {
		return func(s Settings) (any, bool) { v := f(s); return v, v != "" }
	}
	return []setting{
		{"image", "AI_SANDBOX_IMAGE", str(func(s Settings) string { return s.Image }), DefaultImage},
		{"idle-timeout", "AI_SANDBOX_IDLE_TIMEOUT", str(func(s Settings) string { return s.IdleTimeout }), DefaultIdleTimeout.String()},
		{"pids-limit", "AI_SANDBOX_PIDS_LIMIT", func(s Settings) (any, bool) {
			if s.PidsLimit == nil {
				return nil, false
			}
			return strconv.FormatInt(*s.PidsLimit, 10), true
		}, strconv.Itoa(DefaultPidsLimit)},
		{"memory", "AI_SANDBOX_MEMORY", str(func(s Settings) string { return s.Memory }), DefaultMemory},
		{"cpus", "AI_SANDBOX_CPUS", str(func(s Settings) string { return s.CPUs }), ""},
		{"port-bind", "AI_SANDBOX_PORT_BIND", str(func(s Settings) string { return s.PortBind }), DefaultPortBind},
		{"tmp-size", "AI_SANDBOX_TMP_SIZE", str(func(s Settings) string { return s.TmpSize }), ""},
		{"cpu-shares", "AI_SANDBOX_CPU_SHARES", func(s Settings) (any, bool) {
			if s.CPUShares == nil {
				return nil, false
			}
			return strconv.FormatInt(*s.CPUShares, 10), true
		}, strconv.Itoa(DefaultCPUShares)},
		{"seccomp", "AI_SANDBOX_SECCOMP", str(func(s Settings) string { return s.Seccomp }), DefaultSeccomp},
		{"egress", "AI_SANDBOX_EGRESS", str(func(s Settings) string { return s.Egress }), string(egress.PolicyAllowlist)},
		{"shared-caches", "AI_SANDBOX_SHARED_CACHES", func(s Settings) (any, bool) {
			if s.SharedCaches == nil {
				return nil, false
			}
			return strconv.FormatBool(*s.SharedCaches), true
		}, "false"},
	}
}

// SettingKeys lists the setting names (also their flag names).
func SettingKeys() []string {
	var out []string
	for _, s := range settingsTable() {
		out = append(out, s.key)
	}
	return out
}

// SettingEnv returns the variable of a setting key.
func SettingEnv(key string) string {
	for _, s := range settingsTable() {
		if s.key == key {
			return s.env
		}
	}
	return ""
}

// Resolve applies the precedence. flags may be nil; only flags that the
// user set count. getenv reads the environment. PORT_BIND (the original's
// variable) is honoured when AI_SANDBOX_PORT_BIND is unset.
func Resolve(file Settings, getenv func(string) string, flags *pflag.FlagSet) (Resolved, error) {
	v := viper.New()
	src := map[string]string{}
	for _, s := range settingsTable() {
		v.SetDefault(s.key, s.def)
		src[s.key] = "default"
		if fv, ok := s.file(file); ok {
			v.Set(s.key, fv)
			src[s.key] = "file"
		}
		env := getenv(s.env)
		if env == "" && s.key == "port-bind" {
			env = getenv("PORT_BIND")
		}
		if env != "" {
			v.Set(s.key, env)
			src[s.key] = "env"
		}
		if flags != nil {
			if f := flags.Lookup(s.key); f != nil && f.Changed {
				v.Set(s.key, f.Value.String())
				src[s.key] = "flag"
			}
		}
	}
	r := Resolved{Source: src, Image: strings.TrimSpace(v.GetString("image")), CPUs: v.GetString("cpus")}
	if r.Image == "" {
		return r, fmt.Errorf("image: empty image name (from %s)", src["image"])
	}
	d, err := time.ParseDuration(normalizeDuration(v.GetString("idle-timeout")))
	if err != nil || d < 0 {
		return r, fmt.Errorf("idle-timeout %q (from %s): expected a duration such as 5m, 30s or 0", v.GetString("idle-timeout"), src["idle-timeout"])
	}
	r.IdleTimeout = d
	pl, err := strconv.ParseInt(v.GetString("pids-limit"), 10, 64)
	if err != nil || pl < -1 || pl == 0 {
		return r, fmt.Errorf("pids-limit %q (from %s): expected a positive number, or -1 for no limit", v.GetString("pids-limit"), src["pids-limit"])
	}
	r.PidsLimit = pl
	switch m := strings.ToLower(v.GetString("memory")); m {
	case "", "0", "none", "unlimited":
		r.Memory = ""
	default:
		if !validMemory(m) {
			return r, fmt.Errorf("memory %q (from %s): expected a size such as 8g or 512m, or none", m, src["memory"])
		}
		r.Memory = m
	}
	if r.CPUs != "" {
		if f, err := strconv.ParseFloat(r.CPUs, 64); err != nil || f <= 0 {
			return r, fmt.Errorf("cpus %q (from %s): expected a positive number such as 2 or 1.5", r.CPUs, src["cpus"])
		}
	}
	switch pb := strings.ToLower(v.GetString("port-bind")); pb {
	case "localhost", "127.0.0.1", "loopback":
		r.PortBind = "localhost"
	case "all", "0.0.0.0":
		r.PortBind = "all"
	default:
		return r, fmt.Errorf("port-bind %q (from %s): expected localhost or all", pb, src["port-bind"])
	}
	switch t := strings.ToLower(strings.TrimSpace(v.GetString("tmp-size"))); t {
	case "", "auto":
		r.TmpSize = autoTmpSize(r.Memory)
	default:
		if n, ok := memoryBytes(t); !ok || n == 0 {
			return r, fmt.Errorf("tmp-size %q (from %s): expected a size such as 1g or 512m", t, src["tmp-size"])
		}
		r.TmpSize = t
	}
	cs, err := strconv.ParseInt(v.GetString("cpu-shares"), 10, 64)
	if err != nil || cs < 2 || cs > 262144 {
		return r, fmt.Errorf("cpu-shares %q (from %s): expected a number from 2 to 262144 (docker's default is 1024)", v.GetString("cpu-shares"), src["cpu-shares"])
	}
	r.CPUShares = cs
	switch sc := strings.ToLower(v.GetString("seccomp")); sc {
	case "ai-sandbox", "docker":
		r.Seccomp = sc
	default:
		return r, fmt.Errorf("seccomp %q (from %s): expected ai-sandbox (docker's default profile without ptrace) or docker (the engine's default, for debugging)", sc, src["seccomp"])
	}
	pol, err := egress.ParsePolicy(v.GetString("egress"))
	if err != nil {
		return r, fmt.Errorf("egress (from %s): %w", src["egress"], err)
	}
	r.Egress = pol
	shared, ok := parseBool(v.GetString("shared-caches"))
	if !ok {
		return r, fmt.Errorf("shared-caches %q (from %s): expected true or false", v.GetString("shared-caches"), src["shared-caches"])
	}
	r.SharedCaches = shared
	return r, nil
}

// parseBool reads a yes/no setting: true/false, 1/0, yes/no, on/off.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// autoTmpSize is the default size of /tmp and /var/tmp: a quarter of the
// memory limit (both together stay under half of it, so that filling them
// cannot starve the sandbox), 1g when memory is unlimited.
func autoTmpSize(memory string) string {
	n, ok := memoryBytes(memory)
	if !ok {
		return "1g"
	}
	return strconv.FormatUint(n/4/(1<<20), 10) + "m"
}

// memoryBytes parses a docker size (8g, 512m, 1024k, 1048576b or a bare
// number of bytes).
func memoryBytes(m string) (uint64, bool) {
	if !validMemory(m) {
		return 0, false
	}
	mult := map[byte]uint64{'b': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}
	unit := m[len(m)-1]
	num := m
	if f, ok := mult[unit]; ok {
		num = m[:len(m)-1]
		n, err := strconv.ParseUint(num, 10, 64)
		return n * f, err == nil
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil
}

// normalizeDuration accepts a bare number as seconds.
func normalizeDuration(s string) string {
	s = strings.TrimSpace(s)
	if _, err := strconv.Atoi(s); err == nil {
		return s + "s"
	}
	return s
}

func validMemory(m string) bool {
	if m == "" {
		return false
	}
	num := strings.TrimRight(m, "bkmg")
	if len(m)-len(num) > 1 || num == "" {
		return false
	}
	_, err := strconv.ParseUint(num, 10, 64)
	return err == nil
}
