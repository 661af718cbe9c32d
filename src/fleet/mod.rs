//! Many tenants, one operator: what a managed-service provider looking after
//! every customer tenant at once sees. Each tenant's overview (its rows, how
//! fresh the newest report is, its collector), assembled from what storage
//! knows and filtered, ordered and cut in memory: the list is short (one item
//! a tenant) and read whole. The device mix summed over tenants, and the
//! newest shares against earlier ones, for one tenant or a roll-up.

mod comparison;
mod csv;
mod overview;
mod rollup;

pub use comparison::{
    compare_shares, comparison_selection, comparison_start, period_comparison, Earlier,
    PeriodComparison, ShareComparison, Shares, DAYS_BACK,
};
pub use csv::{rollup_csv, tenants_csv};
pub use overview::{tenant_overviews, TenantOverview, TenantProperty};
pub use rollup::{rollup, users, Rollup, TenantShare};
