//! The schemas of the document. The row's shapes are built from the property
//! table its JSON is read and written from; the envelopes the handlers write
//! by hand are described by the types below.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate, Utc};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{AdditionalProperties, KnownFormat, SchemaFormat, SchemaType};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::domain::{latest_refresh_date, Property, PropertyKind, ReportPeriod, ODATA_TYPE};
use crate::error::ApiError;

/// The ways a row's JSON is used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RowShape {
    /// As the service writes it.
    Entity,
    /// A POST body: the required properties must be there, `id` must not.
    Create,
    /// A PATCH body: any of the properties a POST may set.
    Patch,
}

fn property_schema(property: Property, shape: RowShape) -> Schema {
    let int64 = |types: SchemaType| {
        ObjectBuilder::new()
            .schema_type(types)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0))
            .maximum(Some(i64::MAX as isize))
            .description(Some(
                "A user count, an Int64 from 0. An integral number written with a fraction or exponent (`3.0`, `3e2`) is the same number and accepted. A decimal string when IEEE754Compatible=true is in Content-Type (requests) or Accept (responses)",
            ))
    };
    let object = match property.kind() {
        PropertyKind::Id => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .read_only(true)
            .description(Some("Assigned by the service (a time-ordered UUID)")),
        PropertyKind::Date if shape == RowShape::Entity => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        PropertyKind::Date => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(dates_until(latest_refresh_date(Utc::now().date_naive()))))
            .description(Some(
                "A calendar date from 0001-01-01, not after tomorrow (UTC): the pattern names the last day accepted when this document was served",
            )),
        // The service writes decimal strings when the caller asks for IEEE754Compatible.
        PropertyKind::Count if shape == RowShape::Entity => {
            int64(SchemaType::from_iter([Type::Integer, Type::String])).pattern(Some("^[0-9]+$"))
        }
        PropertyKind::OptionalCount if shape == RowShape::Entity => int64(SchemaType::from_iter(
            [Type::Integer, Type::String, Type::Null],
        ))
        .pattern(Some("^[0-9]+$")),
        PropertyKind::Count => int64(Type::Integer.into()),
        PropertyKind::OptionalCount => int64(SchemaType::from_iter([Type::Integer, Type::Null])),
        PropertyKind::Period => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ReportPeriod::ALL.map(|p| p.days().to_string())))
            .description(Some("The report window in days")),
    };
    object.build().into()
}

fn row_schema(shape: RowShape) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new().property(
        "@odata.type",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([ODATA_TYPE])),
    );
    if shape == RowShape::Entity {
        object = object.property(
            "@odata.context",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("On single-entity responses")),
        );
    }
    for property in Property::ALL {
        let kind = property.kind();
        if kind == PropertyKind::Id && shape != RowShape::Entity {
            continue;
        }
        object = object.property(property.json_name(), property_schema(property, shape));
        if shape == RowShape::Create && kind != PropertyKind::OptionalCount {
            object = object.required(property.json_name());
        }
    }
    let description = match shape {
        RowShape::Entity => "A stored row: every property, or those $select names",
        RowShape::Create => {
            "A new row. Other @odata.* annotations are ignored; any other property is refused, every problem reported at once"
        }
        RowShape::Patch => "The properties to change, each checked as on create",
    };
    // Every property is listed; other `@odata.*` instance annotations are
    // allowed (and ignored on requests), anything else is refused.
    object = object
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .extensions(Some(Extensions::from_iter([(
            "patternProperties",
            serde_json::json!({ ODATA_ANNOTATION_PATTERN: {} }),
        )])));
    object.description(Some(description)).build().into()
}

/// The names of the instance annotations a row may carry besides its properties.
pub const ODATA_ANNOTATION_PATTERN: &str = "^@odata\\.";

