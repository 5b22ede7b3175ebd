#!/usr/bin/env bash
# Writes the shell completion scripts that the release archives ship:
#   completions/ai-sandbox.bash, completions/ai-sandbox.zsh, completions/ai-sandbox.fish
# GoReleaser runs this as a before hook (see .goreleaser.yaml); it can also be
# run by hand. Always works from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

GO="${GO:-go}"
out=completions

rm -rf "$out"
mkdir -p "$out"

for shell in bash zsh fish; do
  file="$out/ai-sandbox.$shell"
  "$GO" run ./cmd/ai-sandbox completion "$shell" >"$file"
  if [ ! -s "$file" ]; then
    echo "completions: 'ai-sandbox completion $shell' wrote nothing" >&2
    exit 1
  fi
  echo "completions: wrote $file ($(wc -c <"$file") bytes)"
done
