# Thin entry points; the work is in deploy/local/*.sh, deploy/chart/check.sh and cargo.
.DEFAULT_GOAL := help
.PHONY: help run stop test bench lint chart

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  make \1\t/'

run: ## bring up the local stack with demo data (PostgreSQL, tansu, six processes)
	bash deploy/local/run.sh

stop: ## stop the local stack
	bash deploy/local/stop.sh

test: ## every test incl. end-to-end, against a private test broker, then the chart check
	bash deploy/local/test.sh

bench: ## benchmark submitting suggestions through the gateway against a raw insert transaction (release build)
	bash deploy/local/bench.sh

lint: ## rustfmt check and clippy with warnings as errors
	cargo fmt --all -- --check && cargo clippy --workspace --all-targets -- -D warnings

chart: ## check the helm chart (deploy/chart/check.sh)
	bash deploy/chart/check.sh
