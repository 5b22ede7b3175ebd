// Package nanobrain is the original's nano-brain auto-repair: a
// nano-brain command (nano-brain, npx nano-brain, or a sh -c script that
// runs one) runs inside the sandbox under a small sh wrapper that streams
// its stderr live (known harmless tree-sitter warnings filtered out unless
// AI_RUN_DEBUG=1) while keeping a copy. When the command fails and that
// copy shows a native-module error, the wrapper repairs nano-brain once —
// it removes only npx's cache entries that hold nano-brain (npx reinstalls
// and rebuilds it) and runs 'npm rebuild' in a global install — and runs
// the command once more. Any other failure is returned as it is, never
// retried.
package nanobrain

import (
	_ "embed"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Flag turns the repair off for one run (given anywhere in run's
// arguments); EnvOff turns it off for every run.
const (
	Flag   = "--no-nano-brain-auto-repair"
	EnvOff = "AI_RUN_DISABLE_NANO_BRAIN_AUTO_REPAIR"
)

// NativeError matches a line of stderr that says a native module of
// nano-brain cannot load: a tree-sitter or better-sqlite3 binding, a
// module built for another Node.js (NODE_MODULE_VERSION), a binary of
// another platform (Exec format error, invalid ELF header). It is an
// extended regular expression that Go and grep -E read alike.
const NativeError = `Could not locate the bindings file|No native build was found|tree-sitter[^ ]*\.node|better[-_]sqlite3[^ ]*\.node|better_sqlite3|NODE_MODULE_VERSION|compiled against a different Node\.js version|Exec format error|invalid ELF header|ERR_DLOPEN_FAILED`

// HarmlessWarning matches the non-fatal tree-sitter symbol-graph warnings
// nano-brain prints on a run that works (a warning, not an error, about
// tree-sitter or the symbol graph): they are filtered out of what is
// shown unless AI_RUN_DEBUG=1 (a failure's diagnosis still reads them).
const HarmlessWarning = `([Ww]arn(ing)?|WARN)[^A-Za-z].*(tree-sitter|[Ss]ymbol[- ]graph)`

var (
	nativeRE   = regexp.MustCompile(NativeError)
	harmlessRE = regexp.MustCompile(HarmlessWarning)
)

// IsNativeError reports whether stderr shows a native-module error.
func IsNativeError(stderr string) bool { return nativeRE.MatchString(stderr) }

// IsHarmless reports whether one line of stderr is a known harmless
// tree-sitter warning.
func IsHarmless(line string) bool { return harmlessRE.MatchString(line) }

//go:embed wrapper.sh
var script string

// Script is the sh wrapper: sh -c Script nano-brain-auto-repair DEBUG CMD...
func Script() string {
	return strings.NewReplacer("@NATIVE@", shQuote(NativeError), "@HARMLESS@", shQuote(HarmlessWarning)).Replace(script)
}

// shellScript finds nano-brain run in a shell command line: the word
// nano-brain (or nano-brain@VERSION) as a command or as npx's package.
var shellScript = regexp.MustCompile(`(^|[\s;&|(])(npx(\s+-{1,2}[a-z]+)*\s+)?nano-brain(@[^\s;&|)]*)?($|[\s;&|)])`)

// Is reports whether cmd runs nano-brain: nano-brain itself, npx with
// nano-brain as its package, or sh/bash -c with a script that runs one.
func Is(cmd []string) bool {
	if len(cmd) == 0 {
		return false
	}
	switch path.Base(cmd[0]) {
	case "nano-brain":
		return true
	case "npx":
		for _, a := range cmd[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			return a == "nano-brain" || strings.HasPrefix(a, "nano-brain@")
		}
	case "sh", "bash", "dash", "zsh":
		for i, a := range cmd[1:] {
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") {
				return i+2 < len(cmd) && shellScript.MatchString(cmd[i+2])
			}
		}
	}
	return false
}

// Strip takes the --no-nano-brain-auto-repair flag out of a command's
// arguments and says whether it was there.
func Strip(cmd []string) ([]string, bool) {
	if !slices.Contains(cmd, Flag) {
		return cmd, false
	}
	return slices.DeleteFunc(slices.Clone(cmd), func(a string) bool { return a == Flag }), true
}

// Wrap runs cmd under the wrapper; debug keeps the harmless warnings.
func Wrap(cmd []string, debug bool) []string {
	d := "0"
	if debug {
		d = "1"
	}
	return append([]string{"/bin/sh", "-c", Script(), "nano-brain-auto-repair", d}, cmd...)
}

func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ScriptEnv carries the wrapper into a shell session, for its functions.
const ScriptEnv = "AI_SANDBOX_NANO_BRAIN_WRAPPER"

// shellFunctions are bash functions (exported through the environment,
// as bash imports BASH_FUNC_name%% variables) that run nano-brain typed
// in a shell session under the wrapper: npx when its package is
// nano-brain, and nano-brain itself. @DEBUG@ is 0 or 1.
var shellFunctions = map[string]string{
	"npx":        `() { local a; for a in "$@"; do case "$a" in -*) continue ;; nano-brain|nano-brain@*) command sh -c "$` + ScriptEnv + `" nano-brain-auto-repair @DEBUG@ npx "$@"; return ;; esac; break; done; command npx "$@"; }`,
	"nano-brain": `() { command sh -c "$` + ScriptEnv + `" nano-brain-auto-repair @DEBUG@ nano-brain "$@"; }`,
}

// Shell is a shell session's command (sandbox.ShellCmd's) in which
// nano-brain and npx nano-brain typed at the prompt run under the
// wrapper: bash gets the functions and the wrapper through env(1) (sh
// itself would drop the function variables' names); without bash, a
// plain sh.
func Shell(debug bool) []string {
	d := "0"
	if debug {
		d = "1"
	}
	return []string{"/bin/sh", "-c",
		`if command -v bash >/dev/null 2>&1; then exec env "BASH_FUNC_npx%%=$1" "BASH_FUNC_nano-brain%%=$2" "` + ScriptEnv + `=$3" bash -l; else exec sh -l; fi`,
		"ai-sandbox-shell",
		strings.ReplaceAll(shellFunctions["npx"], "@DEBUG@", d),
		strings.ReplaceAll(shellFunctions["nano-brain"], "@DEBUG@", d),
		Script()}
}
