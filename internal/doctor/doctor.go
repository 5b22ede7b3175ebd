// Package doctor turns gathered facts (what docker, the state folder, the
// rc files and the terminal say) into findings, each ok, a warning, a
// failure or a note, with a hint where the user can act; and renders them
// as text or JSON. It does no I/O: internal/cli gathers the facts.
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/egress"
)

// Status is how a finding came out.
type Status string

const (
	OK   Status = "ok"
	Info Status = "info"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Finding is one line of the report.
type Finding struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Detail  string `json:"detail"`
	Hint    string `json:"hint,omitempty"`
}

// Report is doctor's findings, in order.
type Report struct {
	Findings []Finding `json:"findings"`
}

// Add appends findings.
func (r *Report) Add(f ...Finding) { r.Findings = append(r.Findings, f...) }

// Failed reports whether any finding failed.
func (r Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Status == Fail {
			return true
		}
	}
	return false
}

// Counts are the findings by status.
func (r Report) Counts() map[Status]int {
	m := map[Status]int{}
	for _, f := range r.Findings {
		m[f.Status]++
	}
	return m
}

// WriteJSON writes the report as JSON, with "ok" false when a finding
// failed.
func (r Report) WriteJSON(w io.Writer) error {
	f := r.Findings
	if f == nil {
		f = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK       bool      `json:"ok"`
		Findings []Finding `json:"findings"`
	}{!r.Failed(), f})
}

// WriteText writes the report by section. icons uses ✓ ! ✗ ·, else
// words (no terminal, or NO_COLOR).
func (r Report) WriteText(w io.Writer, icons bool) {
	section := ""
	for _, f := range r.Findings {
		if f.Section != section {
			if section != "" {
				fmt.Fprintln(w)
			}
			section = f.Section
			fmt.Fprintln(w, section)
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark(f.Status, icons), f.Name, f.Detail)
		if f.Hint != "" {
			fmt.Fprintf(w, "       %s\n", f.Hint)
		}
	}
	c := r.Counts()
	fmt.Fprintf(w, "\n%d ok, %d warnings, %d failed\n", c[OK], c[Warn], c[Fail])
}

func mark(s Status, icons bool) string {
	if icons {
		switch s {
		case OK:
			return "✓"
		case Warn:
			return "!"
		case Fail:
			return "✗"
		}
		return "·"
	}
	switch s {
	case OK:
		return "ok  "
	case Warn:
		return "warn"
	case Fail:
		return "FAIL"
	}
	return "info"
}

// ---- docker ---------------------------------------------------------------

// EngineFacts are what docker version and docker info said.
type EngineFacts struct {
	CLI    string // the docker CLI's path ("" when not found)
	Client string // the client's version
	// Server is the engine's version; empty when it did not answer, and
	// then ServerErr says why.
	Server    string
	ServerErr string
	// Info is docker info's JSON ({{json .}}), nil when not asked.
	Info map[string]any
}

