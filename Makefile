# kindlab — see README.md. Every target works on a fresh Debian/Ubuntu machine;
# the ones that install Docker or build images need root (sudo is used if you are not).
SHELL := /bin/bash
GO ?= go
BIN := bin/kindlab
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -E env PATH="$$PATH")
# Use the module proxy alone: a module it lacks fails at once instead of reaching for its origin.
export GOPROXY := $(shell $(GO) env GOPROXY | sed 's/,direct$$//; s/|direct$$//')
E2E_TIMEOUT ?= 80m

.PHONY: all build run setup images test test-unit test-e2e bench lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/kindlab

# The main job: Docker, images, a Ready cluster (reused if it exists), then the lab UI.
run: build
	$(SUDO) $(BIN)

# Install and start Docker (and what image builds need); idempotent.
setup: build
	$(SUDO) $(BIN) doctor --fix

images: build
	$(SUDO) $(BIN) images build

# The unit tier runs with the race detector (cgo: gcc is on every machine kindlab
# supports; ~2.5 min the first time, for the race-instrumented build cache).
test-unit:
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -short -count=1 ./...

# End-to-end against a real kind cluster: builds images (cached), creates clusters;
# the UI test drives the real binary in tmux. With the race detector too: these
# tests drive lab sessions (watches, solutions, resets) against real clusters.
test-e2e: setup
	@command -v tmux >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux; }
	$(SUDO) env CGO_ENABLED=1 $(GO) test -race -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v ./internal/e2e/...

test: test-unit test-e2e

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./internal/check/ ./internal/tui/
	$(SUDO) $(GO) test -tags e2e -run '^$$' -bench . -benchtime 3x -timeout 60m ./internal/e2e/...

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./internal/e2e/...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags e2e ./internal/e2e/...

clean:
	rm -rf bin
