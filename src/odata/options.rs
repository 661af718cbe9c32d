//! The query string of a collection request -> a typed `CollectionRequest`.
//!
//! Option names are case-insensitive (`$FILTER` is `$filter`), as OData 4.01 and
//! Graph allow; the `$` is required, so a parameter without it is never mistaken
//! for an option. Every option must be known, supported here and well-formed:
//! nothing is ignored silently.

use std::borrow::Cow;
use std::fmt;

use super::filter::{parse_filter, parse_filter_of};
use super::paging::decode_skiptoken;
use super::properties::{parse_orderby, parse_orderby_of, parse_select};
use super::{Filter, FilterProperty, OrderKey, RowQuery};
use crate::domain::Property;

/// Page size when the client names none, and the most it may ask for.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// What a collection request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRequest {
    pub query: RowQuery,
    /// `$count=true`: the response carries `@odata.count`, the rows matching the filter.
    pub count: bool,
    /// `$select`: the properties to write, in the client's order; `None` writes all.
    pub select: Option<Vec<Property>>,
}

/// A query option the client got wrong, named as OData names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// The option, e.g. `$filter`, or the parameter as the client wrote it.
    pub option: String,
    pub message: String,
}

impl QueryError {
    fn new(option: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            option: option.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

/// The system query options this service understands somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueryOption {
    Filter,
    OrderBy,
    Top,
    Skip,
    Count,
    Select,
    SkipToken,
}

impl QueryOption {
    fn name(self) -> &'static str {
        match self {
            Self::Filter => "$filter",
            Self::OrderBy => "$orderby",
            Self::Top => "$top",
            Self::Skip => "$skip",
            Self::Count => "$count",
            Self::Select => "$select",
            Self::SkipToken => "$skiptoken",
        }
    }
}

const COLLECTION_OPTIONS: [QueryOption; 7] = [
    QueryOption::Filter,
    QueryOption::OrderBy,
    QueryOption::Top,
    QueryOption::Skip,
    QueryOption::Count,
    QueryOption::Select,
    QueryOption::SkipToken,
];

/// OData system query options this service does not offer: named as unsupported,
/// not as unknown.
const UNSUPPORTED_OPTIONS: [&str; 10] = [
    "$expand",
    "$search",
    "$apply",
    "$compute",
    "$levels",
    "$format",
    "$deltatoken",
    "$index",
    "$schemaversion",
    "$id",
];

/// Reads the query string: each option at most once, each allowed on `route`.
fn read_options<'a>(
    pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
    allowed: &[QueryOption],
    route: &str,
) -> Result<Vec<(QueryOption, String)>, QueryError> {
    let supported: Vec<&str> = allowed.iter().map(|o| o.name()).collect();
    let supported = supported.join(", ");
    let mut options: Vec<(QueryOption, String)> = Vec::new();
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with('$') {
            return Err(QueryError::new(
                name.as_ref(),
                format!(
                    "Unknown query parameter '{name}'; query options begin with $, e.g. $filter"
                ),
            ));
        }
        let known = COLLECTION_OPTIONS.into_iter().find(|o| o.name() == lower);
        let Some(option) = known.filter(|o| allowed.contains(o)) else {
            let what = if known.is_some() || UNSUPPORTED_OPTIONS.contains(&lower.as_str()) {
                format!("The query option '{name}' is not supported on {route}")
            } else {
                format!("'{name}' is not an OData query option")
            };
            return Err(QueryError::new(
                name.as_ref(),
                format!("{what}; supported options: {supported}"),
            ));
        };
        if options.iter().any(|(o, _)| *o == option) {
            return Err(QueryError::new(
                option.name(),
                format!("The query option {} is given twice", option.name()),
            ));
        }
        options.push((option, value.into_owned()));
    }
    Ok(options)
}

/// Parses a collection request's query string.
///
/// `$skip` counts from the start of the filtered, ordered rows; a `$skiptoken`
/// already says where a page starts, so the two together are refused (the
/// `@odata.nextLink` of a `$skip` page carries the token and drops `$skip`).
pub fn parse_collection_options(query_string: &str) -> Result<CollectionRequest, QueryError> {
    parse_collection_pairs(url::form_urlencoded::parse(query_string.as_bytes()))
}

