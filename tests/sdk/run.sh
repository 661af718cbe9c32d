#!/usr/bin/env bash
# Microsoft's Graph SDK for Python against this service: serves a throw-away
# SQLite database on a free port, installs the SDK into a virtualenv
# (target/sdk-venv, reused on later runs) and runs graph_sdk_check.py twice:
# over plain HTTP, and over HTTPS through a TLS terminator (tls_proxy.py,
# with a self-signed certificate made here by openssl), as SDK clients reach
# a deployed service. Needs python3 with venv, openssl and access to PyPI.
#
#   bash tests/sdk/run.sh            # uses target/release/teams-usage-store, building it if missing
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${SDK_VENV:-target/sdk-venv}
if ! "$VENV/bin/python" -c 'import msgraph' 2>/dev/null; then
    echo "installing the Graph SDK into $VENV ..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
fi

# The test suite passes the binary it built; run by hand, the release build.
if [ -z "${BIN:-}" ]; then
    BIN=${CARGO_TARGET_DIR:-target}/release/teams-usage-store
    if [ ! -x "$BIN" ]; then
        echo "building the release binary (cargo build --release) ..." >&2
        cargo build --release --quiet --bin teams-usage-store
    fi
fi
WORK=$(mktemp -d)
SERVER=
PROXY=
cleanup() {
    if [ -n "$PROXY" ]; then kill "$PROXY" 2>/dev/null || true; wait "$PROXY" 2>/dev/null || true; fi
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$WORK/sdk.db"
"$BIN" migrate 2>/dev/null
TOKEN=$("$BIN" token create --tenant sdk-check --name graph-sdk --scope Reports.ReadWrite.All 2>/dev/null)
# The check stores its rows: the run over TLS uses a tenant of its own.
TLS_TOKEN=$("$BIN" token create --tenant sdk-check-tls --name graph-sdk-tls --scope Reports.ReadWrite.All 2>/dev/null)
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

check() {
    if ! SERVICE_URL=$1 TOKEN=$2 "$VENV/bin/python" tests/sdk/graph_sdk_check.py; then
        echo "--- service log ---" >&2
        cat "$WORK/server.log" >&2
        exit 1
    fi
}
check "$SERVICE_URL" "$TOKEN"

# Again through TLS: a certificate for localhost that only this run trusts.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
TLS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 tests/sdk/tls_proxy.py "$WORK/cert.pem" "$WORK/key.pem" "$TLS_PORT" "$PORT" >"$WORK/proxy.log" 2>&1 &
PROXY=$!
for _ in $(seq 100); do
    grep -q ready "$WORK/proxy.log" && break
    sleep 0.1
done
if ! grep -q ready "$WORK/proxy.log"; then
    echo "the TLS terminator did not start:" >&2
    cat "$WORK/proxy.log" >&2
    exit 1
fi
# The SDK's HTTP client and urllib both trust the file SSL_CERT_FILE names.
SSL_CERT_FILE="$WORK/cert.pem" check "https://localhost:$TLS_PORT" "$TLS_TOKEN"
echo "Graph SDK check passed over http and https" >&2