/// A regular expression for the `YYYY-MM-DD` strings of real-looking dates up
/// to and including `latest`: an earlier year, the same year and an earlier
/// month, or the same month and a day up to `latest`'s (`format: date` rules
/// out the days a month lacks, and year 0).
fn dates_until(latest: NaiveDate) -> String {
    const MONTH: &str = "(0[1-9]|1[0-2])";
    const DAY: &str = "(0[1-9]|[12][0-9]|3[01])";
    let year = format!("{:04}", latest.year());
    // Years 0001 to 0999, then (the year has four digits from 1000) for each
    // position: `year`'s first digits, a smaller digit, then any.
    let mut earlier_years = vec!["0(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})".to_owned()];
    for (position, digit) in year.char_indices() {
        let smallest = if position == 0 { '1' } else { '0' };
        if digit > smallest {
            let below = char::from(digit as u8 - 1);
            earlier_years.push(format!(
                "{}[{smallest}-{below}]{}",
                &year[..position],
                "[0-9]".repeat(3 - position)
            ));
        }
    }
    let list = |to: u32| {
        (1..to)
            .map(|n| format!("{n:02}"))
            .collect::<Vec<_>>()
            .join("|")
    };
    let mut alternatives = Vec::new();
    alternatives.push(format!("({})-{MONTH}-{DAY}", earlier_years.join("|")));
    if latest.month() > 1 {
        alternatives.push(format!("{year}-({})-{DAY}", list(latest.month())));
    }
    alternatives.push(format!(
        "{year}-{:02}-({})",
        latest.month(),
        list(latest.day() + 1)
    ));
    format!("^({})$", alternatives.join("|"))
}

/// `microsoft.graph.teamsDeviceUsageDistributionUserCounts` as the service writes it.
pub struct RowEntity;

impl PartialSchema for RowEntity {
    fn schema() -> RefOr<Schema> {
        row_schema(RowShape::Entity)
    }
}

impl ToSchema for RowEntity {
    fn name() -> Cow<'static, str> {
        ODATA_TYPE.trim_start_matches('#').into()
    }
}

/// The body of a POST to the collection.
pub struct NewRow;

impl PartialSchema for NewRow {
    fn schema() -> RefOr<Schema> {
        row_schema(RowShape::Create)
    }
}

impl ToSchema for NewRow {}

/// The body of a PATCH of one row.
pub struct RowPatch;

impl PartialSchema for RowPatch {
    fn schema() -> RefOr<Schema> {
        row_schema(RowShape::Patch)
    }
}

impl ToSchema for RowPatch {}

/// The report function's `period`: `D7`, `D30`, `D90` or `D180`.
pub struct PeriodArgument;

impl PartialSchema for PeriodArgument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ReportPeriod::ALL.map(ReportPeriod::function_arg)))
            .build()
            .into()
    }
}

impl ToSchema for PeriodArgument {}

/// The dashboard chart's `period`: the day count, `7`, `30`, `90` or `180`.
pub struct ChartPeriod;

impl PartialSchema for ChartPeriod {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ReportPeriod::ALL.map(|p| p.days().to_string())))
            .build()
            .into()
    }
}

impl ToSchema for ChartPeriod {}

/// A date query parameter, `YYYY-MM-DD`.
pub struct DateParameter;

impl PartialSchema for DateParameter {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
            .build()
            .into()
    }
}

impl ToSchema for DateParameter {}

// The types below describe JSON the handlers assemble themselves; they are
// never built, only read by the derive.

/// A page of the collection.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RowCollection {
    #[schema(rename = "@odata.context")]
    context: String,
    /// With `$count=true`: the rows matching `$filter`, all pages together.
    #[schema(rename = "@odata.count")]
    count: Option<i64>,
    /// The next page: the same query with an opaque `$skiptoken`.
    #[schema(rename = "@odata.nextLink")]
    next_link: Option<String>,
    value: Vec<RowEntity>,
}

/// The report function's JSON form: the latest row for the period, or none.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ReportCollection {
    #[schema(rename = "@odata.context")]
    context: String,
    #[schema(max_items = 1)]
    value: Vec<RowEntity>,
}

/// The singleton `reports`, `microsoft.graph.reportRoot`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ReportRoot {
    #[schema(rename = "@odata.context")]
    context: String,
    #[schema(rename = "@odata.type", pattern = "^#microsoft\\.graph\\.reportRoot$")]
    odata_type: String,
    /// Always empty: the singleton has no identity of its own.
    #[schema(max_length = 0)]
    id: String,
}

