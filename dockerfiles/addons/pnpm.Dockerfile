# ---- add-on pnpm: the pnpm package manager, from npm, install scripts off
# (9.x runs on Node 18 and later).
ARG PNPM_VERSION=9.15.9
RUN /tmp/ai-sandbox-build/npm-tool.sh pnpm "$PNPM_VERSION"
