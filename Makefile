# The commands a newcomer needs; see README.md.
CARGO ?= cargo

.PHONY: run test services node-deps deploy-tools lint schema bench soak

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

## The gateway (uncached, cached in process, cached in Redis) beside PostGraphile and a bare
## async-graphql endpoint, on 10,000 projects in PostgreSQL; writes docs/BENCHMARKS.md.
bench: services
	bash benches/load/run.sh

## 60 s of mixed load and a writer while Redis, PostgreSQL and the upstream services fail.
soak: services
	bash benches/load/soak.sh
