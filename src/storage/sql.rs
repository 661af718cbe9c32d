//! SQL shared by both backends: the table and column lists, and `RowQuery` ->
//! bound SQL. Every value reaches SQL through a bind; only fixed column names
//! and operators are written into the text.

use chrono::{DateTime, Utc};
use sqlx::{Database, QueryBuilder};
use uuid::Uuid;

use super::backend::{Dialect, Driver};
use super::StoreResult;
use crate::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, Property, PropertyKind, ReportPeriod,
    TenantId,
};
use crate::odata::{CompareOp, Filter, Literal, RowQuery};

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
        "id, tenant_id, name, scopes, token_hash, created_at, expires_at, revoked_at, reach"
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

/// One key a page is sorted by, as SQL: the expression, its direction and, on
/// a page after a cursor, the cursor's value for it.
struct SortKey {
    expr: String,
    descending: bool,
    after: Option<Literal>,
}

/// The keys a page is sorted by: the client's, then the id ascending as the
/// tie-break, stopping as soon as the keys order a tenant's rows totally. The
/// id does; so do the period and the refresh date together (the natural key).
/// A key past that point never decides, and leaving it out lets an index that
/// ends there serve the order without a sort (`docs/queries.md`).
fn sort_keys(query: &RowQuery) -> Vec<SortKey> {
    let cursor = query.after.as_ref();
    let mut keys = Vec::new();
    let (mut period, mut date) = (false, false);
    for (i, key) in query.order_by.iter().enumerate() {
        keys.push(SortKey {
            expr: sort_expression(key.property),
            descending: key.descending,
            after: cursor
                .and_then(|c| c.keys.get(i))
                .map(|value| sort_literal(key.property, value)),
        });
        period |= key.property == Property::ReportPeriod;
        date |= key.property == Property::ReportRefreshDate;
        if key.property == Property::Id || (period && date) {
            return keys;
        }
    }
    keys.push(SortKey {
        expr: "id".to_owned(),
        descending: false,
        after: cursor.map(|c| Literal::Id(c.last_id)),
    });
    keys
}

/// Whether the page is read as one range of the natural key per period, merged:
/// when the order starts with the refresh date (or with the period and then the
/// date in the other direction). Within one period a refresh date is unique, so
/// each period's rows in that order are a range of the natural key, and the
/// page needs at most `skip + limit` rows of each. Not when the filter names
/// the period: the planner then reads the periods it asks for directly.
fn by_period(query: &RowQuery) -> bool {
    let date_led = match query.order_by.as_slice() {
        [first, ..] if first.property == Property::ReportRefreshDate => true,
        [first, second, ..] => {
            first.property == Property::ReportPeriod
                && second.property == Property::ReportRefreshDate
                && first.descending != second.descending
        }
        _ => false,
    };
    date_led
        && !query
            .filter
            .as_ref()
            .is_some_and(|f| mentions(f, Property::ReportPeriod))
}

fn mentions(filter: &Filter, property: Property) -> bool {
    match filter {
        Filter::And(l, r) | Filter::Or(l, r) => mentions(l, property) || mentions(r, property),
        Filter::Not(inner) => mentions(inner, property),
        Filter::Compare { property: p, .. } => *p == property,
    }
}

/// `SELECT ... WHERE tenant_id = ? [AND filter] [AND after cursor] ORDER BY ... LIMIT ? OFFSET ?`,
/// or for an order led by the refresh date, the same over the union of each
/// period's first `skip + limit` rows in date order (see `by_period`).
pub fn select_page<'a, D: Dialect>(tenant: &TenantId, query: &RowQuery) -> QueryBuilder<'a, D::DB> {
    page::<D>("", tenant, query)
}

/// `select_page`'s query as the database plans it.
pub fn explain_page<'a, D: Dialect>(
    tenant: &TenantId,
    query: &RowQuery,
) -> QueryBuilder<'a, D::DB> {
    page::<D>(D::EXPLAIN, tenant, query)
}

