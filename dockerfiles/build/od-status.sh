#!/bin/sh
# od-status / od-health: ask the Open Design daemon at $OD_DAEMON_URL for
# its health (GET /api/health), with "Authorization: Bearer $OD_API_TOKEN"
# when the token is set. The header goes to curl on standard input, so the
# token is never in a process's arguments.
#   od-status   prints the answer (pretty JSON when it is JSON); exit 0 on 2xx
#   od-health   prints "healthy" or why not; exit 0 healthy, 1 unhealthy,
#               2 not reachable or not configured
set -u
name=$(basename "$0")
url=${OD_DAEMON_URL:-}
if [ -z "$url" ]; then
    echo "$name: OD_DAEMON_URL is not set (the Open Design daemon's address, e.g. http://host.docker.internal:7456)" >&2
    echo "$name: put it in ~/.ai-sandbox/env and name it for the agent under tools.env in ~/.ai-sandbox/config.json" >&2
    exit 2
fi
url=${url%/}/api/health
body=$(mktemp)
trap 'rm -f "$body"' EXIT
if [ -n "${OD_API_TOKEN:-}" ]; then
    code=$(printf 'Authorization: Bearer %s\n' "$OD_API_TOKEN" |
        curl -sS --max-time 10 -H @- -o "$body" -w '%{http_code}' "$url") || code=
else
    code=$(curl -sS --max-time 10 -o "$body" -w '%{http_code}' "$url") || code=
fi
case "$code" in
    "" | 000)
        echo "$name: cannot reach $url" >&2
        exit 2 ;;
esac
case "$name" in
    od-health)
        case "$code" in
            2??) echo "healthy ($url)"; exit 0 ;;
            401 | 403) echo "unhealthy: HTTP $code from $url (check OD_API_TOKEN)"; exit 1 ;;
            *) echo "unhealthy: HTTP $code from $url"; exit 1 ;;
        esac ;;
    *)
        if command -v jq >/dev/null 2>&1 && jq . "$body" 2>/dev/null; then :; else cat "$body"; echo; fi
        case "$code" in
            2??) exit 0 ;;
            *) echo "$name: HTTP $code from $url" >&2; exit 1 ;;
        esac ;;
esac
