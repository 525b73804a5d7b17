#!/usr/bin/env bash
# Reads Renda events as an outside subscriber would: Python's kafka-python from PyPI, the
# payload decoded with code generated from proto/ (no Rust, no system protoc, no kcat).
#
#   bash deploy/subscriber/run.sh [--brokers 127.0.0.1:9092] [--topic renda.330521.suggestion] \
#       [--expect-type renda.suggestion.v1.SuggestionSubmitted] [--expect-min 1] [--timeout 30]
#
# All arguments go to deploy/subscriber/subscribe.py (--help lists them). Events are printed to
# stdout as JSON lines; progress and problems go to stderr. Exit 0 when the contract holds and
# the expectation is met, 1 when it does not, 2 when the check could not run.
#
# The Python tools live in .run/subscriber/venv, created on first use from the pinned
# deploy/subscriber/requirements.txt (PyPI wheels only) and rebuilt when that file or the base
# Python changes. PYTHON picks the base interpreter (default python3, needs >= 3.10).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${PYTHON:-python3}"
state="$root/.run/subscriber"
venv="$state/venv"
requirements="$root/deploy/subscriber/requirements.txt"

say() { printf 'subscriber: %s\n' "$*" >&2; }
die() {
	printf 'subscriber: error: %s\n' "$*" >&2
	exit 2
}

command -v "$python" >/dev/null 2>&1 || die "$python not found (set PYTHON to a Python >= 3.10)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
	die "$python is older than 3.10 (set PYTHON to a Python >= 3.10)"

mkdir -p "$state"
(
	# One venv builder at a time (make -j, two shells); readers wait for it too.
	if command -v flock >/dev/null 2>&1; then
		flock 9
	fi
	stamp="$({
		cat "$requirements"
		"$python" -c 'import sys; print(sys.version, sys.executable)'
	} | sha256sum | cut -c1-16)"
	if [[ -x $venv/bin/python && -f $venv/.renda-stamp && "$(<"$venv/.renda-stamp")" == "$stamp" ]] &&
		"$venv/bin/python" -c 'import kafka, google.protobuf, grpc_tools.protoc' >/dev/null 2>&1; then
		exit 0
	fi
	say "creating $venv from deploy/subscriber/requirements.txt (PyPI wheels, pinned; first run only)"
	started=$SECONDS
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
		--no-deps --only-binary :all: -r "$requirements" >&2 ||
		die "pip install -r $requirements failed"
	"$venv/bin/python" -m pip check >/dev/null ||
		die "inconsistent venv: $("$venv/bin/python" -m pip check)"
	printf '%s\n' "$stamp" >"$venv/.renda-stamp"
	say "venv ready in $((SECONDS - started))s"
) 9>"$state/venv.lock"

exec "$venv/bin/python" "$root/deploy/subscriber/subscribe.py" "$@"
