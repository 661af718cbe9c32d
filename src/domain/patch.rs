//! A partial update of a row's content, as PATCH carries it.

use chrono::NaiveDate;

use super::{DeviceCounts, NewDistributionRow, ReportPeriod, UserCount};

/// A partial update: `None` leaves a property as it is. For the optional counts,
/// `Some(None)` sets the property to null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowPatch {
    pub report_refresh_date: Option<NaiveDate>,
    pub report_period: Option<ReportPeriod>,
    pub web: Option<UserCount>,
    pub windows_phone: Option<UserCount>,
    pub android_phone: Option<UserCount>,
    pub ios: Option<UserCount>,
    pub mac: Option<UserCount>,
    pub windows: Option<UserCount>,
    pub chrome_os: Option<Option<UserCount>>,
    pub linux: Option<Option<UserCount>>,
}

impl RowPatch {
    /// The row this patch describes when it sets every property a row needs.
    pub fn complete(&self) -> Option<NewDistributionRow> {
        Some(NewDistributionRow {
            report_refresh_date: self.report_refresh_date?,
            report_period: self.report_period?,
            counts: DeviceCounts {
                web: self.web?,
                windows_phone: self.windows_phone?,
                android_phone: self.android_phone?,
                ios: self.ios?,
                mac: self.mac?,
                windows: self.windows?,
                chrome_os: self.chrome_os.flatten(),
                linux: self.linux.flatten(),
            },
        })
    }

    /// The row's content once this patch is applied to `current`.
    pub fn apply(&self, current: &NewDistributionRow) -> NewDistributionRow {
        let c = &current.counts;
        NewDistributionRow {
            report_refresh_date: self
                .report_refresh_date
                .unwrap_or(current.report_refresh_date),
            report_period: self.report_period.unwrap_or(current.report_period),
            counts: DeviceCounts {
                web: self.web.unwrap_or(c.web),
                windows_phone: self.windows_phone.unwrap_or(c.windows_phone),
                android_phone: self.android_phone.unwrap_or(c.android_phone),
                ios: self.ios.unwrap_or(c.ios),
                mac: self.mac.unwrap_or(c.mac),
                windows: self.windows.unwrap_or(c.windows),
                chrome_os: self.chrome_os.unwrap_or(c.chrome_os),
                linux: self.linux.unwrap_or(c.linux),
            },
        }
    }
}
