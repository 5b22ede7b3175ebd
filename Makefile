# ai-sandbox — build, test and benchmark.
GO      ?= go
PREFIX  ?= /usr/local
BIN     := bin/ai-sandbox
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/ai-sandbox/ai-sandbox/internal/cli.Version=$(VERSION)
# Release tools, pinned; `go run pkg@version` keeps the built tool in the Go build cache.
GORELEASER ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1
ACTIONLINT ?= $(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
# GoReleaser wants a git remote; in a clone without one (a local or CI checkout
# made without origin) it falls back to commit "none" and no commit date, so
# the snapshot gets the upstream URL through the environment (git config is untouched).
RELEASE_GIT_ENV = $(if $(shell git remote 2>/dev/null),,GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/ai-sandbox/ai-sandbox.git)

.PHONY: all build install test test-unit test-e2e test-base-image bench release-snapshot release-check vet fmt clean

all: build

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ai-sandbox

## install: copy the binary to $(PREFIX)/bin
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ai-sandbox

## test: everything — unit, golden, CLI scripts and end-to-end against the real engine
test: vet
	$(GO) test -count=1 -timeout 45m ./...

## test-unit: unit, golden and CLI-script tests only (no Docker engine needed)
test-unit:
	$(GO) test -count=1 ./internal/... ./cmd/...

## test-e2e: end-to-end tests against the Docker engine
test-e2e:
	$(GO) test -count=1 -timeout 45m ./e2e/...

## test-base-image: the local Debian image the end-to-end tests run (no registry needed)
test-base-image:
	scripts/test-base-image.sh

## bench: launch latency, wrapper overhead and footprint (writes bench/results/)
bench:
	scripts/bench.sh

## release-snapshot: the whole release (4 binaries, archives, checksums, SBOMs) in dist/, unsigned and unpublished, then checked
release-snapshot:
	$(RELEASE_GIT_ENV) $(GORELEASER) release --snapshot --clean --skip=sign
	scripts/check-release.sh dist

## release-check: validate .goreleaser.yaml and the GitHub workflows (actionlint)
release-check:
	$(GORELEASER) check
	$(ACTIONLINT)

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