// Engine checks the docker CLI and the engine.
func Engine(e EngineFacts) []Finding {
	const sec = "docker"
	if e.CLI == "" {
		return []Finding{{Section: sec, Name: "docker CLI", Status: Fail, Detail: "not found",
			Hint: "install Docker Engine or Docker Desktop, or set AI_SANDBOX_DOCKER to a docker-compatible CLI (e.g. podman)"}}
	}
	out := []Finding{{Section: sec, Name: "docker CLI", Status: OK, Detail: strings.TrimSpace(e.Client + " (" + e.CLI + ")")}}
	if e.Server == "" {
		msg := e.ServerErr
		if msg == "" {
			msg = "no answer"
		}
		return append(out, Finding{Section: sec, Name: "engine", Status: Fail, Detail: "does not answer: " + msg,
			Hint: "start Docker (or Docker Desktop) and make sure your user may use it: 'docker info' must work"})
	}
	var parts []string
	rootless, seccomp := false, false
	for _, o := range stringList(e.Info["SecurityOptions"]) {
		switch {
		case strings.Contains(o, "name=rootless"):
			rootless = true
		case strings.Contains(o, "name=seccomp"):
			seccomp = true
		}
	}
	if host, ok := e.Info["host"].(map[string]any); ok { // podman info
		if sec, ok := host["security"].(map[string]any); ok {
			rootless, _ = sec["rootless"].(bool)
			if s, _ := sec["seccompEnabled"].(bool); s {
				seccomp = true
			}
		}
	}
	if rootless {
		parts = append(parts, "rootless")
	} else {
		parts = append(parts, "not rootless")
	}
	if rt, ok := e.Info["Runtimes"].(map[string]any); ok && len(rt) > 0 {
		def, _ := e.Info["DefaultRuntime"].(string)
		var names []string
		for n := range rt {
			if n == def {
				n += " (default)"
			}
			names = append(names, n)
		}
		sort.Strings(names)
		parts = append(parts, "runtimes: "+strings.Join(names, ", "))
	}
	if os, _ := e.Info["OperatingSystem"].(string); os != "" {
		parts = append(parts, os)
	}
	out = append(out, Finding{Section: sec, Name: "engine", Status: OK, Detail: e.Server + " (" + strings.Join(parts, "; ") + ")"})
	if _, podman := e.Info["host"]; !podman && dnsLeaks(e.Server) {
		out = append(out, Finding{Section: sec, Name: "internal networks' DNS", Status: Warn,
			Detail: "engine " + e.Server + " forwards DNS queries from internal networks through the host's resolver when that is a loopback one (CVE-2024-29018): a sandbox could send data out in the names it looks up; ai-sandbox gives its sandboxes a resolver address that answers nothing (--dns " + egress.NoResolver + ") so that their queries stay inside",
			Hint:   "upgrade to Docker Engine 26 or later (or 25.0.5)"})
	}
	if e.Info != nil && !seccomp {
		out = append(out, Finding{Section: sec, Name: "seccomp", Status: Warn,
			Detail: "the engine does not report seccomp: the sandbox's seccomp profile (no ptrace, no process_vm_readv) may not apply",
			Hint:   "use an engine with seccomp support (Docker Engine and Docker Desktop have it)"})
	}
	return out
}

// dnsLeaks reports whether a Docker Engine version forwards internal
// networks' DNS queries through the host (fixed in 25.0.5 and 26.0.0).
func dnsLeaks(version string) bool {
	var v [3]int
	for i, part := range strings.SplitN(version, ".", 3) {
		n := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		v[i] = n
	}
	if v[0] == 0 {
		return false // not a version we know
	}
	return v[0] < 25 || (v[0] == 25 && v[1] == 0 && v[2] < 5)
}

func stringList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ---- image ----------------------------------------------------------------

// ImageFacts are what docker image inspect said of the image run uses.
type ImageFacts struct {
	Name    string
	Present bool
	// Err is set when docker could not be asked (the engine is down).
	Err     string
	Created time.Time
	Labels  map[string]string
	Size    int64
	// Installed are the agents config.json records (tools.installed).
	Installed []string
}

// maxImageAge is when an image is old enough that a rebuild is due (its
// Debian packages miss security updates).
const maxImageAge = 30 * 24 * time.Hour

