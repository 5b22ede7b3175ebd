# ---- add-on chrome-devtools-mcp: the Chrome DevTools MCP server, run against
# the container's Chromium:
#   chrome-devtools-mcp --headless --isolated --executablePath /usr/bin/chromium --chrome-arg=--no-sandbox
ARG CHROME_DEVTOOLS_MCP_VERSION=1.11.0
RUN /tmp/ai-sandbox-build/npm-tool.sh chrome-devtools-mcp "$CHROME_DEVTOOLS_MCP_VERSION"
ENV CHROME_DEVTOOLS_MCP_NO_USAGE_STATISTICS=1
