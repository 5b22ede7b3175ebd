# ---- add-on od-helpers: the Open Design daemon helpers `od-status` (prints
# what the daemon reports) and `od-health` (exit 0 when it answers healthy).
# They ask $OD_DAEMON_URL/api/health, with the bearer token $OD_API_TOKEN
# when set (both through tools.env in config.json); the token reaches curl
# on its standard input, never on a command line.
RUN set -eu; \
    install -m 0755 /tmp/ai-sandbox-build/od-status.sh /usr/local/bin/od-status; \
    ln -sf od-status /usr/local/bin/od-health
