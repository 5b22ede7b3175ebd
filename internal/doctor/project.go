package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ---- the current project --------------------------------------------------

// Change is a host-executed file that changed.
type Change struct {
	Path string
	Why  string
}

// ProjectFacts are the current project's git metadata and the
// host-executed files its sandboxes changed.
type ProjectFacts struct {
	Dir       string
	Workspace string // "" when outside every workspace
	HasGit    bool
	// Tampered says what is wrong with its .git ("" = nothing), and
	// TamperHint what to do.
	Tampered, TamperHint string
	// LastSession is the end of the last report ("" time: none yet), and
	// Changes what it lists.
	LastSession time.Time
	Changes     []Change
	// Running says sessions run now; Pending are the files changed since
	// they began.
	Running bool
	Pending []Change
}

// Project checks the current project.
func Project(p ProjectFacts) []Finding {
	const sec = "this project"
	if p.Workspace == "" {
		return []Finding{{Section: sec, Name: p.Dir, Status: Info, Detail: "not inside a whitelisted workspace: no sandbox starts here"}}
	}
	out := []Finding{{Section: sec, Name: "folder", Status: OK, Detail: p.Dir + " (workspace " + p.Workspace + ")"}}
	switch {
	case !p.HasGit:
		out = append(out, Finding{Section: sec, Name: ".git", Status: Info, Detail: "not a git repository"})
	case p.Tampered != "":
		out = append(out, Finding{Section: sec, Name: ".git", Status: Fail, Detail: p.Tampered, Hint: p.TamperHint})
	default:
		out = append(out, Finding{Section: sec, Name: ".git", Status: OK,
			Detail: "not tampered with (no link, no commondir or gitdir elsewhere, the same .git as at the last launch)"})
	}
	name := "host-executed files"
	switch {
	case p.LastSession.IsZero():
		out = append(out, Finding{Section: sec, Name: name, Status: Info, Detail: "no sandbox session has ended here yet"})
	case len(p.Changes) == 0:
		out = append(out, Finding{Section: sec, Name: name, Status: OK,
			Detail: "none changed during the last sessions (ended " + p.LastSession.Local().Format("2006-01-02 15:04") + ")"})
	default:
		out = append(out, Finding{Section: sec, Name: name, Status: Warn,
			Detail: "changed during the last sessions (ended " + p.LastSession.Local().Format("2006-01-02 15:04") + "): " + changeList(p.Changes),
			Hint:   "review them before you run git, make or npm here; 'ai-sandbox report' lists them with what runs each"})
	}
	if p.Running && len(p.Pending) > 0 {
		out = append(out, Finding{Section: sec, Name: name + " (sessions running now)", Status: Warn,
			Detail: "changed since they began: " + changeList(p.Pending),
			Hint:   "the list is final when the last session ends"})
	}
	return out
}

// Need is what the project uses that add-ons provide.
type Need struct {
	Language string // "Go"
	Evidence string // "go.mod"
	Addons   []string
}

// ToolchainFacts are what the project's files say it builds with, and
// what the image run uses holds.
type ToolchainFacts struct {
	// Needs are the project's findings that name add-ons.
	Needs []Need
	// Ignored are its files that were not trusted: "go.mod (a symbolic
	// link, not followed)".
	Ignored []string
	Image   string
	// ImageAddons are the add-ons its labels list, when ImageKnown: it
	// was inspected and is an ai-sandbox image. Else ImageNote says why
	// its add-ons are unknown.
	ImageAddons []string
	ImageKnown  bool
	ImageNote   string
	// Known are the add-ons this ai-sandbox has.
	Known []string
}

// Toolchain checks that the image has the add-ons the project uses.
// Nothing is said of a project that needs none.
func Toolchain(t ToolchainFacts) []Finding {
	const sec, name = "this project", "toolchain"
	var out []Finding
	for _, ig := range t.Ignored {
		out = append(out, Finding{Section: sec, Name: name, Status: Info, Detail: ig + ": ignored"})
	}
	if len(t.Needs) == 0 {
		return out
	}
	var uses []string
	for _, n := range t.Needs {
		uses = append(uses, n.Language+" ("+n.Evidence+")")
	}
	if !t.ImageKnown {
		return append(out, Finding{Section: sec, Name: name, Status: Info,
			Detail: "this project uses " + strings.Join(uses, ", ") + "; the add-ons of image " + t.Image + " are unknown: " + t.ImageNote})
	}
	problems := false
	for _, n := range t.Needs {
		for _, a := range n.Addons {
			switch {
			case !slices.Contains(t.Known, a):
				problems = true
				out = append(out, Finding{Section: sec, Name: name, Status: Info,
					Detail: fmt.Sprintf("this project uses %s (%s), but there is no add-on for %s in this ai-sandbox", n.Language, n.Evidence, a)})
			case !slices.Contains(t.ImageAddons, a):
				problems = true
				out = append(out, Finding{Section: sec, Name: name, Status: Warn,
					Detail: fmt.Sprintf("this project uses %s (%s) but image %s has no %s add-on", n.Language, n.Evidence, t.Image, a),
					Hint:   "ai-sandbox image build --for-project (here) adds the add-ons this project uses to the image's"})
			}
		}
	}
	if !problems {
		out = append(out, Finding{Section: sec, Name: name, Status: OK,
			Detail: "image " + t.Image + " has the add-ons for what this project uses: " + strings.Join(uses, ", ")})
	}
	return out
}

