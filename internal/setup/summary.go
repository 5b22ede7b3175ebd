package setup

import (
	"fmt"
	"slices"

	"github.com/ai-sandbox/ai-sandbox/internal/shellrc"
)

// ---- 7. summary -----------------------------------------------------------

// summaryLine is one line of the summary: what (a step), and what was
// done about it.
type summaryLine struct{ what, text string }

// printSummary prints what was written where (data, on stdout), then the
// hints to load the aliases, the user's own shell first.
func (s *wizard) printSummary() {
	st := s.deps.Streams
	out := st.Out
	fmt.Fprintln(out, "ai-sandbox setup:")
	width := 0
	for _, l := range s.summary {
		if len(l.what) > width {
			width = len(l.what)
		}
	}
	for _, l := range s.summary {
		fmt.Fprintf(out, "  %-*s  %s\n", width+1, l.what+":", l.text)
	}
	var written []shellrc.Shell
	if own, ok := shellrc.Parse(s.deps.Getenv("SHELL")); ok && slices.Contains(s.rcChanged, own) {
		written = append(written, own)
	}
	for _, sh := range s.rcChanged {
		if !slices.Contains(written, sh) {
			written = append(written, sh)
		}
	}
	for _, sh := range written {
		rc := shellrc.RCFile(sh, s.deps.Home, s.deps.Getenv)
		st.Hintf("to use the aliases in this %s, run: %s", sh, shellrc.SourceHint(rc, s.deps.Home))
	}
	if len(s.toolNames) > 0 && len(written) > 0 {
		t, _ := s.deps.Tools.Lookup(s.toolNames[0])
		st.Hintf("then, in a whitelisted project: %s", t.Name)
	}
}