fn page<'a, D: Dialect>(
    prefix: &str,
    tenant: &TenantId,
    query: &RowQuery,
) -> QueryBuilder<'a, D::DB> {
    let keys = sort_keys(query);
    let mut b = QueryBuilder::new(format!("{prefix}SELECT {COLUMNS} FROM "));
    let date = query
        .order_by
        .iter()
        .find(|k| k.property == Property::ReportRefreshDate);
    if let Some(date) = date.filter(|_| by_period(query)) {
        let per_period = u64::from(query.limit).saturating_add(query.skip);
        b.push("(");
        for (i, period) in ReportPeriod::ALL.into_iter().enumerate() {
            if i > 0 {
                b.push(" UNION ALL ");
            }
            b.push(format!(
                "SELECT * FROM (SELECT {COLUMNS} FROM {TABLE} WHERE "
            ));
            push_conditions::<D>(&mut b, tenant, query, &keys);
            b.push(" AND report_period = ");
            D::bind_literal(&mut b, &Literal::Period(period));
            b.push(" ORDER BY report_refresh_date");
            b.push(if date.descending { " DESC" } else { " ASC" });
            push_limit::<D>(&mut b, per_period);
            b.push(format!(") AS p{}", period.days()));
        }
        b.push(") AS page_rows");
    } else {
        b.push(format!("{TABLE} WHERE "));
        push_conditions::<D>(&mut b, tenant, query, &keys);
    }
    b.push(" ORDER BY ");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.push(&key.expr);
        b.push(if key.descending { " DESC" } else { " ASC" });
    }
    push_limit::<D>(&mut b, u64::from(query.limit));
    b.push(" OFFSET ");
    D::bind_literal(
        &mut b,
        &Literal::Int(i64::try_from(query.skip).unwrap_or(i64::MAX)),
    );
    b
}

/// `tenant_id = ? [AND filter] [AND after cursor]`
fn push_conditions<'a, D: Dialect>(
    b: &mut QueryBuilder<'a, D::DB>,
    tenant: &TenantId,
    query: &RowQuery,
    keys: &[SortKey],
) {
    b.push("tenant_id = ");
    D::DB::push_string(b, tenant.as_str().to_owned());
    if let Some(filter) = &query.filter {
        b.push(" AND ");
        push_filter::<D>(b, filter);
    }
    if query.after.is_some() {
        b.push(" AND ");
        push_after::<D>(b, keys);
    }
}

