//! The validated resource: types that cannot hold a value the contract forbids.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Property, ReportPeriod, TenantId};

/// A user count: a non-negative Int64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserCount(i64);

impl UserCount {
    pub fn new(value: i64) -> Option<Self> {
        (value >= 0).then_some(Self(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The per-platform counts of one report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceCounts {
    pub web: UserCount,
    pub windows_phone: UserCount,
    pub android_phone: UserCount,
    pub ios: UserCount,
    pub mac: UserCount,
    pub windows: UserCount,
    /// Added to beta in 2021; older reports do not carry it.
    pub chrome_os: Option<UserCount>,
    /// Added to beta in 2021; older reports do not carry it.
    pub linux: Option<UserCount>,
}

impl DeviceCounts {
    /// The count a property holds, `None` for a null optional count or a non-count property.
    pub fn get(&self, property: Property) -> Option<UserCount> {
        match property {
            Property::Web => Some(self.web),
            Property::WindowsPhone => Some(self.windows_phone),
            Property::AndroidPhone => Some(self.android_phone),
            Property::Ios => Some(self.ios),
            Property::Mac => Some(self.mac),
            Property::Windows => Some(self.windows),
            Property::ChromeOs => self.chrome_os,
            Property::Linux => self.linux,
            Property::Id | Property::ReportRefreshDate | Property::ReportPeriod => None,
        }
    }
}

/// The natural key: one row per tenant, refresh date and period.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NaturalKey {
    pub tenant_id: TenantId,
    pub report_refresh_date: NaiveDate,
    pub report_period: ReportPeriod,
}

/// A row as a client sends it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDistributionRow {
    pub report_refresh_date: NaiveDate,
    pub report_period: ReportPeriod,
    pub counts: DeviceCounts,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionRow {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub report_refresh_date: NaiveDate,
    pub report_period: ReportPeriod,
    pub counts: DeviceCounts,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DistributionRow {
    /// A fresh row for `tenant_id`: a time-ordered id and a creation time made here,
    /// so both backends store identical values. Timestamps keep microseconds, the
    /// precision Postgres stores.
    pub fn create(tenant_id: TenantId, new: NewDistributionRow, now: DateTime<Utc>) -> Self {
        let now = truncate_to_micros(now);
        Self {
            id: Uuid::now_v7(),
            tenant_id,
            report_refresh_date: new.report_refresh_date,
            report_period: new.report_period,
            counts: new.counts,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn natural_key(&self) -> NaturalKey {
        NaturalKey {
            tenant_id: self.tenant_id.clone(),
            report_refresh_date: self.report_refresh_date,
            report_period: self.report_period,
        }
    }

    /// True when `new` says exactly what this row says: a collector's replay.
    pub fn has_content(&self, new: &NewDistributionRow) -> bool {
        self.report_refresh_date == new.report_refresh_date
            && self.report_period == new.report_period
            && self.counts == new.counts
    }

    pub fn content(&self) -> NewDistributionRow {
        NewDistributionRow {
            report_refresh_date: self.report_refresh_date,
            report_period: self.report_period,
            counts: self.counts,
        }
    }
}

pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{SubsecRound, Timelike};
    let micros = t.nanosecond() / 1_000;
    t.trunc_subsecs(0) + chrono::Duration::microseconds(i64::from(micros))
}

/// A stored row for unit tests elsewhere in the crate. `counts` are web,
/// windowsPhone, androidPhone, ios, mac and windows, in that order.
#[cfg(test)]
pub(crate) fn test_row(
    tenant: &str,
    date: &str,
    period: ReportPeriod,
    counts: [i64; 6],
    chrome_os: Option<i64>,
    linux: Option<i64>,
) -> DistributionRow {
    let n = |v| UserCount::new(v).expect("a test count is not negative");
    let [web, windows_phone, android_phone, ios, mac, windows] = counts.map(n);
    DistributionRow::create(
        TenantId::parse(tenant).expect("a valid test tenant"),
        NewDistributionRow {
            report_refresh_date: chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .expect("a valid test date"),
            report_period: period,
            counts: DeviceCounts {
                web,
                windows_phone,
                android_phone,
                ios,
                mac,
                windows,
                chrome_os: chrome_os.map(n),
                linux: linux.map(n),
            },
        },
        Utc::now(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_count_refuses_negatives() {
        assert_eq!(UserCount::new(-1), None);
        assert_eq!(UserCount::new(0).map(UserCount::get), Some(0));
        assert_eq!(UserCount::new(i64::MAX).map(UserCount::get), Some(i64::MAX));
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let t = DateTime::parse_from_rfc3339("2026-11-29T06:22:45.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            truncate_to_micros(t).to_rfc3339(),
            "2026-11-29T06:22:45.123456+00:00"
        );
    }
}
