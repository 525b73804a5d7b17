#!/usr/bin/env bash
# make stop: stops the local stack started by run.sh (and a test broker left by test.sh):
# SIGTERM, wait, SIGKILL after a timeout. Fine when nothing runs.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

TIMEOUT=${RENDA_STOP_TIMEOUT:-20}

for ((i = ${#PROCS[@]} - 1; i >= 0; i--)); do
	name=${PROCS[i]}
	stop_pidfile "$RUN_DIR/pids/$name.pid" "renda-$name" "$TIMEOUT"
done
stop_pidfile "$RUN_DIR/broker/broker.pid" tansu "$TIMEOUT"
stop_pidfile "$RUN_DIR/test-broker/broker.pid" tansu "$TIMEOUT"
stop_private_pg
log "stopped"
