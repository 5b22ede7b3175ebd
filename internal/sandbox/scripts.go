package sandbox

// The shell scripts that run inside a sandbox. They are POSIX sh (they run
// in any image), and the keeper uses bash's builtins when the image has
// bash, so that its loop never forks.
//
// Files in /run (a tmpfs owned by the sandbox user) carry the protocol
// between the keeper and the launches:
//
//	/run/ai-sandbox.seen      written by every session: the keeper's idle
//	                          clock starts again
//	/run/ai-sandbox.hold      written by a launch that must not lose its
//	                          container before its session starts (piped
//	                          input): the keeper stays up at least 30 seconds,
//	                          or 5 more once a session has started (another
//	                          launch may hold at the same time)
//	/run/ai-sandbox.stopping  non-empty while the keeper decides to stop: a
//	                          session that starts then does not run
//	/run/ai-sandbox.keeper    the keeper's pid, for the health check
//
// The stop is decided in this order: stopping is set, the sessions are
// counted again, and the hold is read; only when there is still no session
// and no hold does the keeper exit. A session process exists before it
// reads stopping, so either the recount sees it (and the keeper stays) or
// it sees stopping (and exits with StoppingExit, having run nothing). The
// launch then starts the sandbox again: a command is never half-run.

// Exit codes of the guard and the hold: the session did not start, for a
// reason the launch can act on.
const (
	// GuardExit: the container was made from another spec.
	GuardExit = 213
	// StoppingExit: the keeper is stopping the container.
	StoppingExit = 214
)

// StartToken begins the line the guard writes on the session's stderr
// before it runs anything; the session id follows. A docker exec that ends
// without it never ran its command, whatever docker printed.
const StartToken = "\x1eai-sandbox-session "

// HealthMarker begins the health check's script, so that the keeper does
// not count health checks as sessions.
const HealthMarker = ": ai-sandbox-health;"

// HealthCmd is the container's health check: the keeper is alive. Builtins
// only, so it works under pids pressure too.
const HealthCmd = HealthMarker + ` read p </run/ai-sandbox.keeper && kill -0 "$p"`

// Keeper is PID 1's child: it counts sessions (processes whose parent is
// outside the container, i.e. docker exec'd ones; docker-init is the one
// other such process, and a "runc init" is an exec not started yet — under
// a full pids limit it can wait forever, and counting it would keep the
// fork bomb that fills the limit alive) and exits, ending the container, once none has been
// attached for the grace period in seconds ($1, at least one second). A
// container that no session has reached yet is given at least 30 seconds,
// so it is never stopped under the launch that created it. Once the last
// session has ended, what sessions left running in the background is
// ended too (TERM, then KILL a second later): no agent process outlives
// its sessions. It survives a full pids limit (no fork in its loop under
// bash) and memory pressure (sessions raise their own OOM score, see
// Guard).
const Keeper = `g=${1:-300}; R=/run/ai-sandbox; quiet=0; seen=0; t=0; hold=0
echo $$ >$R.keeper; : >$R.stopping
if [ -n "$BASH_VERSION" ] && mkfifo $R.tick 2>/dev/null && exec 3<>$R.tick; then
  tick() { read -t 1 -u 3 _; }
  health() { a=; { IFS= read -r -d '' a; IFS= read -r -d '' a; IFS= read -r -d '' a; } <"${1%/status}/cmdline"; case $a in "` + HealthMarker + `"*) return 0;; esac; return 1; }
else
  tick() { sleep 1; }
  health() { return 1; }
fi
reap() {
  for s in /proc/[0-9]*/status; do
    p=${s#/proc/}; p=${p%/status}
    [ "$p" = 1 ] || [ "$p" = $$ ] && continue
    while IFS= read -r l; do
      case $l in "PPid:	0"|"PPid:	$$") break;; PPid:*) kill -$1 "$p"; break;; esac
    done <"$s"
  done 2>/dev/null
}
count() {
  n=-1
  for s in /proc/[0-9]*/status; do
    while IFS= read -r l; do
      case $l in "Name:	runc"*) break;; "PPid:	0") health "$s" || n=$((n+1)); break;; PPid:*) break;; esac
    done <"$s"
  done 2>/dev/null
}
while :; do
  count
  if [ -s $R.hold ]; then : >$R.hold; seen=1; hold=30; fi
  if [ -s $R.seen ]; then : >$R.seen; seen=1; quiet=0; [ $hold -gt 5 ] && hold=5; fi
  if [ $n -gt 0 ]; then
    seen=1; quiet=0
  elif [ $seen = 1 ] || [ $t -ge 30 ]; then
    [ $quiet = 0 ] && reap TERM
    [ $quiet = 1 ] && reap KILL
    if [ $quiet -ge $g ] && [ $quiet -ge 1 ] && [ $hold -le 0 ]; then
      printf 1 >$R.stopping
      count
      [ $n -le 0 ] && ! [ -s $R.hold ] && exit 0
      : >$R.stopping; quiet=0
    fi
    quiet=$((quiet+1))
  fi
  [ $hold -gt 0 ] && hold=$((hold-1))
  t=$((t+1)); tick
done`

// keeperEntry picks bash for the keeper when the image has it ($1 is the
// keeper, $2 the grace period).
const keeperEntry = `command -v bash >/dev/null 2>&1 && exec bash -c "$1" ai-sandbox-keeper "$2"; exec /bin/sh -c "$1" ai-sandbox-keeper "$2"`

// Guard runs a session's command. $0 is the plan's spec hash, compared
// with the container's AI_SANDBOX_SPEC ("-" accepts any spec); $1 the
// session id; $2 and $3 the terminal's rows and columns (0 = leave it);
// $4 is 1 when the launch holds the container (the keeper cannot stop
// it then); $5 is 1 when the launch watches stderr for the start token.
// It runs nothing in a container of another spec (GuardExit) or one that
// is stopping (StoppingExit); otherwise it marks the session for the
// keeper, raises the session's OOM score (the keeper must outlive a
// session that exhausts memory), writes the start token and runs the
// command, after setting the terminal's size (older engines create an
// exec's terminal at 0x0 and resize it only later).
const Guard = `[ "$0" = - ] || [ "$AI_SANDBOX_SPEC" = "$0" ] || exit 213; ` +
	`[ "$4" = 1 ] || ! [ -s /run/ai-sandbox.stopping ] || exit 214; ` +
	`printf 1 >/run/ai-sandbox.seen 2>/dev/null; echo 500 >/proc/self/oom_score_adj 2>/dev/null; ` +
	`[ "$5" = 1 ] && printf '\036ai-sandbox-session %s\n' "$1" >&2; ` +
	`[ "$2" = 0 ] || stty rows "$2" cols "$3" 2>/dev/null; shift 5; exec "$@"`

// Hold keeps the container up for at least 30 seconds (a generous
// margin: on a machine under heavy load the session's exec can take
// several seconds to start), unless it is of
// another spec ($0 as for Guard; GuardExit) or already stopping
// (StoppingExit).
const Hold = `[ "$0" = - ] || [ "$AI_SANDBOX_SPEC" = "$0" ] || exit 213; ` +
	`! [ -s /run/ai-sandbox.stopping ] || exit 214; printf 1 >/run/ai-sandbox.hold`
