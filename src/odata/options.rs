//! The query string of a collection request -> a typed `CollectionRequest`.

use super::paging::decode_skiptoken;
use super::RowQuery;

/// Page size when the client names none, and the most it may ask for.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// What a collection request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRequest {
    pub query: RowQuery,
}

/// Parses the raw query string. Every option must be known and well-formed;
/// nothing is ignored silently.
pub fn parse_collection_options(query_string: &str) -> Result<CollectionRequest, String> {
    let mut query = RowQuery::first(DEFAULT_PAGE_SIZE);
    let mut seen: Vec<String> = Vec::new();
    let mut skiptoken = None;
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        if seen.contains(&name.to_string()) {
            return Err(format!("the query option {name} is given twice"));
        }
        seen.push(name.to_string());
        match name.as_ref() {
            "$top" => query.limit = parse_top(&value)?,
            "$skiptoken" => skiptoken = Some(value.into_owned()),
            other if other.starts_with('$') => {
                return Err(format!(
                    "the query option {other} is not supported on this collection"
                ))
            }
            other => return Err(format!("unknown query parameter '{other}'")),
        }
    }
    if let Some(token) = skiptoken {
        query.after = Some(decode_skiptoken(&token, &query.order_by)?);
    }
    Ok(CollectionRequest { query })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_a_page_of_100() {
        assert_eq!(parse_collection_options("").unwrap().query.limit, 100);
    }

    #[test]
    fn top_is_bounded() {
        assert_eq!(
            parse_collection_options("$top=1000").unwrap().query.limit,
            1000
        );
        for bad in ["$top=0", "$top=1001", "$top=-1", "$top=x", "$top="] {
            assert!(parse_collection_options(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_and_repeated_options_are_errors() {
        assert!(parse_collection_options("$expand=x").is_err());
        assert!(parse_collection_options("foo=1").is_err());
        assert!(parse_collection_options("$top=1&$top=2").is_err());
    }
}
