# ---- add-on go: the Go toolchain from the Go module proxy (the module
# golang.org/toolchain, checked against a pinned SHA-256), with sqlc, goose,
# golangci-lint and gopls built by go install at pinned versions (cgo off:
# sqlc parses PostgreSQL with its WebAssembly parser). No cache is left in
# the layer; GOPATH and the caches are the sandbox home's.
ARG GO_VERSION=1.26.8
ARG GO_SHA256_AMD64=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
ARG GO_SHA256_ARM64=02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99
ARG GOPROXY=https://proxy.golang.org
ARG SQLC_VERSION=1.31.1
ARG PRESSLY_GOOSE_VERSION=3.30.0
ARG GOLANGCI_LINT_VERSION=2.15.0
ARG GOPLS_VERSION=0.23.0
RUN /tmp/ai-sandbox-build/go-toolchain.sh "$GO_VERSION" "$GO_SHA256_AMD64" "$GO_SHA256_ARM64" "$GOPROXY" \
      "github.com/sqlc-dev/sqlc/cmd/sqlc@v$SQLC_VERSION" \
      "github.com/pressly/goose/v3/cmd/goose@v$PRESSLY_GOOSE_VERSION" \
      "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v$GOLANGCI_LINT_VERSION" \
      "golang.org/x/tools/gopls@v$GOPLS_VERSION"
