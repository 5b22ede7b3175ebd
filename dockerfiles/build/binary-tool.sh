#!/bin/sh
# binary-tool.sh BINARY URL SHA256_AMD64 SHA256_ARM64 MEMBER SHA256_ARG [EXTRA...]
# Downloads a release file, refuses it unless its SHA-256 is the pinned one,
# unpacks it into /opt/BINARY and links MEMBER (the executable inside it;
# empty when the download is the executable) as /usr/local/bin/BINARY. A
# MEMBER that is not at the top of the archive is looked for one folder
# down (archives that wrap their files in a folder named for the release).
# EXTRA names more executables next to MEMBER to link under their own names
# (uv's uvx).
# URL may be two, "AMD64_URL|ARM64_URL", for releases that name their
# builds differently per architecture.
# In URL and MEMBER, {goarch} is amd64|arm64, {uname} x86_64|aarch64,
# {relarch} x86_64|arm64 and {node} x64|arm64. Nothing is ever piped into a
# shell.
set -eu
bin=$1 url=$2 sha_amd64=$3 sha_arm64=$4 member=$5 arg=$6
shift 6
case "$(uname -m)" in
    x86_64 | amd64) goarch=amd64 uname=x86_64 relarch=x86_64 node=x64 sha=$sha_amd64 ;;
    aarch64 | arm64) goarch=arm64 uname=aarch64 relarch=arm64 node=arm64 sha=$sha_arm64 ;;
    *) echo "$bin: no release build for $(uname -m)" >&2; exit 1 ;;
esac
if [ -z "$sha" ]; then
    upper=$(printf '%s' "$goarch" | tr a-z A-Z)
    echo "$bin: no SHA-256 is pinned for its $goarch download; an unverified download is never installed." >&2
    echo "$bin: pass --build-arg ${arg}_${upper}=<sha256 of the file>" >&2
    exit 1
fi
subst() { printf '%s' "$1" | sed -e "s/{goarch}/$goarch/g" -e "s/{uname}/$uname/g" -e "s/{relarch}/$relarch/g" -e "s/{node}/$node/g"; }
case "$url" in
    *"|"*) if [ "$goarch" = amd64 ]; then url=${url%%|*}; else url=${url#*|}; fi ;;
esac
url=$(subst "$url")
member=$(subst "$member")
tmp=$(mktemp -d)
curl -fsSL --proto '=https' --tlsv1.2 --retry 3 -o "$tmp/download" "$url"
echo "$sha  $tmp/download" | sha256sum -c - >/dev/null || { echo "$bin: SHA-256 mismatch for $url" >&2; exit 1; }
dest=/opt/$bin
rm -rf "$dest"
mkdir -p "$dest"
case "$url" in
    *.tar.gz | *.tgz) tar -xzf "$tmp/download" -C "$dest" --no-same-owner ;;
    *.tar.bz2) tar -xjf "$tmp/download" -C "$dest" --no-same-owner ;;
    *.tar.xz) tar -xJf "$tmp/download" -C "$dest" --no-same-owner ;;
    *) cp "$tmp/download" "$dest/$bin"; member=${member:-$bin} ;;
esac
rm -rf "$tmp"
if [ ! -f "$dest/$member" ] || [ -L "$dest/$member" ]; then
    found=$(find "$dest" -mindepth 2 -maxdepth 2 -type f -name "$(basename "$member")" | head -n 1)
    [ -n "$found" ] || { echo "$bin: $member not found in $url" >&2; exit 1; }
    member=${found#"$dest/"}
fi
chmod -R a+rX,go-w "$dest"
chmod 0755 "$dest/$member"
ln -sf "$dest/$member" "/usr/local/bin/$bin"
dir=$(dirname "$dest/$member")
for extra in "$@"; do
    [ -f "$dir/$extra" ] && [ ! -L "$dir/$extra" ] || { echo "$bin: $extra not found next to $member in $url" >&2; exit 1; }
    chmod 0755 "$dir/$extra"
    ln -sf "$dir/$extra" "/usr/local/bin/$extra"
done
