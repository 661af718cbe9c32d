//! The tenants list as a CSV file, in the shape of Graph's report files: a
//! byte-order mark, a header of words, one line a tenant.

use chrono::{DateTime, SecondsFormat, Utc};

use super::TenantOverview;
use crate::domain::{csv_lines, ReportPeriod, CSV_BOM};

const HEADER: [&str; 13] = [
    "Tenant Id",
    "Display Name",
    "Row Count",
    "Latest Report Refresh Date",
    "Latest 7",
    "Latest 30",
    "Latest 90",
    "Latest 180",
    "Age Days",
    "Stale",
    "Last Collection Success",
    "Last Collection Error At",
    "Last Collection Error",
];

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn record(tenant: &TenantOverview) -> Vec<String> {
    let optional = |value: Option<String>| value.unwrap_or_default();
    let latest_of = |period: ReportPeriod| {
        optional(
            tenant
                .latest_by_period
                .iter()
                .find(|(p, _)| *p == period)
                .map(|(_, date)| date.to_string()),
        )
    };
    let mut record = vec![
        tenant.id.to_string(),
        optional(tenant.display_name.clone()),
        tenant.row_count.to_string(),
        optional(tenant.latest.map(|d| d.to_string())),
    ];
    record.extend(ReportPeriod::ALL.map(latest_of));
    record.extend([
        optional(tenant.age_days.map(|d| d.to_string())),
        tenant.stale.to_string(),
        optional(tenant.last_collection_success.map(time)),
        optional(
            tenant
                .last_collection_error
                .as_ref()
                .map(|(at, _)| time(*at)),
        ),
        optional(
            tenant
                .last_collection_error
                .as_ref()
                .map(|(_, e)| e.clone()),
        ),
    ]);
    record
}

/// The whole file.
pub fn tenants_csv(tenants: &[TenantOverview]) -> Result<Vec<u8>, ::csv::Error> {
    let mut document = CSV_BOM.to_vec();
    document.extend(csv_lines(
        std::iter::once(HEADER.map(String::from).to_vec()).chain(tenants.iter().map(record)),
    )?);
    Ok(document)
}