fn push_limit<'a, D: Dialect>(b: &mut QueryBuilder<'a, D::DB>, rows: u64) {
    b.push(" LIMIT ");
    D::bind_literal(b, &Literal::Int(i64::try_from(rows).unwrap_or(i64::MAX)));
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

/// Rows strictly after the cursor in the keys' order: the lexicographic
/// comparison `(k1, k2, ..., kn) > (v1, v2, ..., vn)` written out as
/// `k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))`, with each key's direction.
/// With more than one key it is preceded by `k1 >= v1`, which it implies: an
/// index that serves the order reads from the cursor on instead of filtering
/// every row before it.
fn push_after<'a, D: Dialect>(b: &mut QueryBuilder<'a, D::DB>, keys: &[SortKey]) {
    let keys: Vec<(&str, bool, &Literal)> = keys
        .iter()
        .filter_map(|k| Some((k.expr.as_str(), k.descending, k.after.as_ref()?)))
        .collect();
    let Some(&(first, first_descending, first_value)) = keys.first() else {
        b.push("(1 = 1)");
        return;
    };
    if keys.len() > 1 {
        b.push(format!(
            "{first} {} ",
            if first_descending { "<=" } else { ">=" }
        ));
        D::bind_literal(b, first_value);
        b.push(" AND ");
    }
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

/// Writes `content` over the tenant's row `id` (its id and creation time
/// kept), answering the row as stored, or `None` when there is no such row:
/// a PATCH and an import that replaces a restated row alike.
pub(super) async fn write_patched<D: Dialect>(
    conn: &mut <D::DB as Database>::Connection,
    tenant: &TenantId,
    id: Uuid,
    content: &NewDistributionRow,
    now: DateTime<Utc>,
) -> Result<Option<<D::DB as Database>::Row>, sqlx::Error> {
    const UPDATE_ROW: &str = concat!(
        "UPDATE ",
        table!(),
        " SET report_refresh_date = $1, web = $2, windows_phone = $3, \
         android_phone = $4, ios = $5, mac = $6, windows = $7, chrome_os = $8, linux = $9, \
         report_period = $10, updated_at = $11 WHERE tenant_id = $12 AND id = $13 RETURNING ",
        columns!()
    );
    let update = D::bind_date(sqlx::query(UPDATE_ROW), content.report_refresh_date);
    let update = D::DB::bind_counts(update, &content.counts);
    let update = D::bind_timestamp(D::DB::bind_period(update, content.report_period), now);
    let update = D::bind_id(D::DB::bind_str(update, tenant.as_str()), id);
    D::DB::fetch_optional(conn, update).await
}

#[cfg(test)]
mod tests {
    use super::super::sqlite::SqliteDialect;
    use super::*;
    use crate::odata::{parse_filter, Cursor, OrderKey};

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
                "web <= ? AND (web < ? OR (web = ? AND (COALESCE(linux, -1) > ? OR \
                 (COALESCE(linux, -1) = ? AND (id > ?)))))"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("ORDER BY web DESC, COALESCE(linux, -1) ASC, id ASC LIMIT ? OFFSET ?"),
            "{sql}"
        );
    }

    fn page_sql(order: &[(Property, bool)], filter: Option<&str>, after: bool) -> String {
        let order_by: Vec<OrderKey> = order
            .iter()
            .map(|&(property, descending)| OrderKey {
                property,
                descending,
            })
            .collect();
        let query = RowQuery {
            after: after.then(|| Cursor {
                keys: order_by
                    .iter()
                    .map(|k| match k.property {
                        Property::ReportRefreshDate => {
                            Literal::Date(chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap())
                        }
                        Property::ReportPeriod => Literal::Period(ReportPeriod::D30),
                        Property::Id => Literal::Id(uuid::Uuid::nil()),
                        _ => Literal::Int(3),
                    })
                    .collect(),
                last_id: uuid::Uuid::nil(),
            }),
            filter: filter.map(|f| parse_filter(f).unwrap()),
            order_by,
            ..RowQuery::first(10)
        };
        let tenant = TenantId::parse("default").unwrap();
        select_page::<SqliteDialect>(&tenant, &query).into_sql()
    }

    #[test]
    fn the_default_order_is_the_id_after_the_cursor() {
        let first = page_sql(&[], None, false);
        assert!(
            first.ends_with("WHERE tenant_id = ? ORDER BY id ASC LIMIT ? OFFSET ?"),
            "{first}"
        );
        let deep = page_sql(&[], None, true);
        assert!(
            deep.ends_with("WHERE tenant_id = ? AND (id > ?) ORDER BY id ASC LIMIT ? OFFSET ?"),
            "{deep}"
        );
    }

    #[test]
    fn keys_that_order_rows_totally_need_no_tie_break() {
        use Property::{Id, ReportPeriod as Period, ReportRefreshDate as Date, Web};
        let by_id = page_sql(&[(Id, true), (Web, false)], None, true);
        assert!(
            by_id.ends_with("AND (id < ?) ORDER BY id DESC LIMIT ? OFFSET ?"),
            "{by_id}"
        );
        let natural = page_sql(&[(Period, true), (Date, true), (Web, false)], None, true);
        assert!(
            natural.ends_with(
                "AND report_period <= ? AND (report_period < ? OR (report_period = ? AND \
                 (report_refresh_date < ?))) \
                 ORDER BY report_period DESC, report_refresh_date DESC LIMIT ? OFFSET ?"
            ),
            "{natural}"
        );
        let by_web = page_sql(&[(Web, false), (Id, false)], None, false);
        assert!(
            by_web.ends_with("ORDER BY web ASC, id ASC LIMIT ? OFFSET ?"),
            "{by_web}"
        );
    }

    #[test]
    fn date_led_orders_read_each_period_as_a_range() {
        use Property::{ReportPeriod as Period, ReportRefreshDate as Date};
        let by_date = page_sql(&[(Date, true)], Some("web gt 1"), true);
        assert_eq!(by_date.matches("report_period = ?").count(), 4, "{by_date}");
        assert_eq!(
            by_date
                .matches("ORDER BY report_refresh_date DESC LIMIT ?)")
                .count(),
            4,
            "{by_date}"
        );
        assert!(
            by_date.contains(
                "WHERE tenant_id = ? AND (web > ?) AND report_refresh_date <= ? AND \
                 (report_refresh_date < ? OR (report_refresh_date = ? AND (id > ?))) \
                 AND report_period = ?"
            ),
            "{by_date}"
        );
        assert!(
            by_date.ends_with(
                ") AS page_rows ORDER BY report_refresh_date DESC, id ASC LIMIT ? OFFSET ?"
            ),
            "{by_date}"
        );
        // Mixed directions: no single range of the natural key serves them.
        let mixed = page_sql(&[(Period, false), (Date, true)], None, false);
        assert_eq!(mixed.matches("UNION ALL").count(), 3, "{mixed}");
        // The same directions: one range, no union.
        let same = page_sql(&[(Period, false), (Date, false)], None, false);
        assert!(!same.contains("UNION"), "{same}");
        // A filter on the period: the planner reads the periods it names.
        let filtered = page_sql(&[(Date, false)], Some("reportPeriod eq '7'"), false);
        assert!(!filtered.contains("UNION"), "{filtered}");
        // The period alone: within a period the id decides, which no key serves.
        let period = page_sql(&[(Period, false)], None, false);
        assert!(!period.contains("UNION"), "{period}");
    }
}
