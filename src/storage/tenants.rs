//! What the service knows of each tenant on any backend, written once over the
//! backend's dialect: the names people know them by, and each tenant's rows
//! summed up per period, for an operator looking after all of them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::Database;

use chrono::NaiveDate;
use sqlx::QueryBuilder;

use super::backend::{Backend, DbOf, Dialect, Driver};
use super::sql::TABLE;
use super::{RollupDay, RollupSelection, StoreError, StoreResult, TenantPeriodRows, TenantStore};
use crate::domain::{Property, TenantId};
use crate::odata::Literal;

const SET_NAME: &str = "INSERT INTO tenant_names (tenant_id, display_name) VALUES ($1, $2) \
     ON CONFLICT (tenant_id) DO UPDATE SET display_name = excluded.display_name";
const NAMES: &str = "SELECT tenant_id, display_name FROM tenant_names ORDER BY tenant_id";
/// Tenants that hold a token but perhaps no row yet.
const TOKEN_TENANTS: &str = "SELECT DISTINCT tenant_id FROM api_tokens ORDER BY tenant_id";

/// One index range per tenant and period: the key leads with both.
fn period_rows_sql() -> String {
    format!(
        "SELECT tenant_id, report_period, COUNT(*) AS row_count, \
         MAX(report_refresh_date) AS latest FROM {TABLE} \
         GROUP BY tenant_id, report_period ORDER BY tenant_id, report_period"
    )
}

#[async_trait]
impl<B: Backend> TenantStore for B {
    async fn set_tenant_name(&self, tenant: &TenantId, name: &str) -> StoreResult<()> {
        let query = DbOf::<B>::bind_str(sqlx::query(SET_NAME), tenant.as_str());
        let query = DbOf::<B>::bind_str(query, name);
        DbOf::<B>::execute(&mut *self.pools().writer.acquire().await?, query).await?;
        self.committed();
        Ok(())
    }

    async fn tenant_names(&self) -> StoreResult<BTreeMap<TenantId, String>> {
        let rows = DbOf::<B>::fetch_all(
            &mut *self.pools().readers.acquire().await?,
            sqlx::query(NAMES),
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    DbOf::<B>::get_tenant(row, "tenant_id")?,
                    DbOf::<B>::get_string(row, "display_name")?,
                ))
            })
            .collect()
    }

    async fn token_tenants(&self) -> StoreResult<Vec<TenantId>> {
        let rows = DbOf::<B>::fetch_all(
            &mut *self.pools().readers.acquire().await?,
            sqlx::query(TOKEN_TENANTS),
        )
        .await?;
        rows.iter()
            .map(|row| DbOf::<B>::get_tenant(row, "tenant_id"))
            .collect()
    }

    async fn rollup_days(&self, selection: &RollupSelection) -> StoreResult<Vec<RollupDay>> {
        let mut b = QueryBuilder::new(format!(
            "SELECT report_refresh_date, COUNT(*) AS tenants, {} FROM {TABLE}",
            sums()
        ));
        push_selection::<B::Dialect>(&mut b, selection);
        b.push(" GROUP BY report_refresh_date ORDER BY report_refresh_date");
        let rows =
            B::Dialect::fetch_built(&mut *self.pools().readers.acquire().await?, &mut b).await?;
        rows.iter().map(decode_day::<B::Dialect>).collect()
    }

    async fn tenant_days(
        &self,
        selection: &RollupSelection,
        date: NaiveDate,
    ) -> StoreResult<Vec<(TenantId, RollupDay)>> {
        let mut b = QueryBuilder::new(format!(
            "SELECT tenant_id, report_refresh_date, COUNT(*) AS tenants, {} FROM {TABLE}",
            sums()
        ));
        let day = RollupSelection {
            from: Some(date),
            to: Some(date),
            ..selection.clone()
        };
        push_selection::<B::Dialect>(&mut b, &day);
        b.push(" GROUP BY tenant_id, report_refresh_date ORDER BY tenant_id");
        let rows =
            B::Dialect::fetch_built(&mut *self.pools().readers.acquire().await?, &mut b).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    DbOf::<B>::get_tenant(row, "tenant_id")?,
                    decode_day::<B::Dialect>(row)?,
                ))
            })
            .collect()
    }

    async fn tenant_period_rows(&self) -> StoreResult<Vec<TenantPeriodRows>> {
        let sql = period_rows_sql();
        let rows = DbOf::<B>::fetch_all(
            &mut *self.pools().readers.acquire().await?,
            sqlx::query(&sql),
        )
        .await?;
        rows.iter().map(decode_period_rows::<B::Dialect>).collect()
    }
}

/// The counts summed, in Graph's order, each as two sums of its 31-bit
/// halves: neither can overflow an Int64 (each half is below 2^31, and a
/// selection holds far fewer than 2^32 rows), and together they give the exact
/// sum of counts that may each be as large as an Int64 holds. Postgres sums
/// BIGINT as NUMERIC: cast back, as SQLite reads it too.
fn sums() -> String {
    Property::ALL
        .into_iter()
        .filter(|p| p.kind().is_count())
        .map(|p| {
            format!(
                "CAST(SUM({0} >> 31) AS BIGINT) AS {0}_hi, \
                 CAST(SUM({0} & 2147483647) AS BIGINT) AS {0}_lo",
                p.column()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `WHERE` the period, the dates and the tenants of `selection`, all bound.
fn push_selection<D: Dialect>(b: &mut QueryBuilder<'_, D::DB>, selection: &RollupSelection) {
    b.push(" WHERE report_period = ");
    D::bind_literal(b, &Literal::Period(selection.period));
    if let Some(from) = selection.from {
        b.push(" AND report_refresh_date >= ");
        D::bind_literal(b, &Literal::Date(from));
    }
    if let Some(to) = selection.to {
        b.push(" AND report_refresh_date <= ");
        D::bind_literal(b, &Literal::Date(to));
    }
    if let Some(tenants) = &selection.tenants {
        if tenants.is_empty() {
            b.push(" AND 1 = 0");
            return;
        }
        b.push(" AND tenant_id IN (");
        for (n, tenant) in tenants.iter().enumerate() {
            if n > 0 {
                b.push(", ");
            }
            D::bind_literal(b, &Literal::Text(tenant.to_string()));
        }
        b.push(")");
    }
}

fn decode_day<D: Dialect>(row: &<D::DB as Database>::Row) -> StoreResult<RollupDay> {
    let mut counts = Vec::new();
    for property in Property::ALL.into_iter().filter(|p| p.kind().is_count()) {
        let half =
            |part: &str| D::DB::get_optional_int(row, &format!("{}_{part}", property.column()));
        let sum = match (half("hi")?, half("lo")?) {
            (Some(hi), Some(lo)) => Some((i128::from(hi) << 31) + i128::from(lo)),
            _ => None,
        };
        counts.push((property, sum));
    }
    let tenants = D::DB::get_optional_int(row, "tenants")?;
    Ok(RollupDay {
        date: D::get_date(row, "report_refresh_date")?,
        tenants: tenants
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("tenants = {tenants:?}")))?,
        counts,
    })
}

fn decode_period_rows<D: Dialect>(row: &<D::DB as Database>::Row) -> StoreResult<TenantPeriodRows> {
    let count = D::DB::get_optional_int(row, "row_count")?;
    Ok(TenantPeriodRows {
        tenant: D::DB::get_tenant(row, "tenant_id")?,
        period: D::get_period(row, "report_period")?,
        rows: count
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("row_count = {count:?}")))?,
        latest: D::get_date(row, "latest")?,
    })
}
