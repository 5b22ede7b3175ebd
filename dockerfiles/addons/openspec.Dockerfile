# ---- add-on openspec: the OpenSpec CLI, from npm, install scripts off.
ARG OPENSPEC_VERSION=1.13.2
RUN /tmp/ai-sandbox-build/npm-tool.sh @fission-ai/openspec "$OPENSPEC_VERSION"
