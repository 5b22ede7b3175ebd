# ---- add-on build-tools: a C/C++ toolchain and Python headers, for native
# modules that have no prebuilt binary.
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends build-essential pkg-config python3-dev; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
