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
        test-browser test-package rust-deps node-deps py-deps chromium clean

help:
	@echo "make dev     run the Worker locally on http://127.0.0.1:8787 (local KV, demo pool)"
	@echo "make test    every test tier: native, workerd, boto3 + AWS SDK v3, Chromium"
	@echo "make build   build the wasm package into pkg/"
	@echo "make package the npm package edge-revoke, packed into target/npm/ (npm pack)"
	@echo "make deploy  wrangler deploy (needs a Cloudflare account; see README)"
	@echo "make bench   latency beside a jose reference, KV reads per request, size, freshness: tables and SVG charts"
	@echo "make freshness  the multi-location harness: how fast every location refuses a signed-out token"

# --- installs -----------------------------------------------------------------------------------

rust-deps:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
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

deps: rust-deps node-deps

# --- build --------------------------------------------------------------------------------------

# The wasm package (JS glue, .wasm, .d.ts) for Workers and browsers alike (--target web).
# --experimental-reset-state-function lets the JS entry re-instantiate after a trap.
# cargo rewrites the .wasm only when it changed, so the glue and wasm-opt run only then.
build: deps
	cargo build --release --target wasm32-unknown-unknown
	@$(MAKE) --no-print-directory www/pkg/edge_revoke_bg.wasm

# The console loads the same package in the browser, so it is copied into the static assets.
pkg/edge_revoke_bg.wasm: $(WASM)
	wasm-bindgen --target web --experimental-reset-state-function --out-dir pkg $(WASM)
	wasm-opt -Oz pkg/edge_revoke_bg.wasm -o pkg/edge_revoke_bg.wasm
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

bench: build
	node bench/run.mjs

# 3 simulated locations × 2 isolates in real workerd, KV lagging 60 s, one revocation authority
# (killed mid-run), then KV alone: how long after a sign-out every isolate refuses (~4 minutes).
freshness: build
	node scripts/freshness.mjs

# --- tests --------------------------------------------------------------------------------------

test: package
	@node -p '`tool chain: node $${process.version}, wrangler $${require("wrangler/package.json").version}, workerd $${require("workerd/package.json").version}`'
	$(MAKE) --no-print-directory test-native test-worker test-clients test-browser test-package
	@echo "all test tiers passed"

test-native:
	cargo test --quiet

test-worker: node-deps
	node --test --test-concurrency=1 "tests/worker/*.test.mjs" "tests/bench/*.test.mjs" "tests/freshness/*.test.mjs"

# boto3 and the AWS SDK for JavaScript v3, unmodified, against the Worker (Miniflare via
# tests/clients/serve.mjs, and once through scripts/dev.mjs, exactly as `make dev` runs it).
test-clients: py-deps node-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/clients
	node --test --test-concurrency=1 "tests/clients/*.test.mjs"

# The console in Debian's Chromium (playwright-core) against the Worker as `make dev` runs it.
test-browser: chromium node-deps
	node --test --test-concurrency=1 "tests/browser/*.test.mjs"

# The packed tarball installed into the examples, bundled by wrangler and run in workerd; the
# browser example in Chromium.
test-package: package chromium
	node --test --test-concurrency=1 "tests/package/*.test.mjs"

clean:
	rm -rf pkg www/pkg target/wasm32-unknown-unknown target/npm .wrangler tests/output \
	  examples/*/node_modules examples/*/.wrangler