/// Graph's error body: the answer to every failure, whatever the status.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct GraphError {
    error: GraphErrorBody,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct GraphErrorBody {
    #[schema(schema_with = error_code)]
    code: String,
    message: String,
    /// One entry per problem of a request body or batch.
    details: Option<Vec<GraphErrorDetail>>,
    #[schema(rename = "innerError")]
    inner_error: GraphInnerError,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct GraphErrorDetail {
    #[schema(example = "invalidValue")]
    code: String,
    message: String,
    /// The property (or batch request) the problem is in.
    target: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct GraphInnerError {
    #[schema(example = "2026-11-29T06:22:45")]
    date: String,
    #[schema(rename = "request-id")]
    request_id: String,
    #[schema(rename = "client-request-id")]
    client_request_id: Option<String>,
}

/// The codes the service answers with: one error of each kind.
fn error_code() -> impl Into<RefOr<Schema>> {
    let every_kind = [
        ApiError::bad_request(""),
        ApiError::InvalidToken(String::new()),
        ApiError::AccessDenied(String::new()),
        ApiError::NotFound(String::new()),
        ApiError::MethodNotAllowed(String::new()),
        ApiError::NotAcceptable(String::new()),
        ApiError::Conflict(String::new()),
        ApiError::PayloadTooLarge { limit: 0 },
        ApiError::UnsupportedMediaType(String::new()),
        ApiError::RequestTimeout(String::new()),
        ApiError::UriTooLong(String::new()),
        ApiError::HeadersTooLarge(String::new()),
        ApiError::TooManyRequests {
            retry_after_secs: 0,
        },
        ApiError::FailedDependency(String::new()),
        ApiError::ResponseTooLarge(String::new()),
        ApiError::Unavailable {
            cause: String::new(),
            retry_after_secs: 0,
        },
        ApiError::Internal(anyhow::anyhow!("")),
    ];
    let codes = every_kind.iter().map(|error| match error {
        // No wildcard: a new kind of error does not compile until it is listed above.
        ApiError::BadRequest { .. }
        | ApiError::InvalidToken(_)
        | ApiError::AccessDenied(_)
        | ApiError::NotFound(_)
        | ApiError::MethodNotAllowed(_)
        | ApiError::NotAcceptable(_)
        | ApiError::Conflict(_)
        | ApiError::PayloadTooLarge { .. }
        | ApiError::UnsupportedMediaType(_)
        | ApiError::RequestTimeout(_)
        | ApiError::UriTooLong(_)
        | ApiError::HeadersTooLarge(_)
        | ApiError::TooManyRequests { .. }
        | ApiError::FailedDependency(_)
        | ApiError::ResponseTooLarge(_)
        | ApiError::Unavailable { .. }
        | ApiError::Internal(_) => error.code(),
    });
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
}

/// The OData query options of the collection.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollectionQuery {
    /// `eq ne gt ge lt le and or not` and parentheses over every property, with
    /// Graph's literals: `reportRefreshDate ge 2026-01-01 and reportPeriod eq '7'`.
    #[param(rename = "$filter", min_length = 1)]
    filter: Option<String>,
    /// Properties with `asc`/`desc`, comma-separated: `reportRefreshDate desc,web`.
    #[param(rename = "$orderby", min_length = 1)]
    orderby: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(rename = "$top", minimum = 1, maximum = 1000)]
    top: Option<u32>,
    /// Rows to skip before the page.
    #[param(rename = "$skip", minimum = 0)]
    skip: Option<u64>,
    /// `true` adds `@odata.count`.
    #[param(rename = "$count")]
    count: Option<bool>,
    /// Properties to return, comma-separated.
    #[param(rename = "$select", min_length = 1)]
    select: Option<String>,
    /// Opaque; taken from `@odata.nextLink`.
    #[param(rename = "$skiptoken")]
    skiptoken: Option<String>,
}

/// The options of `{base}/tenants`, read whole, so `$top` and `$skip` are
/// positions in the list.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantsQuery {
    /// Over id, displayName (strings), rowCount, ageDays (numbers),
    /// latestReportRefreshDate (a date), stale (true/false): `stale eq true`.
    #[param(rename = "$filter", min_length = 1)]
    filter: Option<String>,
    /// The same properties with `asc`/`desc`: `ageDays desc`.
    #[param(rename = "$orderby", min_length = 1)]
    orderby: Option<String>,
    /// The most tenants in the answer, 1 to 1000.
    #[param(rename = "$top", minimum = 1, maximum = 1000)]
    top: Option<u32>,
    /// Tenants to leave out from the start.
    #[param(rename = "$skip", minimum = 0, maximum = 9223372036854775807_i64)]
    skip: Option<u64>,
    /// `application/json` (default) or `text/csv`.
    #[param(rename = "$format", schema_with = list_format)]
    format: Option<String>,
}

