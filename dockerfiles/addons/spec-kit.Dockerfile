# ---- add-on spec-kit: GitHub Spec Kit's `specify` CLI, from PyPI with pipx.
ARG SPEC_KIT_VERSION=1.2.3
RUN /tmp/ai-sandbox-build/pipx-tool.sh specify-cli "$SPEC_KIT_VERSION"