// Image checks the sandbox image.
func Image(im ImageFacts, now time.Time) []Finding {
	const sec = "image"
	switch {
	case im.Err != "":
		return []Finding{{Section: sec, Name: im.Name, Status: Warn, Detail: "not checked: " + im.Err}}
	case !im.Present:
		return []Finding{{Section: sec, Name: im.Name, Status: Fail, Detail: "not found",
			Hint: "build it with 'ai-sandbox image build' or pull one with 'ai-sandbox image pull'"}}
	}
	var out []Finding
	age := now.Sub(im.Created)
	tools := im.Labels["ai-sandbox.tools"]
	detail := fmt.Sprintf("built %s ago (%s)", Age(age), im.Created.Local().Format("2006-01-02"))
	if im.Labels["ai-sandbox.image"] == "1" {
		if tools == "" {
			tools = "none"
		}
		detail = "agents: " + strings.ReplaceAll(tools, ",", ", ") + "; preset " + orDash(im.Labels["ai-sandbox.preset"]) + "; " + detail
	} else {
		detail = "not an ai-sandbox image (no ai-sandbox.image label), agents unknown; " + detail
	}
	f := Finding{Section: sec, Name: im.Name, Status: OK, Detail: detail}
	if age > maxImageAge {
		f.Status = Warn
		f.Hint = "rebuild it for Debian's security updates: ai-sandbox image build --no-cache (or pull a newer one)"
	}
	out = append(out, f)
	if im.Labels["ai-sandbox.image"] == "1" {
		have := strings.Split(im.Labels["ai-sandbox.tools"], ",")
		var missing []string
		for _, t := range im.Installed {
			if !contains(have, t) {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			out = append(out, Finding{Section: sec, Name: "agents", Status: Warn,
				Detail: "config.json records " + strings.Join(missing, ", ") + " as installed, but the image lacks them",
				Hint:   "ai-sandbox image build --tools " + strings.Join(append(have, missing...), ",")})
		}
	}
	return out
}

// Age says a duration in days, hours or minutes.
func Age(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
	return "moments"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ---- files ----------------------------------------------------------------

// FileFacts are one of the state's files: does it exist, its mode, and
// whether it parses.
type FileFacts struct {
	Name    string // config.json, env
	Path    string
	Exists  bool
	Mode    uint32 // permission bits
	ParseOK bool
	Err     string // why it does not parse (or cannot be read)
	// Extra says more on success ("3 workspaces", "4 keys").
	Extra string
	// Optional files that do not exist are fine.
	Optional bool
}

// File checks a state file: it parses, and only its owner may read it
// (0600: it holds API keys or says where your projects are).
func File(f FileFacts) []Finding {
	const sec = "configuration"
	if !f.Exists {
		st := Info
		if !f.Optional {
			st = Warn
		}
		return []Finding{{Section: sec, Name: f.Name, Status: st, Detail: f.Path + " does not exist (the defaults apply)"}}
	}
	if !f.ParseOK {
		return []Finding{{Section: sec, Name: f.Name, Status: Fail, Detail: f.Err,
			Hint: "fix the line it names; ai-sandbox never overwrites a file that does not parse"}}
	}
	detail := fmt.Sprintf("%s, mode %04o", f.Path, f.Mode)
	if f.Extra != "" {
		detail += ", " + f.Extra
	}
	out := Finding{Section: sec, Name: f.Name, Status: OK, Detail: detail}
	if f.Mode&0o077 != 0 {
		out.Status = Warn
		out.Detail += ": other users may read it"
		out.Hint = "chmod 600 " + f.Path
	}
	return []Finding{out}
}

// CacheFacts say where the sandboxes' package caches live.
type CacheFacts struct {
	Shared bool
	Source string // where the choice comes from: default, file, env
	Dir    string // the shared caches' folder
}

// Caches reports whether package caches are per project (a note) or
// shared across projects (a warning: what one sandbox writes there runs
// later in another project's sandbox).
func Caches(c CacheFacts) []Finding {
	const sec = "configuration"
	if !c.Shared {
		return []Finding{{Section: sec, Name: "package caches", Status: Info,
			Detail: "per project, in each agent home (shared: off)"}}
	}
	from := map[string]string{"file": "config.json settings.sharedCaches", "env": "AI_SANDBOX_SHARED_CACHES"}[c.Source]
	if from == "" {
		from = c.Source
	}
	return []Finding{{Section: sec, Name: "package caches", Status: Warn,
		Detail: "shared across projects: " + c.Dir + " (a compromised session can plant code in a later one's builds; from " + from + ")",
		Hint:   "to keep them per project: settings.sharedCaches false in config.json, or AI_SANDBOX_SHARED_CACHES=0; 'ai-sandbox clean cache' empties the shared ones"}}
}

// WorkspaceFacts is one whitelisted workspace.
type WorkspaceFacts struct {
	Path    string
	Exists  bool
	Refused string // why the rules refuse it now ("" = fine)
}

// Workspaces checks the whitelist.
func Workspaces(ws []WorkspaceFacts) []Finding {
	const sec = "workspaces"
	if len(ws) == 0 {
		return []Finding{{Section: sec, Name: "whitelist", Status: Warn, Detail: "no workspace is whitelisted: no sandbox can start",
			Hint: "ai-sandbox workspace add ~/projects"}}
	}
	var out []Finding
	for _, w := range ws {
		switch {
		case w.Refused != "":
			out = append(out, Finding{Section: sec, Name: w.Path, Status: Fail, Detail: "refused: " + w.Refused,
				Hint: "ai-sandbox workspace remove " + w.Path})
		case !w.Exists:
			out = append(out, Finding{Section: sec, Name: w.Path, Status: Warn, Detail: "does not exist",
				Hint: "create it, or: ai-sandbox workspace remove " + w.Path})
		default:
			out = append(out, Finding{Section: sec, Name: w.Path, Status: OK, Detail: "exists"})
		}
	}
	return out
}

// ---- aliases --------------------------------------------------------------

// RCFacts is one shell's rc file.
type RCFacts struct {
	Shell  string
	Path   string // shown (~/.bashrc)
	Exists bool
	// Block: the managed block is there; Tools its aliases' agents; Exe
	// the ai-sandbox it calls, and whether that still exists.
	Block     bool
	Tools     []string
	Exe       string
	ExeExists bool
	// Shadowed names the user's own definitions that come after the
	// block and win over it: "opencode (alias, line 42)".
	Shadowed []string
	Err      string // the file cannot be read or its markers are broken
	// Current is the user's shell ($SHELL).
	Current bool
}

// Aliases checks the alias blocks of the shells' rc files.
func Aliases(rcs []RCFacts) []Finding {
	const sec = "aliases"
	var out []Finding
	any := false
	for _, rc := range rcs {
		name := rc.Shell + " (" + rc.Path + ")"
		switch {
		case rc.Err != "":
			out = append(out, Finding{Section: sec, Name: name, Status: Warn, Detail: rc.Err})
		case !rc.Block:
			if rc.Current {
				st := Info
				if rc.Exists {
					st = Warn
				}
				out = append(out, Finding{Section: sec, Name: name, Status: st, Detail: "no ai-sandbox aliases (your current shell)",
					Hint: "ai-sandbox setup writes them (ai-sandbox setup --yes --shell " + rc.Shell + " for this shell only)"})
			}
		default:
			any = true
			f := Finding{Section: sec, Name: name, Status: OK, Detail: "aliases for " + orNone(strings.Join(rc.Tools, ", ")) + " and ai-run"}
			if rc.Exe != "" && !rc.ExeExists {
				f.Status = Fail
				f.Detail += "; they call " + rc.Exe + ", which no longer exists"
				f.Hint = "run 'ai-sandbox setup' again to point them at this ai-sandbox"
			}
			out = append(out, f)
			if len(rc.Shadowed) > 0 {
				out = append(out, Finding{Section: sec, Name: name, Status: Warn,
					Detail: "shadowed by your own definitions after the block: " + strings.Join(rc.Shadowed, "; "),
					Hint:   "remove or rename them, or move the ai-sandbox block below them"})
			}
		}
	}
	if !any && len(out) == 0 {
		out = append(out, Finding{Section: sec, Name: "rc files", Status: Info, Detail: "no ai-sandbox aliases in any rc file",
			Hint: "ai-sandbox setup writes them; without them run agents as 'ai-sandbox run TOOL'"})
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no agent"
	}
	return s
}

// ---- terminal -------------------------------------------------------------

// OSC52 is a terminal's clipboard support, per the original's table.
type OSC52 struct {
	Terminal  string
	Supported *bool // nil: unknown
	Note      string
}

// DetectOSC52 names the terminal from its environment variables and says
// whether it copies what OSC52 sends (the clipboard of a sandbox: see
// the README's clipboard table).
func DetectOSC52(getenv func(string) string) OSC52 {
	yes, no := true, false
	term, prog := getenv("TERM"), getenv("TERM_PROGRAM")
	var t OSC52
	switch {
	case prog == "iTerm.app":
		t = OSC52{Terminal: "iTerm2", Supported: &yes, Note: "allow it in Settings > General > Selection > Applications in terminal may access clipboard"}
	case prog == "WarpTerminal":
		t = OSC52{Terminal: "Warp", Supported: &yes}
	case prog == "WezTerm":
		t = OSC52{Terminal: "WezTerm", Supported: &yes}
	case prog == "ghostty" || term == "xterm-ghostty":
		t = OSC52{Terminal: "Ghostty", Supported: &yes}
	case term == "xterm-kitty" || getenv("KITTY_WINDOW_ID") != "":
		t = OSC52{Terminal: "Kitty", Supported: &yes}
	case term == "alacritty" || getenv("ALACRITTY_SOCKET") != "" || getenv("ALACRITTY_LOG") != "":
		t = OSC52{Terminal: "Alacritty", Supported: &yes}
	case getenv("WT_SESSION") != "":
		t = OSC52{Terminal: "Windows Terminal", Supported: &yes}
	case prog == "vscode":
		t = OSC52{Terminal: "VS Code's terminal", Supported: &no}
	case getenv("TILIX_ID") != "":
		t = OSC52{Terminal: "Tilix", Supported: &no}
	case getenv("TERMINATOR_UUID") != "":
		t = OSC52{Terminal: "Terminator", Supported: &no}
	case getenv("VTE_VERSION") != "":
		t = OSC52{Terminal: "GNOME Terminal (or another VTE terminal)", Supported: &no}
	case prog == "Apple_Terminal":
		t = OSC52{Terminal: "macOS Terminal", Supported: &no}
	default:
		name := term
		if prog != "" {
			name = prog + " (TERM=" + term + ")"
		}
		if name == "" {
			name = "unknown (TERM is not set)"
		}
		t = OSC52{Terminal: name}
	}
	switch {
	case getenv("TMUX") != "":
		t.Note = joinNote(t.Note, "inside tmux, which passes OSC52 on only with 'set -g set-clipboard on' (and 'set -g allow-passthrough on' for tmux 3.3 and later)")
	case strings.HasPrefix(term, "screen") && getenv("STY") != "":
		t.Note = joinNote(t.Note, "inside GNU screen, which may not pass OSC52 on")
	}
	return t
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// OSC52Test is the command that shows whether the terminal copies.
const OSC52Test = `printf "\033]52;c;$(printf test | base64)\a"  # then paste: "test" means it works`

// Terminal says whether the sandbox's clipboard (OSC52) reaches the
// user's clipboard.
func Terminal(t OSC52) []Finding {
	const sec = "terminal"
	f := Finding{Section: sec, Name: "clipboard (OSC52)"}
	switch {
	case t.Supported == nil:
		f.Status, f.Detail = Info, t.Terminal+": not known to support OSC52"
		f.Hint = "test it: " + OSC52Test
	case *t.Supported:
		f.Status, f.Detail = OK, t.Terminal+" copies what the sandbox's pbcopy, xclip and wl-copy send"
	default:
		f.Status, f.Detail = Warn, t.Terminal+" does not support OSC52: copying from the sandbox (pbcopy, xclip, wl-copy) does nothing"
		f.Hint = "use iTerm2, WezTerm, Kitty, Alacritty, Ghostty, Warp or Windows Terminal; test with: " + OSC52Test
	}
	if t.Note != "" {
		if f.Hint != "" {
			f.Hint += "; "
		}
		f.Hint += t.Note
	}
	return []Finding{f}
}

// ---- disk -----------------------------------------------------------------

// DiskFacts is the state folder's use, by part.
type DiskFacts struct {
	Root  string
	Total int64
	Parts map[string]int64 // projects, tools, opencode-dbs, cache, logs, …
	Err   string
}

// bigState is when the state folder is worth cleaning.
const bigState = 5 << 30

// Disk reports the state folder's disk use.
func Disk(d DiskFacts, human func(int64) string) []Finding {
	const sec = "disk"
	if d.Err != "" {
		return []Finding{{Section: sec, Name: d.Root, Status: Warn, Detail: d.Err}}
	}
	var parts []string
	var names []string
	for n := range d.Parts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return d.Parts[names[i]] > d.Parts[names[j]] })
	for _, n := range names {
		if d.Parts[n] > 0 {
			parts = append(parts, n+" "+human(d.Parts[n]))
		}
	}
	f := Finding{Section: sec, Name: d.Root, Status: OK, Detail: human(d.Total)}
	if len(parts) > 0 {
		f.Detail += " (" + strings.Join(parts, ", ") + ")"
	}
	if d.Total > bigState {
		f.Status = Info
		f.Hint = "ai-sandbox clean shows what can go"
	}
	return []Finding{f}
}
