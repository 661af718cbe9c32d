//! SQL shared by both backends: the table and column lists, and `RowQuery` ->
//! bound SQL. Every value reaches SQL through a bind; only fixed column names
//! and operators are written into the text.

use sqlx::{Database, QueryBuilder};

use super::backend::{Dialect, Driver};
use super::StoreResult;
use crate::domain::{DeviceCounts, DistributionRow, Property, PropertyKind, TenantId};
use crate::odata::{CompareOp, Cursor, Filter, Literal, OrderKey, RowQuery};

/// The rows' table, as a literal for `concat!` in the dialects' statements.
macro_rules! table {
    () => {
        "teams_device_usage_distribution_user_counts"
    };
}

/// The rows' columns in the order every statement reads and writes them.
macro_rules! columns {
    () => {
        "id, tenant_id, report_refresh_date, web, windows_phone, android_phone, \
         ios, mac, windows, chrome_os, linux, report_period, created_at, updated_at"
    };
}

/// The tokens' columns in the order every statement reads and writes them.
macro_rules! token_columns {
    () => {
        "id, tenant_id, name, scopes, token_hash, created_at, expires_at, revoked_at"
    };
}

/// `SELECT <columns> FROM <table> <rest>` as one literal.
macro_rules! select_rows {
    ($rest:literal) => {
        concat!("SELECT ", columns!(), " FROM ", table!(), " ", $rest)
    };
}

pub(super) use {columns, select_rows, table, token_columns};

pub const TABLE: &str = table!();
pub const COLUMNS: &str = columns!();

/// A row as `sql::COLUMNS` reads it.
pub(super) fn decode_row<D: Dialect>(
    row: &<D::DB as Database>::Row,
) -> StoreResult<DistributionRow> {
    let count = |column| D::DB::get_count(row, column);
    let optional = |column| D::DB::get_optional_count(row, column);
    Ok(DistributionRow {
        id: D::get_id(row, "id")?,
        tenant_id: D::DB::get_tenant(row, "tenant_id")?,
        report_refresh_date: D::get_date(row, "report_refresh_date")?,
        report_period: D::get_period(row, "report_period")?,
        counts: DeviceCounts {
            web: count("web")?,
            windows_phone: count("windows_phone")?,
            android_phone: count("android_phone")?,
            ios: count("ios")?,
            mac: count("mac")?,
            windows: count("windows")?,
            chrome_os: optional("chrome_os")?,
            linux: optional("linux")?,
        },
        created_at: D::get_timestamp(row, "created_at")?,
        updated_at: D::get_timestamp(row, "updated_at")?,
    })
}

/// The expression a property sorts and compares by. Null optional counts sort
/// before every count (OData: nulls first ascending) on both backends, which
/// order nulls differently by default.
fn sort_expression(property: Property) -> String {
    match property.kind() {
        PropertyKind::OptionalCount => format!("COALESCE({}, -1)", property.column()),
        _ => property.column().to_owned(),
    }
}

fn sort_literal(property: Property, literal: &Literal) -> Literal {
    match (property.kind(), literal) {
        (PropertyKind::OptionalCount, Literal::Null) => Literal::Int(-1),
        _ => literal.clone(),
    }
}

/// `SELECT ... WHERE tenant_id = ? [AND filter] [AND after cursor] ORDER BY ... LIMIT ? OFFSET ?`
pub fn select_page<'a, D: Dialect>(tenant: &TenantId, query: &RowQuery) -> QueryBuilder<'a, D::DB> {
    let mut b = QueryBuilder::new(format!("SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = "));
    D::DB::push_string(&mut b, tenant.as_str().to_owned());
    if let Some(filter) = &query.filter {
        b.push(" AND ");
        push_filter::<D>(&mut b, filter);
    }
    if let Some(cursor) = &query.after {
        b.push(" AND ");
        push_after::<D>(&mut b, &query.order_by, cursor);
    }
    b.push(" ORDER BY ");
    for key in &query.order_by {
        b.push(sort_expression(key.property));
        b.push(if key.descending { " DESC, " } else { " ASC, " });
    }
    b.push("id ASC LIMIT ");
    D::bind_literal(&mut b, &Literal::Int(i64::from(query.limit)));
    b.push(" OFFSET ");
    D::bind_literal(
        &mut b,
        &Literal::Int(i64::try_from(query.skip).unwrap_or(i64::MAX)),
    );
    b
}

/// The column `count` answers in.
pub const COUNT_COLUMN: &str = "n";

/// `SELECT COUNT(*) AS n ... WHERE tenant_id = ? [AND filter]`
pub fn count<'a, D: Dialect>(
    tenant: &TenantId,
    filter: Option<&Filter>,
) -> QueryBuilder<'a, D::DB> {
    let mut b = QueryBuilder::new(format!(
        "SELECT COUNT(*) AS {COUNT_COLUMN} FROM {TABLE} WHERE tenant_id = "
    ));
    D::DB::push_string(&mut b, tenant.as_str().to_owned());
    if let Some(filter) = filter {
        b.push(" AND ");
        push_filter::<D>(&mut b, filter);
    }
    b
}