/// `parse_collection_options` over name-value pairs already split (and
/// decoded) from a query string, e.g. with options a route reads itself left out.
pub fn parse_collection_pairs<'a>(
    pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> Result<CollectionRequest, QueryError> {
    let options = read_options(pairs, &COLLECTION_OPTIONS, "this collection")?;
    let mut request = CollectionRequest {
        query: RowQuery::first(DEFAULT_PAGE_SIZE),
        count: false,
        select: None,
    };
    let mut skiptoken = None;
    for (option, value) in options {
        let invalid = |message: String| QueryError::new(option.name(), message);
        match option {
            QueryOption::Filter => request.query.filter = Some(filter(&value)?),
            QueryOption::OrderBy => {
                request.query.order_by =
                    parse_orderby(&value).map_err(|e| invalid(format!("Invalid $orderby: {e}")))?;
            }
            QueryOption::Top => request.query.limit = parse_top(&value).map_err(invalid)?,
            QueryOption::Skip => request.query.skip = parse_skip(&value).map_err(invalid)?,
            QueryOption::Count => request.count = parse_count(&value).map_err(invalid)?,
            QueryOption::Select => {
                request.select =
                    parse_select(&value).map_err(|e| invalid(format!("Invalid $select: {e}")))?;
            }
            QueryOption::SkipToken => skiptoken = Some(value),
        }
    }
    if let Some(token) = skiptoken {
        if request.query.skip > 0 {
            return Err(QueryError::new(
                "$skip",
                "$skip cannot be combined with $skiptoken: the token already says where the page starts; follow @odata.nextLink as given",
            ));
        }
        let query = &mut request.query;
        query.after = Some(
            decode_skiptoken(&token, query.filter.as_ref(), &query.order_by)
                .map_err(|e| QueryError::new("$skiptoken", e))?,
        );
    }
    Ok(request)
}

/// Parses the query string of `{collection}/$count`: `$filter` decides the
/// count; `$orderby`, `$top` and `$skip` do not affect it (OData Part 2,
/// 11.2.10) and are accepted, checked and ignored, so that a client counting
/// an ordered or paged query need not take them out.
pub fn parse_count_options(query_string: &str) -> Result<Option<Filter>, QueryError> {
    let options = read_options(
        url::form_urlencoded::parse(query_string.as_bytes()),
        &[
            QueryOption::Filter,
            QueryOption::OrderBy,
            QueryOption::Top,
            QueryOption::Skip,
        ],
        "/$count",
    )?;
    let mut counted = None;
    for (option, value) in options {
        let invalid = |message: String| QueryError::new(option.name(), message);
        match option {
            QueryOption::Filter => counted = Some(filter(&value)?),
            QueryOption::OrderBy => {
                parse_orderby(&value).map_err(|e| invalid(format!("Invalid $orderby: {e}")))?;
            }
            QueryOption::Top => {
                parse_top(&value).map_err(invalid)?;
            }
            QueryOption::Skip => {
                parse_skip(&value).map_err(invalid)?;
            }
            _ => {}
        }
    }
    Ok(counted)
}

fn filter(value: &str) -> Result<Filter, QueryError> {
    parse_filter(value).map_err(|e| QueryError::new("$filter", format!("Invalid $filter: {e}")))
}

/// What a request for a short list answered whole (`{base}/tenants`) asks
/// for: which items, in which order, how many. No paging token: the list is
/// read in one piece, so `$skip` and `$top` are positions in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest<P> {
    pub filter: Option<Filter<P>>,
    pub order_by: Vec<OrderKey<P>>,
    pub top: Option<u32>,
    pub skip: u64,
}

const LIST_OPTIONS: [QueryOption; 4] = [
    QueryOption::Filter,
    QueryOption::OrderBy,
    QueryOption::Top,
    QueryOption::Skip,
];

/// Parses a list request's options over the properties `P`, from pairs
/// already split (with options a route reads itself, `$format`, left out).
pub fn parse_list_pairs<'a, P: FilterProperty>(
    pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
    route: &str,
) -> Result<ListRequest<P>, QueryError> {
    let mut request = ListRequest {
        filter: None,
        order_by: Vec::new(),
        top: None,
        skip: 0,
    };
    for (option, value) in read_options(pairs, &LIST_OPTIONS, route)? {
        let invalid = |message: String| QueryError::new(option.name(), message);
        match option {
            QueryOption::Filter => {
                request.filter =
                    Some(parse_filter_of(&value).map_err(|e| {
                        QueryError::new("$filter", format!("Invalid $filter: {e}"))
                    })?);
            }
            QueryOption::OrderBy => {
                request.order_by = parse_orderby_of(&value)
                    .map_err(|e| invalid(format!("Invalid $orderby: {e}")))?;
            }
            QueryOption::Top => request.top = Some(parse_top(&value).map_err(invalid)?),
            QueryOption::Skip => request.skip = parse_skip(&value).map_err(invalid)?,
            _ => {}
        }
    }
    Ok(request)
}

fn parse_top(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
        .ok_or_else(|| {
            format!("$top must be a whole number from 1 to {MAX_PAGE_SIZE}, got '{value}'")
        })
}

fn parse_skip(value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| {
            format!(
                "$skip must be a whole number from 0 to {}, got '{value}'",
                i64::MAX
            )
        })
}

fn parse_count(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("$count must be true or false, got '{value}'")),
    }
}

#[cfg(test)]
mod tests;
