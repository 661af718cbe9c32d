//! The rows tests store: as a client sends them (JSON) and as the storage
//! layer takes them (domain types).

use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};
use teams_usage_store::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, ReportPeriod, TenantId, UserCount,
};

/// The seed page's example body, made valid.
pub fn valid_row() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.teamsDeviceUsageDistributionUserCounts",
        "reportRefreshDate": "2026-11-01",
        "web": 3,
        "windowsPhone": 12,
        "androidPhone": 12,
        "ios": 3,
        "mac": 3,
        "windows": 7,
        "reportPeriod": "7"
    })
}

/// `body` with one property replaced (use `without` to remove one).
pub fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

pub fn without(mut body: Value, key: &str) -> Value {
    body.as_object_mut().unwrap().remove(key);
    body
}

pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

pub fn count(n: i64) -> UserCount {
    UserCount::new(n).unwrap()
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Counts in Graph's property order: web, windowsPhone, androidPhone, ios, mac,
/// windows, then the optional chromeOS and linux.
pub fn device_counts(
    required: [i64; 6],
    chrome_os: Option<i64>,
    linux: Option<i64>,
) -> DeviceCounts {
    let [web, windows_phone, android_phone, ios, mac, windows] = required.map(count);
    DeviceCounts {
        web,
        windows_phone,
        android_phone,
        ios,
        mac,
        windows,
        chrome_os: chrome_os.map(count),
        linux: linux.map(count),
    }
}

/// Content for `day` and `period`: `valid_row`'s counts (and linux 0), with
/// `web` as the count that varies.
pub fn content(day: &str, period: ReportPeriod, web: i64) -> NewDistributionRow {
    NewDistributionRow {
        report_refresh_date: date(day),
        report_period: period,
        counts: device_counts([web, 12, 12, 3, 3, 7], None, Some(0)),
    }
}

pub fn row(tenant_name: &str, day: &str, period: ReportPeriod, web: i64) -> DistributionRow {
    DistributionRow::create(tenant(tenant_name), content(day, period, web), Utc::now())
}
