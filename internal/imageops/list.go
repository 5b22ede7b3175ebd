package imageops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/docker"
	"github.com/ai-sandbox/ai-sandbox/internal/imagebuild"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// Entry is one local sandbox image.
type Entry struct {
	ID        string            `json:"id"`
	Names     []string          `json:"names"`
	Size      int64             `json:"size"`
	Created   string            `json:"created"`
	Preset    string            `json:"preset"`
	Tools     []string          `json:"tools"`
	Addons    []string          `json:"addons"`
	BaseImage string            `json:"baseImage,omitempty"`
	Versions  map[string]string `json:"versions,omitempty"`
	InUse     bool              `json:"inUse"`
}

const inspectFormat = "{{.Id}}\t{{.Size}}\t{{.Created}}\t{{json .Config.Labels}}"

// List finds the local images labelled as sandbox images, newest first;
// the one named local (the image run uses) is marked in use.
func (e Env) List(ctx context.Context, local string) ([]Entry, error) {
	res, err := e.Runner.Output(ctx, e.docker(docker.ImageListArgs(imagebuild.LabelImage)...))
	if err != nil {
		return nil, ui.WithHint(err, dockerHint)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("docker image ls: %s", strings.TrimSpace(string(res.Stderr)))
	}
	names := map[string][]string{}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[0] == "" {
			continue
		}
		if _, ok := names[f[0]]; !ok {
			ids = append(ids, f[0])
			names[f[0]] = nil
		}
		if f[1] != "<none>" && f[2] != "<none>" {
			names[f[0]] = append(names[f[0]], f[1]+":"+f[2])
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	res, err = e.Runner.Output(ctx, e.docker(docker.ImagesInspectArgs(inspectFormat, ids...)...))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("docker image inspect: %s", strings.TrimSpace(string(res.Stderr)))
	}
	var out []Entry
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(f[1], 10, 64)
		var labels map[string]string
		_ = json.Unmarshal([]byte(f[3]), &labels)
		en := Entry{ID: f[0], Names: names[f[0]], Size: size, Created: f[2],
			Preset: labels[imagebuild.LabelPreset], Tools: splitComma(labels[imagebuild.LabelTools]),
			Addons: splitComma(labels[imagebuild.LabelAddons]), BaseImage: labels[imagebuild.LabelBaseImage]}
		if en.Names == nil {
			en.Names = []string{}
		}
		for k, v := range labels {
			if n, ok := strings.CutPrefix(k, imagebuild.LabelVersionPrefix); ok {
				if en.Versions == nil {
					en.Versions = map[string]string{}
				}
				en.Versions[n] = v
			}
		}
		for _, n := range en.Names {
			if n == local || (!strings.Contains(local, ":") && n == local+":latest") {
				en.InUse = true
			}
		}
		out = append(out, en)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, nil
}

// WriteList prints entries as a table (the one in use marked *), or as
// JSON ([] for none).
func WriteList(w io.Writer, entries []Entry, asJSON bool) error {
	if asJSON {
		if entries == nil {
			entries = []Entry{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tSIZE\tCREATED\tPRESET\tAGENTS\tADD-ONS")
	for _, e := range entries {
		name := strings.Join(e.Names, ",")
		if e.InUse {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, humanSize(e.Size), shortDate(e.Created),
			orDash(e.Preset), orDash(strings.Join(e.Tools, ",")), orDash(strings.Join(e.Addons, ",")))
	}
	return tw.Flush()
}

func humanSize(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(b)/1e6)
	default:
		return fmt.Sprintf("%d B", b)
	}
}

func shortDate(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Local().Format("2006-01-02 15:04")
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
