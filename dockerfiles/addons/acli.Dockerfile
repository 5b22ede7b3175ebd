# ---- add-on acli: the Atlassian CLI (Jira, Confluence), Atlassian's release
# archive checked against a pinned SHA-256 (no apt repository or key is added
# to the image). No login is passed in: `acli jira auth login --token` with a
# token of your choice, given through tools.env in config.json.
ARG ACLI_VERSION=1.3.39-stable
ARG ACLI_SHA256_AMD64=7e0fb4dbedb1bb9100f8dc854d31d43c4b7c2c740e4cfd83b750760f4957b5a5
ARG ACLI_SHA256_ARM64=afb3865b4ddf27e4a8e89eae59849632e4bec1754344b10d74eef4332456fa5a
RUN /tmp/ai-sandbox-build/binary-tool.sh acli "https://acli.atlassian.com/linux/${ACLI_VERSION}/acli_${ACLI_VERSION}_linux_{goarch}.tar.gz" "$ACLI_SHA256_AMD64" "$ACLI_SHA256_ARM64" acli ACLI_SHA256
