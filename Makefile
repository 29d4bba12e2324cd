SHELL := /bin/bash
GO    ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test test-unit demo bench fuzz lint infra-up infra-down clean

build:        ## the sluice binary in bin/
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/sluice ./cmd/sluice

test:         ## unit + integration tests against the local stand-ins; always torn down
	./scripts/with-infra.sh ./scripts/test.sh

test-unit:    ## nothing started; integration tests skip themselves
	$(GO) test ./...

demo: build   ## a real task end to end against the local stand-ins
	./scripts/with-infra.sh ./scripts/demo.sh

bench:        ## Go benchmarks and end-to-end runs on generated data (see BENCHMARKS.md)
	./scripts/with-infra.sh ./scripts/bench.sh

fuzz:         ## each fuzz target for FUZZTIME
	./scripts/fuzz.sh $${FUZZTIME:-20s}

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

infra-up:     ## leave the stand-ins running; then: source .infra/env
	./scripts/infra-up.sh

infra-down:
	./scripts/infra-down.sh

clean:
	rm -rf bin
