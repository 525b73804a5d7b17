#!/usr/bin/env bash
# make test: every test, including the end-to-end ones, against PostgreSQL and a private tansu
# broker on 127.0.0.1:19092 (fresh storage each run, stopped on exit), then an outside Python
# subscriber of the events (deploy/subscriber/run.sh), then the chart check.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

TEST_BROKER_PORT=${RENDA_TEST_BROKER_PORT:-19092}
TEST_BROKER_DIR="$RUN_DIR/test-broker"

cleanup_on_exit "$TEST_BROKER_DIR"

ensure_pg
ensure_tansu_installed
ensure_python

# A broker left by an interrupted run would hold the port and the storage.
stop_pidfile "$TEST_BROKER_DIR/broker.pid" tansu 10
if tcp_open 127.0.0.1 "$TEST_BROKER_PORT"; then
	die "127.0.0.1:$TEST_BROKER_PORT is taken by another process; the test broker needs it"
fi
rm -rf "$TEST_BROKER_DIR"
mkdir -p "$TEST_BROKER_DIR"
start_broker "$TEST_BROKER_PORT" "sqlite://tansu.db" "$TEST_BROKER_DIR"
create_topics "127.0.0.1:$TEST_BROKER_PORT" "$SEED_COUNTIES"

# Tests make a fresh database each (test_*, e2e_*).
drop_databases '^(test|e2e)_' test

log "cargo build --workspace --bins"
cargo_cmd build --workspace --bins

log "cargo test --workspace (kafka 127.0.0.1:$TEST_BROKER_PORT, postgres $RENDA_PG_URL)"
RENDA_TEST_KAFKA_BROKERS="127.0.0.1:$TEST_BROKER_PORT" RENDA_TEST_PG_URL="$RENDA_PG_URL" \
	cargo_cmd test --workspace

# The end-to-end test has published on renda.330521.suggestion of the test broker; a subscriber
# outside the project (Python kafka-python from PyPI, payload decoded with code generated from
# proto/) must read those events with their CloudEvents headers.
log "bash deploy/subscriber/run.sh (outside Python subscriber reads renda.330521.suggestion on 127.0.0.1:$TEST_BROKER_PORT)"
bash deploy/subscriber/run.sh --brokers "127.0.0.1:$TEST_BROKER_PORT" --topic renda.330521.suggestion \
	--expect-type renda.suggestion.v1.SuggestionSubmitted --expect-min 1 --timeout 30

log "bash deploy/chart/check.sh"
bash deploy/chart/check.sh

log "all tests passed"
