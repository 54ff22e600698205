# Hallkiosk. `make run` starts kioskd on simulated devices; `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin
FUZZTIME ?= 30s
export CGO_ENABLED := 1

.PHONY: all build run test vet bench fuzz crashtest clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# Installs missing system packages, builds, and runs kioskd with simulated devices.
# Ctrl-C stops it and every simulator it started.
run:
	@scripts/deps.sh run
	@$(MAKE) --no-print-directory build
	@mkdir -p var
	exec $(BIN)/kioskd -sim

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory vet
	$(GO) test -count=1 ./...

# Benchmarks; results go to var/bench/ (not committed). See scripts/bench.sh.
bench:
	@scripts/deps.sh bench
	scripts/bench.sh

# Every fuzz target, FUZZTIME each (default 30s): `FUZZTIME=5m make fuzz`.
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# SIGKILLs kioskd 200 times while clients issue, call and finish tickets; checks that no
# acknowledged ticket was lost or doubled and the database is intact.
crashtest:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	$(BIN)/crashtest -kioskd $(BIN)/kioskd -kills 200

clean:
	rm -rf $(BIN)
