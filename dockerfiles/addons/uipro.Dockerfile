# ---- add-on uipro: the UI/UX Pro Max CLI (`uipro`, npm uipro-cli), which
# installs the UI/UX Pro Max skill into a project for the agents; install
# scripts off.
ARG UIPRO_VERSION=2.2.3
RUN /tmp/ai-sandbox-build/npm-tool.sh uipro-cli "$UIPRO_VERSION"
