package bench

import (
	"encoding/json"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These test the harness's arithmetic and rendering only. No test here (or
// anywhere) times anything: the benchmark reports, it never asserts a time.

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{1, 1, 100}, 1},
	} {
		in := append([]float64(nil), tc.in...)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("Median changed its input: %v", in)
			}
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestRatios(t *testing.T) {
	if got := Ratio(3, 2); got != 1.5 {
		t.Errorf("Ratio(3, 2) = %v", got)
	}
	if !math.IsNaN(Ratio(1, 0)) {
		t.Error("Ratio(1, 0) is not NaN")
	}
	// Pairs: 2, 1.1, 1.2 → median 1.2; an outlier pair moves it little.
	a := []float64{200, 110, 120, 999}
	b := []float64{100, 100, 100}
	if got := PairedRatio(a, b); got != 1.2 {
		t.Errorf("PairedRatio = %v, want 1.2", got)
	}
	if got := Max([]float64{1, 3, 2}); got != 3 {
		t.Errorf("Max = %v", got)
	}
}

func TestRusage(t *testing.T) {
	ru := &syscall.Rusage{
		Utime:  syscall.Timeval{Sec: 1, Usec: 250000},
		Stime:  syscall.Timeval{Sec: 0, Usec: 5000},
		Maxrss: 2048,
	}
	if got, want := CPU(ru), 1255*time.Millisecond; got != want {
		t.Errorf("CPU = %v, want %v", got, want)
	}
	if got := MaxRSSBytes(ru); got != 2048*1024 {
		t.Errorf("MaxRSSBytes = %d", got)
	}
	if CPU(nil) != 0 || MaxRSSBytes(nil) != 0 {
		t.Error("nil rusage is not zero")
	}
}

