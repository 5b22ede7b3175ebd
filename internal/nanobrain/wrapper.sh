# nano-brain auto-repair (ai-sandbox): $1 is 1 to show every line of
# stderr (AI_RUN_DEBUG=1); the rest is the command. stderr streams live
# through a filter that drops known harmless tree-sitter warnings and
# keeps a copy; a failure whose copy shows a native-module error gets one
# repair and one retry. Nothing else is retried.
native=@NATIVE@
harmless=@HARMLESS@
debug=$1
shift
say() { printf 'ai-sandbox: %s\n' "$*" >&2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/nano-brain-repair.XXXXXX") || exec "$@"
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
lb=
if echo x | grep --line-buffered x >/dev/null 2>&1; then lb=--line-buffered; fi

# attempt runs the command once, its stderr through the filter, the
# filter's copy in $dir/stderr; it returns the command's status.
attempt() {
	rm -f "$dir/fifo" "$dir/stderr"
	if ! mkfifo "$dir/fifo"; then
		"$@" 2>>"$dir/stderr"
		rc=$?
		cat "$dir/stderr" >&2
		return $rc
	fi
	if [ "$debug" = 1 ]; then
		tee "$dir/stderr" <"$dir/fifo" >&2 &
	else
		tee "$dir/stderr" <"$dir/fifo" | grep $lb -v -E -e "$harmless" >&2 &
	fi
	filter=$!
	"$@" 2>"$dir/fifo"
	rc=$?
	wait $filter
	return $rc
}

# repair removes npx's cache entries that hold nano-brain (npx installs
# and builds it again on the next run) and rebuilds a global install;
# the rest of the npm cache stays.
repair() {
	for entry in "$HOME"/.npm/_npx/*/; do
		if [ -e "${entry}node_modules/nano-brain" ]; then
			say "removing npx's copy of nano-brain: ${entry%/}"
			rm -rf "${entry%/}"
		fi
	done
	if command -v npm >/dev/null 2>&1; then
		root=$(npm root -g 2>/dev/null)
		if [ -n "$root" ] && [ -d "$root/nano-brain" ]; then
			say "rebuilding nano-brain's native modules in $root/nano-brain"
			(cd "$root/nano-brain" && npm rebuild >&2) || say "npm rebuild failed in $root/nano-brain"
		fi
	fi
}

attempt "$@"
rc=$?
if [ $rc -eq 0 ] || ! grep -q -E -e "$native" "$dir/stderr"; then
	exit $rc
fi
say "nano-brain failed on a native module (exit $rc): repairing it and running it once more (off: --no-nano-brain-auto-repair or AI_RUN_DISABLE_NANO_BRAIN_AUTO_REPAIR=1)"
repair
attempt "$@"
rc=$?
if [ $rc -ne 0 ] && grep -q -E -e "$native" "$dir/stderr"; then
	say "nano-brain still fails on a native module after the repair"
fi
exit $rc
