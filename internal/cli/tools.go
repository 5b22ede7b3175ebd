package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/tools"
)

type toolEntry struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Binary      string   `json:"binary"`
	Install     string   `json:"install"`
	Method      string   `json:"method"`
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	VersionArg  string   `json:"versionArg"`
	HostConfig  []string `json:"hostConfig"`
	EnvKeys     []string `json:"envKeys"`
	Ports       []int    `json:"ports"`
	NoSandbox   string   `json:"noSandbox,omitempty"`
	DBEnv       string   `json:"dbEnv,omitempty"`
	// InImage is null when the image could not be inspected.
	InImage      *bool  `json:"inImage"`
	ImageVersion string `json:"imageVersion,omitempty"`
	Note         string `json:"note,omitempty"`
	// Egress is how its runtime reaches the egress proxy, and whether
	// that was verified.
	Egress tools.ProxyUse `json:"egress"`
}

type toolsOutput struct {
	Image        string `json:"image"`
	ImagePresent bool   `json:"imagePresent"`
	// Preset and Addons are what the image's labels say it holds besides
	// the agents; both empty when it has no ai-sandbox labels.
	Preset string      `json:"preset,omitempty"`
	Addons []string    `json:"addons"`
	Tools  []toolEntry `json:"tools"`
}

func installText(t tools.Tool) string {
	in := t.Install
	switch in.Method {
	case tools.NPM:
		return "npm " + in.Package + "@" + in.Version
	case tools.Pipx, tools.UV:
		return "pipx " + in.Package + "==" + in.Version
	case tools.Binary:
		return "release " + in.Version
	}
	return string(in.Method)
}

func NewCmdTools(deps *Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tools",
		Short: "List the known agents and which are in the image",
		Long: `List the agents ai-sandbox knows: how each is installed and pinned, and whether
it is in the current sandbox image (read from the image's labels, which also
give its preset and add-ons, shown below the table and in --json), and
whether its runtime was verified to go through the egress proxy (PROXY; the
JSON says which runtime, what it needs and which test verified it).
Add agents with 'ai-sandbox image build --tools a,b'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s := deps.Streams
			image, err := configuredImage(deps)
			if err != nil {
				return err
			}
			labels, present := imageLabels(ctx, deps, image)
			// Only an image built by ai-sandbox says which agents it holds.
			known := present && labels[imagebuild.LabelImage] == "1"
			inImage := map[string]bool{}
			for _, n := range splitComma(labels[imagebuild.LabelTools]) {
				inImage[n] = true
			}
			out := toolsOutput{Image: image, ImagePresent: present, Addons: []string{}, Tools: []toolEntry{}}
			if known {
				out.Preset = labels[imagebuild.LabelPreset]
				out.Addons = splitComma(labels[imagebuild.LabelAddons])
			}
			for _, t := range deps.Tools.All() {
				e := toolEntry{Name: t.Name, Description: t.Description, Binary: t.Binary, Install: installText(t),
					Method: string(t.Install.Method), Package: t.Install.Package, Version: t.Install.Version,
					VersionArg: t.Install.VersionArg, HostConfig: nonNil(t.HostConfig), EnvKeys: nonNil(t.EnvKeys),
					Ports: t.Ports, NoSandbox: t.NoSandbox, Note: t.Note, Egress: t.Proxy()}
				if e.Ports == nil {
					e.Ports = []int{}
				}
				if t.DB != nil {
					e.DBEnv = t.DB.Env
				}
				if known {
					in := inImage[t.Name]
					e.InImage = &in
					if in {
						e.ImageVersion = labels[imagebuild.LabelVersionPrefix+t.Name]
					}
				}
				out.Tools = append(out.Tools, e)
			}
			if asJSON {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AGENT\tIN IMAGE\tCOMMAND\tINSTALL\tPROXY\tDESCRIPTION")
			for _, e := range out.Tools {
				mark := "?"
				if e.InImage != nil {
					mark = "no"
					if *e.InImage {
						mark = "yes"
						if e.ImageVersion != "" && e.ImageVersion != e.Version {
							mark = "yes (" + e.ImageVersion + ")"
						}
					}
				}
				proxy := "not verified"
				if e.Egress.Verified != "" {
					proxy = "verified"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, mark, e.Binary, e.Install, proxy, e.Description)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if known {
				fmt.Fprintf(s.Out, "\nimage %s: preset %s, add-ons: %s\n", image, orNone(out.Preset), orNone(strings.Join(out.Addons, ", ")))
			}
			switch {
			case !present:
				s.Warnf("image %s not found, so it is not known which agents it holds", image)
				s.Hintf("build it with 'ai-sandbox image build --tools %s' or pull one with 'ai-sandbox image pull'",
					strings.Join(imagebuild.DefaultTools(), ","))
			case labels[imagebuild.LabelImage] != "1":
				s.Warnf("image %s has no ai-sandbox labels, so it is not known which agents it holds", image)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
