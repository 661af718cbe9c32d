use super::*;
use crate::domain::{DistributionRow, ReportPeriod};
use crate::odata::{encode_skiptoken, OrderKey};

fn parse(query_string: &str) -> CollectionRequest {
    match parse_collection_options(query_string) {
        Ok(request) => request,
        Err(e) => panic!("{query_string:?} should parse: {e}"),
    }
}

fn error(query_string: &str) -> QueryError {
    parse_collection_options(query_string).expect_err(query_string)
}

fn row() -> DistributionRow {
    crate::domain::test_row(
        "t",
        "2026-01-02",
        ReportPeriod::D7,
        [5, 0, 0, 0, 0, 0],
        None,
        None,
    )
}

#[test]
fn defaults_to_a_page_of_100_of_everything() {
    let request = parse("");
    assert_eq!(request.query, RowQuery::first(100));
    assert!(!request.count);
    assert_eq!(request.select, None);
}

#[test]
fn top_is_bounded() {
    assert_eq!(parse("$top=1").query.limit, 1);
    assert_eq!(parse("$top=1000").query.limit, 1000);
    for bad in [
        "$top=0",
        "$top=1001",
        "$top=-1",
        "$top=x",
        "$top=",
        "$top=1.0",
    ] {
        assert_eq!(error(bad).option, "$top", "{bad}");
    }
}

#[test]
fn skip_is_a_non_negative_int64() {
    assert_eq!(parse("$skip=0").query.skip, 0);
    assert_eq!(parse("$skip=250").query.skip, 250);
    assert_eq!(
        parse("$skip=9223372036854775807").query.skip,
        i64::MAX as u64
    );
    for bad in ["$skip=-1", "$skip=x", "$skip=", "$skip=9223372036854775808"] {
        assert_eq!(error(bad).option, "$skip", "{bad}");
    }
}

#[test]
fn count_is_a_boolean() {
    assert!(parse("$count=true").count);
    assert!(parse("$count=TRUE").count);
    assert!(!parse("$count=false").count);
    for bad in ["$count=1", "$count=yes", "$count="] {
        assert_eq!(error(bad).option, "$count", "{bad}");
    }
}

#[test]
fn every_option_together() {
    let request = parse(
        "$filter=web%20gt%205&$orderby=reportRefreshDate+desc&$top=10&$skip=20&$count=true&$select=web,ios",
    );
    assert_eq!(request.query.filter.unwrap().to_string(), "web gt 5");
    assert_eq!(
        request.query.order_by,
        [OrderKey {
            property: Property::ReportRefreshDate,
            descending: true
        }]
    );
    assert_eq!(request.query.limit, 10);
    assert_eq!(request.query.skip, 20);
    assert!(request.count);
    assert_eq!(request.select, Some(vec![Property::Web, Property::Ios]));
}

#[test]
fn option_names_are_case_insensitive_and_given_once() {
    assert_eq!(parse("$FILTER=web eq 1&$Top=5").query.limit, 5);
    assert!(parse("%24filter=web eq 1").query.filter.is_some());
    let twice = error("$top=1&$TOP=2");
    assert_eq!(twice.option, "$top");
    assert!(twice.message.contains("twice"), "{twice}");
}

#[test]
fn unknown_and_unsupported_options_are_named() {
    for name in UNSUPPORTED_OPTIONS {
        let e = error(&format!("{name}=x"));
        assert_eq!(e.option, name);
        assert!(
            e.message.contains("not supported on this collection"),
            "{e}"
        );
    }
    let e = error("$EXPAND=x");
    assert!(e.message.contains("'$EXPAND' is not supported"), "{e}");
    let e = error("$bogus=1");
    assert!(
        e.message.contains("'$bogus' is not an OData query option"),
        "{e}"
    );
    let e = error("filter=web eq 1");
    assert_eq!(e.option, "filter");
    assert!(e.message.contains("begin with $"), "{e}");
}

#[test]
fn bad_values_name_their_option_and_position() {
    let e = error("$filter=web eq");
    assert_eq!(e.option, "$filter");
    assert!(e.message.starts_with("Invalid $filter:"), "{e}");
    assert!(e.message.ends_with("(at position 7)"), "{e}");
    let e = error("$orderby=web,bogus");
    assert_eq!(e.option, "$orderby");
    assert!(e.message.contains("(at position 5)"), "{e}");
    let e = error("$select=web,,ios");
    assert_eq!(e.option, "$select");
    assert!(e.message.contains("(at position 5)"), "{e}");
}

#[test]
fn skiptoken_continues_the_same_query_only() {
    let last = row();
    let filter = parse_filter("web gt 1").unwrap();
    let order = parse_orderby("web desc").unwrap();
    let token = encode_skiptoken(Some(&filter), &order, &last);
    let request = parse(&format!(
        "$filter=web gt 1&$orderby=web desc&$top=3&$skiptoken={token}"
    ));
    assert_eq!(request.query.after.unwrap().last_id, last.id);
    for other in [
        format!("$filter=web gt 2&$orderby=web desc&$skiptoken={token}"),
        format!("$filter=web gt 1&$orderby=web asc&$skiptoken={token}"),
        format!("$orderby=web desc&$skiptoken={token}"),
    ] {
        let e = error(&other);
        assert_eq!(e.option, "$skiptoken");
        assert!(e.message.contains("another $filter or $orderby"), "{e}");
    }
    assert_eq!(error("$skiptoken=garbage").option, "$skiptoken");
    assert_eq!(error("$skiptoken=").option, "$skiptoken");
}

#[test]
fn skip_and_skiptoken_are_not_combined() {
    let token = encode_skiptoken(None, &[], &row());
    let e = error(&format!("$skip=5&$skiptoken={token}"));
    assert_eq!(e.option, "$skip");
    // $skip=0 skips nothing, so it is no contradiction.
    assert!(parse(&format!("$skip=0&$skiptoken={token}"))
        .query
        .after
        .is_some());
}

#[test]
fn the_count_route_takes_only_a_filter() {
    assert_eq!(parse_count_options("").unwrap(), None);
    assert_eq!(
        parse_count_options("$filter=linux eq null")
            .unwrap()
            .unwrap()
            .to_string(),
        "linux eq null"
    );
    // What does not change a count is accepted, checked and ignored.
    assert_eq!(
        parse_count_options("$filter=web eq 1&$orderby=windows desc&$top=5&$skip=10")
            .unwrap()
            .unwrap()
            .to_string(),
        "web eq 1"
    );
    assert_eq!(parse_count_options("$orderby=web&$top=1").unwrap(), None);
    for bad in ["$orderby=bogus", "$top=0", "$skip=-1"] {
        assert!(parse_count_options(bad).is_err(), "{bad}");
    }
    for other in ["$count=true", "$select=web", "$format=json", "$skiptoken=x"] {
        let e = parse_count_options(other).unwrap_err();
        assert!(
            e.message.contains("not supported on /$count"),
            "{other}: {e}"
        );
    }
    assert_eq!(
        parse_count_options("$filter=web").unwrap_err().option,
        "$filter"
    );
    assert!(parse_count_options("x=1").is_err());
}
