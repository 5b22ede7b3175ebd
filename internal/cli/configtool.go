package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
	"github.com/ai-sandbox/ai-sandbox/internal/redact"
	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

const configToolLong = `Show what ai-sandbox does with one agent: its config on your machine and
whether it is shared with its sandboxes (off, read-only or read-write), its
sandbox home for the current project, its login shared by every project, the
API keys it gets (names only, and whether each is set), its ports and its
database.

--show also prints its config files — on your machine, in the sandbox home of
this project and in the login store — with every value that looks like a
secret masked (values of keys named like token, key, secret, password, auth,
and values shaped like known credentials). Symbolic links are named, never
followed.`

// maxShown is the largest config file --show prints.
const maxShown = 256 << 10

type toolPath struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"` // folder, file, link, missing
	Shared bool   `json:"shared,omitempty"`
}

type toolKey struct {
	Name  string `json:"name"`
	Set   string `json:"set"` // "env file", "environment", ""
	Extra bool   `json:"extra,omitempty"`
}

type toolShown struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Binary      string     `json:"binary"`
	Sharing     string     `json:"sharing"` // off, ro, rw
	HostConfig  []toolPath `json:"hostConfig"`
	Project     string     `json:"project,omitempty"`
	Home        *toolPath  `json:"home,omitempty"`
	LoginStore  string     `json:"loginStore,omitempty"`
	Logins      []toolPath `json:"logins"`
	Keys        []toolKey  `json:"keys"`
	Ports       []int      `json:"ports"`
	Web         []string   `json:"webCommands,omitempty"`
	DBEnv       string     `json:"dbEnv,omitempty"`
	DBRoot      string     `json:"dbRoot,omitempty"`
	SkillsDir   string     `json:"skillsDir,omitempty"`
	Files       []shown    `json:"files,omitempty"`
}

type shown struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
	Note    string `json:"note,omitempty"`
}

func newCmdConfigTool(deps *Deps) *cobra.Command {
	var show, asJSON bool
	cmd := &cobra.Command{
		Use:   "tool TOOL",
		Short: "One agent's config paths, sandbox home, keys (names only), ports and sharing; --show its files, secrets masked",
		Long:  configToolLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return ui.Usagef("config tool takes one agent's name (see 'ai-sandbox tools')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			t, ok := deps.Tools.Lookup(args[0])
			if !ok {
				return ui.Usagef("%q is not a known agent: %s", args[0], strings.Join(deps.Tools.Names(), ", "))
			}
			ts, err := gatherToolShown(deps, t, show)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(deps.Streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(ts)
			}
			printToolShown(deps.Streams.Out, deps.Home, ts)
			return nil
		},
	}
	cmd.Flags().BoolVar(&show, "show", false, "print the config files too, secrets masked")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func gatherToolShown(deps *Deps, t tools.Tool, show bool) (toolShown, error) {
	p, err := deps.Paths()
	if err != nil {
		return toolShown{}, err
	}
	cfg, err := deps.LoadConfig()
	if err != nil {
		return toolShown{}, err
	}
	env, err := envfile.Load(p.EnvFile())
	if err != nil {
		return toolShown{}, err
	}
	ts := toolShown{Name: t.Name, Description: t.Description, Binary: t.Binary, Sharing: cfg.Tools.HostConfig[t.Name],
		Ports: t.Ports, SkillsDir: t.SkillsDir, HostConfig: []toolPath{}, Logins: []toolPath{}, Keys: []toolKey{}}
	if ts.Sharing == "" {
		ts.Sharing = "off"
	}
	if ts.Ports == nil {
		ts.Ports = []int{}
	}
	if t.Web != nil {
		ts.Web = t.Web.Commands
	}
	if t.DB != nil {
		ts.DBEnv, ts.DBRoot = t.DB.Env, p.DBRoot(t.Name)
	}
	home := hostfs.New(deps.Home)
	for _, rel := range t.HostConfig {
		tp := toolPath{Path: filepath.Join(deps.Home, rel), Kind: kindOf(home, rel), Shared: ts.Sharing != "off"}
		tp.Shared = tp.Shared && tp.Kind != "missing"
		ts.HostConfig = append(ts.HostConfig, tp)
		if show {
			ts.Files = append(ts.Files, showFiles(home, rel)...)
		}
	}
	// The sandbox home of the current project, when there is one.
	if proj, err := currentProject(deps); err == nil && proj.Workspace != "" {
		ts.Project = proj.Dir
		dir := p.ProjectHome(proj.Key, t.Name)
		rel, _ := filepath.Rel(p.Root, dir)
		ts.Home = &toolPath{Path: dir, Kind: kindOf(hostfs.New(p.Root), rel)}
		if show && ts.Home.Kind == "folder" {
			hr := hostfs.New(dir)
			for _, r := range t.HostConfig {
				ts.Files = append(ts.Files, showFiles(hr, r)...)
			}
		}
	}
	store := p.LoginStore(t.Name)
	if len(t.LoginFiles) > 0 {
		ts.LoginStore = store
		sr := hostfs.New(store)
		for _, rel := range t.LoginFiles {
			ts.Logins = append(ts.Logins, toolPath{Path: filepath.Join(store, rel), Kind: kindOf(sr, rel)})
			if show {
				ts.Files = append(ts.Files, showFiles(sr, rel)...)
			}
		}
	}
	extra := cfg.Tools.Env[t.Name]
	for _, k := range dedupe(append(append([]string{}, t.EnvKeys...), extra...)) {
		tk := toolKey{Name: k, Extra: !contains(t.EnvKeys, k)}
		if _, ok := env.Lookup(k); ok {
			tk.Set = "env file"
		} else if deps.Getenv(k) != "" {
			tk.Set = "environment"
		}
		ts.Keys = append(ts.Keys, tk)
	}
	return ts, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// kindOf says what rel is below r, without following links.
func kindOf(r hostfs.Root, rel string) string {
	fi, err := r.Lstat(rel)
	switch {
	case errors.Is(err, hostfs.ErrSymlink):
		return "link"
	case err != nil:
		return "missing"
	case fi.Mode()&fs.ModeSymlink != 0:
		return "link"
	case fi.IsDir():
		return "folder"
	}
	return "file"
}

// configName are the files of a config folder --show prints.
func configName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".jsonc", ".yaml", ".yml", ".toml", ".env", ".ini", ".conf":
		return true
	}
	return name == "config" || name == "settings" || name == ".env"
}

