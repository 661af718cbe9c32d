//! Postgres's SQL: `$n` placeholders, native uuid, date and timestamptz
//! columns, and a batch as one statement whose columns are sent as arrays and
//! turned back into rows by `unnest`, one round trip whatever its size.

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnection, PgQueryResult, PgRow};
use sqlx::{Executor, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::super::backend::{Dialect, Driver, Query, RowsAffected};
use super::super::sql::{columns, table, token_columns};
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

    /// The whole batch is one statement.
    const ROWS_PER_STATEMENT: usize = usize::MAX;

    const SELECT_ROW: &'static str = concat!(
        "SELECT ",
        columns!(),
        " FROM ",
        table!(),
        " WHERE tenant_id = $1 AND id = $2"
    );
    // A concurrent update of this row waits for our commit.
    const SELECT_ROW_FOR_UPDATE: &'static str = concat!(
        "SELECT ",
        columns!(),
        " FROM ",
        table!(),
        " WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
    );
    const SELECT_ROW_BY_KEY: &'static str = concat!(
        "SELECT ",
        columns!(),
        " FROM ",
        table!(),
        " WHERE tenant_id = $1 AND report_refresh_date = $2 AND report_period = $3"
    );
    const SELECT_LATEST_ROW: &'static str =
        concat!(
        "SELECT ", columns!(), " FROM ", table!(),
        " WHERE tenant_id = $1 AND report_period = $2 ORDER BY report_refresh_date DESC LIMIT 1"
    );
    const UPDATE_ROW: &'static str = concat!(
        "UPDATE ",
        table!(),
        " SET report_refresh_date = $1, web = $2, windows_phone = $3, \
         android_phone = $4, ios = $5, mac = $6, windows = $7, chrome_os = $8, linux = $9, \
         report_period = $10, updated_at = $11 WHERE tenant_id = $12 AND id = $13 RETURNING ",
        columns!()
    );
    const DELETE_ROW: &'static str = concat!(
        "DELETE FROM ",
        table!(),
        " WHERE tenant_id = $1 AND id = $2"
    );
    const INSERT_TOKEN: &'static str = concat!(
        "INSERT INTO api_tokens (",
        token_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    const SELECT_TOKEN: &'static str = concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE token_hash = $1"
    );
    const LIST_TOKENS: &'static str = concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY created_at, id"
    );
    const REVOKE_TOKEN: &'static str =
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
    const RECORD_BOOTSTRAP: &'static str =
        "INSERT INTO service_events (name, happened_at) VALUES ('bootstrap_token_issued', $1) \
         ON CONFLICT (name) DO NOTHING";

    fn bind_literal(b: &mut QueryBuilder<'_, Postgres>, literal: &Literal) {
        match literal {
            Literal::Null => b.push("NULL"),
            Literal::Int(n) => b.push_bind(*n),
            Literal::Date(d) => b.push_bind(*d),
            Literal::Period(p) => b.push_bind(p.days()),
            Literal::Id(id) => b.push_bind(*id),
        };
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

    fn fetch_built<'e>(
        conn: &'e mut PgConnection,
        builder: &'e mut QueryBuilder<'_, Postgres>,
    ) -> BoxFuture<'e, sqlx::Result<Vec<PgRow>>> {
        conn.fetch_all(builder.build())
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
