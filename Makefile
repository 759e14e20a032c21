# A thin wrapper over CMake. `make run` and `make test` each do all the set-up first: missing
# Debian packages are installed (through sudo when not root), then eddy is configured and built.
#
#   make run                          the main job: chaos.json against eddy-node, with the verdict
#                                     (builds only eddy and eddy-node, quietly)
#   make test                         every test (ctest: Criterion suites and end-to-end runs)
#   make test SANITIZE=address,undefined   the same under ASan and UBSan (in build-address-undefined/)
#   make bench                        the benchmark table (README records its figures)
#   make fuzz                         every libFuzzer target for a bounded time
#   make install PREFIX=/usr/local    eddy and eddy-node into PREFIX/bin, their man pages into
#                                     PREFIX/share/man/man1, the clock libraries into PREFIX/lib/eddy

SANITIZE ?=
WERROR ?= ON
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
comma := ,
BUILD ?= build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
CMAKE_BUILD_TYPE ?= RelWithDebInfo

.PHONY: all deps configure build test run install bench fuzz clean format

FUZZ_SECONDS ?= 600

all: build

deps:
	@./.ci/deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) -DEDDY_WERROR=$(WERROR) \
		-DEDDY_SANITIZE=$(SANITIZE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Only the two programs and the clock libraries, and quietly: the build's output goes to a log,
# shown whole if the build fails.
run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target eddy eddy-node >$(BUILD)/make-run.log 2>&1 || \
		{ cat $(BUILD)/make-run.log; echo "make run: the build failed (log: $(BUILD)/make-run.log)" >&2; exit 1; }
	@echo "eddy test --scenario scenarios/chaos.json --bin $(BUILD)/bin/eddy-node"
	@$(BUILD)/bin/eddy test --scenario scenarios/chaos.json --bin $(BUILD)/bin/eddy-node

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	python3 tests/bench/bench.py $(BUILD)

fuzz:
	@./.ci/deps fuzz
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDDY_FUZZ=ON \
		-DEDDY_TESTS=OFF -DEDDY_WERROR=$(WERROR) >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	./tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-*

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
