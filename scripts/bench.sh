#!/usr/bin/env bash
# make bench: launch latency, wrapper overhead and footprint of ai-sandbox,
# side by side with bare docker, against the real Docker engine. Writes
# bench/results/latest.{md,json} and a copy named by date. A benchmark, not
# a test: it reports figures (✗ for a missed target) and fails only when
# something could not be measured.
#
# Then the image sizes of the presets (scripts/bench-image-sizes.sh --build,
# into bench/results/image-sizes.md): set BENCH_IMAGES=0 to skip them (the
# builds take minutes).
#
# Usage: scripts/bench.sh [harness flags]   e.g. -n 31, -image IMG, -keep
# Environment: BENCH_USER (default aisbx-bench), GO (default go),
#   BENCH_IMAGES (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
user=${BENCH_USER:-aisbx-bench}

docker info >/dev/null 2>&1 || { echo "bench: the Docker engine does not answer ('docker info'); start it (dockerd)" >&2; exit 1; }

# The image the launches run: the product's default when built, else the
# local test base (made without any registry).
if ! docker image inspect ai-sandbox:latest >/dev/null 2>&1; then
  scripts/test-base-image.sh >&2
fi

# As root the sandbox user would be root: measure as an unprivileged user
# in the docker group.
if [ "$(id -u)" = 0 ] && ! id "$user" >/dev/null 2>&1; then
  echo "bench: creating the unprivileged user $user (docker group)" >&2
  useradd -m -U -G docker -s /bin/sh "$user"
fi

# The product binary, built exactly as 'make build' builds it, into a
# private folder (so that a concurrent 'make build' cannot swap it mid-run).
tmp=$(mktemp -d /tmp/ai-sandbox-bench-bin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
make --no-print-directory build BIN="$tmp/ai-sandbox" GO="$GO" >&2
CGO_ENABLED=0 "$GO" build -o "$tmp/bench" ./bench/cmd/bench # static: it also serves and fetches in containers (the proxy figure)
"$tmp/bench" -bin "$tmp/ai-sandbox" -out bench/results "$@"

if [ "${BENCH_IMAGES:-1}" != 0 ]; then
  AI_SANDBOX_BIN="$tmp/ai-sandbox" scripts/bench-image-sizes.sh --build >bench/results/image-sizes.md
  cat bench/results/image-sizes.md
fi
