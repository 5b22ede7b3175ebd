package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/envfile"
)

func NewCmdConfig(deps *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the configuration, where it lives, and one agent's (config tool)",
	}
	cmd.AddCommand(newCmdConfigShow(deps), newCmdConfigPath(deps), newCmdConfigTool(deps))
	return cmd
}

func newCmdConfigPath(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the paths of the state folder and its files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := deps.Paths()
			if err != nil {
				return err
			}
			out := deps.Streams.Out
			fmt.Fprintf(out, "root\t%s\n", p.Root)
			fmt.Fprintf(out, "config\t%s\n", p.ConfigFile())
			fmt.Fprintf(out, "env\t%s\n", p.EnvFile())
			fmt.Fprintf(out, "workspaces (legacy)\t%s\n", p.LegacyWorkspaces())
			fmt.Fprintf(out, "tools\t%s\n", p.ToolsDir())
			fmt.Fprintf(out, "opencode-dbs\t%s\n", p.OpencodeDBs())
			fmt.Fprintf(out, "cache\t%s\n", p.Cache())
			fmt.Fprintf(out, "logs\t%s\n", p.Logs())
			return nil
		},
	}
}

type shownSetting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
	Env    string `json:"env"`
}

type shownConfig struct {
	ConfigFile string                  `json:"configFile"`
	EnvFile    string                  `json:"envFile"`
	Version    int                     `json:"version"`
	Settings   map[string]shownSetting `json:"settings"`
	Workspaces []string                `json:"workspaces"`
	Git        map[string][]string     `json:"git"`
	Networks   config.Networks         `json:"networks"`
	Tools      config.Tools            `json:"tools"`
	MCP        config.MCP              `json:"mcp"`
	Image      config.Image            `json:"image"`
	// Registry is the effective image.registry, with its source.
	Registry shownSetting `json:"registry"`
	EnvKeys  []string     `json:"envKeys"`
}

func newCmdConfigShow(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show every setting, the workspaces, git modes, networks and env-file key names",
		Long: `Show the effective configuration. Each setting says where its value came from
(flag, env, file or default). The env file's key names are listed; its values
never are.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return showConfig(deps, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// showConfig prints the effective configuration (config show).
func showConfig(deps *Deps, asJSON bool) error {
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	c, err := deps.LoadConfig()
	if err != nil {
		return err
	}
	r, err := config.Resolve(c.Settings, deps.Getenv, nil)
	if err != nil {
		return err
	}
	env, err := envfile.Load(p.EnvFile())
	if err != nil {
		return err
	}
	sc := shownConfig{
		ConfigFile: p.ConfigFile(), EnvFile: p.EnvFile(), Version: c.Version,
		Settings:   map[string]shownSetting{},
		Workspaces: c.Workspaces,
		Git:        map[string][]string{"full": c.Git.AllowedWorkspaces, "fetchOnly": c.Git.FetchOnlyWorkspaces},
		Networks:   c.Networks, Tools: c.Tools, MCP: c.MCP, Image: c.Image,
		EnvKeys: env.Keys(),
	}
	if sc.EnvKeys == nil {
		sc.EnvKeys = []string{}
	}
	repo, source, err := registryEnv(deps).RegistrySource("")
	if err != nil {
		return err
	}
	sc.Registry = shownSetting{Value: repo, Source: source, Env: "AI_SANDBOX_REGISTRY"}
	values := map[string]string{
		"image": r.Image, "idle-timeout": r.IdleTimeout.String(),
		"pids-limit": fmt.Sprint(r.PidsLimit), "memory": orNone(r.Memory),
		"cpus": orNone(r.CPUs), "port-bind": r.PortBind,
		"tmp-size": r.TmpSize, "cpu-shares": fmt.Sprint(r.CPUShares), "seccomp": r.Seccomp,
		"egress": string(r.Egress), "shared-caches": strconv.FormatBool(r.SharedCaches),
	}
	for _, k := range config.SettingKeys() {
		sc.Settings[k] = shownSetting{Value: values[k], Source: r.Source[k], Env: config.SettingEnv(k)}
	}
	if asJSON {
		enc := json.NewEncoder(deps.Streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(sc)
	}
	printConfig(deps.Streams.Out, sc)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func printConfig(w io.Writer, sc shownConfig) {
	fmt.Fprintf(w, "config file: %s\n", sc.ConfigFile)
	fmt.Fprintf(w, "env file:    %s\n", sc.EnvFile)
	fmt.Fprintln(w, "\nsettings:")
	for _, k := range config.SettingKeys() {
		s := sc.Settings[k]
		fmt.Fprintf(w, "  %-13s %-20s (%s; %s)\n", k, s.Value, s.Source, s.Env)
	}
	list := func(title string, items []string) {
		fmt.Fprintf(w, "\n%s:\n", title)
		if len(items) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for _, it := range items {
			fmt.Fprintf(w, "  %s\n", it)
		}
	}
	list("workspaces", sc.Workspaces)
	list("git full access", sc.Git["full"])
	list("git fetch-only", sc.Git["fetchOnly"])
	list("networks (global)", sc.Networks.Global)
	var nw []string
	for _, k := range slices.Sorted(maps.Keys(sc.Networks.Workspaces)) {
		nw = append(nw, k+": "+strings.Join(sc.Networks.Workspaces[k], ", "))
	}
	list("networks (per workspace)", nw)
	list("tools installed", sc.Tools.Installed)
	var extra []string
	for _, k := range slices.Sorted(maps.Keys(sc.Tools.Env)) {
		extra = append(extra, k+": "+strings.Join(sc.Tools.Env[k], ", "))
	}
	list("extra env keys per tool", extra)
	var hc []string
	for _, k := range slices.Sorted(maps.Keys(sc.Tools.HostConfig)) {
		hc = append(hc, k+": "+sc.Tools.HostConfig[k])
	}
	list("host config sharing", hc)
	img := []string{
		"registry: " + sc.Registry.Value + " (" + sc.Registry.Source + "; " + sc.Registry.Env + ")",
		"preset: " + orNone(sc.Image.Preset),
		"agents: " + orNone(strings.Join(sc.Image.Tools, ", ")),
		"add-ons: " + orNone(strings.Join(sc.Image.Addons, ", ")),
		"base image: " + orDefault(sc.Image.BaseImage),
		"CA certificates: " + orNone(strings.Join(sc.Image.CACerts, ", ")),
	}
	for _, k := range slices.Sorted(maps.Keys(sc.Image.BuildArgs)) {
		img = append(img, "build argument: "+k+"="+sc.Image.BuildArgs[k])
	}
	list("image (recorded by image build and setup)", img)
	list("env file keys (values hidden)", sc.EnvKeys)
}

func orDefault(s string) string {
	if s == "" {
		return "the default"
	}
	return s
}
