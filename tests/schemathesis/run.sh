#!/usr/bin/env bash
# Schemathesis over the service's own OpenAPI document: serves a throw-away
# SQLite database (or the empty one SCHEMATHESIS_DATABASE_URL names; the test
# suite runs it on a fresh SQLite and a fresh Postgres database) on a free port, installs a pinned schemathesis into a
# virtualenv (target/schemathesis-venv, reused on later runs) and runs every
# one of its checks over /openapi.json with a bounded number of examples per
# operation. Any failure of any kind makes the script exit non-zero.
# Needs python3 with venv and access to PyPI.
#
#   bash tests/schemathesis/run.sh   # uses target/release/teams-usage-store, building it if missing
#
# MAX_EXAMPLES (default 30) bounds the examples generated per operation and phase.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
TARGET=${CARGO_TARGET_DIR:-target}
VENV=${SCHEMATHESIS_VENV:-$TARGET/schemathesis-venv}
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV ..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The test suite passes the binary it built; run by hand, the release build.
if [ -z "${BIN:-}" ]; then
    BIN=$TARGET/release/teams-usage-store
    if [ ! -x "$BIN" ]; then
        echo "building the release binary (cargo build --release) ..." >&2
        cargo build --release --quiet --bin teams-usage-store
    fi
fi
WORK=$(mktemp -d)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export DATABASE_URL=${SCHEMATHESIS_DATABASE_URL:-sqlite://$WORK/schemathesis.db}
# Schemathesis sends many requests from one address, wrong tokens among them
# (the ignored_auth check): the per-token rate limit and the failed-
# authentication limit would answer 429 to the requests after them, which
# are tested elsewhere (tests/api).
export RATE_LIMIT_PER_SECOND=0
export AUTH_FAILURE_LIMIT=0
"$BIN" migrate 2>/dev/null
TOKEN=$("$BIN" token create --tenant schemathesis --name schemathesis --scope Reports.ReadWrite.All 2>/dev/null)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOST=127.0.0.1 PORT=$PORT "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!

SERVICE_URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('$SERVICE_URL/health', timeout=1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
        cat "$WORK/server.log" >&2
        exit 1
    fi
    sleep 0.1
done

status=0
# schemathesis.toml: the one expectation a schema cannot carry (see there).
"$VENV/bin/schemathesis" --config-file tests/schemathesis/schemathesis.toml \
    run "$SERVICE_URL/openapi.json" \
    --checks all \
    --max-examples "${MAX_EXAMPLES:-30}" \
    --header "Authorization: Bearer $TOKEN" \
    --seed "${SCHEMATHESIS_SEED:-1}" \
    --workers 1 \
    --no-color \
    "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis reported failures (exit $status); the last lines of the service log:" >&2
    tail -n 50 "$WORK/server.log" >&2
    exit "$status"
fi
echo "schemathesis: every check passed" >&2
