# ---- add-on playwright-mcp: the Playwright MCP server, run against the
# container's Chromium:
#   playwright-mcp --headless --isolated --browser chromium --executable-path /usr/bin/chromium --no-sandbox
ARG PLAYWRIGHT_MCP_VERSION=0.0.83
RUN /tmp/ai-sandbox-build/npm-tool.sh @playwright/mcp "$PLAYWRIGHT_MCP_VERSION"
