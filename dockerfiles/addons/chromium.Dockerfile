# ---- chromium: the container's own browser, for the browser add-ons. It is
# Debian's package (signed by the archive) rather than a browser build
# fetched by playwright or puppeteer, whose downloads carry no pinned
# checksum. The MCP servers and Playwright are pointed at it, never at a
# browser on the host. Chromium's own sandbox cannot start without user
# namespaces, so it runs with --no-sandbox: the container is the sandbox.
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends chromium fonts-liberation; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
ENV CHROME_PATH=/usr/bin/chromium \
    PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium \
    PUPPETEER_SKIP_DOWNLOAD=true \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