// showFiles reads rel below r (a file, or a folder's config files at its
// top), masked, never following a link.
func showFiles(r hostfs.Root, rel string) []shown {
	path := r.Join(rel)
	switch kindOf(r, rel) {
	case "missing":
		return nil
	case "link":
		return []shown{{Path: path, Note: "a symbolic link: not followed"}}
	case "file":
		return []shown{readShown(r, rel)}
	}
	entries, err := r.ReadDir(rel)
	if err != nil {
		return []shown{{Path: path, Note: err.Error()}}
	}
	var out []shown
	for _, e := range entries {
		if !configName(e.Name()) {
			continue
		}
		sub := filepath.Join(rel, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			out = append(out, shown{Path: r.Join(sub), Note: "a symbolic link: not followed"})
		case e.Type().IsRegular():
			out = append(out, readShown(r, sub))
		}
	}
	return out
}

func readShown(r hostfs.Root, rel string) shown {
	s := shown{Path: r.Join(rel)}
	data, err := r.ReadFile(rel, maxShown)
	switch {
	case err != nil:
		s.Note = err.Error()
	case !utf8Text(data):
		s.Note = "not text: not shown"
	default:
		s.Content = string(redact.Redact(data))
	}
	return s
}

func utf8Text(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return false
		}
	}
	return true
}

func printToolShown(w io.Writer, home string, ts toolShown) {
	tilde := func(p string) string { return shellrc.Tilde(p, home) }
	fmt.Fprintf(w, "%s — %s (runs %s)\n", ts.Name, ts.Description, ts.Binary)
	sharing := map[string]string{
		"off": "off (its sandboxes do not see it)",
		"ro":  "read-only (its sandboxes can read every credential in it)",
		"rw":  "read-write (its sandboxes can also plant hooks or plugins that run when you use " + ts.Name + " outside the sandbox)",
	}[ts.Sharing]
	if sharing == "" {
		sharing = ts.Sharing + " (not off, ro or rw: a launch refuses it)"
	}
	fmt.Fprintf(w, "\nconfig on your machine — sharing with its sandboxes: %s\n", sharing)
	fmt.Fprintf(w, "  (config.json tools.hostConfig.%s; 'ai-sandbox setup --share-host-config %s=off|ro|rw' changes it)\n", ts.Name, ts.Name)
	if len(ts.HostConfig) == 0 {
		fmt.Fprintln(w, "  (none known)")
	}
	for _, p := range ts.HostConfig {
		fmt.Fprintf(w, "  %-40s %s\n", tilde(p.Path), p.Kind)
	}
	if ts.Home != nil {
		fmt.Fprintf(w, "\nsandbox home for %s (at /home/agent):\n  %-40s %s\n", ts.Project, tilde(ts.Home.Path), ts.Home.Kind)
	} else {
		fmt.Fprintln(w, "\nsandbox home: one per project (this folder is not in a whitelisted workspace)")
	}
	if ts.LoginStore != "" {
		fmt.Fprintf(w, "\nlogin, shared by its homes in every project (%s):\n", tilde(ts.LoginStore))
		for _, p := range ts.Logins {
			rel, _ := filepath.Rel(ts.LoginStore, p.Path)
			fmt.Fprintf(w, "  %-40s %s\n", rel, p.Kind)
		}
	}
	fmt.Fprintln(w, "\nkeys it gets (names only; from ~/.ai-sandbox/env, else your environment):")
	if len(ts.Keys) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, k := range ts.Keys {
		set := "not set"
		if k.Set != "" {
			set = "set in the " + k.Set
		}
		if k.Extra {
			set += " (added in config.json tools.env)"
		}
		fmt.Fprintf(w, "  %-30s %s\n", k.Name, set)
	}
	ports := "none"
	if len(ts.Ports) > 0 {
		var ps []string
		for _, p := range ts.Ports {
			ps = append(ps, strconv.Itoa(p))
		}
		ports = strings.Join(ps, ", ") + " (published only when asked: --expose)"
	}
	if len(ts.Web) > 0 {
		ports += "; " + ts.Name + " " + strings.Join(ts.Web, " and ") + " publish their --port"
	}
	fmt.Fprintf(w, "\nports: %s\n", ports)
	if ts.DBEnv != "" {
		fmt.Fprintf(w, "database: per project, in %s/<project> (%s)\n", tilde(ts.DBRoot), ts.DBEnv)
	}
	if ts.SkillsDir != "" {
		fmt.Fprintf(w, "skills: ~/%s in its home (the bundled rtk skills are installed there)\n", ts.SkillsDir)
	}
	for _, f := range ts.Files {
		fmt.Fprintf(w, "\n==> %s <==\n", tilde(f.Path))
		if f.Note != "" {
			fmt.Fprintf(w, "(%s)\n", f.Note)
			continue
		}
		fmt.Fprint(w, f.Content)
		if !strings.HasSuffix(f.Content, "\n") {
			fmt.Fprintln(w)
		}
	}
}
