use super::*;
use crate::domain::{PropertyKind, ReportPeriod};
use crate::odata::Literal;
use chrono::NaiveDate;
use uuid::Uuid;

/// The canonical (fully parenthesised) form of a parsed filter.
fn canonical(text: &str) -> String {
    match parse_filter(text) {
        Ok(filter) => filter.to_string(),
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

fn error(text: &str) -> FilterError {
    match parse_filter(text) {
        Ok(filter) => panic!("{text:?} should fail, parsed as {filter}"),
        Err(e) => e,
    }
}

fn compare(property: Property, op: CompareOp, value: Literal) -> Filter {
    Filter::Compare {
        property,
        op,
        value,
    }
}

#[test]
fn every_comparison_operator() {
    for (word, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        assert_eq!(
            parse_filter(&format!("web {word} 3")).unwrap(),
            compare(Property::Web, op, Literal::Int(3)),
            "{word}"
        );
    }
}

#[test]
fn literal_on_the_left_is_normalised() {
    assert_eq!(canonical("5 lt web"), "web gt 5");
    assert_eq!(canonical("5 le web"), "web ge 5");
    assert_eq!(canonical("5 gt web"), "web lt 5");
    assert_eq!(canonical("5 ge web"), "web le 5");
    assert_eq!(canonical("5 eq web"), "web eq 5");
    assert_eq!(canonical("null ne linux"), "linux ne null");
    assert_eq!(
        canonical("2026-01-01 le reportRefreshDate"),
        "reportRefreshDate ge 2026-01-01"
    );
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        canonical("web eq 1 or mac eq 2 and ios eq 3"),
        "(web eq 1 or (mac eq 2 and ios eq 3))"
    );
    assert_eq!(
        canonical("web eq 1 and mac eq 2 or ios eq 3"),
        "((web eq 1 and mac eq 2) or ios eq 3)"
    );
}

#[test]
fn chains_associate_to_the_left() {
    assert_eq!(
        canonical("web eq 1 or web eq 2 or web eq 3"),
        "((web eq 1 or web eq 2) or web eq 3)"
    );
    assert_eq!(
        canonical("web eq 1 and mac eq 2 and ios eq 3"),
        "((web eq 1 and mac eq 2) and ios eq 3)"
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        canonical("(web eq 1 or mac eq 2) and ios eq 3"),
        "((web eq 1 or mac eq 2) and ios eq 3)"
    );
    assert_eq!(canonical("((((web eq 1))))"), "web eq 1");
}

#[test]
fn not_binds_tightest_and_nests() {
    assert_eq!(
        canonical("not (chromeOS gt 5) and web eq 1"),
        "((not chromeOS gt 5) and web eq 1)"
    );
    assert_eq!(
        canonical("not (web eq 1 or web eq 2)"),
        "(not (web eq 1 or web eq 2))"
    );
    assert_eq!(canonical("not not (web eq 1)"), "(not (not web eq 1))");
    assert_eq!(canonical("NOT (web eq 1)"), "(not web eq 1)");
}

#[test]
fn keywords_are_case_insensitive_and_properties_are_not() {
    assert_eq!(
        canonical("web EQ 1 AND mac Ne NULL Or ios gt 2"),
        "((web eq 1 and mac ne null) or ios gt 2)"
    );
    let e = error("Web eq 1");
    assert_eq!(e.position, 1);
    assert!(e.message.contains("did you mean 'web'"), "{e}");
    assert!(error("chromeOs eq 1").message.contains("'chromeOS'"));
}

#[test]
fn every_property_takes_its_literal() {
    let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let uuid = Uuid::parse_str(id).unwrap();
    assert_eq!(
        parse_filter(&format!("id eq '{id}'")).unwrap(),
        compare(Property::Id, CompareOp::Eq, Literal::Id(uuid))
    );
    assert_eq!(
        parse_filter(&format!("id eq {id}")).unwrap(),
        compare(Property::Id, CompareOp::Eq, Literal::Id(uuid))
    );
    assert_eq!(
        parse_filter("reportRefreshDate ge 2026-01-01").unwrap(),
        compare(
            Property::ReportRefreshDate,
            CompareOp::Ge,
            Literal::Date(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
        )
    );
    for (text, period) in [
        ("'7'", ReportPeriod::D7),
        ("'30'", ReportPeriod::D30),
        ("'90'", ReportPeriod::D90),
        ("'180'", ReportPeriod::D180),
    ] {
        assert_eq!(
            parse_filter(&format!("reportPeriod eq {text}")).unwrap(),
            compare(
                Property::ReportPeriod,
                CompareOp::Eq,
                Literal::Period(period)
            )
        );
    }
    for property in Property::ALL {
        if matches!(
            property.kind(),
            PropertyKind::Count | PropertyKind::OptionalCount
        ) {
            let name = property.json_name();
            assert_eq!(
                parse_filter(&format!("{name} le 9223372036854775807")).unwrap(),
                compare(property, CompareOp::Le, Literal::Int(i64::MAX)),
                "{name}"
            );
        }
        // Any property may be compared with null.
        assert_eq!(
            parse_filter(&format!("{} eq null", property.json_name())).unwrap(),
            compare(property, CompareOp::Eq, Literal::Null)
        );
    }
}

#[test]
fn literals_of_the_wrong_type_are_refused_where_they_stand() {
    for (text, position, hint) in [
        ("web eq '5'", 8, "without quotes"),
        ("web eq -1", 8, ">= 0"),
        ("web eq true", 8, "Int64"),
        ("web eq 2026-01-01", 8, "Int64"),
        ("chromeOS gt 'x'", 13, "without quotes"),
        ("reportRefreshDate ge '2026-01-01'", 22, "without quotes"),
        ("reportRefreshDate ge 20260101", 22, "YYYY-MM-DD"),
        ("reportPeriod eq 7", 17, "quoted"),
        ("reportPeriod eq '8'", 17, "'7', '30', '90', '180'"),
        ("reportPeriod eq 'D7'", 17, "'7', '30', '90', '180'"),
        ("reportPeriod eq false", 17, "'7', '30', '90', '180'"),
        ("id eq 'abc'", 7, "GUID"),
        ("id eq 5", 7, "GUID"),
        ("'x' eq web", 1, "without quotes"),
    ] {
        let e = error(text);
        assert_eq!(e.position, position, "{text}: {e}");
        assert!(e.message.contains(hint), "{text}: {e}");
    }
}

#[test]
fn structural_errors_say_what_and_where() {
    for (text, position, what) in [
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("web", 4, "comparison operator"),
        ("web eq", 7, "ends where"),
        ("web 5", 5, "comparison operator"),
        ("web in ('7', '30')", 5, "comparison operator"),
        ("web eq 1 and", 13, "ends where"),
        ("web eq 1 mac eq 2", 10, "expected 'and', 'or'"),
        ("(web eq 1", 1, "not closed"),
        ("(web eq 1 mac", 11, "expected 'and', 'or' or ')'"),
        ("web eq 1)", 9, "no matching '('"),
        ("()", 2, "expected a property or a literal"),
        ("web eq eq", 8, "expected a property or a literal"),
        ("and web eq 1", 1, "expected a property or a literal"),
        ("not web eq 1", 5, "parentheses"),
        ("web eq ios", 8, "two properties"),
        ("1 eq 1", 1, "property on one side"),
        ("null eq null", 1, "property on one side"),
        ("bogus eq 1", 1, "not a property"),
        ("contains(web, 1)", 1, "functions"),
        ("web eq 1, web eq 2", 9, "found ','"),
        ("(web eq 1) eq 2", 12, "expected 'and', 'or'"),
        ("web eq 1; DROP TABLE x", 9, "unexpected character"),
    ] {
        let e = error(text);
        assert_eq!(e.position, position, "{text:?}: {e}");
        assert!(e.message.contains(what), "{text:?}: {e}");
    }
}

#[test]
fn deep_nesting_is_refused() {
    let ok = format!(
        "{}web eq 1{}",
        "(".repeat(MAX_FILTER_DEPTH),
        ")".repeat(MAX_FILTER_DEPTH)
    );
    assert!(parse_filter(&ok).is_ok());
    let too_deep = format!(
        "{}web eq 1{}",
        "(".repeat(MAX_FILTER_DEPTH + 1),
        ")".repeat(MAX_FILTER_DEPTH + 1)
    );
    let e = error(&too_deep);
    assert_eq!(e.position, MAX_FILTER_DEPTH + 1);
    assert!(e.message.contains("levels deep"), "{e}");
    // `not` counts as a level too; a huge input fails fast, not by stack overflow.
    let nots = format!("{}(web eq 1)", "not ".repeat(10_000));
    assert!(error(&nots).message.contains("levels deep"));
    let parens = "(".repeat(1_000_000);
    assert!(error(&parens).message.contains("levels deep"));
}

#[test]
fn too_many_comparisons_are_refused() {
    let terms = |n: usize| vec!["web eq 1"; n].join(" or ");
    assert!(parse_filter(&terms(MAX_FILTER_COMPARISONS)).is_ok());
    let e = error(&terms(MAX_FILTER_COMPARISONS + 1));
    assert!(e.message.contains("comparisons"), "{e}");
    assert_eq!(
        e.position,
        MAX_FILTER_COMPARISONS * "web eq 1 or ".len() + 1
    );
}

#[test]
fn quotes_in_strings_are_data_not_syntax() {
    // The doubled quote is unescaped and then type-checked like any literal.
    let e = error("reportPeriod eq '7'' or ''1''=''1'");
    assert_eq!(e.position, 17);
    // Read as one string, shown again in OData's own spelling.
    assert!(e.message.contains("the string '7'' or ''1''=''1'"), "{e}");
}

#[test]
fn errors_display_their_position() {
    assert_eq!(
        error("web eq").to_string(),
        "the filter ends where a property or a literal was expected (at position 7)"
    );
}
