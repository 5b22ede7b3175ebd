# ---- add-on rtk: the RTK token optimizer, a release binary checked against a
# pinned SHA-256 (pass --build-arg RTK_SHA256_AMD64=… until one is pinned here).
ARG RTK_VERSION=0.23.0
ARG RTK_SHA256_AMD64=
ARG RTK_SHA256_ARM64=
RUN /tmp/ai-sandbox-build/binary-tool.sh rtk "https://github.com/rtk-ai/rtk/releases/download/v${RTK_VERSION}/rtk-{uname}-unknown-linux-musl.tar.gz" "$RTK_SHA256_AMD64" "$RTK_SHA256_ARM64" rtk RTK_SHA256
