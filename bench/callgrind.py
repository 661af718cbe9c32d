#!/usr/bin/env python3
"""Instructions per request, counted by callgrind: a figure that does not move
with the machine's load, for comparing two builds side by side.

    python3 bench/callgrind.py BINARY [BINARY ...] [--postgres-url URL] [--requests N]

For each binary and backend it starts `BINARY serve` under
`valgrind --tool=callgrind` on a fresh database, sends the same requests one
after another over one keep-alive connection (POSTs of new rows, then filtered
pages of 100 rows, then nothing), and prints the service's instructions per
request: (run with requests - run without) / requests. Needs valgrind and,
for the Postgres half, a server at --postgres-url where it may create databases.
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import date, timedelta

COLLECTION = "/v1.0/reports/teamsDeviceUsageDistributionUserCounts"
PERIODS = ["7", "30", "90", "180"]


def row(n):
    day = date(2026, 11, 1) - timedelta(days=n // 4)
    return json.dumps({
        "reportRefreshDate": day.isoformat(), "web": n % 97, "windowsPhone": 1,
        "androidPhone": 2, "ios": 3, "mac": 4, "windows": 5, "chromeOS": 6, "linux": 7,
        "reportPeriod": PERIODS[n % 4],
    })


def wait_ready(port, deadline):
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the service did not become ready")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_service(binary, database_url, work, label, requests):
    """Runs the service under callgrind, sends `requests(conn, token)`; returns instructions."""
    port = free_port()
    out = os.path.join(work, f"{label}.callgrind")
    env = dict(os.environ, DATABASE_URL=database_url, HOST="127.0.0.1", PORT=str(port),
               RUST_LOG="info", RATE_LIMIT_PER_SECOND="0")
    stderr = open(os.path.join(work, f"{label}.log"), "w+")
    service = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "serve"],
        env=env, stderr=stderr, stdout=subprocess.DEVNULL)
    try:
        wait_ready(port, time.time() + 300)
        token_file = os.path.join(work, "token")
        if not os.path.exists(token_file):
            # stderr is no terminal here: the log names the file the bootstrap token is in.
            stderr.seek(0)
            found = re.search(r" path=(\S*bootstrap-token)", stderr.read())
            if not found:
                raise RuntimeError("no bootstrap token file in the service's log")
            with open(found.group(1)) as f, open(token_file, "w") as out:
                out.write(f.read().strip())
        with open(token_file) as f:
            token = f.read().strip()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        requests(conn, token)
        conn.close()
    finally:
        service.send_signal(signal.SIGINT)
        service.wait(timeout=300)
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def posts(count):
    def send(conn, token):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for n in range(count):
            conn.request("POST", COLLECTION, body=row(n), headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"POST answered {response.status}")
    return send


def pages(count):
    def send(conn, token):
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(count):
            newest = date(2026, 11, 1) - timedelta(days=n % 200)
            oldest = newest - timedelta(days=150)
            query = urllib.parse.urlencode({
                "$filter": f"reportRefreshDate ge {oldest} and reportRefreshDate le {newest} "
                           "and reportPeriod eq '7'",
                "$top": "100",
            })
            conn.request("GET", f"{COLLECTION}?{query}", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET answered {response.status}")
    return send


def nothing(conn, token):
    pass


def measure(binary, backend, args):
    work = tempfile.mkdtemp(prefix=f"callgrind-{backend}-")
    if backend == "sqlite":
        database_url = f"sqlite://{work}/bench.db"
        cleanup = None
    else:
        name = f"tus_callgrind_{os.getpid()}"
        subprocess.run(["psql", args.postgres_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", args.postgres_url, "-qc", f"CREATE DATABASE {name}"], check=True)
        database_url = urllib.parse.urlunparse(
            urllib.parse.urlparse(args.postgres_url)._replace(path=f"/{name}"))
        cleanup = name
    try:
        # The first start migrates and issues the token; the second is a
        # plain start, the cost every measured run carries besides its requests.
        run_service(binary, database_url, work, "first", nothing)
        idle = run_service(binary, database_url, work, "idle", nothing)
        post = run_service(binary, database_url, work, "post", posts(args.requests))
        page = run_service(binary, database_url, work, "page", pages(args.requests))
    finally:
        if cleanup:
            subprocess.run(["psql", args.postgres_url, "-qc",
                            f"DROP DATABASE IF EXISTS {cleanup} WITH (FORCE)"], check=False)
    return (post - idle) / args.requests, (page - idle) / args.requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print("| binary | backend | instructions per POST | instructions per filtered page |")
    print("|---|---|---:|---:|")
    for backend in backends:
        for binary in args.binaries:
            post, page = measure(binary, backend, args)
            print(f"| {binary} | {backend} | {post:,.0f} | {page:,.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
