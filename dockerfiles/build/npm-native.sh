#!/bin/sh
# npm-native.sh BINARY PACKAGE VERSION PATH [BASELINE]
# Installs the per-platform npm package that carries an agent's prebuilt
# binary ({arch} in PACKAGE becomes x64 or arm64, {aarch} x64 or aarch64)
# with install scripts off,
# and links PATH inside it as /usr/local/bin/BINARY. On x64 CPUs without
# AVX2 the BASELINE package is used when there is one, as the agents' own
# postinstall scripts do.
set -eu
bin=$1 pattern=$2 ver=$3 path=$4 baseline=${5:-}
case "$(uname -m)" in
    x86_64 | amd64) arch=x64 aarch=x64 ;;
    aarch64 | arm64) arch=arm64 aarch=aarch64 ;;
    *) echo "$bin: no prebuilt binary for $(uname -m)" >&2; exit 1 ;;
esac
pkg=$(printf '%s' "$pattern" | sed -e "s/{arch}/$arch/g" -e "s/{aarch}/$aarch/g")
if [ -n "$baseline" ] && [ "$arch" = x64 ] && ! grep -qw avx2 /proc/cpuinfo; then
    pkg=$baseline
fi
npm install --global --ignore-scripts --no-audit --no-fund "$pkg@$ver"
target="$(npm root --global)/$pkg/$path"
[ -f "$target" ] || { echo "$bin: $path not found in $pkg@$ver" >&2; exit 1; }
chmod 0755 "$target"
ln -sf "$target" "/usr/local/bin/$bin"
npm cache clean --force >/dev/null 2>&1 || true
