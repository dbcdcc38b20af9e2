# The commands a newcomer needs; see README.md.
CARGO ?= cargo

.PHONY: run test services node-deps deploy-tools lint schema bench-cache

## Serve the gateway on SQLite with the seven projects: http://127.0.0.1:8080/graphql
run:
	$(CARGO) run --locked --bin catalogue-gateway -- serve

## Make sure PostgreSQL, Redis, Node.js tools, Chromium and the manifest validators are there, then run every test (SQLite and PostgreSQL).
test: services node-deps deploy-tools
	$(CARGO) test --locked --workspace --all-targets
	$(CARGO) test --locked --features otel --test telemetry

services:
	@bash scripts/ensure-services.sh

node-deps:
	@bash scripts/ensure-node-deps.sh

deploy-tools:
	@bash scripts/ensure-deploy-tools.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --features otel --all-targets -- -D warnings

## Regenerate the committed SDL after a schema change.
schema:
	$(CARGO) run --locked --quiet --bin catalogue-gateway -- schema > schema/schema.graphql

## Requests/s and p50/p99 of one public list query: uncached, cached in Redis, cached in process.
bench-cache: services
	bash benches/load/cache.sh
