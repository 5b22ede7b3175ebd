#!/bin/sh
# pipx-tool.sh PACKAGE VERSION
# Installs a Python tool into its own virtual environment under /opt/pipx
# with Debian's pipx, its commands linked into /usr/local/bin.
set -eu
pkg=$1 ver=$2
PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/usr/local/bin pipx install --pip-args=--no-cache-dir "$pkg==$ver"
chmod -R a+rX /opt/pipx
