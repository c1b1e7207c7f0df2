# edge-revoke: every target installs what it needs, idempotently, and can run on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -e -o pipefail -c
.DEFAULT_GOAL := help
# A recipe that fails part-way must not leave a target that looks up to date.
.DELETE_ON_ERROR:

# The wasm-bindgen CLI must match the crate pinned in Cargo.toml exactly.
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
WASM := target/wasm32-unknown-unknown/release/edge_revoke.wasm
CARGO_BIN := $(HOME)/.cargo/bin
# node_modules/.bin comes first: after `npm ci` every recipe runs the project's own Node 22 (the
# `node` package from the npm registry), wrangler, workerd and the rest, whatever the machine has.
export PATH := $(CARGO_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
NODE_VERSION := $(shell sed -n 's/^    "node": "\([0-9.]*\)",\{0,1\}$$/\1/p' package.json)
VENV := .venv
PY_REQUIREMENTS := tests/clients/requirements.txt

.PHONY: help dev test build package deploy bench freshness deps test-native test-worker test-clients \
        test-browser test-package test-deps test-soak test-logs rust-deps node-deps py-deps chromium wrk \
        deny-deps fuzz fuzz-deps fuzz-corpus soak clean

help:
	@echo "make dev     run the Worker locally on http://127.0.0.1:8787 (local KV, demo pool)"
	@echo "make test    every test tier: native, workerd, boto3 + AWS SDK v3, Chromium"
	@echo "make build   build the wasm package into pkg/"
	@echo "make package the npm package edge-revoke, packed into target/npm/ (npm pack)"
	@echo "make deploy  wrangler deploy (needs a Cloudflare account; see README)"
	@echo "make bench   beside a jose reference: per-token cost, latency, load, CPU, cold start, KV reads, size, freshness"
	@echo "make freshness  the multi-location harness: how fast every location refuses a signed-out token"
	@echo "make fuzz    every fuzz target for FUZZ_SECONDS each (default 60); fails on a crash"
	@echo "make soak    SOAK_SECONDS (default 60) of load with every verdict checked, the fault matrix, a flood of SOAK_FLOOD (1 000 000)"
	@echo "make fuzz-corpus  regenerate the fuzz seeds and minimise them, with what runs found, into fuzz/corpus/"

# --- installs -----------------------------------------------------------------------------------

rust-deps:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@$(SMALL_READY) || rustup toolchain install $(SMALL_TOOLCHAIN) --profile minimal --component rust-src \
	  || echo "$(SMALL_TOOLCHAIN) with rust-src could not be installed: make build falls back to stable (a larger module)"
	@if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)"; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about two minutes, once)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

# npm ci only when the lockfile changed since the last install. The first install on a fresh
# machine runs on the machine's Node (any recent one; wrangler's "needs Node 22" engine notes are
# expected then); it installs Node $(NODE_VERSION), which runs everything after it.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.installed
	@[ "$$(node --version)" = "v$(NODE_VERSION)" ] || { \
	  echo "node on PATH is $$(node --version) ($$(command -v node)), not the pinned v$(NODE_VERSION)"; \
	  echo "remove node_modules and run make again"; exit 1; }

$(VENV)/.installed: $(PY_REQUIREMENTS)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(PY_REQUIREMENTS)
	@touch $@

py-deps: $(VENV)/.installed

chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# make bench's load generator (gated requests under load, beside the jose reference).
wrk:
	@command -v wrk >/dev/null || { \
	  echo "installing Debian's wrk for make bench"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

deps: rust-deps node-deps

# cargo-deny for the dependency check in `make test`. `--locked` first; without it if a locked
# dependency cannot be had.
CARGO_DENY_VERSION := 0.20.2
deny-deps:
	@if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $(CARGO_DENY_VERSION)"; then \
	  echo "installing cargo-deny $(CARGO_DENY_VERSION) (a few minutes, once)"; \
	  cargo install cargo-deny --version $(CARGO_DENY_VERSION) --locked \
	    || cargo install cargo-deny --version $(CARGO_DENY_VERSION); \
	fi

# Only `make fuzz` needs these: a nightly toolchain (libFuzzer's instrumentation) and cargo-fuzz.
FUZZ_TOOLCHAIN := nightly
CARGO_FUZZ_VERSION := 0.13.2
fuzz-deps:
	@rustup toolchain list | grep -q '^$(FUZZ_TOOLCHAIN)-' || rustup toolchain install $(FUZZ_TOOLCHAIN) --profile minimal
	@if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $(CARGO_FUZZ_VERSION)"; then \
	  echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION) (a minute, once)"; \
	  cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked \
	    || cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION); \
	fi

# --- build --------------------------------------------------------------------------------------

# The module is built on a pinned nightly that rebuilds the standard library for it
# (-Zbuild-std) with panics compiled to a bare trap (panic=immediate-abort): no panic messages,
# locations or their formatting code in the module, about 7% less gzip. Nothing in src/ panics
# (a trap is the guard's to handle either way), so behaviour is the same. Where that toolchain
# cannot be installed (offline), `make build` uses stable: the same code, a larger module.
SMALL_TOOLCHAIN := nightly-2026-05-20
SMALL_RUSTFLAGS := -Zunstable-options -Cpanic=immediate-abort
SMALL_CARGOFLAGS := -Zbuild-std=std,panic_abort
SMALL_READY := rustup component list --toolchain $(SMALL_TOOLCHAIN) --installed 2>/dev/null | grep -q '^rust-src'

# The wasm package (JS glue, .wasm, .d.ts) for Workers and browsers alike (--target web).
# --experimental-reset-state-function lets the JS entry re-instantiate after a trap.
# cargo rewrites the .wasm only when it changed, so the glue and wasm-opt run only then.
build: deps
	@if $(SMALL_READY); then \
	  echo 'RUSTFLAGS="$(SMALL_RUSTFLAGS)" cargo +$(SMALL_TOOLCHAIN) build --release --target wasm32-unknown-unknown $(SMALL_CARGOFLAGS)'; \
	  RUSTFLAGS="$(SMALL_RUSTFLAGS)" cargo +$(SMALL_TOOLCHAIN) build --release --target wasm32-unknown-unknown $(SMALL_CARGOFLAGS); \
	else \
	  echo "$(SMALL_TOOLCHAIN) with rust-src is not installed: building on stable (same code, a larger module)"; \
	  cargo build --release --target wasm32-unknown-unknown; \
	fi
	@$(MAKE) --no-print-directory www/pkg/edge_revoke_bg.wasm

# -Oz until nothing shrinks more; Rust's wasm never uses the lowest 1 KiB of memory (its stack
# and data start at 1 MiB), which lets wasm-opt fold constant addresses into loads and stores.
WASM_OPT_FLAGS := -Oz --converge --low-memory-unused --strip-producers

# The console loads the same package in the browser, so it is copied into the static assets.
pkg/edge_revoke_bg.wasm: $(WASM)
	wasm-bindgen --target web --experimental-reset-state-function --out-dir pkg $(WASM)
	wasm-opt $(WASM_OPT_FLAGS) pkg/edge_revoke_bg.wasm -o pkg/edge_revoke_bg.wasm
	@ls -l pkg/edge_revoke_bg.wasm | awk '{print "pkg/edge_revoke_bg.wasm:", $$5, "bytes"}'

www/pkg/edge_revoke_bg.wasm: pkg/edge_revoke_bg.wasm
	mkdir -p www/pkg && cp pkg/edge_revoke.js pkg/edge_revoke_bg.wasm pkg/edge_revoke.d.ts www/pkg/

# --- the npm package ----------------------------------------------------------------------------