func changeList(cs []Change) string {
	var names []string
	for i, c := range cs {
		if i == 12 {
			names = append(names, fmt.Sprintf("… %d more", len(cs)-12))
			break
		}
		names = append(names, c.Path)
	}
	return strings.Join(names, ", ")
}

// ---- the attack scorecard -------------------------------------------------

// Outcome is how one attack ended.
type Outcome string

const (
	Blocked Outcome = "blocked"
	Hole    Outcome = "hole"
	Skipped Outcome = "skipped"
	Broken  Outcome = "did not finish"
)

// Attempt is one attack of doctor --attack.
type Attempt struct {
	Phase    string   `json:"phase"` // "sandbox" or "two-phase"
	Name     string   `json:"name"`
	What     string   `json:"what"`
	Outcome  Outcome  `json:"outcome"`
	Evidence []string `json:"evidence,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// Scorecard is the result of doctor --attack.
type Scorecard struct {
	Project  string    `json:"project"`
	Sandbox  string    `json:"sandbox"`
	Image    string    `json:"image"`
	Scratch  string    `json:"scratch"`
	Attempts []Attempt `json:"attempts"`
	Notes    []string  `json:"notes,omitempty"`
}

// Holes are the attacks that worked.
func (s Scorecard) Holes() []Attempt {
	var out []Attempt
	for _, a := range s.Attempts {
		if a.Outcome == Hole {
			out = append(out, a)
		}
	}
	return out
}

// Unfinished are the attacks that did not run to the end.
func (s Scorecard) Unfinished() []Attempt {
	var out []Attempt
	for _, a := range s.Attempts {
		if a.Outcome == Broken {
			out = append(out, a)
		}
	}
	return out
}

// WriteJSON writes the scorecard with "ok": no hole, and every attack
// that could run ran to the end.
func (s Scorecard) WriteJSON(w io.Writer) error {
	if s.Attempts == nil {
		s.Attempts = []Attempt{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK    bool `json:"ok"`
		Holes int  `json:"holes"`
		Scorecard
	}{len(s.Holes()) == 0 && len(s.Unfinished()) == 0, len(s.Holes()), s})
}

// WriteText writes the scorecard, one line per attack.
func (s Scorecard) WriteText(w io.Writer, icons bool) {
	fmt.Fprintf(w, "attacks from inside a fresh sandbox of %s (%s, image %s)\n", s.Project, s.Sandbox, s.Image)
	phase := ""
	for _, a := range s.Attempts {
		if a.Phase != phase {
			phase = a.Phase
			if phase == "two-phase" {
				fmt.Fprintf(w, "\ntwo-phase attacks: plant from inside, relaunch, check the host (in a scratch repository, %s)\n", s.Scratch)
			}
		}
		fmt.Fprintf(w, "  %s %-22s %s\n", outcomeMark(a.Outcome, icons), a.Name, a.What)
		for i, e := range a.Evidence {
			if i == 5 {
				fmt.Fprintf(w, "      … %d more\n", len(a.Evidence)-5)
				break
			}
			fmt.Fprintf(w, "      %s\n", e)
		}
		if a.Outcome == Skipped || a.Outcome == Broken {
			fmt.Fprintf(w, "      %s\n", a.Detail)
		}
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	n := map[Outcome]int{}
	for _, a := range s.Attempts {
		n[a.Outcome]++
	}
	fmt.Fprintf(w, "\n%d attacks: %d blocked, %d succeeded", len(s.Attempts), n[Blocked], n[Hole])
	if n[Skipped] > 0 {
		fmt.Fprintf(w, ", %d skipped", n[Skipped])
	}
	if n[Broken] > 0 {
		fmt.Fprintf(w, ", %d did not run to the end", n[Broken])
	}
	fmt.Fprintln(w)
}

func outcomeMark(o Outcome, icons bool) string {
	switch o {
	case Blocked:
		if icons {
			return "✓ blocked"
		}
		return "blocked  "
	case Hole:
		if icons {
			return "✗ HOLE   "
		}
		return "HOLE     "
	case Skipped:
		return "- skipped"
	}
	return "? broken "
}
