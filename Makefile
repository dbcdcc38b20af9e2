# The commands a newcomer needs; see README.md.
CARGO ?= cargo
# Where scripts/ensure-cargo-deny.sh installs cargo-deny, outside the clone.
TOOLS_DIR ?= $(HOME)/.cache/catalogue-gateway/tools
CARGO_DENY = PATH="$(TOOLS_DIR)/bin:$$PATH" $(CARGO) deny --locked

.PHONY: run test test-quick services node-deps deploy-tools cargo-deny lint audit schema bench soak bench-scale

## Serve the gateway on SQLite with the seven projects: http://127.0.0.1:8080/graphql
run:
	$(CARGO) run --locked --bin catalogue-gateway -- serve

## Make sure PostgreSQL, Redis, Node.js tools, Chromium and the manifest validators are there, then run every test (SQLite and PostgreSQL).
test: services node-deps deploy-tools
	$(CARGO) test --locked --workspace --all-targets
	$(CARGO) test --locked --features otel --test telemetry

## The unit tests, and the integration tests on SQLite that need no Redis (a test that
## does says so in its name): no root, no PostgreSQL, Redis, Node.js or Chromium needed.
test-quick:
	$(CARGO) test --locked --workspace --lib --bins
	$(CARGO) test --locked --test integration -- sqlite:: schema:: --skip redis

services:
	@bash scripts/ensure-services.sh

node-deps:
	@bash scripts/ensure-node-deps.sh

deploy-tools:
	@bash scripts/ensure-deploy-tools.sh

cargo-deny:
	@TOOLS_DIR="$(TOOLS_DIR)" bash scripts/ensure-cargo-deny.sh

## Formatting, the dependencies' licences, bans and sources (deny.toml), then clippy.
lint: cargo-deny
	$(CARGO) fmt --all -- --check
	$(CARGO_DENY) check --hide-inclusion-graph --show-stats licenses bans sources
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --features otel --all-targets -- -D warnings

## The RustSec advisories against Cargo.lock; cargo-deny clones the advisory database
## from github.com, so this runs only where github.com is reachable.
audit: cargo-deny
	$(CARGO_DENY) check --hide-inclusion-graph --show-stats advisories

## Regenerate the committed SDL after a schema change.
schema:
	$(CARGO) run --locked --quiet --bin catalogue-gateway -- schema > schema/schema.graphql

## The gateway (uncached, cached in process, cached in Redis) beside PostGraphile and a bare
## async-graphql endpoint, on 10,000 projects in PostgreSQL, its memory under a
## distinct-query soak, the cost of 1,000 subscribers, then search and the cold start at
## 10,000 projects on SQLite and PostgreSQL; writes docs/BENCHMARKS.md.
bench: services
	bash benches/load/run.sh
	bash benches/subscriptions/run.sh
	BENCH_PROJECTS=10000 BENCH_MARKERS=cold-start bash benches/search_scale.sh

## 60 s of mixed load and a writer while Redis, PostgreSQL and the upstream services fail.
soak: services
	bash benches/load/soak.sh

## Search, facets and list pages on 100,000 projects / 1,000,000 repositories in SQLite and
## PostgreSQL (import, index build, restart, latency, memory); writes docs/BENCHMARKS.md.
## About 30 min after the build; BENCH_PROJECTS=30000 make bench-scale measures another size.
bench-scale: services
	bash benches/search_scale.sh