# `edge-revoke` on npm: the Worker entry and the wasm package, staged from the build with the
# manifest in npm/ (the root package.json is the private development tool chain), then packed.
# The files keep their repository paths, so src/entry.js imports ../pkg/ unchanged.
PACKAGE_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
PACKAGE_STAGE := target/npm/edge-revoke
TARBALL := target/npm/edge-revoke-$(PACKAGE_VERSION).tgz
PACKAGE_SOURCES := npm/package.json npm/README.md LICENSE CHANGELOG.md src/entry.js src/entry.d.ts \
        src/guard.js pkg/edge_revoke.js pkg/edge_revoke.d.ts pkg/edge_revoke_bg.wasm

package: build
	@$(MAKE) --no-print-directory $(TARBALL)

$(TARBALL): $(PACKAGE_SOURCES)
	@[ "$$(node -p 'require("./npm/package.json").version')" = "$(PACKAGE_VERSION)" ] || { \
	  echo "npm/package.json's version is not Cargo.toml's $(PACKAGE_VERSION)"; exit 1; }
	@grep -q '^## $(PACKAGE_VERSION)\b' CHANGELOG.md || { echo "CHANGELOG.md has no section for $(PACKAGE_VERSION)"; exit 1; }
	rm -rf $(PACKAGE_STAGE) && mkdir -p $(PACKAGE_STAGE)/src $(PACKAGE_STAGE)/pkg
	cp npm/package.json npm/README.md LICENSE CHANGELOG.md $(PACKAGE_STAGE)/
	cp src/entry.js src/entry.d.ts src/guard.js $(PACKAGE_STAGE)/src/
	cp pkg/edge_revoke.js pkg/edge_revoke.d.ts pkg/edge_revoke_bg.wasm $(PACKAGE_STAGE)/pkg/
	cd $(PACKAGE_STAGE) && npm pack --pack-destination .. 2>&1 | grep -E 'filename|package size|unpacked size|total files'

# --- run ----------------------------------------------------------------------------------------

dev: build
	node scripts/dev.mjs

deploy: build
	npx wrangler deploy

# The proxy's table needs moto from the venv; the load test needs wrk.
bench: build wrk py-deps
	node bench/run.mjs
	node bench/proxy.mjs
	cargo run --quiet --example revocation_filter

# 3 simulated locations × 2 isolates in real workerd, KV lagging 60 s, one revocation authority
# (killed mid-run), then KV alone: how long after a sign-out every isolate refuses (~4 minutes).
freshness: build
	node scripts/freshness.mjs

# --- tests --------------------------------------------------------------------------------------

# Every tier's Worker log lines are collected in tests/output/logs/ and checked last (test-logs).
test: package
	@node -p '`tool chain: node $${process.version}, wrangler $${require("wrangler/package.json").version}, workerd $${require("workerd/package.json").version}`'
	rm -rf tests/output/logs
	$(MAKE) --no-print-directory test-deps test-native test-worker test-soak test-clients test-browser test-package test-logs
	@echo "all test tiers passed"

# The fuzz targets are checked to compile (stable is enough for that) so they follow the crate.
test-native:
	cargo test --quiet
	cargo check --quiet --manifest-path fuzz/Cargo.toml --bins --examples

# Licences, duplicate versions and sources of every dependency (deny.toml). Advisories need the
# RustSec database from GitHub, which this machine cannot reach: see deny.toml.
test-deps: deny-deps
	cargo deny --locked check bans licenses sources

test-worker: node-deps
	node --test --test-concurrency=1 "tests/worker/*.test.mjs" "tests/bench/*.test.mjs" "tests/freshness/*.test.mjs"

# The short soak: load with every verdict checked and sign-outs during it, the fault matrix, a
# flood against the caches' bounds, the JWKS stampede; and the log check shown to catch a leak.
test-soak: node-deps
	node --test --test-concurrency=1 "tests/soak/*.test.mjs"

# No token, password, secret key, username or email in any log line the tiers collected.
test-logs: node-deps
	node scripts/check-logs.mjs

