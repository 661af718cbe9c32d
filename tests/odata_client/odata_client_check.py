"""A published, generic OData v4 client (python-odata) against this service.

It builds every request from the service's $metadata, as Excel, Power BI and
scripts do: nothing here names a URL but the service root. Run by
tests/api/odata_client.rs against the real server, on each backend, with
SERVICE_ROOT (e.g. http://127.0.0.1:PORT/v1.0/) and TOKEN (Reports.ReadWrite.All)
in the environment; it stores its own rows in an empty tenant.
"""

import logging
import os
import sys

import requests
from odata import ODataService
from odata.exceptions import NoResultsFound, ODataError

ROWS = 150  # more than one page of 100, so the client must follow @odata.nextLink
PERIODS = ["7", "30", "90", "180"]


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    root = os.environ["SERVICE_ROOT"]
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + os.environ["TOKEN"]
    requests_seen = []
    session.hooks["response"].append(lambda r, *a, **k: requests_seen.append((r.request.method, r.request.url, r.status_code)))

    # Metadata parsed: the entity set, the singleton and its bound function.
    service = ODataService(root, reflect_entities=True, session=session, quiet_progress=True)
    assert set(service.entities) == {"teamsDeviceUsageDistributionUserCounts", "reports"}, service.entities
    Rows = service.entities["teamsDeviceUsageDistributionUserCounts"]
    Reports = service.entities["reports"]
    for name in ["id", "reportRefreshDate", "web", "windowsPhone", "androidPhone", "ios", "mac", "windows", "chromeOS", "linux", "reportPeriod"]:
        assert hasattr(Rows, name), name
    assert hasattr(Reports, "getTeamsDeviceUsageDistributionUserCounts"), "the bound function was not generated"

    # Create through the client (POST of the entity set).
    for n in range(ROWS):
        row = Rows()
        row.reportRefreshDate = f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}"
        row.web, row.windowsPhone, row.androidPhone = n, 1, 2
        row.ios, row.mac, row.windows = 3, 4, 5
        row.reportPeriod = PERIODS[n % 4]
        service.save(row)
        assert row.id, "the created row has no id"

    # Paging via nextLink: every row, though the server answers 100 a page.
    seen_before = len(requests_seen)
    everything = service.query(Rows).all()
    assert len(everything) == ROWS, len(everything)
    pages = [url for method, url, _ in requests_seen[seen_before:] if method == "GET"]
    assert len(pages) == 2 and "$skiptoken=" in pages[1], pages

    # Filter, order and count of the same query.
    weekly = service.query(Rows).filter(Rows.reportPeriod == "7").order_by(Rows.reportRefreshDate.desc())
    weekly_rows = weekly.all()
    expected = sorted((r for r in everything if r.reportPeriod == "7"), key=lambda r: r.reportRefreshDate, reverse=True)
    assert [r.id for r in weekly_rows] == [r.id for r in expected], "filter/order differ"
    assert weekly.count() == len(expected) == (ROWS + 3) // 4, weekly.count()
    big = service.query(Rows).filter(Rows.web >= 100).order_by(Rows.web.asc()).all()
    assert [r.web for r in big] == list(range(100, ROWS)), [r.web for r in big]
    assert service.query(Rows).filter(Rows.web >= 100).count() == ROWS - 100

    # Get, PATCH and DELETE by key in parentheses.
    target = weekly_rows[0]
    fetched = service.query(Rows).get(target.id)
    assert fetched.id == target.id and fetched.web == target.web
    fetched.windows = 4242
    service.save(fetched)
    assert service.query(Rows).get(target.id).windows == 4242
    by_key = [(m, u) for m, u, _ in requests_seen if "('" + target.id + "')" in u]
    assert {m for m, _ in by_key} >= {"GET", "PATCH"}, by_key
    victim = weekly_rows[-1]
    victim_url = victim.__odata__.instance_url
    assert victim_url.endswith("('" + victim.id + "')"), victim_url
    service.delete(victim)
    assert requests_seen[-1][:2] == ("DELETE", victim_url), requests_seen[-1]
    try:
        service.query(Rows).get(victim.id)
        raise AssertionError("a deleted row is still found")
    except NoResultsFound:
        pass
    # The canonical URL of a row that is gone: Graph's 404, as the client reads errors.
    try:
        service.default_context.connection.execute_get(victim_url)
        raise AssertionError("a deleted row is still served")
    except ODataError as error:
        assert error.status_code == "HTTP 404" and error.code == "itemNotFound", (error.status_code, error.code)
    assert service.query(Rows).count() == ROWS - 1

    # The function, bound to the singleton: the latest row of the period.
    reports = service.query(Reports).first()
    latest = reports.getTeamsDeviceUsageDistributionUserCounts(period="D30")
    thirty = [r for r in everything if r.reportPeriod == "30"]
    newest = max(thirty, key=lambda r: r.reportRefreshDate)
    assert len(latest) == 1 and latest[0].id == newest.id, latest

    print(f"python-odata: {len(requests_seen)} requests, all as the client built them from $metadata")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(1)
