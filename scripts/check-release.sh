#!/usr/bin/env bash
# check-release.sh DIST — checks the artefacts GoReleaser wrote to DIST
# (make release-snapshot runs it on dist/ after `goreleaser release --snapshot`):
#
#   - exactly the 4 archives ai-sandbox_<version>_{linux,darwin}_{amd64,arm64}.tar.gz,
#     each holding ai-sandbox, README.md, LICENSE, CHANGELOG.md and
#     completions/ai-sandbox.{bash,zsh,fish} (non-empty, about ai-sandbox);
#   - checksums.txt verifies with sha256sum -c and covers every archive;
#   - one CycloneDX JSON SBOM per binary, listing github.com/spf13/cobra;
#   - each binary was built right: linux/amd64 and linux/arm64 run `version`
#     (natively or through qemu-user-static) and print
#     "ai-sandbox <version> (go…, <os>/<arch>)"; darwin binaries are checked
#     statically (Mach-O header, `go version -m` build settings, version string).
#
# The version comes from DIST/metadata.json (or DIST/artifacts.json).
# Prints one "ok:" line per check, "skip:"/"FAIL:" lines, and a summary;
# exits non-zero when any check failed.
# Needs: bash, tar, sha256sum, od, python3, go; qemu-aarch64-static (Debian/Ubuntu
# package qemu-user-static) to run linux/arm64 on an amd64 host — when missing,
# that check is skipped locally and fails when CI=true.
set -euo pipefail

PROJECT=ai-sandbox
MODULE=github.com/ai-sandbox/ai-sandbox
PLATFORMS=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64)
MEMBERS=(ai-sandbox README.md LICENSE CHANGELOG.md
  completions/ai-sandbox.bash completions/ai-sandbox.zsh completions/ai-sandbox.fish)

n_ok=0
n_skip=0
n_fail=0
ok() {
  n_ok=$((n_ok + 1))
  echo "ok: $*"
}
skip() {
  n_skip=$((n_skip + 1))
  echo "skip: $*"
}
fail() {
  n_fail=$((n_fail + 1))
  echo "FAIL: $*" >&2
}
die() {
  echo "check-release: $*" >&2
  exit 2
}
is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 DIST   (the directory goreleaser wrote, usually dist)" >&2
  exit 2
fi
DIST="$1"
[ -d "$DIST" ] || die "$DIST: no such directory (run 'make release-snapshot' first)"
DIST="$(cd "$DIST" && pwd)"

for tool in tar sha256sum od python3 go; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed and not installed"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/check-release.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# ---- version ---------------------------------------------------------------

read -r VERSION VERSION_FROM < <(python3 - "$DIST" <<'PY'
import json, os, sys
dist = sys.argv[1]
try:
    with open(os.path.join(dist, "metadata.json")) as f:
        print(json.load(f)["version"] + " metadata.json")
        sys.exit(0)
except (OSError, ValueError, KeyError):
    pass
# artifacts.json: the version is in the archives' names.
import re
try:
    with open(os.path.join(dist, "artifacts.json")) as f:
        for a in json.load(f):
            m = re.match(r"^ai-sandbox_(.+)_linux_amd64\.tar\.gz$", a.get("name", ""))
            if a.get("type") == "Archive" and m:
                print(m.group(1) + " artifacts.json")
                sys.exit(0)
except (OSError, ValueError):
    pass
sys.exit(1)
PY
) || true
[ -n "${VERSION:-}" ] || die "cannot read the version from $DIST/metadata.json or $DIST/artifacts.json"
ok "version $VERSION (from $(basename "$DIST")/$VERSION_FROM)"

# ---- archives --------------------------------------------------------------

declare -A want_archive=()
for p in "${PLATFORMS[@]}"; do
  want_archive["${PROJECT}_${VERSION}_${p}.tar.gz"]=$p
done

found=()
while IFS= read -r -d '' f; do
  found+=("$(basename "$f")")
done < <(find "$DIST" -maxdepth 1 -type f -name '*.tar.gz' -print0)

extra=()
for a in "${found[@]}"; do
  [ -n "${want_archive[$a]:-}" ] || extra+=("$a")
done
missing=()
for a in "${!want_archive[@]}"; do
  [ -f "$DIST/$a" ] || missing+=("$a")
