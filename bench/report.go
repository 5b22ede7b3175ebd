// Package bench holds the pure parts of the `make bench` harness: medians,
// paired ratios, CPU time out of rusage, the docker shim's log format and
// the rendering of the results table. The harness itself (processes,
// containers, timing) is in bench/cmd/bench; nothing here starts a process
// or reads a clock, so it is unit-tested without a Docker engine.
//
// No test anywhere asserts a time: the benchmark reports figures, it does
// not fail a build.
package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Median returns the median of xs (the mean of the two middle values for
// an even count), or NaN for no values. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Max returns the largest of xs, or NaN for no values.
func Max(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		if x > m {
			m = x
		}
	}
	return m
}

// Ratio is a/b, or NaN when b is not positive.
func Ratio(a, b float64) float64 {
	if !(b > 0) {
		return math.NaN()
	}
	return a / b
}

// PairedRatio is the median of the per-pair ratios a[i]/b[i]: each
// measurement is compared with the baseline taken right next to it, so a
// machine that drifts (thermal, another job) cancels out. It uses the
// first min(len(a), len(b)) pairs.
func PairedRatio(a, b []float64) float64 {
	n := min(len(a), len(b))
	rs := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		if r := Ratio(a[i], b[i]); !math.IsNaN(r) {
			rs = append(rs, r)
		}
	}
	return Median(rs)
}

// TimevalDuration converts a rusage timeval.
func TimevalDuration(tv syscall.Timeval) time.Duration {
	return time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond
}

// CPU is the user+system CPU time in a rusage.
func CPU(ru *syscall.Rusage) time.Duration {
	if ru == nil {
		return 0
	}
	return TimevalDuration(ru.Utime) + TimevalDuration(ru.Stime)
}

