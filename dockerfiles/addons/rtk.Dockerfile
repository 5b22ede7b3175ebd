# ---- add-on rtk: the RTK token optimizer (`rtk`), the release binary checked
# against a pinned SHA-256 (static musl on amd64; RTK publishes a glibc build
# for arm64). The rtk and rtk-setup skills are installed into the agents'
# homes by ai-sandbox.
ARG RTK_VERSION=0.50.0
ARG RTK_SHA256_AMD64=bc2b8902b0d9c796c82ef45f16ae2307e17757afeca5ee156235a3dc7bda5f89
ARG RTK_SHA256_ARM64=d1cc49dfa2cd443fc32625444b59fe616b6c80478cca210985118347174dd758
RUN /tmp/ai-sandbox-build/binary-tool.sh rtk "https://github.com/rtk-ai/rtk/releases/download/v${RTK_VERSION}/rtk-x86_64-unknown-linux-musl.tar.gz|https://github.com/rtk-ai/rtk/releases/download/v${RTK_VERSION}/rtk-aarch64-unknown-linux-gnu.tar.gz" "$RTK_SHA256_AMD64" "$RTK_SHA256_ARM64" rtk RTK_SHA256
