#!/bin/sh
# npm-tool.sh PACKAGE VERSION [OWN_SCRIPT]
# Installs an npm package globally with every install script off. When
# OWN_SCRIPT is given, that one script of the package itself runs afterwards
# (never a dependency's); the tool table says why each such script is needed.
set -eu
pkg=$1 ver=$2 own=${3:-}
npm install --global --ignore-scripts --no-audit --no-fund --omit=dev "$pkg@$ver"
if [ -n "$own" ]; then
    dir="$(npm root --global)/$pkg"
    (cd "$dir" && npm_config_global=true node "$own")
fi
# A package that wants a newer Node than the image has (Debian 12's nodejs is
# 18; the default base image has 22) is installed but will not run: say so.
node -e '
  const p = require(process.argv[1] + "/package.json");
  const majors = [...((p.engines || {}).node || "").matchAll(/(?:^|>=|\^|~|\|\|)\s*v?(\d+)/g)].map(m => +m[1]);
  const want = majors.length ? Math.min(...majors) : 0, have = +process.versions.node.split(".")[0];
  if (have < want) console.error("warning: " + p.name + " needs Node " + want + " or later; this image has Node " + process.versions.node + " (use the default base image, node:22-bookworm-slim)");
' "$(npm root --global)/$pkg" || true
npm cache clean --force >/dev/null 2>&1 || true
