# ---- add-on playwright: the Playwright library and CLI, using the container's
# Chromium (launch with executablePath: process.env.CHROME_PATH); its browser
# download step is skipped.
ARG PLAYWRIGHT_VERSION=1.65.1
RUN /tmp/ai-sandbox-build/npm-tool.sh playwright "$PLAYWRIGHT_VERSION"
