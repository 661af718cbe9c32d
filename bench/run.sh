#!/usr/bin/env bash
# The load benchmark, in one run: installs wrk if it is missing, builds the
# release binary and the harness, then measures both backends and prints the
# table (see bench/README.md). Arguments go to the harness, e.g.
#   bench/run.sh --backend sqlite --runs 1 --seconds 3
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq wrk
fi

# Postgres must be up for its half; a local cluster that is down is started.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h | grep -q down; then
    version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi

cargo build --release --bin teams-usage-store
exec cargo bench --bench load -- "$@"