/// Rows strictly after the cursor in the query's order: the lexicographic
/// comparison `(k1, k2, ..., id) > (v1, v2, ..., last_id)` written out as
/// `k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))`, with each key's direction.
fn push_after<'a, D: Dialect>(
    b: &mut QueryBuilder<'a, D::DB>,
    order_by: &[OrderKey],
    cursor: &Cursor,
) {
    let mut keys: Vec<(String, bool, Literal)> = order_by
        .iter()
        .zip(&cursor.keys)
        .map(|(key, value)| {
            (
                sort_expression(key.property),
                key.descending,
                sort_literal(key.property, value),
            )
        })
        .collect();
    keys.push(("id".to_owned(), false, Literal::Id(cursor.last_id)));
    let last = keys.len() - 1;
    b.push("(");
    for (i, (expr, descending, value)) in keys.iter().enumerate() {
        b.push(format!("{expr} {} ", if *descending { "<" } else { ">" }));
        D::bind_literal(b, value);
        if i < last {
            b.push(format!(" OR ({expr} = "));
            D::bind_literal(b, value);
            b.push(" AND (");
        }
    }
    for _ in 0..last {
        b.push("))");
    }
    b.push(")");
}

/// OData's two-valued logic over SQL's three: a comparison with a null count is
/// false (never unknown), so `not` and `ne` answer as a Graph client expects.
fn push_filter<'a, D: Dialect>(b: &mut QueryBuilder<'a, D::DB>, filter: &Filter) {
    match filter {
        Filter::And(l, r) | Filter::Or(l, r) => {
            b.push("(");
            push_filter::<D>(b, l);
            b.push(if matches!(filter, Filter::And(..)) {
                " AND "
            } else {
                " OR "
            });
            push_filter::<D>(b, r);
            b.push(")");
        }
        Filter::Not(inner) => {
            b.push("(NOT ");
            push_filter::<D>(b, inner);
            b.push(")");
        }
        Filter::Compare {
            property,
            op,
            value,
        } => push_compare::<D>(b, *property, *op, value),
    }
}

fn push_compare<'a, D: Dialect>(
    b: &mut QueryBuilder<'a, D::DB>,
    property: Property,
    op: CompareOp,
    value: &Literal,
) {
    let column = property.column();
    let nullable = property.kind() == PropertyKind::OptionalCount;
    match (value, op) {
        (Literal::Null, CompareOp::Eq) => {
            b.push(format!("({column} IS NULL)"));
        }
        (Literal::Null, CompareOp::Ne) => {
            b.push(format!("({column} IS NOT NULL)"));
        }
        // Ordering against null matches nothing in OData.
        (Literal::Null, _) => {
            b.push("(1 = 0)");
        }
        (_, CompareOp::Ne) if nullable => {
            b.push(format!("({column} IS NULL OR {column} <> "));
            D::bind_literal(b, value);
            b.push(")");
        }
        _ => {
            let sql_op = match op {
                CompareOp::Eq => "=",
                CompareOp::Ne => "<>",
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
            };
            if nullable {
                b.push(format!("({column} IS NOT NULL AND {column} {sql_op} "));
            } else {
                b.push(format!("({column} {sql_op} "));
            }
            D::bind_literal(b, value);
            b.push(")");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sqlite::SqliteDialect;
    use super::*;
    use crate::odata::parse_filter;

    fn where_clause(filter: &str) -> String {
        let filter = parse_filter(filter).unwrap();
        let tenant = TenantId::parse("default").unwrap();
        let sql = count::<SqliteDialect>(&tenant, Some(&filter)).into_sql();
        sql.split_once(" AND ").unwrap().1.to_owned()
    }

    #[test]
    fn values_are_bound_never_written() {
        let sql = where_clause(
            "web gt 123456 and reportRefreshDate ge 2026-01-31 and reportPeriod eq '180' \
             and id ne 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        );
        for value in ["123456", "2026", "180", "0190a1b2"] {
            assert!(!sql.contains(value), "{value} in {sql}");
        }
        assert_eq!(sql.matches('?').count(), 4, "{sql}");
    }

    #[test]
    fn nullable_counts_use_two_valued_logic() {
        assert_eq!(
            where_clause("chromeOS gt 5"),
            "(chrome_os IS NOT NULL AND chrome_os > ?)"
        );
        assert_eq!(
            where_clause("not (linux ne 5)"),
            "(NOT (linux IS NULL OR linux <> ?))"
        );
        assert_eq!(where_clause("linux eq null"), "(linux IS NULL)");
        assert_eq!(where_clause("web ne null"), "(web IS NOT NULL)");
        assert_eq!(where_clause("linux lt null"), "(1 = 0)");
        assert_eq!(
            where_clause("web eq 1 or mac eq 2 and ios eq 3"),
            "((web = ?) OR ((mac = ?) AND (ios = ?)))"
        );
    }

    #[test]
    fn the_cursor_continues_in_each_keys_direction() {
        let tenant = TenantId::parse("default").unwrap();
        let query = RowQuery {
            order_by: vec![
                OrderKey {
                    property: Property::Web,
                    descending: true,
                },
                OrderKey {
                    property: Property::Linux,
                    descending: false,
                },
            ],
            after: Some(Cursor {
                keys: vec![Literal::Int(3), Literal::Null],
                last_id: uuid::Uuid::nil(),
            }),
            ..RowQuery::first(10)
        };
        let sql = select_page::<SqliteDialect>(&tenant, &query).into_sql();
        assert!(
            sql.contains(
                "(web < ? OR (web = ? AND (COALESCE(linux, -1) > ? OR \
                 (COALESCE(linux, -1) = ? AND (id > ?)))))"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("ORDER BY web DESC, COALESCE(linux, -1) ASC, id ASC LIMIT ? OFFSET ?"),
            "{sql}"
        );
    }
}
