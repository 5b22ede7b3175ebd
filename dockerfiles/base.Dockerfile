# ---- base layer ------------------------------------------------------------
# What every agent uses, and nothing heavier: no compiler toolchain, OCR or
# PDF stack (those are the build-tools and doc-tools add-ons of the full
# preset). Debian's nodejs and npm are installed only when the base image has
# no node of its own (node:22-bookworm-slim brings Node 22 in /usr/local).
# libnss-unknown gives any uid without a passwd entry a name; its package
# script switches it on at once, so it is switched off again here and on in
# the final step (see there).
# Clipboard: pbcopy, xclip, xsel and wl-copy are build/osc52-copy.sh, which
# sends what they copy to the session's terminal as OSC52 (no X11 or
# Wayland in the sandbox); pbpaste, wl-paste and xclip/xsel -o say that
# reading the clipboard is not possible.
# Debian's documentation, manual pages and message translations are not
# installed by this or any later layer (as in Debian's slim images; the
# copyright files stay): an agent reads --help, not man pages.
COPY build/ /tmp/ai-sandbox-build/
RUN set -eu; \
    printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
        'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/groff/*' 'path-exclude=/usr/share/info/*' \
        'path-exclude=/usr/share/lintian/*' 'path-exclude=/usr/share/linda/*' 'path-exclude=/usr/share/locale/*' \
        > /etc/dpkg/dpkg.cfg.d/ai-sandbox-slim; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        bzip2 ca-certificates curl fd-find git jq less libnss-unknown openssh-client \
        pipx procps python3 ripgrep sqlite3 tmux vim-tiny xz-utils; \
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
        apt-get install -y --no-install-recommends nodejs npm; \
    fi; \
    sed -ri '/^(passwd|group):/ s/[[:space:]]+unknown\b//g' /etc/nsswitch.conf; \
    ln -sf /usr/bin/fdfind /usr/local/bin/fd; \
    if [ ! -e /usr/bin/vim ]; then ln -sf /usr/bin/vim.tiny /usr/local/bin/vim; fi; \
    chmod 0755 /tmp/ai-sandbox-build/*.sh; \
    install -m 0755 /tmp/ai-sandbox-build/osc52-copy.sh /usr/local/bin/osc52-copy; \
    for n in pbcopy pbpaste xclip xsel wl-copy wl-paste; do ln -sf osc52-copy "/usr/local/bin/$n"; done; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# ---- any uid -----------------------------------------------------------------
# The sandbox runs as the host user's uid:gid, which the image cannot know.
# There is no fixed-uid user: the node image's "node" (uid 1000) is removed
# so that uid 1000 is not special. /home/agent is world-writable and sticky,
# like /tmp. The final step turns on nss "unknown", which names any uid (it
# must come last: with it on, every uid "exists", so adduser in a later
# package's script finds no free system uid).
RUN set -eu; \
    if getent passwd node >/dev/null 2>&1; then userdel --remove node 2>/dev/null || userdel node; fi; \
    mkdir -p /home/agent; \
    chmod 1777 /home/agent
ENV HOME=/home/agent \
    NSS_UNKNOWN_HOME=/home/agent \
    SHELL=/bin/bash \
    LANG=C.UTF-8 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