# boto3 and the AWS SDK for JavaScript v3, unmodified, against the Worker (Miniflare via
# tests/clients/serve.mjs, and once through scripts/dev.mjs, exactly as `make dev` runs it);
# proxied pools against moto's Cognito (tests/clients/moto_upstream.py, from the venv).
test-clients: py-deps node-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/clients
	node --test --test-concurrency=1 "tests/clients/*.test.mjs"

# The console in Debian's Chromium (playwright-core) against the Worker as `make dev` runs it,
# and with a proxied pool in front of moto (from the venv).
test-browser: chromium node-deps py-deps
	node --test --test-concurrency=1 "tests/browser/*.test.mjs"

# The packed tarball installed into the examples, bundled by wrangler and run in workerd; the
# browser example in Chromium.
test-package: package chromium
	node --test --test-concurrency=1 "tests/package/*.test.mjs"

# --- soak ---------------------------------------------------------------------------------------

# The Worker in workerd under load with every verdict checked, sign-outs during the run, the fault
# matrix and a flood (scripts/soak.mjs); the short version is test-soak. Fails on a wrong verdict,
# an unexpected 5xx or a cache past its bound. Uses both cores for minutes: run it on purpose.
SOAK_SECONDS ?= 60
SOAK_FLOOD ?= 1000000
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_FLOOD=$(SOAK_FLOOD) node scripts/soak.mjs

# --- fuzzing ------------------------------------------------------------------------------------

# cargo fuzz (libFuzzer) targets in fuzz/, one after another, each for FUZZ_SECONDS, from the
# minimised corpus in fuzz/corpus/<target>/ (read only; what a run finds goes to fuzz/work/).
# A crash, a failed check or an input slower than 10 s stops the run with the input saved in
# fuzz/artifacts/<target>/. FUZZ_SANITIZER=address adds ASan (about half the speed; the crate
# and the fuzz harness have no unsafe code). One process each: the machine is shared.
FUZZ_SECONDS ?= 60
FUZZ_SANITIZER ?= none
FUZZ_TARGETS := jws jwks sigv4 api config refresh_jwe srp differential ssf
FUZZ := cargo +$(FUZZ_TOOLCHAIN) fuzz

fuzz: fuzz-deps
	$(FUZZ) build -s $(FUZZ_SANITIZER)
	@for target in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$target for $(FUZZ_SECONDS) s"; \
	  mkdir -p fuzz/work/$$target; \
	  if ! $(FUZZ) run -s $(FUZZ_SANITIZER) $$target fuzz/work/$$target fuzz/corpus/$$target -- \
	      -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	      > fuzz/work/$$target.log 2>&1; then \
	    tail -n 40 fuzz/work/$$target.log; echo "fuzz: $$target failed (log: fuzz/work/$$target.log)"; exit 1; \
	  fi; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' fuzz/work/$$target.log; \
	done
	@echo "every fuzz target ran $(FUZZ_SECONDS) s without a crash"

# The seeds (fuzz/examples/seed.rs: ../shared/vectors and the test fixtures), the committed
# corpus and what runs found in fuzz/work/, merged and minimised into fuzz/corpus/.
fuzz-corpus: fuzz-deps
	cargo +$(FUZZ_TOOLCHAIN) run --release --manifest-path fuzz/Cargo.toml --example seed
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target fuzz/work/$$target; \
	  find fuzz/seeds/$$target fuzz/work/$$target -type f -exec cp -n -t fuzz/corpus/$$target {} +; \
	  $(FUZZ) cmin -s $(FUZZ_SANITIZER) $$target fuzz/corpus/$$target -- -timeout=10 > fuzz/work/$$target-cmin.log 2>&1 \
	    || { tail -n 20 fuzz/work/$$target-cmin.log; exit 1; }; \
	  echo "$$target: $$(ls fuzz/corpus/$$target | wc -l) inputs, $$(du -sh fuzz/corpus/$$target | cut -f1)"; \
	done

clean:
	rm -rf pkg www/pkg target/wasm32-unknown-unknown target/npm .wrangler tests/output \
	  examples/*/node_modules examples/*/.wrangler
