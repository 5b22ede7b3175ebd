#!/usr/bin/env bash
# Image sizes of the sandbox presets: a benchmark, not a test. Prints a
# markdown table of every local sandbox image (labelled ai-sandbox.image=1)
# with its preset, agents, add-ons and size, and checks the targets with
# opencode: lean < 700 MB, base < 1.6 GB (the original's: ~2.3 GB), full
# < 2 GB (the original's: ~2.7 GB).
#
# Usage: scripts/bench-image-sizes.sh [--build]
#   --build  first build ai-sandbox-bench:lean, :base and :full (opencode)
#            from the local test base image. base and full download from
#            GitHub, Atlassian and PyPI, which some build machines cannot
#            reach; a failure is reported, not fatal, and then
#            ai-sandbox-bench:base-reachable is built instead: lean plus
#            the base add-ons that need none of those
#            ($BENCH_REACHABLE_ADDONS), a lower bound for base. Uses a
#            throw-away state folder, so config.json is not touched.
# Environment: AI_SANDBOX_BIN (default: build ./cmd/ai-sandbox),
#   AI_SANDBOX_TEST_BASE (default ai-sandbox-test-base:bookworm),
#   AI_SANDBOX_DOCKER (default docker), BENCH_CA_CERT (default the host's
#   CA bundle, when there is one: containers may need it to reach npm).
set -euo pipefail
cd "$(dirname "$0")/.."
docker=${AI_SANDBOX_DOCKER:-docker}
reachable=${BENCH_REACHABLE_ADDONS:-build-tools,doc-tools,gh,go,bun,pnpm,lsp,openspec,uipro}

"$docker" info >/dev/null 2>&1 || { echo "bench-image-sizes: the Docker engine does not answer" >&2; exit 1; }

# target NAME: the size limit in bytes and its words, by preset.
target() {
  case "$1" in
    lean) echo "700000000 700 MB" ;;
    base) echo "1600000000 1.6 GB" ;;
    full) echo "2000000000 2 GB" ;;
    *) echo "" ;;
  esac
}

if [ "${1:-}" = --build ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  bin=${AI_SANDBOX_BIN:-}
  if [ -z "$bin" ]; then
    bin=$tmp/ai-sandbox
    CGO_ENABLED=0 ${GO:-go} build -o "$bin" ./cmd/ai-sandbox
  fi
  base=${AI_SANDBOX_TEST_BASE:-ai-sandbox-test-base:bookworm}
  "$docker" image inspect "$base" >/dev/null 2>&1 || scripts/test-base-image.sh "$base" >&2
  ca=()
  cert=${BENCH_CA_CERT:-/etc/ssl/certs/ca-certificates.crt}
  [ -f "$cert" ] && ca=(--ca-cert "$cert")
  build() { # TAG ARGS...
    local tag=$1 start
    shift
    start=$(date +%s)
    if AI_SANDBOX_HOME=$tmp/state "$bin" image build "$@" --tools opencode \
        --base-image "$base" "${ca[@]}" --tag "ai-sandbox-bench:$tag" >"$tmp/$tag.log" 2>&1; then
      echo "bench-image-sizes: built ai-sandbox-bench:$tag in $(( $(date +%s) - start ))s" >&2
    else
      echo "bench-image-sizes: could not build ai-sandbox-bench:$tag here (last lines below)" >&2
      tail -n 5 "$tmp/$tag.log" >&2
      return 1
    fi
  }
  build lean --preset lean || true
  if ! build base --preset base; then
    build base-reachable --preset lean --addons "$reachable" || true
  fi
  build full --preset full || true
fi

echo "| image | preset | agents | add-ons | size | target |"
echo "| --- | --- | --- | --- | ---: | --- |"
found=0
while IFS=$'\t' read -r id repo tag; do
  [ -n "$id" ] || continue
  [ "$repo" = "<none>" ] && continue
  # '|' and not a tab: read collapses empty fields between whitespace separators.
  line=$("$docker" image inspect --format \
    '{{.Size}}|{{index .Config.Labels "ai-sandbox.preset"}}|{{index .Config.Labels "ai-sandbox.tools"}}|{{index .Config.Labels "ai-sandbox.addons"}}' "$id")
  IFS='|' read -r size preset tools addons <<<"$line"
  mb=$(( size / 1000000 ))
  verdict="-"
  want=$preset
  [ "$tag" = base-reachable ] && want=base
  read -r limit words <<<"$(target "$want")"
  if [ -n "${limit:-}" ] && [ "$tools" = opencode ]; then
    if [ "$size" -lt "$limit" ]; then verdict="✓ < $words"; else verdict="✗ ≥ $words"; fi
    if [ "$tag" = base-reachable ]; then verdict="$verdict (part of base: lower bound)"; fi
  fi
  echo "| $repo:$tag | ${preset:--} | ${tools:--} | ${addons:--} | $mb MB | $verdict |"
  found=1
done < <("$docker" image ls --no-trunc --filter label=ai-sandbox.image=1 --format '{{.ID}}	{{.Repository}}	{{.Tag}}')
if [ "$found" = 0 ]; then
  echo "| (no sandbox image here: build one, or run with --build) | | | | | |"
fi
