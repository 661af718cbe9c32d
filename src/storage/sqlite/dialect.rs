//! SQLite's dialect: ids, dates and timestamps stored as text,
//! and a batch as multi-row statements whose texts are made once.

use std::future::Future;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use futures_util::future::BoxFuture;
use sqlx::sqlite::{SqliteError, SqliteQueryResult, SqliteRow};
use sqlx::{Executor, QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::super::backend::{Dialect, Driver, ErrorClass, Query, RowsAffected};
use super::super::sql::{COLUMNS, TABLE};
use super::super::{StoreError, StoreResult};
use crate::domain::{DistributionRow, ReportPeriod};
use crate::odata::Literal;

pub(in crate::storage) struct SqliteDialect;

/// Timestamps are stored as one text format, RFC 3339 in UTC with
/// microseconds: 2026-11-29T06:22:45.123456Z. Written directly, where a
/// `format` string would be parsed again for every timestamp.
fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

/// The statement text for `rows` rows (1 to `ROWS_PER_STATEMENT`), made once.
fn statement(
    cache: &'static OnceLock<Vec<String>>,
    make: fn(usize) -> String,
    rows: usize,
) -> &'static str {
    let texts = cache.get_or_init(|| (1..=SqliteDialect::ROWS_PER_STATEMENT).map(make).collect());
    &texts[rows - 1]
}

fn insert_text(rows: usize) -> String {
    let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
    format!(
        "INSERT INTO {TABLE} ({COLUMNS}) VALUES {values} \
         ON CONFLICT (tenant_id, report_refresh_date, report_period) DO NOTHING"
    )
}

/// The rows holding some natural keys; a join, so each key is one index probe.
fn holders_text(rows: usize) -> String {
    let keys = vec!["(?, ?, ?)"; rows].join(", ");
    format!(
        "SELECT {COLUMNS} FROM (VALUES {keys}) AS k JOIN {TABLE} AS t \
         ON t.tenant_id = k.column1 AND t.report_refresh_date = k.column2 \
         AND t.report_period = k.column3"
    )
}

static INSERTS: OnceLock<Vec<String>> = OnceLock::new();
static HOLDERS: OnceLock<Vec<String>> = OnceLock::new();

