//! One tenant as an operator sees it, and the list of them all.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{ReportPeriod, TenantId};
use crate::odata::{order_by, FilterProperty, FilterValue, ListRequest, Literal};
use crate::storage::{CollectionStatus, Store, StoreResult, TenantPeriodRows};

/// A tenant's rows, their freshness and its collector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantOverview {
    pub id: TenantId,
    /// As `token create --tenant-name` or `tenant rename` set it.
    pub display_name: Option<String>,
    pub row_count: u64,
    /// The newest `reportRefreshDate` of each period the tenant has rows of.
    pub latest_by_period: Vec<(ReportPeriod, NaiveDate)>,
    /// The newest of those.
    pub latest: Option<NaiveDate>,
    /// Days from `latest` to today; `None` without rows.
    pub age_days: Option<i64>,
    /// Older than `STALE_AFTER_DAYS`, or no report at all.
    pub stale: bool,
    /// The end of the newest run of its collector that succeeded.
    pub last_collection_success: Option<DateTime<Utc>>,
    /// Its collector's newest failed run: when, and why.
    pub last_collection_error: Option<(DateTime<Utc>, String)>,
}

/// What `$filter` and `$orderby` may name on `{base}/tenants`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantProperty {
    Id,
    DisplayName,
    RowCount,
    LatestReportRefreshDate,
    AgeDays,
    Stale,
}

impl TenantProperty {
    pub const ALL: [Self; 6] = [
        Self::Id,
        Self::DisplayName,
        Self::RowCount,
        Self::LatestReportRefreshDate,
        Self::AgeDays,
        Self::Stale,
    ];
}

impl FilterProperty for TenantProperty {
    const COLLECTION: &'static str = "tenants";

    fn all() -> &'static [Self] {
        &Self::ALL
    }

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::DisplayName => "displayName",
            Self::RowCount => "rowCount",
            Self::LatestReportRefreshDate => "latestReportRefreshDate",
            Self::AgeDays => "ageDays",
            Self::Stale => "stale",
        }
    }

    fn literal(self, value: &FilterValue) -> Result<Literal, String> {
        Ok(match (self, value) {
            (_, FilterValue::Null) => Literal::Null,
            (Self::Id | Self::DisplayName, FilterValue::Str(s)) => Literal::Text(s.clone()),
            (Self::Id | Self::DisplayName, _) => {
                return Err(format!("{} is a string, written quoted", self.name()))
            }
            (Self::RowCount | Self::AgeDays, FilterValue::Int(n)) => Literal::Int(*n),
            (Self::RowCount | Self::AgeDays, _) => {
                return Err(format!(
                    "{} is a whole number, written without quotes",
                    self.name()
                ))
            }
            (Self::LatestReportRefreshDate, FilterValue::Date(d)) => Literal::Date(*d),
            (Self::LatestReportRefreshDate, _) => {
                return Err("it is a date, written YYYY-MM-DD without quotes".into())
            }
            (Self::Stale, FilterValue::Boolean(b)) => Literal::Bool(*b),
            (Self::Stale, _) => return Err("stale is true or false".into()),
        })
    }
}

impl TenantOverview {
    /// The value of `property`, as `$filter` and `$orderby` compare it.
    pub fn value(&self, property: TenantProperty) -> Literal {
        let count = |n: u64| Literal::Int(i64::try_from(n).unwrap_or(i64::MAX));
        match property {
            TenantProperty::Id => Literal::Text(self.id.to_string()),
            TenantProperty::DisplayName => self
                .display_name
                .clone()
                .map_or(Literal::Null, Literal::Text),
            TenantProperty::RowCount => count(self.row_count),
            TenantProperty::LatestReportRefreshDate => {
                self.latest.map_or(Literal::Null, Literal::Date)
            }
            TenantProperty::AgeDays => self.age_days.map_or(Literal::Null, Literal::Int),
            TenantProperty::Stale => Literal::Bool(self.stale),
        }
    }
}

/// Every tenant the store knows (by a token, a name, a row or one of the
/// collector `runs` given), as `request` filters, orders (then by id) and
/// cuts them, on `today`.
pub async fn tenant_overviews(
    store: &dyn Store,
    runs: Vec<CollectionStatus>,
    request: &ListRequest<TenantProperty>,
    today: NaiveDate,
    stale_after_days: u32,
) -> StoreResult<Vec<TenantOverview>> {
    let names = store.tenant_names().await?;
    let rows = store.tenant_period_rows().await?;
    let token_tenants = store.token_tenants().await?;
    let mut tenants: BTreeMap<TenantId, TenantOverview> = BTreeMap::new();
    for id in token_tenants.iter().chain(names.keys()) {
        entry(&mut tenants, &names, id);
    }
    for TenantPeriodRows {
        tenant,
        period,
        rows,
        latest,
    } in rows
    {
        let overview = entry(&mut tenants, &names, &tenant);
        overview.row_count += rows;
        overview.latest_by_period.push((period, latest));
        overview.latest = overview.latest.max(Some(latest));
    }
    for status in runs {
        take_run(
            entry(&mut tenants, &names, &status.last_run.target_tenant),
            &status,
        );
    }
    let mut list: Vec<TenantOverview> = tenants
        .into_values()
        .map(|mut overview| {
            overview.age_days = overview.latest.map(|latest| (today - latest).num_days());
            overview.stale = overview
                .age_days
                .is_none_or(|age| age > i64::from(stale_after_days));
            overview
        })
        .filter(|overview| {
            request
                .filter
                .as_ref()
                .is_none_or(|filter| filter.matches(&|p| overview.value(p)))
        })
        .collect();
    // Stable: tenants the keys leave equal stay in id order.
    list.sort_by(|a, b| order_by(&request.order_by, &|p| a.value(p), &|p| b.value(p)));
    let skip = usize::try_from(request.skip).unwrap_or(usize::MAX);
    let top = request.top.map_or(usize::MAX, |top| top as usize);
    Ok(list.into_iter().skip(skip).take(top).collect())
}

/// The overview of `id`, begun empty the first time it is asked for.
fn entry<'t>(
    tenants: &'t mut BTreeMap<TenantId, TenantOverview>,
    names: &BTreeMap<TenantId, String>,
    id: &TenantId,
) -> &'t mut TenantOverview {
    tenants.entry(id.clone()).or_insert_with(|| TenantOverview {
        id: id.clone(),
        display_name: names.get(id).cloned(),
        row_count: 0,
        latest_by_period: Vec::new(),
        latest: None,
        age_days: None,
        stale: true,
        last_collection_success: None,
        last_collection_error: None,
    })
}

/// One source and period's newest run, folded into its tenant's collector state.
fn take_run(overview: &mut TenantOverview, status: &CollectionStatus) {
    overview.last_collection_success = overview.last_collection_success.max(status.last_success);
    let run = &status.last_run;
    if let Some(error) = &run.error {
        let newer = overview
            .last_collection_error
            .as_ref()
            .is_none_or(|(at, _)| run.finished_at > *at);
        if newer {
            overview.last_collection_error = Some((run.finished_at, error.clone()));
        }
    }
}
