# ---- add-on gh: the GitHub CLI (gh), Debian's package. No login is passed
# in: give the sandbox a token of your choice with tools.env in config.json.
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends gh; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
