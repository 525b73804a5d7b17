#!/usr/bin/env bash
# make bench: submitting suggestions through the gateway with concurrent clients, against a raw
# single-row insert transaction on the same database measured in the same run
# (tests/src/bin/renda-bench.rs). Release binaries, PostgreSQL (RENDA_PG_URL or a private
# cluster), a private tansu broker on a free port from 19192 up (fresh storage in
# .run/bench-broker, stopped on exit); the stack itself runs on ports the OS picks.
#
# Knobs: RENDA_BENCH_CLIENTS (8), RENDA_BENCH_REQUESTS (2000) or RENDA_BENCH_DURATION (seconds),
# RENDA_BENCH_WARMUP (200); arguments are passed to renda-bench (--help lists them).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

BENCH_BROKER_PORT=${RENDA_BENCH_BROKER_PORT:-19192}
BENCH_BROKER_DIR="$RUN_DIR/bench-broker"

cleanup_on_exit "$BENCH_BROKER_DIR"

ensure_pg
ensure_tansu_installed

# A broker left by an interrupted run would hold its storage; start from nothing.
stop_pidfile "$BENCH_BROKER_DIR/broker.pid" tansu 10
rm -rf "$BENCH_BROKER_DIR"
mkdir -p "$BENCH_BROKER_DIR"
port=$BENCH_BROKER_PORT
while tcp_open 127.0.0.1 "$port"; do
	port=$((port + 1))
	((port <= BENCH_BROKER_PORT + 50)) || die "no free port for the bench broker in $BENCH_BROKER_PORT..$((BENCH_BROKER_PORT + 50))"
done
start_broker "$port" "sqlite://tansu.db" "$BENCH_BROKER_DIR"

# Each run makes fresh databases (bench_*); this run's stay until the next, for a look at what it wrote.
drop_databases '^bench_' bench

log "cargo build --release --workspace --bins"
cargo_cmd build --release --workspace --bins

target=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
[[ $target == /* ]] || target="$REPO_ROOT/$target"
log "renda-bench (kafka 127.0.0.1:$port, postgres $RENDA_PG_URL)"
RENDA_BIN_PROFILE=release RENDA_TEST_KAFKA_BROKERS="127.0.0.1:$port" RENDA_TEST_PG_URL="$RENDA_PG_URL" \
	"$target/release/renda-bench" "$@"
