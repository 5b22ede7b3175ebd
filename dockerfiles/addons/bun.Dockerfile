# ---- add-on bun: the Bun runtime and package manager (bun, bunx), from its
# npm platform package: the prebuilt binary, no install script run (the
# baseline build on x64 CPUs without AVX2).
ARG BUN_VERSION=1.4.5
RUN /tmp/ai-sandbox-build/npm-native.sh bun "@oven/bun-linux-{aarch}" "$BUN_VERSION" bin/bun @oven/bun-linux-x64-baseline \
 && ln -sf bun /usr/local/bin/bunx
