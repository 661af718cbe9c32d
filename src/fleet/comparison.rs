//! Period over period: the newest device shares beside those 30, 90 and 365
//! days earlier, in percentage points, for one tenant or a roll-up alike
//! (both are a list of days of summed counts).

use chrono::{Duration, NaiveDate};
use serde::{Serialize, Serializer};

use super::rollup::{percent, users};
use crate::domain::Property;
use crate::storage::{RollupDay, RollupSelection, Store, StoreResult};

/// How far back each comparison looks.
pub const DAYS_BACK: [i64; 3] = [30, 90, 365];

/// Each device's share of a day's users, percent, in Graph's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Shares {
    pub date: NaiveDate,
    pub shares: Vec<(Property, f64)>,
}

/// The newest shares and, `days_back` earlier, the shares then and the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    pub days_back: i64,
    /// The newest day at or before the date `days_back` before the newest;
    /// `None` when the history does not reach back that far.
    pub then: Option<Shares>,
    /// Newest share minus the share then, in percentage points.
    pub change: Option<Vec<(Property, f64)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShareComparison {
    pub latest: Shares,
    pub earlier: Vec<Earlier>,
}

fn shares(day: &RollupDay) -> Shares {
    let total = users(day);
    Shares {
        date: day.date,
        shares: day
            .counts
            .iter()
            .map(|(property, n)| (*property, percent(n.unwrap_or(0), total)))
            .collect(),
    }
}

/// The comparison over `days` (oldest first); `None` without any day.
pub fn compare_shares(days: &[RollupDay]) -> Option<ShareComparison> {
    let newest = days.last()?;
    let latest = shares(newest);
    let earlier = DAYS_BACK
        .into_iter()
        .map(|days_back| {
            let target = newest.date - Duration::days(days_back);
            let then = days.iter().rev().find(|day| day.date <= target).map(shares);
            let change = then.as_ref().map(|then| {
                latest
                    .shares
                    .iter()
                    .zip(&then.shares)
                    .map(|((property, now), (_, before))| (*property, now - before))
                    .collect()
            });
            Earlier {
                days_back,
                then,
                change,
            }
        })
        .collect();
    Some(ShareComparison { latest, earlier })
}

/// Shares by property name, percent rounded to hundredths.
fn by_name(shares: &[(Property, f64)]) -> serde_json::Map<String, serde_json::Value> {
    shares
        .iter()
        .map(|(property, share)| {
            let rounded = (share * 100.0).round() / 100.0;
            (property.json_name().to_owned(), rounded.into())
        })
        .collect()
}

/// `{"latest": {"reportRefreshDate", "shares"}, "earlier": [{"daysBack",
/// "reportRefreshDate", "shares", "changePercentagePoints"}]}`, nulls where
/// the history does not reach back.
impl Serialize for ShareComparison {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let earlier: Vec<serde_json::Value> = self
            .earlier
            .iter()
            .map(|earlier| {
                serde_json::json!({
                    "daysBack": earlier.days_back,
                    "reportRefreshDate": earlier.then.as_ref().map(|then| then.date.to_string()),
                    "shares": earlier.then.as_ref().map(|then| by_name(&then.shares)),
                    "changePercentagePoints": earlier.change.as_deref().map(by_name),
                })
            })
            .collect();
        serde_json::json!({
            "latest": {
                "reportRefreshDate": self.latest.date.to_string(),
                "shares": by_name(&self.latest.shares),
            },
            "earlier": earlier,
        })
        .serialize(serializer)
    }
}

/// How far back `compare_shares` needs days from, for a newest day on `latest`.
pub fn comparison_start(latest: NaiveDate) -> NaiveDate {
    // A year and a little: the newest day at or before a year back may be a few days older.
    latest - Duration::days(DAYS_BACK[2] + 31)
}

/// What a comparison reads: `selection` (which names no `from`) from a year
/// and a little before its `to`, or before `today` without one.
pub fn comparison_selection(
    mut selection: RollupSelection,
    today: NaiveDate,
) -> Result<RollupSelection, String> {
    if selection.from.is_some() {
        return Err(
            "A comparison takes no from: it compares the newest day up to `to` \
             with those 30, 90 and 365 days before it"
                .into(),
        );
    }
    selection.from = Some(comparison_start(selection.to.unwrap_or(today)));
    Ok(selection)
}

/// A period's comparison as it is answered: `{"reportPeriod", "comparison"}`,
/// the comparison null when the period has no row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodComparison {
    report_period: String,
    comparison: Option<ShareComparison>,
}

/// The comparison of the rows `selection` (from `comparison_selection`) names.
pub async fn period_comparison(
    store: &dyn Store,
    selection: &RollupSelection,
) -> StoreResult<PeriodComparison> {
    let days = store.rollup_days(selection).await?;
    Ok(PeriodComparison {
        report_period: selection.period.to_string(),
        comparison: compare_shares(&days),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, web: i128, windows: i128) -> RollupDay {
        RollupDay {
            date: date.parse().unwrap(),
            tenants: 1,
            counts: vec![
                (Property::Web, Some(web)),
                (Property::Windows, Some(windows)),
                (Property::Linux, None),
            ],
        }
    }

    #[test]
    fn shares_change_in_percentage_points() {
        let days = [
            day("2025-11-01", 10, 90),
            day("2026-08-01", 25, 75),
            day("2026-10-20", 40, 60),
            day("2026-12-01", 50, 50),
        ];
        let comparison = compare_shares(&days).unwrap();
        assert_eq!(comparison.latest.date.to_string(), "2026-12-01");
        assert_eq!(comparison.latest.shares[0], (Property::Web, 50.0));
        let [thirty, ninety, year] = &comparison.earlier[..] else {
            panic!("three comparisons")
        };
        // The newest day at or before 2026-11-01.
        assert_eq!(thirty.then.as_ref().unwrap().date.to_string(), "2026-10-20");
        assert_eq!(thirty.change.as_ref().unwrap()[0], (Property::Web, 10.0));
        assert_eq!(ninety.then.as_ref().unwrap().date.to_string(), "2026-08-01");
        assert_eq!(
            ninety.change.as_ref().unwrap()[1],
            (Property::Windows, -25.0)
        );
        assert_eq!(year.then.as_ref().unwrap().date.to_string(), "2025-11-01");
        assert_eq!(year.change.as_ref().unwrap()[0], (Property::Web, 40.0));
        // A null count is no share of anything.
        assert_eq!(comparison.latest.shares[2], (Property::Linux, 0.0));
    }

    #[test]
    fn history_that_does_not_reach_back_has_no_comparison() {
        let comparison = compare_shares(&[day("2026-12-01", 1, 1)]).unwrap();
        assert!(comparison
            .earlier
            .iter()
            .all(|e| e.then.is_none() && e.change.is_none()));
        assert_eq!(compare_shares(&[]), None);
    }
}
