#!/usr/bin/env bash
# Microsoft's Graph SDK for Python against this service: builds the binary,
# serves a throw-away SQLite database on a free port, installs the SDK into a
# virtualenv (target/sdk-venv, reused on later runs) and runs
# graph_sdk_check.py. Needs python3 with venv and access to PyPI.
#
#   bash tests/sdk/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${SDK_VENV:-target/sdk-venv}
if ! "$VENV/bin/python" -c 'import msgraph' 2>/dev/null; then
    echo "installing the Graph SDK into $VENV ..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
fi

# The test suite passes the binary it built; run by hand, build it here.
if [ -z "${BIN:-}" ]; then
    cargo build --quiet --bin teams-usage-store
    BIN=target/debug/teams-usage-store
fi
WORK=$(mktemp -d)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$WORK/sdk.db"
"$BIN" migrate 2>/dev/null
TOKEN=$("$BIN" token create --tenant sdk-check --name graph-sdk --scope Reports.ReadWrite.All 2>/dev/null)
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

if ! SERVICE_URL=$SERVICE_URL TOKEN=$TOKEN "$VENV/bin/python" tests/sdk/graph_sdk_check.py; then
    echo "--- service log ---" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi
