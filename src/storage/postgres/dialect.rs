//! Postgres's dialect: native uuid, date and timestamptz
//! columns, and a batch as one statement whose columns are sent as arrays and
//! turned back into rows by `unnest`, one round trip whatever its size.

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnection, PgDatabaseError, PgQueryResult, PgRow};
use sqlx::{Executor, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::super::backend::{Dialect, Driver, ErrorClass, Query, RowsAffected};
use super::super::sql::{columns, table};
use super::super::{StoreError, StoreResult};
use crate::domain::{DistributionRow, ReportPeriod, UserCount};
use crate::odata::Literal;

pub(in crate::storage) struct PostgresDialect;

/// One column of a batch, as the array `unnest` reads.
fn column<'a, T>(rows: &[&'a DistributionRow], value: impl Fn(&'a DistributionRow) -> T) -> Vec<T> {
    rows.iter().map(|row| value(row)).collect()
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

impl Dialect for PostgresDialect {
    type DB = Postgres;
    type Error = PgDatabaseError;

    fn classify(error: &PgDatabaseError) -> ErrorClass {
        super::error_codes::classify(error.code())
    }

    /// The whole batch is one statement.
    const ROWS_PER_STATEMENT: usize = usize::MAX;

    const BEGIN_WRITE: &'static str = "BEGIN";
    // A concurrent update of the row waits for this transaction's commit.
    const SELECT_FOR_UPDATE: bool = true;

    const EXPLAIN: &'static str = "EXPLAIN (COSTS OFF) ";
    const EXPLAIN_COLUMN: &'static str = "QUERY PLAN";

    fn bind_literal(b: &mut QueryBuilder<'_, Postgres>, literal: &Literal) {
        match literal {
            Literal::Null => b.push("NULL"),
            Literal::Int(n) => b.push_bind(*n),
            Literal::Date(d) => b.push_bind(*d),
            Literal::Period(p) => b.push_bind(p.days()),
            Literal::Id(id) => b.push_bind(*id),
            Literal::Bool(flag) => b.push_bind(*flag),
            Literal::Text(text) => b.push_bind(text.clone()),
        };
    }

    // Not shared: the builder's arguments outlive the query it builds, which
    // only each driver's concrete (covariant) argument type lets it run.
    fn fetch_built<'e>(
        conn: &'e mut PgConnection,
        builder: &'e mut QueryBuilder<'_, Postgres>,
    ) -> BoxFuture<'e, sqlx::Result<Vec<PgRow>>> {
        conn.fetch_all(builder.build())
    }

    fn bind_date<'q>(query: Query<'q, Postgres>, date: NaiveDate) -> Query<'q, Postgres> {
        query.bind(date)
    }

    fn bind_id<'q>(query: Query<'q, Postgres>, id: Uuid) -> Query<'q, Postgres> {
        query.bind(id)
    }

    fn bind_optional_timestamp<'q>(
        query: Query<'q, Postgres>,
        at: Option<DateTime<Utc>>,
    ) -> Query<'q, Postgres> {
        query.bind(at)
    }

    fn bind_timestamp<'q>(query: Query<'q, Postgres>, at: DateTime<Utc>) -> Query<'q, Postgres> {
        query.bind(at)
    }

    fn get_date(row: &PgRow, column: &str) -> StoreResult<NaiveDate> {
        Ok(row.try_get(column)?)
    }

    fn get_id(row: &PgRow, column: &str) -> StoreResult<Uuid> {
        Ok(row.try_get(column)?)
    }

    fn get_optional_timestamp(row: &PgRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(row.try_get(column)?)
    }

    fn get_period(row: &PgRow, column: &str) -> StoreResult<ReportPeriod> {
        let days: i32 = row.try_get(column)?;
        ReportPeriod::from_days(days.into())
            .ok_or_else(|| StoreError::Corrupt(format!("{column} = {days}")))
    }

    fn get_timestamp(row: &PgRow, column: &str) -> StoreResult<DateTime<Utc>> {
        Ok(row.try_get(column)?)
    }

    /// All of the rows go in one INSERT, which is atomic: every new row is
    /// stored, or none.
    fn insert_batch<'e>(
        conn: &'e mut PgConnection,
        rows: &'e [&'e DistributionRow],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send + 'e {
        let count = |get: fn(&DistributionRow) -> UserCount| column(rows, move |r| get(r).get());
        let optional = |get: fn(&DistributionRow) -> Option<UserCount>| {
            column(rows, move |r| get(r).map(UserCount::get))
        };
        let insert = sqlx::query(concat!(
            "INSERT INTO ",
            table!(),
            " (",
            columns!(),
            ") \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::int8[], $5::int8[], \
                 $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], \
                 $12::int4[], $13::timestamptz[], $14::timestamptz[]) \
             ON CONFLICT (tenant_id, report_refresh_date, report_period) DO NOTHING"
        ))
        .bind(column(rows, |r| r.id))
        .bind(column(rows, |r| r.tenant_id.as_str()))
        .bind(column(rows, |r| r.report_refresh_date))
        .bind(count(|r| r.counts.web))
        .bind(count(|r| r.counts.windows_phone))
        .bind(count(|r| r.counts.android_phone))
        .bind(count(|r| r.counts.ios))
        .bind(count(|r| r.counts.mac))
        .bind(count(|r| r.counts.windows))
        .bind(optional(|r| r.counts.chrome_os))
        .bind(optional(|r| r.counts.linux))
        .bind(column(rows, |r| r.report_period.days()))
        .bind(column(rows, |r| r.created_at))
        .bind(column(rows, |r| r.updated_at));
        Self::DB::execute(conn, insert)
    }

    fn select_key_holders<'e>(
        conn: &'e mut PgConnection,
        rows: &'e [&'e DistributionRow],
    ) -> impl Future<Output = sqlx::Result<Vec<PgRow>>> + Send + 'e {
        let select = sqlx::query(HOLDERS)
            .bind(column(rows, |r| r.tenant_id.as_str()))
            .bind(column(rows, |r| r.report_refresh_date))
            .bind(column(rows, |r| r.report_period.days()));
        conn.fetch_all(select)
    }

    /// The table as the migrations' unqualified name finds it, on the search path.
    const MIGRATIONS_TABLES: &'static str = "SELECT COUNT(to_regclass('_sqlx_migrations')) AS n";
}

/// The rows holding some natural keys, sent as arrays.
const HOLDERS: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM unnest($1::text[], $2::date[], $3::int4[]) \
         AS k(tenant_id, report_refresh_date, report_period) \
     JOIN ",
    table!(),
    " USING (tenant_id, report_refresh_date, report_period)"
);
