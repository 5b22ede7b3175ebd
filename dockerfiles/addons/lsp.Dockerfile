# ---- add-on lsp: the TypeScript and Python language servers
# (typescript-language-server with typescript, pyright), from npm, install
# scripts off.
ARG TYPESCRIPT_VERSION=5.9.3
ARG TYPESCRIPT_LANGUAGE_SERVER_VERSION=4.4.1
ARG PYRIGHT_VERSION=1.1.414
RUN /tmp/ai-sandbox-build/npm-tool.sh typescript "$TYPESCRIPT_VERSION" \
 && /tmp/ai-sandbox-build/npm-tool.sh typescript-language-server "$TYPESCRIPT_LANGUAGE_SERVER_VERSION" \
 && /tmp/ai-sandbox-build/npm-tool.sh pyright "$PYRIGHT_VERSION"