fn list_format() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["application/json", "text/csv"]))
}

/// One tenant as an operator sees it.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TenantEntity {
    id: String,
    display_name: Option<String>,
    row_count: u64,
    #[schema(format = Date)]
    latest_report_refresh_date: Option<String>,
    /// The newest reportRefreshDate of each period with rows, keyed by period ("7").
    latest_by_period: std::collections::BTreeMap<String, String>,
    /// Days from latestReportRefreshDate to today; null without rows.
    age_days: Option<i64>,
    /// Older than STALE_AFTER_DAYS, or no report at all.
    stale: bool,
    #[schema(format = DateTime)]
    last_collection_success_at: Option<String>,
    #[schema(format = DateTime)]
    last_collection_error_at: Option<String>,
    last_collection_error: Option<String>,
}

/// `{base}/tenants`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct TenantCollection {
    #[schema(rename = "@odata.context")]
    context: String,
    value: Vec<TenantEntity>,
}

/// A roll-up's parameters: the dashboard chart's, and `$filter` over the
/// tenants list's properties choosing the tenants summed.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollupQuery {
    /// The report period: 7, 30, 90 or 180.
    period: ChartPeriod,
    /// The first refresh date, YYYY-MM-DD.
    from: Option<DateParameter>,
    /// The last refresh date, YYYY-MM-DD (at most 3660 days after from).
    to: Option<DateParameter>,
    /// The tenants to sum, as on `{base}/tenants`: `stale eq false`; every tenant without it.
    #[param(rename = "$filter", min_length = 1)]
    filter: Option<String>,
    /// `application/json` (default) or `text/csv`.
    #[param(rename = "$format", schema_with = list_format)]
    format: Option<String>,
}

/// A comparison's parameters: the period, and the day it looks back from.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComparisonQuery {
    /// The report period: 7, 30, 90 or 180.
    period: ChartPeriod,
    /// Compare the newest day up to this one (default today), YYYY-MM-DD.
    to: Option<DateParameter>,
    /// For the roll-up only: the tenants to sum, as on `{base}/tenants`.
    #[param(rename = "$filter", min_length = 1)]
    filter: Option<String>,
}

/// A tenant's comparison's parameters: the period, and the day it looks back from.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantComparisonQuery {
    /// The report period: 7, 30, 90 or 180.
    period: ChartPeriod,
    /// Compare the newest day up to this one (default today), YYYY-MM-DD.
    to: Option<DateParameter>,
}

/// One refresh date of a roll-up: every count summed over the tenants.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RollupDayEntity {
    #[schema(format = Date)]
    report_refresh_date: String,
    tenant_count: u64,
    web: i64,
    windows_phone: i64,
    android_phone: i64,
    ios: i64,
    mac: i64,
    windows: i64,
    #[schema(rename = "chromeOS")]
    chrome_os: Option<i64>,
    linux: Option<i64>,
    /// Every device's users summed (a null count adds nothing).
    users: i64,
}

/// A tenant's part of the newest day's users.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct TenantShareEntity {
    id: String,
    users: i64,
    /// Percent of the day's users.
    share: f64,
}

/// `{base}/tenants/rollup`.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RollupCollection {
    #[schema(rename = "@odata.context")]
    context: String,
    report_period: String,
    #[schema(format = Date)]
    latest_report_refresh_date: Option<String>,
    value: Vec<RollupDayEntity>,
    tenant_shares: Vec<TenantShareEntity>,
}

/// The newest device shares (percent) beside earlier ones; `comparison` is
/// null without any row, and each earlier entry's fields are null where the
/// history does not reach back.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ShareComparison {
    report_period: String,
    comparison: Option<serde_json::Value>,
}

/// Who is signed in on the dashboard.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DashboardSession {
    token_name: String,
    token_tenant: String,
    /// An operator's token, reading every tenant.
    all_tenants: bool,
    stale_after_days: u32,
    /// The tenant the page shows; null for an operator's token without a tenant-id header.
    tenant: Option<SessionTenant>,
}

