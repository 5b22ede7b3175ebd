# ---- add-on pup: Datadog's Pup CLI (`pup`: metrics, logs, monitors, traces),
# the static release binary checked against a pinned SHA-256 (the original
# built it with an unpinned `cargo install --git`). The dd-pup skill that
# teaches agents to use it is installed into their homes by ai-sandbox.
# Keys: DD_API_KEY, DD_APP_KEY, DD_SITE through tools.env in config.json.
ARG PUP_VERSION=1.13.0
ARG PUP_SHA256_AMD64=f105cc370ac59cac076b6c571c7259832b532b6200f664809b77c355bed22225
ARG PUP_SHA256_ARM64=7ba2a280abef83aba32796e2933beffc9f7e4d1ce1e987911bbcafd8d4453bb4
RUN /tmp/ai-sandbox-build/binary-tool.sh pup "https://github.com/DataDog/pup/releases/download/v${PUP_VERSION}/pup_${PUP_VERSION}_Linux_{relarch}.tar.gz" "$PUP_SHA256_AMD64" "$PUP_SHA256_ARM64" pup PUP_SHA256