func TestShimLogAndWrapperCPU(t *testing.T) {
	log := `{"pid":11,"ppid":10,"self_us":1500,"children_us":20000,"exit":1,"argv":["exec","-i","ai-shell-x","true"]}

{"pid":12,"ppid":10,"self_us":1000,"children_us":30000,"exit":0,"argv":["--context","x","run","--detach","img"]}
{"pid":13,"ppid":10,"self_us":500,"children_us":9000,"exit":0,"argv":["container","inspect","ai-shell-x"]}
`
	calls, err := ParseShimLog([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 {
		t.Fatalf("got %d calls, want 3", len(calls))
	}
	subs := []string{calls[0].Subcommand(), calls[1].Subcommand(), calls[2].Subcommand()}
	if strings.Join(subs, ",") != "exec,run,container inspect" {
		t.Errorf("subcommands = %q", subs)
	}
	// Total seen by wait4: wrapper 6 ms + the three shim trees (62 ms).
	total := 68 * time.Millisecond
	if got := WrapperCPU(total, calls); got != 6*time.Millisecond {
		t.Errorf("WrapperCPU = %v, want 6ms", got)
	}
	if got := DockerCPU(calls); got != 59*time.Millisecond {
		t.Errorf("DockerCPU = %v, want 59ms", got)
	}
	if got := WrapperCPU(time.Millisecond, calls); got != 0 {
		t.Errorf("WrapperCPU below zero: %v", got)
	}
	if _, err := ParseShimLog([]byte("{not json\n")); err == nil {
		t.Error("a broken line was accepted")
	}
}

func TestNewRowJudges(t *testing.T) {
	r := NewRow("cold", "Cold launch", "ai-sandbox run true", "`docker run`", "ms",
		[]float64{130, 140, 120}, []float64{100, 100, 100}, Target{On: "ratio", Op: "<=", Limit: 1.35})
	if r.Value != 130 || r.BaselineValue != 100 || r.Ratio != 1.3 || !r.Met {
		t.Errorf("row = %+v", r)
	}
	r = NewRow("warm", "Warm launch", "", "", "ms",
		[]float64{130}, []float64{100}, Target{On: "ratio", Op: "<=", Limit: 1.2})
	if r.Met {
		t.Error("1.3× met ≤ 1.2×")
	}
	calls := NewRow("calls", "calls", "", "", "calls", []float64{1, 1, 3}, nil, Target{On: "value", Op: "<=", Limit: 2})
	if calls.Value != 3 || calls.Met {
		t.Errorf("calls row takes the largest and misses: %+v", calls)
	}
	cpu := NewRow("cpu", "cpu", "", "", "ms", []float64{15}, nil, Target{On: "value", Op: "<", Limit: 15})
	if cpu.Met {
		t.Error("15 met < 15")
	}
	fast := NewRow("tp", "throughput", "", "", "MB/s", []float64{60, 50}, []float64{100, 100}, Target{On: "ratio", Op: ">=", Limit: 0.5})
	slow := NewRow("tp", "throughput", "", "", "MB/s", []float64{40, 45}, []float64{100, 100}, Target{On: "ratio", Op: ">=", Limit: 0.5})
	if !fast.Met || slow.Met {
		t.Errorf("≥ 0.5×: %.2f met %v, %.2f met %v", fast.Ratio, fast.Met, slow.Ratio, slow.Met)
	}
	empty := NewRow("x", "x", "", "", "ms", nil, nil, Target{On: "value", Op: "<", Limit: 15})
	if empty.Met {
		t.Error("no samples met a target")
	}
	if _, err := json.Marshal(empty); err != nil {
		t.Errorf("a row without samples does not marshal: %v", err)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cpu); err != nil || !strings.Contains(buf.String(), `"op":"<"`) {
		t.Errorf("the target is escaped: %s %v", buf.String(), err)
	}
}

func TestTargetString(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		unit string
		want string
	}{
		{Target{On: "ratio", Op: "<=", Limit: 1.35}, "ms", "≤ 1.35×"},
		{Target{On: "ratio", Op: "<=", Limit: 1.2}, "ms", "≤ 1.2×"},
		{Target{On: "value", Op: "<", Limit: 15}, "ms", "< 15 ms"},
		{Target{On: "value", Op: "<=", Limit: 3}, "calls", "≤ 3"},
		{Target{On: "value", Op: "<", Limit: 30}, "MB", "< 30 MB"},
		{Target{On: "ratio", Op: ">=", Limit: 0.5}, "MB/s", "≥ 0.5×"},
	} {
		if got := tc.t.String(tc.unit); got != tc.want {
			t.Errorf("%+v.String(%q) = %q, want %q", tc.t, tc.unit, got, tc.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	rep := Report{
		Date: "2026-01-02T03:04:05Z",
		Runs: 10,
		Host: map[string]string{"go": "go1.26", "cores": "2"},
		Rows: []Row{
			NewRow("cold-launch", "Cold launch", "ai-sandbox run true", "`docker run --rm --init img true`", "ms",
				[]float64{250, 260}, []float64{200, 200}, Target{On: "ratio", Op: "<=", Limit: 1.35}),
			NewRow("docker-calls-warm", "docker calls, warm", "ai-sandbox run true", "(bare)", "calls",
				[]float64{1, 1}, []float64{1, 1}, Target{On: "value", Op: "<=", Limit: 2}),
			NewRow("version-wall", "Wall | time", "ai-sandbox version", "", "ms",
				[]float64{2.5}, nil, Target{On: "value", Op: "<", Limit: 10}),
		},
	}
	md := rep.Markdown()
	for _, want := range []string{
		"- cores: 2\n- go: go1.26\n",
		"| Cold launch: `ai-sandbox run true` | 255.0 ms | 200.0 ms `docker run --rm --init img true` | 1.27× | ≤ 1.35× | ✓ |",
		"| docker calls, warm: `ai-sandbox run true` | 1 | 1 (bare) | — | ≤ 2 | ✓ |",
		"| Wall \\| time: `ai-sandbox version` | 2.50 ms | — | — | < 10 ms | ✓ |",
		"## Image sizes\n\nnot built\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	rep.Rows[0] = NewRow("cold-launch", "Cold launch", "ai-sandbox run true", "", "ms",
		[]float64{300}, []float64{200}, Target{On: "ratio", Op: "<=", Limit: 1.35})
	rep.Images = []Image{{Ref: "ai-sandbox:latest", Preset: "base", Tools: "opencode", Bytes: 812_345_678}}
	md = rep.Markdown()
	if !strings.Contains(md, "| 1.50× | ≤ 1.35× | ✗ |") {
		t.Errorf("a missed target is not marked ✗:\n%s", md)
	}
	if !strings.Contains(md, "| `ai-sandbox:latest` | base | opencode | 812.3 MB |") {
		t.Errorf("image row missing:\n%s", md)
	}
	rep.ImageScript = "base 812 MB\n"
	if md = rep.Markdown(); !strings.Contains(md, "```\nbase 812 MB\n```") {
		t.Errorf("image script output missing:\n%s", md)
	}
	rep.ImageScript = "| preset | size |\n| --- | --- |\n| base | 812 MB |\n"
	if md = rep.Markdown(); !strings.Contains(md, "sh`:\n\n| preset | size |\n") {
		t.Errorf("a markdown table from the image script is fenced:\n%s", md)
	}
}

func TestHumanBytes(t *testing.T) {
	for in, want := range map[int64]string{999: "999 B", 1000: "1.0 kB", 126_000_000: "126.0 MB", 2_300_000_000: "2.3 GB"} {
		if got := HumanBytes(in); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestSandboxImage(t *testing.T) {
	im, ok := SandboxImage([]string{"ai-sandbox:latest", "ai-sandbox:base"}, map[string]string{
		"ai-sandbox.preset": "base", "ai-sandbox.tools": "opencode,claude", "ai-sandbox.version.opencode": "1"}, 42)
	if !ok || im.Ref != "ai-sandbox:latest" || im.Preset != "base" || im.Tools != "opencode,claude" || im.Bytes != 42 {
		t.Errorf("got %+v %v", im, ok)
	}
	if im, ok := SandboxImage([]string{"mine:1"}, map[string]string{"ai-sandbox.preset": "full"}, 1); !ok || im.Ref != "mine:1" || im.Preset != "full" {
		t.Errorf("labelled image: %+v %v", im, ok)
	}
	if _, ok := SandboxImage(nil, map[string]string{"ai-sandbox.image": "1"}, 1); !ok {
		t.Error("an untagged labelled image is left out")
	}
	if _, ok := SandboxImage([]string{"ai-sandbox-test-base:bookworm"}, nil, 1); ok {
		t.Error("the test base image counted as a sandbox image")
	}
}
