# ---- add-on rust: Rust and Cargo from Debian (rustc-web and cargo-web: Rust
# 1.85, which Debian 12 keeps current for its browsers; plain rustc is 1.63).
# Crates that build C code want the build-tools add-on too. CARGO_HOME is
# the sandbox home's (~/.cargo).
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends rustc-web cargo-web; \
    rm -rf /usr/share/doc/rust* /usr/share/doc/cargo*; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
