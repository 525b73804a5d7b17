#!/usr/bin/env bash
# Renders the Helm chart helm/renda offline and validates what it renders.
#
#   bash deploy/chart/check.sh        (make chart; also part of make test)
#
# Rendering uses Helm's own Go template engine (Helm v4 SDK compiled into
# libhelm_c.so, shipped inside the PyPI wheel helm-python-sdk), so no helm
# binary and no network are needed at render time. Every rendered document is
# validated with kubernetes-validate against Kubernetes $RENDA_CHART_K8S_VERSION
# (default 1.30.0) in strict mode, then against the chart's own contract
# (ports, probes, env, security context, selectors); see deploy/chart/validate.py.
#
# The Python tools live in .run/chart-venv, created on first use from the
# pinned deploy/chart/requirements.txt (PyPI only) and reused while that file
# and the base Python stay the same.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

kube_version="${RENDA_CHART_K8S_VERSION:-1.30.0}"
python="${PYTHON:-python3}"
venv=".run/chart-venv"
requirements="deploy/chart/requirements.txt"
out=".run/chart-out"

say() { printf 'chart: %s\n' "$*"; }
die() { printf 'chart: error: %s\n' "$*" >&2; exit 1; }

command -v "$python" >/dev/null 2>&1 || die "$python not found (set PYTHON to a Python >= 3.10)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "$python is older than 3.10 (set PYTHON to a Python >= 3.10)"

mkdir -p .run "$out"

# One venv builder at a time (make -j, two shells).
exec 9>".run/chart-venv.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

# The venv is reused while the pinned requirements and the base interpreter are unchanged.
stamp="$( { cat "$requirements"; "$python" -c 'import sys; print(sys.version, sys.executable)'; } | sha256sum | cut -c1-16)"
if [[ -x "$venv/bin/python" && -f "$venv/.renda-stamp" && "$(cat "$venv/.renda-stamp")" == "$stamp" ]] \
    && "$venv/bin/python" -c 'import helm_python, kubernetes_validate' >/dev/null 2>&1; then
    say "reusing $venv ($(grep -E '^(helm-python-sdk|kubernetes-validate)==' "$requirements" | tr '\n' ' '))"
else
    say "creating $venv from $requirements (PyPI, pinned; first run only)"
    started=$SECONDS
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
        --no-deps --only-binary=:all: -r "$requirements" \
        || die "pip install -r $requirements failed"
    "$venv/bin/python" -m pip check >/dev/null || die "inconsistent venv: $("$venv/bin/python" -m pip check)"
    printf '%s\n' "$stamp" >"$venv/.renda-stamp"
    say "venv ready in $((SECONDS - started))s"
fi

say "rendering helm/renda (default values, deploy/chart/ci-values.yaml, one variant) and validating against Kubernetes $kube_version"
"$venv/bin/python" deploy/chart/validate.py \
    --chart helm/renda \
    --ci-values deploy/chart/ci-values.yaml \
    --out "$out" \
    --kube-version "$kube_version"
