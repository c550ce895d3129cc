# medrelay — see README.md. `make`, `make run`, `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build run test test-asan test-impaired soak fuzz clean bench-srtp bench bench-compare

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@scripts/run.sh

# The whole CTest suite: unit, fuzz-corpus replay, integration and interop
# (headless Chromium, aiortc) and the short impaired-network test. Long runs
# (soak, fuzzing, the impaired-network sweep) are not included.
test: build
	@scripts/deps.sh test
	@cd $(BUILD_DIR) && ctest --output-on-failure -LE 'soak|fuzz-long|bench-smoke|impaired-long' $(CTEST_ARGS)

# The unit, fuzz-corpus, integration and interop tests against a build with
# ASan and UBSan (LeakSanitizer on).
test-asan:
	@scripts/deps.sh test
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMEDRELAY_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		ctest --output-on-failure -L "unit|fuzz|integration|interop"

# Issue 15's full impaired-network sweep (root: network namespaces): Chromium
# clinic and expert through medrelay and peer to peer, 30 s windows at 0-10 %
# uplink and downlink loss, and an aiortc publisher; about 10 minutes. The
# table goes to tests/artifacts/impaired/impaired_sweep.md. The short variant
# (label impaired) is part of `make test`.
test-impaired: build
	@scripts/deps.sh test
	@cd $(BUILD_DIR) && ctest --output-on-failure -L '^impaired-long$$' $(CTEST_ARGS)

# Long runs outside `make test`: a ten-minute Chromium recording with its
# lip-sync check (about 15 minutes in all).
soak: build
	@scripts/deps.sh test
	@cd $(BUILD_DIR) && ctest --output-on-failure -L soak $(CTEST_ARGS)

# srtp_protect per packet (1200-byte payload, AES-CM and GCM) on each libsrtp2
# the build has: the one built on OpenSSL and the system's.
bench-srtp: build
	@set -e; for b in $(BUILD_DIR)/tests/bench/mr-srtp-bench-*; do [ ! -x "$$b" ] || "$$b"; done

# The load benchmark (tests/bench/README.md), not part of make test: a fresh
# build/medrelay and medrelay-bench in two network namespaces joined by a
# veth pair (root; BENCH_MODE=loopback for 127.0.0.1), one publisher
# (2.5 Mbit/s VP8 30 fps + Opus) and BENCH_SUBS subscribers, a list sweeps:
#   make bench BENCH_SUBS=10,50,100,200 BENCH_ARGS='--seconds 30 --rounds 3'
# Each run twice, with the peers of BENCH_CLIENTS in turn: synthetic (one
# frame size, ...) and real (as tests/bench/clients measured Chromium).
# Tables on stdout; CSV, plot and logs in tests/artifacts/bench/.
BENCH_MODE ?= veth
BENCH_SUBS ?= 50
BENCH_ARGS ?=
BENCH_CLIENTS ?= synthetic,real
bench: build
	@scripts/deps.sh bench
	@BUILD_DIR=$(BUILD_DIR) scripts/bench.sh --$(BENCH_MODE) --sweep $(BENCH_SUBS) --clients $(BENCH_CLIENTS) -- $(BENCH_ARGS)

# medrelay and Debian's Janus 1.1.2 (VideoRoom) side by side: the same veth
# pair, load and cipher (AES_CM_128_HMAC_SHA1_80), BENCH_ROUNDS rounds per
# subscriber count; Janus on Debian's libsrtp2 (NSS) and again on the one the
# build made on OpenSSL (BENCH_JANUS_SRTP), each with its default threads (a
# loop per handle) and with event_loops = 2 (BENCH_JANUS_LOOPS; 0: default).
# Prints the medians and the ratios medrelay/Janus and plots all in
# tests/artifacts/bench/bench-compare.png. Every round with both kinds of
# peers (BENCH_CLIENTS), compared like with like. About 35 s a run: 60 runs
# by default.
BENCH_COMPARE_SUBS ?= 50,200
BENCH_ROUNDS ?= 3
BENCH_JANUS_SRTP ?= system openssl
BENCH_JANUS_LOOPS ?= 0 2
BENCH_OUT ?= tests/artifacts/bench
bench-compare: build
	@scripts/deps.sh bench
	-@BUILD_DIR=$(BUILD_DIR) scripts/bench.sh --out $(BENCH_OUT) --target medrelay --sweep $(BENCH_COMPARE_SUBS) --clients $(BENCH_CLIENTS) -- --rounds $(BENCH_ROUNDS) $(BENCH_ARGS)
	-@for s in $(BENCH_JANUS_SRTP); do for l in $(BENCH_JANUS_LOOPS); do \
		BUILD_DIR=$(BUILD_DIR) scripts/bench.sh --out $(BENCH_OUT) --target janus --janus-srtp $$s --janus-loops $$l \
		--sweep $(BENCH_COMPARE_SUBS) --clients $(BENCH_CLIENTS) -- --rounds $(BENCH_ROUNDS) $(BENCH_ARGS); done; done
	@set -e; cd $(BENCH_OUT); csvs="bench-medrelay-veth.csv"; \
	for s in $(BENCH_JANUS_SRTP); do for l in $(BENCH_JANUS_LOOPS); do \
		c=bench-janus-veth; [ $$s = system ] || c=$$c-srtp-$$s; [ $$l = 0 ] || c=$$c-loops$$l; \
		csvs="$$csvs $$c.csv"; \
	done; done; \
	(head -n 1 bench-medrelay-veth.csv; for c in $$csvs; do tail -n +2 $$c; done) >bench-compare.csv; \
	gnuplot -e "csv='bench-compare.csv'; png='bench-compare.png'" $(CURDIR)/tests/bench/plot.gp; \
	python3 $(CURDIR)/tests/bench/compare.py $$csvs

# libFuzzer on every parser for FUZZ_SECONDS each (needs clang).
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
