package cli

import (
	"errors"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ai-sandbox/ai-sandbox/internal/tools"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// pickNetwork is the value of a --network given without a name: on a
// terminal, the launch offers the networks to pick from.
const pickNetwork = "?"

// valueFlags are the wrapper flags after the tool that take a value.
var valueFlags = []string{"expose", "network", "password", "password-env"}

// parseRunArgs reads run's arguments: the wrapper's flags before the tool,
// then, after a known agent's name, the wrapper's long flags that the
// agent has no flag of that name for (tools.Tool.TakesFlag). The rest is
// the tool's, untouched.
func parseRunArgs(fs *pflag.FlagSet, o *runOptions, table *tools.Table, args []string) error {
	args = markNetworkPick(args, table, fs)
	if err := fs.Parse(args); err != nil {
		return &ui.UsageError{Err: err}
	}
	if err := noSharedCaches(fs, o); err != nil {
		return err
	}
	o.toolArgs = fs.Args()
	if len(o.toolArgs) == 0 {
		return nil
	}
	t, ok := table.Lookup(o.toolArgs[0])
	if !ok {
		return nil
	}
	taken, rest, shadowed := takeAfterTool(t, markNetworkPick(o.toolArgs[1:], table, nil))
	if len(taken) > 0 {
		if err := fs.Parse(taken); err != nil {
			return &ui.UsageError{Err: err}
		}
	}
	o.toolArgs = append([]string{o.toolArgs[0]}, rest...)
	o.moved, o.shadowed = taken, shadowed
	return nil
}

// takeAfterTool splits the arguments after an agent's name: the
// wrapper's long flags that are free for the agent (with their values),
// the agent's own arguments, and those of the agent's that look like the
// wrapper's (for a hint if the agent fails on them). "--" ends the
// search: what follows is the agent's.
func takeAfterTool(t tools.Tool, args []string) (taken, rest, shadowed []string) {
	sub := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return taken, append(rest, args[i:]...), shadowed
		}
		if !strings.HasPrefix(a, "-") {
			if sub == "" {
				sub = a
			}
			rest = append(rest, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if strings.HasPrefix(a, "--") && slices.Contains(tools.WrapperFlags(), name) && t.TakesFlag(sub, name) {
			taken = append(taken, a)
			if slices.Contains(valueFlags, name) && !hasValue && i+1 < len(args) {
				taken = append(taken, args[i+1])
				i++
			}
			continue
		}
		if looksLikeWrapperFlag(a) {
			shadowed = append(shadowed, a)
		}
		rest = append(rest, a)
	}
	return taken, rest, shadowed
}

// looksLikeWrapperFlag reports an argument that is one of the wrapper's
// flags by name (so the agent got it: the user may have meant ours).
func looksLikeWrapperFlag(a string) bool {
	name, _, _ := strings.Cut(a, "=")
	switch name {
	case "-e", "-n", "-s", "-q", "--print", "--mount", "--image", "--idle-timeout", "--memory", "--port-bind", "--egress", "--allow":
		return true
	}
	return slices.Contains(tools.WrapperFlags(), strings.TrimPrefix(name, "--"))
}

// markNetworkPick turns a --network (or, before the tool, -n) given
// without a name — last, or followed by another flag or an agent's name —
// into --network=? (pick on a terminal). Before the tool (fs set) it
// stops at the tool, knowing which wrapper flags take a value.
func markNetworkPick(args []string, table *tools.Table, fs *pflag.FlagSet) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--network" || (fs != nil && a == "-n") {
			next := ""
			if i+1 < len(args) {
				next = args[i+1]
			}
			_, isTool := table.Lookup(next)
			if next == "" || strings.HasPrefix(next, "-") || isTool {
				out = append(out, "--network="+pickNetwork)
				continue
			}
		}
		out = append(out, a)
		if fs == nil {
			continue
		}
		if !strings.HasPrefix(a, "-") {
			return append(out, args[i+1:]...) // the tool: the rest is its own
		}
		if takesValue(fs, a) && i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}

// takesValue reports whether a wrapper flag (as written, without "=")
// takes the next argument as its value.
func takesValue(fs *pflag.FlagSet, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	var f *pflag.Flag
	if name, ok := strings.CutPrefix(a, "--"); ok {
		f = fs.Lookup(name)
	} else if len(a) == 2 {
		f = fs.ShorthandLookup(a[1:])
	}
	return f != nil && f.NoOptDefVal == "" && f.Value.Type() != "bool"
}

// noSharedCaches turns --no-shared-caches into --shared-caches=false (a
// flag, so it beats the variable and config.json); both together are a
// usage error.
func noSharedCaches(fs *pflag.FlagSet, o *runOptions) error {
	if !o.noSharedCaches {
		return nil
	}
	if f := fs.Lookup("shared-caches"); f != nil && f.Changed && f.Value.String() == "true" {
		return &ui.UsageError{Err: errors.New("--shared-caches and --no-shared-caches together: pick one")}
	}
	return fs.Set("shared-caches", "false")
}