fn bind_row<'q>(query: Query<'q, Sqlite>, row: &'q DistributionRow) -> Query<'q, Sqlite> {
    let created = format_timestamp(row.created_at);
    let updated = if row.updated_at == row.created_at {
        created.clone()
    } else {
        format_timestamp(row.updated_at)
    };
    let query = query
        .bind(row.id.to_string())
        .bind(row.tenant_id.as_str())
        .bind(row.report_refresh_date.to_string());
    Sqlite::bind_counts(query, &row.counts)
        .bind(row.report_period.days())
        .bind(created)
        .bind(updated)
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

impl Dialect for SqliteDialect {
    type DB = Sqlite;
    type Error = SqliteError;

    fn classify(error: &SqliteError) -> ErrorClass {
        super::error_codes::classify(error)
    }

    /// 64 x 14 = 896 parameters, far below SQLite's limit. Each size from 1 to
    /// 64 is a statement of its own, so a batch is one statement; the writer
    /// keeps them all prepared (`WRITER_STATEMENTS`).
    const ROWS_PER_STATEMENT: usize = 64;

    // BEGIN IMMEDIATE takes the write lock up front, so a read-then-write
    // transaction cannot fail half-way on another process's lock.
    const SELECT_FOR_UPDATE: bool = false;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    const EXPLAIN: &'static str = "EXPLAIN QUERY PLAN ";
    const EXPLAIN_COLUMN: &'static str = "detail";

    fn bind_id<'q>(query: Query<'q, Sqlite>, id: Uuid) -> Query<'q, Sqlite> {
        query.bind(id.to_string())
    }

    fn bind_date<'q>(query: Query<'q, Sqlite>, date: NaiveDate) -> Query<'q, Sqlite> {
        query.bind(date.to_string())
    }

    fn bind_timestamp<'q>(query: Query<'q, Sqlite>, at: DateTime<Utc>) -> Query<'q, Sqlite> {
        query.bind(format_timestamp(at))
    }

    fn bind_optional_timestamp<'q>(
        query: Query<'q, Sqlite>,
        at: Option<DateTime<Utc>>,
    ) -> Query<'q, Sqlite> {
        query.bind(at.map(format_timestamp))
    }

    fn bind_literal(b: &mut QueryBuilder<'_, Sqlite>, literal: &Literal) {
        match literal {
            Literal::Null => b.push("NULL"),
            Literal::Int(n) => b.push_bind(*n),
            Literal::Date(d) => b.push_bind(d.to_string()),
            Literal::Period(p) => b.push_bind(i64::from(p.days())),
            Literal::Id(id) => b.push_bind(id.to_string()),
            Literal::Bool(flag) => b.push_bind(i64::from(*flag)),
            Literal::Text(text) => b.push_bind(text.clone()),
        };
    }

    // Not shared: the builder's arguments outlive the query it builds, which
    // only each driver's concrete (covariant) argument type lets it run.
    fn fetch_built<'e>(
        conn: &'e mut SqliteConnection,
        builder: &'e mut QueryBuilder<'_, Sqlite>,
    ) -> BoxFuture<'e, sqlx::Result<Vec<SqliteRow>>> {
        conn.fetch_all(builder.build())
    }

    fn get_id(row: &SqliteRow, column: &str) -> StoreResult<Uuid> {
        // Text is borrowed from the row, not copied: a page decodes a hundred rows.
        let id: &str = row.try_get(column)?;
        Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("{column} {id:?}: {e}")))
    }

    fn get_date(row: &SqliteRow, column: &str) -> StoreResult<NaiveDate> {
        let date: &str = row.try_get(column)?;
        // `FromStr` is YYYY-MM-DD without parsing a format string for each row.
        date.parse()
            .map_err(|e| StoreError::Corrupt(format!("{column} {date:?}: {e}")))
    }

    fn get_period(row: &SqliteRow, column: &str) -> StoreResult<ReportPeriod> {
        let days: i64 = row.try_get(column)?;
        ReportPeriod::from_days(days)
            .ok_or_else(|| StoreError::Corrupt(format!("{column} = {days}")))
    }

    fn get_timestamp(row: &SqliteRow, column: &str) -> StoreResult<DateTime<Utc>> {
        parse_timestamp(row.try_get(column)?)
    }

    fn get_optional_timestamp(row: &SqliteRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let text: Option<&str> = row.try_get(column)?;
        text.map(parse_timestamp).transpose()
    }

    fn insert_batch<'e>(
        conn: &'e mut SqliteConnection,
        rows: &'e [&'e DistributionRow],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send + 'e {
        let insert = rows.iter().fold(
            sqlx::query(statement(&INSERTS, insert_text, rows.len())),
            |query, row| bind_row(query, row),
        );
        Self::DB::execute(conn, insert)
    }

    fn select_key_holders<'e>(
        conn: &'e mut SqliteConnection,
        rows: &'e [&'e DistributionRow],
    ) -> impl Future<Output = sqlx::Result<Vec<SqliteRow>>> + Send + 'e {
        let select = rows.iter().fold(
            sqlx::query(statement(&HOLDERS, holders_text, rows.len())),
            |query, row| {
                query
                    .bind(row.tenant_id.as_str())
                    .bind(row.report_refresh_date.to_string())
                    .bind(row.report_period.days())
            },
        );
        conn.fetch_all(select)
    }

    const MIGRATIONS_TABLES: &'static str = "SELECT COUNT(*) AS n FROM sqlite_master \
         WHERE type = 'table' AND name = '_sqlx_migrations'";
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// The stored text is what plain SQL sees and compares: one width, always
    /// six fractional digits and a Z, read back to the same instant.
    #[test]
    fn timestamps_are_stored_as_one_text_format() {
        let whole = Utc.with_ymd_and_hms(2026, 11, 29, 6, 22, 45).unwrap();
        assert_eq!(format_timestamp(whole), "2026-11-29T06:22:45.000000Z");
        let precise = whole + chrono::Duration::microseconds(123_456);
        assert_eq!(format_timestamp(precise), "2026-11-29T06:22:45.123456Z");
        let nanos = precise + chrono::Duration::nanoseconds(789);
        assert_eq!(format_timestamp(nanos), "2026-11-29T06:22:45.123456Z");
        assert_eq!(
            parse_timestamp(&format_timestamp(precise)).unwrap(),
            precise
        );
    }

    #[test]
    fn batch_statements_have_one_row_of_placeholders_per_row() {
        let one = statement(&INSERTS, insert_text, 1);
        let most = statement(&INSERTS, insert_text, SqliteDialect::ROWS_PER_STATEMENT);
        assert_eq!(one.matches('?').count(), 14);
        assert_eq!(
            most.matches('?').count(),
            14 * SqliteDialect::ROWS_PER_STATEMENT
        );
        assert_eq!(statement(&HOLDERS, holders_text, 3).matches('?').count(), 9);
    }
}