done
if [ ${#missing[@]} -eq 0 ] && [ ${#extra[@]} -eq 0 ]; then
  ok "exactly the ${#PLATFORMS[@]} archives for linux/darwin x amd64/arm64 (version $VERSION)"
else
  [ ${#missing[@]} -eq 0 ] || fail "missing archive(s): ${missing[*]}"
  [ ${#extra[@]} -eq 0 ] || fail "unexpected archive(s) in $DIST: ${extra[*]}"
fi

for p in "${PLATFORMS[@]}"; do
  a="${PROJECT}_${VERSION}_${p}.tar.gz"
  [ -f "$DIST/$a" ] || continue
  dir="$tmp/$p"
  mkdir -p "$dir"
  if ! list="$(tar -tzf "$DIST/$a" 2>&1)"; then
    fail "$a: not a readable tar.gz: $list"
    continue
  fi
  list="$(printf '%s\n' "$list" | sed 's#^\./##')"
  absent=()
  for m in "${MEMBERS[@]}"; do
    grep -qxF "$m" <<<"$list" || absent+=("$m")
  done
  if [ ${#absent[@]} -ne 0 ]; then
    fail "$a lacks: ${absent[*]}"
  else
    ok "$a holds ${MEMBERS[*]}"
  fi
  if ! err="$(tar -xzf "$DIST/$a" -C "$dir" 2>&1)"; then
    fail "$a: cannot extract: $err"
    continue
  fi
  bad=()
  for sh in bash zsh fish; do
    c="$dir/completions/$PROJECT.$sh"
    [ -f "$c" ] || continue # reported above
    if [ ! -s "$c" ]; then
      bad+=("completions/$PROJECT.$sh is empty")
    elif ! grep -q "$PROJECT" "$c"; then
      bad+=("completions/$PROJECT.$sh does not mention $PROJECT")
    fi
  done
  if [ -f "$dir/$PROJECT" ] && [ ! -x "$dir/$PROJECT" ]; then
    bad+=("$PROJECT is not executable")
  fi
  if [ ${#bad[@]} -ne 0 ]; then
    for b in "${bad[@]}"; do fail "$a: $b"; done
  elif [ -f "$dir/$PROJECT" ]; then
    ok "$a: binary executable, completion scripts non-empty and about $PROJECT"
  fi
done

# ---- checksums -------------------------------------------------------------

sums="$DIST/checksums.txt"
if [ ! -f "$sums" ]; then
  fail "$(basename "$DIST")/checksums.txt is missing"
else
  if out="$(cd "$DIST" && sha256sum --strict -c checksums.txt 2>&1)"; then
    ok "checksums.txt verifies with sha256sum -c ($(wc -l <"$sums") files)"
  else
    fail "sha256sum -c checksums.txt failed in $DIST:"
    printf '%s\n' "$out" | grep -v ': OK$' | sed 's/^/    /' >&2
  fi
  uncovered=()
  for a in "${!want_archive[@]}"; do
    [ -f "$DIST/$a" ] || continue
    awk -v f="$a" '$2 == f || $2 == "*" f { found = 1 } END { exit !found }' "$sums" || uncovered+=("$a")
  done
  if [ ${#uncovered[@]} -eq 0 ]; then
    ok "checksums.txt covers every archive"
  else
    fail "checksums.txt does not list: ${uncovered[*]}"
  fi
fi

# ---- SBOMs -----------------------------------------------------------------

extra=()
while IFS= read -r -d '' f; do
  b="$(basename "$f")"
  case "$b" in
    "${PROJECT}_${VERSION}_linux_amd64.cdx.json" | "${PROJECT}_${VERSION}_linux_arm64.cdx.json" | \
      "${PROJECT}_${VERSION}_darwin_amd64.cdx.json" | "${PROJECT}_${VERSION}_darwin_arm64.cdx.json") ;;
    *) extra+=("$b") ;;
  esac
done < <(find "$DIST" -maxdepth 1 -type f -name '*.cdx.json' -print0)
[ ${#extra[@]} -eq 0 ] || fail "unexpected SBOM(s) in $DIST: ${extra[*]}"

for p in "${PLATFORMS[@]}"; do
  s="${PROJECT}_${VERSION}_${p}.cdx.json"
  if [ ! -f "$DIST/$s" ]; then
    fail "SBOM $s is missing"
    continue
  fi
  if msg="$(python3 - "$DIST/$s" <<'PY'
import json, sys
path = sys.argv[1]
try:
    with open(path) as f:
        bom = json.load(f)
except ValueError as e:
    print("not valid JSON: %s" % e)
    sys.exit(1)
if bom.get("bomFormat") != "CycloneDX":
    print('"bomFormat" is %r, not "CycloneDX"' % bom.get("bomFormat"))
    sys.exit(1)
names = set()
def walk(components):
    for c in components or []:
        names.add(c.get("name"))
        walk(c.get("components"))
walk(bom.get("components"))
if "github.com/spf13/cobra" not in names:
    print("no component named github.com/spf13/cobra (%d components)" % len(names))
    sys.exit(1)
main = (bom.get("metadata") or {}).get("component") or {}
print("CycloneDX %s, %d components, main component %s %s" % (
    bom.get("specVersion"), len(names), main.get("name", "?"), main.get("version", "?")))
PY
  )"; then
    ok "$s: $msg, lists github.com/spf13/cobra"
  else
    fail "$s: $msg"
  fi
done

# ---- binaries --------------------------------------------------------------

host_arch=""
case "$(uname -m)" in
  x86_64 | amd64) host_arch=amd64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
esac
host_os="$(uname -s | tr '[:upper:]' '[:lower:]')"

# go version -m: the build settings GoReleaser used.
check_buildinfo() { # platform binary
  local p="$1" bin="$2" os="${1%_*}" arch="${1#*_}" info want problems=()
  if ! info="$(go version -m "$bin" 2>&1)"; then
    fail "$p: go version -m failed: $info"
    return
  fi
  for want in "GOOS=$os" "GOARCH=$arch" "CGO_ENABLED=0"; do
    grep -qE "^[[:space:]]+build[[:space:]]+$want\$" <<<"$info" || problems+=("no $want")
  done
  grep -qE "^[[:space:]]+path[[:space:]]+$MODULE/cmd/$PROJECT\$" <<<"$info" || problems+=("main package is not $MODULE/cmd/$PROJECT")
  # The -X ldflag: Go records -ldflags in the build info only without -trimpath
  # (golang.org/issue/52372); with -trimpath (ours) look for the string itself.
  local xflag="-X $MODULE/internal/cli.Version=$VERSION" how
  if grep -qE '^[[:space:]]+build[[:space:]]+-ldflags=' <<<"$info"; then
    grep -qF -- "$xflag" <<<"$info" || problems+=("-ldflags lacks $xflag")
    how="build info has $xflag"
  else
    grep -qE '^[[:space:]]+build[[:space:]]+-trimpath=true$' <<<"$info" || problems+=("neither -ldflags nor -trimpath=true in the build info")
    LC_ALL=C grep -qaF -- "$VERSION" "$bin" || problems+=("the version string $VERSION is not in the binary")
    how="-trimpath build (Go does not record -ldflags then), version string $VERSION embedded"
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    ok "$p: go version -m: GOOS=$os GOARCH=$arch CGO_ENABLED=0, $how"
  else
    fail "$p: go version -m: $(IFS=';'; echo "${problems[*]}")"
  fi
}

qemu_for() { # arch -> qemu-user-static command
  case "$1" in
    arm64) echo qemu-aarch64-static ;;
    amd64) echo qemu-x86_64-static ;;
    *) echo "qemu-$1-static" ;;
  esac
}

run_version() { # platform binary
  local p="$1" bin="$2" os="${1%_*}" arch="${1#*_}" runner=() how out q
  if [ "$host_os" = "$os" ] && [ "$host_arch" = "$arch" ]; then
    how="natively"
  else
    q="$(qemu_for "$arch")"
    if ! command -v "$q" >/dev/null 2>&1; then
      if is_ci; then
        fail "$p: cannot run the binary: $q is missing (install the qemu-user-static package: sudo apt-get install -y qemu-user-static)"
      else
        skip "$p: not run: $q is missing (install it with 'sudo apt-get install -y qemu-user-static'; with CI=true this fails)"
      fi
      return
    fi
    runner=("$q")
    how="through $q"
  fi
  mkdir -p "$tmp/home"
  if ! out="$(HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" timeout 120 "${runner[@]}" "$bin" version 2>&1)"; then
    fail "$p: '$PROJECT version' failed ($how): $out"
    return
  fi
  local want_prefix="$PROJECT $VERSION (go" want_suffix=", $os/$arch)"
  if [[ "$out" != *$'\n'* && "$out" == "$want_prefix"*"$want_suffix" ]]; then
    ok "$p: '$PROJECT version' $how: $out"
  else
    fail "$p: '$PROJECT version' $how printed '$out', want '$want_prefix…$want_suffix'"
  fi
}

check_macho() { # platform binary
  local p="$1" bin="$2" arch="${1#*_}" magic cpu want
  magic="$(od -An -tx1 -N4 "$bin" | tr -d ' \n')"
  # cputype: 4 bytes little-endian after the magic
  cpu="$(od -An -tx1 -j4 -N4 "$bin" | tr -d '\n' | awk '{ print $4 $3 $2 $1 }')"
  case "$arch" in
    amd64) want=01000007 ;; # CPU_TYPE_X86_64
    arm64) want=0100000c ;; # CPU_TYPE_ARM64
  esac
  if [ "$magic" != "cffaedfe" ]; then
    fail "$p: not a 64-bit Mach-O binary (magic $magic, want cffaedfe)"
  elif [ "$cpu" != "$want" ]; then
    fail "$p: Mach-O cputype 0x$cpu, want 0x$want for $arch"
  else
    ok "$p: Mach-O 64-bit (magic cffaedfe), cputype 0x$cpu ($arch)"
  fi
}

for p in "${PLATFORMS[@]}"; do
  bin="$tmp/$p/$PROJECT"
  if [ ! -f "$bin" ]; then
    fail "$p: no $PROJECT binary to check (its archive is missing or incomplete)"
    continue
  fi
  check_buildinfo "$p" "$bin"
  case "$p" in
    linux_*) run_version "$p" "$bin" ;;
    darwin_*) check_macho "$p" "$bin" ;;
  esac
done
echo "note: darwin binaries cannot run on Linux; the release workflow's 'darwin' job runs them ('$PROJECT version') on macOS runners, not this script."

# ---- summary ---------------------------------------------------------------

if [ "$n_fail" -ne 0 ]; then
  echo "check-release: FAILED: $n_fail check(s) failed, $n_ok passed, $n_skip skipped ($PROJECT $VERSION in $DIST)" >&2
  exit 1
fi
echo "check-release: all $n_ok checks passed, $n_skip skipped ($PROJECT $VERSION in $DIST)"
