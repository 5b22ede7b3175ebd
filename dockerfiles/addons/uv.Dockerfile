# ---- add-on uv: Astral's uv and uvx (Python packages, virtual environments
# and Python versions), the static musl release build, checked against a
# pinned SHA-256. Its cache is the sandbox home's (~/.cache/uv).
ARG UV_VERSION=0.12.3
ARG UV_SHA256_AMD64=0643b9fb8c9fb27458e709ce6ff939695013c41975ff7b02d3f3b138d8d4bdb3
ARG UV_SHA256_ARM64=fa513fca1eb2913334c944fe9adbdd410274a1cbe8dd05d03699a9eb85311d4e
RUN /tmp/ai-sandbox-build/binary-tool.sh uv "https://github.com/astral-sh/uv/releases/download/${UV_VERSION}/uv-{uname}-unknown-linux-musl.tar.gz" "$UV_SHA256_AMD64" "$UV_SHA256_ARM64" uv UV_SHA256 uvx
