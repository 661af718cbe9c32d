//! The tenants list as a CSV file, in the shape of Graph's report files: a
//! byte-order mark, a header of words, one line a tenant.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{Rollup, TenantOverview};
use crate::domain::{csv_header, csv_lines, ApiVersion, Property, ReportPeriod, CSV_BOM};

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

/// The roll-up's days as Graph writes its report (`version`'s columns), each
/// count summed over the tenants, and the number of tenants of each day.
pub fn rollup_csv(
    rollup: &Rollup,
    period: ReportPeriod,
    version: ApiVersion,
) -> Result<Vec<u8>, ::csv::Error> {
    let mut header: Vec<String> = csv_header(version).into_iter().map(String::from).collect();
    header.push("Tenant Count".into());
    let columns: Vec<Property> = crate::domain::CSV_COLUMNS
        .into_iter()
        .filter(|(_, property)| version.has_csv_column(*property))
        .map(|(_, property)| property)
        .collect();
    let records = rollup.days.iter().map(|day| {
        let mut record: Vec<String> = columns
            .iter()
            .map(|property| match property {
                Property::ReportRefreshDate => day.date.to_string(),
                Property::ReportPeriod => period.to_string(),
                count => day
                    .counts
                    .iter()
                    .find(|(p, _)| p == count)
                    .and_then(|(_, n)| *n)
                    .map_or(String::new(), |n| n.to_string()),
            })
            .collect();
        record.push(day.tenants.to_string());
        record
    });
    let mut document = CSV_BOM.to_vec();
    document.extend(csv_lines(std::iter::once(header).chain(records))?);
    Ok(document)
}
