"""Microsoft's own Graph SDK for Python against a running service.

Downloads the report with the SDK's generated request builder, exactly as an
application pointed at Microsoft Graph would, and checks that every error the
service sends reaches the caller as the SDK's ODataError with Graph's code.

Environment: SERVICE_URL (http://host:port, no version) and TOKEN (a
Reports.ReadWrite.All token of a tenant with no rows yet). run.sh sets both.
"""

import asyncio
import json
import os
import sys
import urllib.request

from kiota_abstractions.authentication import AuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

BOM = b"\xef\xbb\xbf"
V1_HEADER = "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period"
BETA_HEADER = (
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,"
    "Chrome OS,Linux,Report Period"
)


class StaticToken(AuthenticationProvider):
    """Sends one bearer token, as a service-to-service caller would."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def authenticate_request(self, request, additional_authentication_context=None):
        request.headers.add("Authorization", f"Bearer {self.token}")


def graph_client(service_url: str, version: str, token: str) -> GraphServiceClient:
    adapter = GraphRequestAdapter(StaticToken(token))
    adapter.base_url = f"{service_url}/{version}"
    return GraphServiceClient(request_adapter=adapter)


def store_row(service_url: str, token: str, row: dict) -> None:
    """The collector's side: a plain POST (the SDK has no builder for it)."""
    request = urllib.request.Request(
        f"{service_url}/v1.0/reports/teamsDeviceUsageDistributionUserCounts",
        data=json.dumps(row).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201, response.status


def csv_lines(body: bytes) -> list:
    assert body.startswith(BOM), body[:10]
    return body[len(BOM):].decode("utf-8").splitlines()


async def expect_odata_error(call, status: int, code: str) -> None:
    try:
        await call
    except ODataError as error:
        assert error.response_status_code == status, (error.response_status_code, status)
        assert error.error is not None, "the error body was not parsed"
        assert error.error.code == code, (error.error.code, code)
        assert error.error.message, "no message"
        assert error.error.inner_error is not None and error.error.inner_error.request_id, (
            "no innerError.request-id"
        )
        print(f"ok: HTTP {status} reaches the SDK as ODataError code={code}")
        return
    raise AssertionError(f"expected ODataError {status} {code}, the call succeeded")


async def main() -> None:
    service_url = os.environ["SERVICE_URL"].rstrip("/")
    token = os.environ["TOKEN"]
    v1 = graph_client(service_url, "v1.0", token)
    beta = graph_client(service_url, "beta", token)
    report = lambda client, period: (  # noqa: E731
        client.reports.get_teams_device_usage_distribution_user_counts_with_period(period)
    )

    # Nothing stored yet: Graph's header alone.
    assert csv_lines(await report(v1, "D7").get()) == [V1_HEADER]
    print("ok: empty report is the 8-column header")

    store_row(service_url, token, {
        "reportRefreshDate": "2026-11-01", "web": 1, "windowsPhone": 2, "androidPhone": 3,
        "ios": 4, "mac": 5, "windows": 6, "reportPeriod": "7",
    })
    store_row(service_url, token, {
        "reportRefreshDate": "2026-11-02", "web": 10, "windowsPhone": 20, "androidPhone": 30,
        "ios": 40, "mac": 50, "windows": 60, "chromeOS": 70, "reportPeriod": "7",
    })
    lines = csv_lines(await report(v1, "D7").get())
    assert lines == [V1_HEADER, "2026-11-02,10,20,30,40,50,60,7"], lines
    print("ok: /v1.0 report downloaded:", lines[1])
    lines = csv_lines(await report(beta, "D7").get())
    assert lines == [BETA_HEADER, "2026-11-02,10,20,30,40,50,60,70,,7"], lines
    print("ok: /beta report downloaded:", lines[1])

    # Errors: each one the SDK parses into its ODataError with Graph's code.
    await expect_odata_error(
        report(graph_client(service_url, "v1.0", "not-a-token"), "D7").get(),
        401, "InvalidAuthenticationToken",
    )
    await expect_odata_error(report(v1, "D8").get(), 400, "badRequest")
    config = RequestConfiguration()
    config.headers.add("Accept", "application/xml")
    await expect_odata_error(report(v1, "D7").get(config), 406, "notAcceptable")
    not_a_version = graph_client(service_url, "v9.9", token)
    await expect_odata_error(report(not_a_version, "D7").get(), 404, "itemNotFound")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as failure:
        print(f"FAILED: {failure!r}", file=sys.stderr)
        sys.exit(1)
    print("the Graph SDK for Python works against this service")
