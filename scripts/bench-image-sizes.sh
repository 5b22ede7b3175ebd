#!/usr/bin/env bash
# Image sizes of the sandbox presets: a benchmark, not a test. Prints a
# markdown table of every local sandbox image (labelled ai-sandbox.image=1)
# with its preset, agents, add-ons and size, and checks the target: the base
# preset with opencode under 1 GB (the original's base image is ~2.3 GB).
#
# Usage: scripts/bench-image-sizes.sh [--build]
#   --build  first build ai-sandbox-bench:base (preset base, opencode) from
#            the local test base image, and try ai-sandbox-bench:full (the
#            full preset needs PyPI and GitHub; a failure is reported, not
#            fatal). Uses a throw-away state folder, so config.json is not
#            touched.
# Environment: AI_SANDBOX_BIN (default: build ./cmd/ai-sandbox),
#   AI_SANDBOX_TEST_BASE (default ai-sandbox-test-base:bookworm),
#   AI_SANDBOX_DOCKER (default docker), BENCH_CA_CERT (default the host's
#   CA bundle, when there is one: containers may need it to reach npm).
set -euo pipefail
cd "$(dirname "$0")/.."
docker=${AI_SANDBOX_DOCKER:-docker}
target_bytes=1000000000

"$docker" info >/dev/null 2>&1 || { echo "bench-image-sizes: the Docker engine does not answer" >&2; exit 1; }

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
  for preset in base full; do
    start=$(date +%s)
    if AI_SANDBOX_HOME=$tmp/state "$bin" image build --preset "$preset" --tools opencode \
        --base-image "$base" "${ca[@]}" --tag "ai-sandbox-bench:$preset" >"$tmp/$preset.log" 2>&1; then
      echo "bench-image-sizes: built ai-sandbox-bench:$preset in $(( $(date +%s) - start ))s" >&2
    else
      echo "bench-image-sizes: could not build the $preset preset here (last lines below)" >&2
      tail -n 5 "$tmp/$preset.log" >&2
    fi
  done
fi

echo "| image | preset | agents | add-ons | size | target |"
echo "| --- | --- | --- | --- | ---: | --- |"
found=0
while IFS=$'\t' read -r id repo tag; do
  [ -n "$id" ] || continue
  [ "$repo" = "<none>" ] && continue
  line=$("$docker" image inspect --format \
    '{{.Size}}	{{index .Config.Labels "ai-sandbox.preset"}}	{{index .Config.Labels "ai-sandbox.tools"}}	{{index .Config.Labels "ai-sandbox.addons"}}' "$id")
  IFS=$'\t' read -r size preset tools addons <<<"$line"
  mb=$(( size / 1000000 ))
  verdict="-"
  if [ "$preset" = base ] && [ "$tools" = opencode ]; then
    if [ "$size" -lt "$target_bytes" ]; then verdict="✓ < 1 GB"; else verdict="✗ ≥ 1 GB"; fi
  fi
  echo "| $repo:$tag | ${preset:--} | ${tools:--} | ${addons:--} | $mb MB | $verdict |"
  found=1
done < <("$docker" image ls --no-trunc --filter label=ai-sandbox.image=1 --format '{{.ID}}	{{.Repository}}	{{.Tag}}')
if [ "$found" = 0 ]; then
  echo "| (no sandbox image here: build one, or run with --build) | | | | | |"
fi
