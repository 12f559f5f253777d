# ecs-rebalancer. `make test` is what CI runs (through .ci/run).
SHELL := /bin/bash
export GOTOOLCHAIN := local

GO_FILES = $(shell git ls-files --cached --others --exclude-standard '*.go')
BOOTSTRAP := build/rebalancer/bootstrap

.PHONY: test fmt-check vet unit build replay bench cover clean

test: fmt-check vet unit

# gofmt over the files git knows (tracked or new and not ignored): `gofmt -l .`
# would descend into tool directories such as .tools/node_modules.
fmt-check:
	@out=$$(gofmt -l $(GO_FILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

# The simulator serves concurrent callers (the local endpoint), so it also runs under
# the race detector.
unit:
	go test ./...
	go test -race ./lambda/sim/

# The Lambda binary for provided.al2023 on arm64 (SPEC §10).
build:
	mkdir -p $(dir $(BOOTSTRAP))
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BOOTSTRAP) ./lambda/cmd/rebalancer

# The headline scenario: three loaded instances and one that just joined (SPEC §9).
replay:
	go run ./lambda/cmd/replay -cluster testdata/snapshots/headline.json testdata/events/headline-join.json

bench:
	go test -run '^$$' -bench . -benchmem ./lambda/...

cover:
	go test -cover ./lambda/sim/...

clean:
	rm -rf build