/// The tenant of a dashboard session.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SessionTenant {
    id: String,
    display_name: Option<String>,
    #[schema(format = Date)]
    latest_report_refresh_date: Option<String>,
    age_days: Option<i64>,
    stale: bool,
}

/// The report function's query options.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `text/csv` (default) or `application/json` (`;IEEE754Compatible=true`
    /// writes the counts as strings).
    #[param(rename = "$format", schema_with = report_format)]
    format: Option<String>,
}

/// The `$format` values of the report function.
fn report_format() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([
            "text/csv",
            "application/json",
            "application/json;IEEE754Compatible=true",
        ]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_new_row_requires_what_create_requires_and_never_an_id() {
        let schema = serde_json::to_value(NewRow::schema()).unwrap();
        let required = schema["required"].as_array().unwrap();
        for property in Property::ALL {
            let name = json!(property.json_name());
            let expected = !matches!(
                property.kind(),
                PropertyKind::Id | PropertyKind::OptionalCount
            );
            assert_eq!(required.contains(&name), expected, "{name}");
        }
        assert!(schema["properties"].get("id").is_none());
        assert!(serde_json::to_value(RowPatch::schema()).unwrap()["required"].is_null());
    }

    #[test]
    fn the_entity_lists_every_property_in_graph_casing() {
        let schema = serde_json::to_value(RowEntity::schema()).unwrap();
        for name in ["id", "ios", "chromeOS", "windowsPhone", "reportPeriod"] {
            assert!(schema["properties"].get(name).is_some(), "{name}");
        }
        assert_eq!(
            schema["properties"]["reportPeriod"]["enum"],
            json!(["7", "30", "90", "180"])
        );
        assert_eq!(
            schema["properties"]["linux"]["type"],
            json!(["integer", "string", "null"])
        );
        let new_row = serde_json::to_value(NewRow::schema()).unwrap();
        assert_eq!(
            new_row["properties"]["linux"]["type"],
            json!(["integer", "null"])
        );
        assert_eq!(new_row["additionalProperties"], json!(false));
        assert!(new_row["patternProperties"][ODATA_ANNOTATION_PATTERN].is_object());
    }

    #[test]
    fn the_date_pattern_takes_exactly_the_dates_up_to_the_latest() {
        let pattern = dates_until(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let regex = regex::Regex::new(&pattern).unwrap();
        for date in [
            "0001-01-01",
            "0999-12-31",
            "1999-06-15",
            "2025-12-31",
            "2026-10-31",
            "2026-11-30",
        ] {
            assert!(regex.is_match(date), "{date} in {pattern}");
        }
        for date in [
            "0000-01-01",
            "2026-12-01",
            "2026-11-31",
            "2027-01-01",
            "9001-06-09",
            "2026-13-01",
            "2026-00-10",
            "2026-1-05",
        ] {
            assert!(!regex.is_match(date), "{date} in {pattern}");
        }
    }

    #[test]
    fn every_error_code_is_listed() {
        let schema: RefOr<Schema> = error_code().into();
        let schema = serde_json::to_value(schema).unwrap();
        let codes = schema["enum"].as_array().unwrap();
        for code in [
            "badRequest",
            "InvalidAuthenticationToken",
            "failedDependency",
            "requestTimeout",
            "requestUriTooLong",
            "requestHeaderFieldsTooLarge",
            "responseTooLarge",
        ] {
            assert!(codes.contains(&json!(code)), "{code}");
        }
        assert_eq!(codes.len(), 17);
    }
}

/// The roll-up chart's parameters: the dashboard chart's, and `$filter` over
/// the tenants list's properties choosing the tenants summed.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollupChartQuery {
    /// The report period: 7, 30, 90 or 180.
    period: ChartPeriod,
    /// The first refresh date, YYYY-MM-DD.
    from: Option<DateParameter>,
    /// The last refresh date, YYYY-MM-DD (at most 3660 days after from).
    to: Option<DateParameter>,
    /// The tenants to sum, as on `{base}/tenants`: `stale eq false`; every tenant without it.
    #[param(rename = "$filter", min_length = 1)]
    filter: Option<String>,
}