// MaxRSSBytes is ru_maxrss in bytes (Linux reports kibibytes).
func MaxRSSBytes(ru *syscall.Rusage) int64 {
	if ru == nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// ShimRecord is one line of the logging docker shim: one docker CLI call.
type ShimRecord struct {
	PID  int `json:"pid"`
	PPID int `json:"ppid"` // the process that ran "docker": ai-sandbox
	// SelfUS is the shim's own CPU (getrusage SELF, user+sys, µs) and
	// ChildrenUS that of the real docker CLI and anything it waited for
	// (getrusage CHILDREN), both read just before the shim exits. Their
	// sum is what the shim's parent sees of this call in its own wait4.
	SelfUS     int64    `json:"self_us"`
	ChildrenUS int64    `json:"children_us"`
	Exit       int      `json:"exit"`
	Argv       []string `json:"argv"` // without argv[0]
}

// Tree is the CPU of the whole shim process tree.
func (r ShimRecord) Tree() time.Duration {
	return time.Duration(r.SelfUS+r.ChildrenUS) * time.Microsecond
}

// Docker is the CPU of the real docker CLI (and its own children).
func (r ShimRecord) Docker() time.Duration {
	return time.Duration(r.ChildrenUS) * time.Microsecond
}

// Subcommand is the docker subcommand (run, exec, container inspect, …),
// skipping global flags.
func (r ShimRecord) Subcommand() string {
	var words []string
	for i := 0; i < len(r.Argv); i++ {
		a := r.Argv[i]
		if strings.HasPrefix(a, "-") {
			if len(words) > 0 {
				break
			}
			// A global flag with a separate value (docker --context x …).
			switch a {
			case "--context", "-c", "--host", "-H", "--config", "--log-level", "-l":
				i++
			}
			continue
		}
		words = append(words, a)
		if a != "container" && a != "image" && a != "network" {
			break
		}
	}
	return strings.Join(words, " ")
}

// ParseShimLog reads the shim's JSON-lines log. Blank lines are skipped.
func ParseShimLog(data []byte) ([]ShimRecord, error) {
	var out []ShimRecord
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r ShimRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("shim log line %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// WrapperCPU is the CPU of the wrapper process alone: total is what wait4
// reported for it (itself plus every child it waited for), from which the
// whole tree of each docker call (shim and real docker) is taken away.
// It never goes below zero.
func WrapperCPU(total time.Duration, calls []ShimRecord) time.Duration {
	for _, c := range calls {
		total -= c.Tree()
	}
	return max(total, 0)
}

// DockerCPU sums the real docker CLI's CPU over calls.
func DockerCPU(calls []ShimRecord) time.Duration {
	var d time.Duration
	for _, c := range calls {
		d += c.Docker()
	}
	return d
}

// Target is what a figure must meet.
type Target struct {
	// On is "ratio" (the paired ratio) or "value" (the median, or for
	// counts the largest value seen).
	On    string  `json:"on"`
	Op    string  `json:"op"` // "<=", "<" or ">=" (higher is better)
	Limit float64 `json:"limit"`
}

// String renders the target as in the issue: "≤ 1.35×", "< 15 ms"; a
// figure without one (On "") is reported only: "—".
func (t Target) String(unit string) string {
	if t.On == "" {
		return "—"
	}
	op := "≤"
	switch t.Op {
	case "<":
		op = "<"
	case ">=":
		op = "≥"
	}
	if t.On == "ratio" {
		return fmt.Sprintf("%s %s×", op, trimFloat(t.Limit))
	}
	return fmt.Sprintf("%s %s%s", op, trimFloat(t.Limit), unitSuffix(unit))
}

// Met reports whether x meets the target; NaN never does.
func (t Target) Met(x float64) bool {
	if math.IsNaN(x) {
		return false
	}
	switch t.Op {
	case "<":
		return x < t.Limit
	case ">=":
		return x >= t.Limit
	}
	return x <= t.Limit
}

// Row is one figure of the table.
type Row struct {
	ID     string `json:"id"`
	Figure string `json:"figure"`
	// Command is what was measured; Baseline what it was paired with.
	Command  string `json:"command"`
	Baseline string `json:"baseline,omitempty"`
	Unit     string `json:"unit"` // "ms", "MB", "calls"
	// Value is the median of Samples (for counts: the largest sample);
	// BaselineValue the same of BaselineSamples.
	Value         float64   `json:"value"`
	BaselineValue float64   `json:"baseline_value,omitempty"`
	Ratio         float64   `json:"ratio,omitempty"` // PairedRatio(Samples, BaselineSamples)
	RatioOfMedian float64   `json:"ratio_of_medians,omitempty"`
	Target        Target    `json:"target"`
	Met           bool      `json:"met"`
	Samples       []float64 `json:"samples"`
	BaselineSamp  []float64 `json:"baseline_samples,omitempty"`
	Note          string    `json:"note,omitempty"`
}

// NewRow builds a row from paired samples (baseline may be empty) and
// judges it. For the unit "calls" Value is the largest sample, so that a
// single launch over the limit shows; otherwise it is the median.
func NewRow(id, figure, command, baseline, unit string, a, b []float64, t Target) Row {
	r := Row{ID: id, Figure: figure, Command: command, Baseline: baseline, Unit: unit,
		Target: t, Samples: a, BaselineSamp: b}
	pick := Median
	if unit == "calls" {
		pick = Max
	}
	r.Value = pick(a)
	if len(b) > 0 {
		r.BaselineValue = pick(b)
		r.Ratio = PairedRatio(a, b)
		r.RatioOfMedian = Ratio(r.Value, r.BaselineValue)
	}
	switch t.On {
	case "":
		r.Met = true // reported only
	case "ratio":
		r.Met = t.Met(r.Ratio)
	default:
		r.Met = t.Met(r.Value)
	}
	return r
}

// MarshalJSON writes NaN (an empty series) as null instead of failing.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	p := plain(r)
	clean := func(x float64) float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0
		}
		return x
	}
	p.Value, p.BaselineValue, p.Ratio, p.RatioOfMedian = clean(p.Value), clean(p.BaselineValue), clean(p.Ratio), clean(p.RatioOfMedian)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // targets such as "<=" stay readable
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Image is one sandbox image and its size.
type Image struct {
	Ref    string `json:"ref"`
	Preset string `json:"preset,omitempty"`
	Tools  string `json:"tools,omitempty"`
	Bytes  int64  `json:"bytes"`
}

// SandboxImage says whether an image is one of the product's: tagged
// ai-sandbox:* or labelled ai-sandbox.*, and reads its preset and tools
// from the labels (ai-sandbox.preset, ai-sandbox.tools).
func SandboxImage(tags []string, labels map[string]string, size int64) (Image, bool) {
	im := Image{Bytes: size}
	for _, t := range tags {
		if strings.HasPrefix(t, "ai-sandbox:") && im.Ref == "" {
			im.Ref = t
		}
	}
	labelled := false
	for k, v := range labels {
		if strings.HasPrefix(k, "ai-sandbox") {
			labelled = true
			switch {
			case strings.HasSuffix(k, "preset"):
				im.Preset = v
			case strings.HasSuffix(k, ".tools"):
				im.Tools = v
			}
		}
	}
	if im.Ref == "" && labelled {
		if len(tags) > 0 {
			im.Ref = tags[0]
		} else {
			im.Ref = "<untagged>"
		}
	}
	return im, im.Ref != ""
}

// Report is everything one `make bench` measured.
type Report struct {
	Date      string            `json:"date"` // RFC 3339
	Runs      int               `json:"runs"` // pairs per figure
	Host      map[string]string `json:"host"`
	Rows      []Row             `json:"rows"`
	Images    []Image           `json:"images"`
	ImageNote string            `json:"image_note,omitempty"`
	// ImageScript is the output of scripts/bench-image-sizes.sh, when it exists.
	ImageScript string   `json:"image_script,omitempty"`
	Notes       []string `json:"notes,omitempty"`
}

// Markdown renders the report as the table of bench/results/latest.md.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ai-sandbox benchmark — %s\n\n", r.Date)
	keys := make([]string, 0, len(r.Host))
	for k := range r.Host {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %s\n", k, r.Host[k])
	}
	fmt.Fprintf(&b, "- runs: %d per figure, A and B alternating; value = median (counts: largest), ratio = median of per-pair ratios\n\n", r.Runs)

	b.WriteString("| figure | ai-sandbox | baseline | ratio | target | |\n")
	b.WriteString("| --- | ---: | ---: | ---: | --- | --- |\n")
	for _, row := range r.Rows {
		base, ratio := "—", "—"
		if len(row.BaselineSamp) > 0 {
			base = formatValue(row.BaselineValue, row.Unit)
			if row.Baseline != "" {
				base += " " + escape(row.Baseline)
			}
			if row.Unit != "calls" {
				ratio = fmt.Sprintf("%.2f×", row.Ratio)
			}
		}
		mark := "✗"
		switch {
		case row.Target.On == "":
			mark = "·"
		case row.Met:
			mark = "✓"
		}
		fig := escape(row.Figure)
		if row.Command != "" {
			fig += ": `" + escape(row.Command) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", fig, formatValue(row.Value, row.Unit), base, ratio, row.Target.String(row.Unit), mark)
	}

	b.WriteString("\n## Image sizes\n\n")
	switch {
	case r.ImageScript != "":
		out := strings.Trim(r.ImageScript, "\n")
		b.WriteString("From `scripts/bench-image-sizes.sh`:\n\n")
		if strings.HasPrefix(strings.TrimSpace(out), "|") {
			b.WriteString(out + "\n") // already a markdown table
		} else {
			b.WriteString("```\n" + out + "\n```\n")
		}
	case len(r.Images) == 0:
		note := r.ImageNote
		if note == "" {
			note = "not built"
		}
		b.WriteString(note + "\n")
	default:
		b.WriteString("| image | preset | tools | size |\n| --- | --- | --- | ---: |\n")
		for _, im := range r.Images {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", im.Ref, orDash(im.Preset), orDash(im.Tools), HumanBytes(im.Bytes))
		}
		if r.ImageNote != "" {
			b.WriteString("\n" + r.ImageNote + "\n")
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

// HumanBytes renders a size in decimal units, as docker does.
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit || u == "TB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return ""
}

func formatValue(x float64, unit string) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	switch unit {
	case "calls":
		return trimFloat(x)
	case "ms":
		if x < 10 {
			return fmt.Sprintf("%.2f ms", x)
		}
		return fmt.Sprintf("%.1f ms", x)
	default:
		return fmt.Sprintf("%.1f%s", x, unitSuffix(unit))
	}
}

func unitSuffix(unit string) string {
	if unit == "" || unit == "calls" {
		return ""
	}
	return " " + unit
}

func trimFloat(x float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
