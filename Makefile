# The two commands a newcomer needs: `make run` and `make test`. Both install what is
# missing first (deploy/local/install.sh), so they work on a brand-new machine.
SWIFT ?= swift
CONFIG ?= config/sluice.yaml
# Release builds for everything: the tests push hundreds of thousands of events and the
# benchmarks measure throughput, which a debug build would distort.
CONFIGURATION ?= release
SWIFT_FLAGS ?= -c $(CONFIGURATION)
BIN = .build/$(CONFIGURATION)

.PHONY: run test deps build stack-up stack-down migrate bench clean

deps:
	@bash deploy/local/install.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS) --product sluice

stack-up: deps
	@bash deploy/local/stack.sh up

stack-down:
	@bash deploy/local/stack.sh down

migrate: build stack-up
	$(BIN)/sluice migrate --config $(CONFIG)

run: migrate
	exec $(BIN)/sluice run --config $(CONFIG)

# Tests use @testable imports, which a release build allows only with -enable-testing.
TEST_FLAGS ?= $(SWIFT_FLAGS) -Xswiftc -enable-testing

test: deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	SLUICE_BIN_DIR=$(abspath $(BIN)) SLUICE_REPO_ROOT=$(abspath .) \
		$(SWIFT) test $(TEST_FLAGS) --skip-build

bench: deps
	$(SWIFT) build -c release --product SluiceBenchmarks
	.build/release/SluiceBenchmarks

clean: stack-down
	rm -rf .build .run
