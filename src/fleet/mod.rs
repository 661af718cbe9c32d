//! Many tenants, one operator: what a managed-service provider looking after
//! every customer tenant at once sees. Each tenant's overview (its rows, how
//! fresh the newest report is, its collector), assembled from what storage
//! knows and filtered, ordered and cut in memory: the list is short (one item
//! a tenant) and read whole.

mod csv;
mod overview;

pub use csv::tenants_csv;
pub use overview::{tenant_overviews, TenantOverview, TenantProperty};
