//! The device mix summed over tenants: per refresh date of one period, and
//! each tenant's share of the users on the newest of those dates.

use chrono::NaiveDate;

use crate::domain::TenantId;
use crate::storage::{RollupDay, RollupSelection, Store, StoreResult};

/// A tenant's part of the newest roll-up day.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantShare {
    pub tenant: TenantId,
    /// Its users over every device that day (a null count adds nothing).
    pub users: i128,
    /// `users` as a percentage of every selected tenant's users that day.
    pub share: f64,
}

/// The roll-up of what `selection` names.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    /// Oldest first.
    pub days: Vec<RollupDay>,
    /// Each tenant's share on the newest day, largest first.
    pub shares: Vec<TenantShare>,
}

impl Rollup {
    pub fn latest(&self) -> Option<NaiveDate> {
        self.days.last().map(|day| day.date)
    }
}

/// The users of a day's counts, nulls adding nothing: exact, since each
/// count may be as large as an Int64 holds.
pub fn users(day: &RollupDay) -> i128 {
    day.counts.iter().filter_map(|(_, n)| *n).sum()
}

/// Percent of `part` in `whole`; 0 of nothing.
pub fn percent(part: i128, whole: i128) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

pub async fn rollup(store: &dyn Store, selection: &RollupSelection) -> StoreResult<Rollup> {
    let days = store.rollup_days(selection).await?;
    let mut shares = Vec::new();
    if let Some(newest) = days.last() {
        let total = users(newest);
        shares = store
            .tenant_days(selection, newest.date)
            .await?
            .into_iter()
            .map(|(tenant, day)| {
                let users = users(&day);
                TenantShare {
                    tenant,
                    users,
                    share: percent(users, total),
                }
            })
            .collect();
        shares.sort_by(|a, b| b.users.cmp(&a.users).then_with(|| a.tenant.cmp(&b.tenant)));
    }
    Ok(Rollup { days, shares })
}
