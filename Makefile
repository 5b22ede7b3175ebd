# ai-sandbox — build, test and benchmark.
GO      ?= go
PREFIX  ?= /usr/local
BIN     := bin/ai-sandbox
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/ai-sandbox/ai-sandbox/internal/cli.Version=$(VERSION)

.PHONY: all build install test test-unit test-e2e test-base-image bench vet fmt clean

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

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
