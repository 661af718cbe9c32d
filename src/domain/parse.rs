//! Request bodies -> validated rows: every member of a body is handed to a
//! `RowBuilder`, which collects every problem, each naming its property, so a
//! client fixes them all in one round trip.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::row_builder::{
    parse_int64_digits, parse_refresh_date, user_count, RawValue, RowBuilder,
};
use super::{Int64Format, NewDistributionRow, Property, ReportPeriod, RowPatch, UserCount};

/// The only `@odata.type` a body may name.
pub const ODATA_TYPE: &str = "#microsoft.graph.teamsDeviceUsageDistributionUserCounts";

/// One thing wrong with a body, reported as an entry of Graph's `error.details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub code: &'static str,
    pub target: String,
    pub message: String,
}

impl FieldProblem {
    fn new(code: &'static str, target: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            target: target.to_owned(),
            message: message.into(),
        }
    }
}

/// Parses a create body. `today` is the current UTC date: a report cannot be
/// refreshed after tomorrow (tomorrow is allowed for clocks running ahead).
pub fn parse_new_row(
    body: &Value,
    format: Int64Format,
    today: NaiveDate,
) -> Result<NewDistributionRow, Vec<FieldProblem>> {
    read_body(body, format, today)?.build(|property| {
        let name = property.json_name();
        FieldProblem::new("missingProperty", name, format!("'{name}' is required"))
    })
}

/// Parses an update body: the same rules as create for each property it sets.
pub fn parse_row_patch(
    body: &Value,
    format: Int64Format,
    today: NaiveDate,
) -> Result<RowPatch, Vec<FieldProblem>> {
    read_body(body, format, today)?.into_patch()
}

/// Every member of the body handed to a `RowBuilder`, in the body's order.
fn read_body(
    body: &Value,
    format: Int64Format,
    today: NaiveDate,
) -> Result<RowBuilder<FieldProblem>, Vec<FieldProblem>> {
    let object: &Map<String, Value> = body.as_object().ok_or_else(|| {
        vec![FieldProblem::new(
            "invalidValue",
            "",
            "the body must be a JSON object",
        )]
    })?;
    let mut row = RowBuilder::new();
    for (name, value) in object {
        if name == "@odata.type" {
            if let Err(problem) = check_odata_type(value) {
                row.problem(problem);
            }
            continue;
        }
        if name.starts_with("@odata.") {
            continue; // other instance annotations carry nothing we store
        }
        match Property::from_json_name(name) {
            Some(property) => row.read(
                property,
                &JsonValue {
                    value,
                    format,
                    today,
                },
            ),
            None => row.problem(FieldProblem::new(
                "unknownProperty",
                name,
                format!("'{name}' is not a property of microsoft.graph.teamsDeviceUsageDistributionUserCounts"),
            )),
        }
    }
    Ok(row)
}

fn check_odata_type(value: &Value) -> Result<(), FieldProblem> {
    let named = value.as_str().map(|s| s.strip_prefix('#').unwrap_or(s));
    if named == Some(&ODATA_TYPE[1..]) {
        Ok(())
    } else {
        Err(FieldProblem::new(
            "invalidValue",
            "@odata.type",
            format!("'@odata.type' must be \"{ODATA_TYPE}\""),
        ))
    }
}

/// A property's value in a body, read by the rules of Graph's JSON.
struct JsonValue<'a> {
    value: &'a Value,
    format: Int64Format,
    today: NaiveDate,
}

impl JsonValue<'_> {
    /// An Int64 as JSON writes it: a number, or a decimal string if the
    /// client said IEEE754Compatible; the problem without the property's name.
    fn int64(&self) -> Result<i64, String> {
        match self.value {
            // An integral number written with a fraction or exponent (`3.0`, `3e2`)
            // is the same number: JSON Schema's `integer` takes it, and so do we.
            Value::Number(n) => n.as_i64().or_else(|| integral(n.as_f64()?)).ok_or_else(|| {
                format!("must be an Int64 (a whole number from 0 to 9223372036854775807), got {n}")
            }),
            Value::String(s) if self.format.ieee754_compatible => parse_int64_digits(s)
                .ok_or_else(|| format!("must be an Int64 written in decimal digits, got \"{s}\"")),
            Value::String(s) => Err(format!(
                "must be a JSON number, got the string \"{s}\" (send Content-Type with IEEE754Compatible=true to write Int64 as strings)"
            )),
            other => Err(format!("must be an Int64, got {other}")),
        }
    }
}

impl RawValue for JsonValue<'_> {
    type Problem = FieldProblem;

    fn read_only(&self, property: Property) -> FieldProblem {
        let name = property.json_name();
        FieldProblem::new(
            "readOnlyProperty",
            name,
            format!("'{name}' is read-only: the service assigns it"),
        )
    }

    /// A Graph `Date` in JSON: a string `YYYY-MM-DD`.
    fn date(&self) -> Result<NaiveDate, FieldProblem> {
        let value = self.value;
        let invalid = |message| invalid(Property::ReportRefreshDate, message);
        let text = value.as_str().ok_or_else(|| {
            invalid(format!(
                "'reportRefreshDate' must be a date string YYYY-MM-DD, got {value}"
            ))
        })?;
        parse_refresh_date(text, self.today, |text| format!("\"{text}\"")).map_err(invalid)
    }

    /// The day count as a string.
    fn period(&self) -> Result<ReportPeriod, FieldProblem> {
        let value = self.value;
        value
            .as_str()
            .and_then(ReportPeriod::from_json_str)
            .ok_or_else(|| {
                invalid(
                    Property::ReportPeriod,
                    format!("'reportPeriod' must be one of \"7\", \"30\", \"90\", \"180\" (a string), got {value}"),
                )
            })
    }

    fn count(&self, property: Property) -> Result<UserCount, FieldProblem> {
        self.int64()
            .and_then(user_count)
            .map_err(|message| invalid(property, format!("'{}' {message}", property.json_name())))
    }

    /// `null` leaves an optional count empty.
    fn optional_count(&self, property: Property) -> Result<Option<UserCount>, FieldProblem> {
        if self.value.is_null() {
            Ok(None)
        } else {
            self.count(property).map(Some)
        }
    }
}

fn invalid(property: Property, message: String) -> FieldProblem {
    FieldProblem::new("invalidValue", property.json_name(), message)
}

/// `value` as an i64 when it is a whole number an i64 holds exactly.
fn integral(value: f64) -> Option<i64> {
    // 2^63 is the first f64 above i64::MAX; every f64 below it converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    #[allow(clippy::cast_possible_truncation)]
    (value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value)).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::row_builder::REQUIRED;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn valid() -> Value {
        json!({
            "@odata.type": ODATA_TYPE,
            "reportRefreshDate": "2026-11-28",
            "web": 3, "windowsPhone": 12, "androidPhone": 12,
            "ios": 3, "mac": 3, "windows": 7,
            "reportPeriod": "7"
        })
    }

    fn with(mut body: Value, key: &str, value: Value) -> Value {
        body[key] = value;
        body
    }

    fn without(mut body: Value, key: &str) -> Value {
        body.as_object_mut().unwrap().remove(key);
        body
    }

    fn problems(body: Value) -> Vec<FieldProblem> {
        parse_new_row(&body, Int64Format::default(), today()).unwrap_err()
    }

    fn targets(body: Value) -> Vec<String> {
        problems(body).into_iter().map(|p| p.target).collect()
    }

    #[test]
    fn the_seed_example_made_valid_parses() {
        let row = parse_new_row(&valid(), Int64Format::default(), today()).unwrap();
        assert_eq!(row.report_period, ReportPeriod::D7);
        assert_eq!(row.counts.windows_phone.get(), 12);
        assert_eq!(row.counts.chrome_os, None);
        assert_eq!(row.report_refresh_date.to_string(), "2026-11-28");
    }

    #[test]
    fn optional_counts_take_numbers_and_null() {
        let body = with(with(valid(), "chromeOS", json!(4)), "linux", Value::Null);
        let row = parse_new_row(&body, Int64Format::default(), today()).unwrap();
        assert_eq!(row.counts.chrome_os.map(UserCount::get), Some(4));
        assert_eq!(row.counts.linux, None);
    }

    #[test]
    fn odata_type_is_optional_but_must_name_this_type() {
        assert!(parse_new_row(
            &without(valid(), "@odata.type"),
            Int64Format::default(),
            today()
        )
        .is_ok());
        let plain = with(
            valid(),
            "@odata.type",
            json!("microsoft.graph.teamsDeviceUsageDistributionUserCounts"),
        );
        assert!(parse_new_row(&plain, Int64Format::default(), today()).is_ok());
        assert_eq!(
            targets(with(valid(), "@odata.type", json!("#microsoft.graph.user"))),
            ["@odata.type"]
        );
        assert_eq!(
            targets(with(valid(), "@odata.type", json!(1))),
            ["@odata.type"]
        );
    }

    #[test]
    fn other_odata_annotations_are_ignored() {
        let body = with(valid(), "@odata.context", json!("whatever"));
        assert!(parse_new_row(&body, Int64Format::default(), today()).is_ok());
    }

    #[test]
    fn every_missing_property_is_named() {
        let mut t = targets(json!({}));
        t.sort();
        let mut expected: Vec<String> = REQUIRED.iter().map(|p| p.json_name().to_owned()).collect();
        expected.sort();
        assert_eq!(t, expected);
        assert!(problems(json!({}))
            .iter()
            .all(|p| p.code == "missingProperty"));
    }

    #[test]
    fn every_bad_property_is_reported_at_once() {
        let body = with(
            with(with(valid(), "web", json!(-1)), "mac", json!("3")),
            "reportPeriod",
            json!("8"),
        );
        let mut t = targets(body);
        t.sort();
        assert_eq!(t, ["mac", "reportPeriod", "web"]);
    }

    #[test]
    fn id_is_read_only() {
        let p = problems(with(
            valid(),
            "id",
            json!("caf953a1-53a1-caf9-a153-f9caa153f9ca"),
        ));
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].code, p[0].target.as_str()),
            ("readOnlyProperty", "id")
        );
    }

    #[test]
    fn unknown_properties_are_refused() {
        let p = problems(with(valid(), "Web", json!(1)));
        assert_eq!(
            (p[0].code, p[0].target.as_str()),
            ("unknownProperty", "Web")
        );
        assert_eq!(targets(with(valid(), "tenantId", json!("x"))), ["tenantId"]);
    }

    #[test]
    fn counts_must_be_non_negative_int64() {
        for bad in [
            json!(-1),
            json!(1.5),
            json!(-3.0),
            json!(1e19),
            json!(9223372036854775808u64),
            json!(true),
            json!(null),
            json!([1]),
            json!({}),
        ] {
            assert_eq!(targets(with(valid(), "web", bad.clone())), ["web"], "{bad}");
        }
        let max = with(valid(), "web", json!(i64::MAX));
        assert!(parse_new_row(&max, Int64Format::default(), today()).is_ok());
        // Integral numbers written with a fraction or exponent are the same numbers.
        for (written, count) in [(json!(3.0), 3), (json!(1e3), 1000), (json!(0.0), 0)] {
            let row = parse_new_row(
                &with(valid(), "web", written),
                Int64Format::default(),
                today(),
            );
            assert_eq!(row.unwrap().counts.web.get(), count);
        }
    }

    #[test]
    fn strings_are_counts_only_when_ieee754_compatible() {
        let body = with(valid(), "web", json!("9007199254740993"));
        assert_eq!(targets(body.clone()), ["web"]);
        let ieee = Int64Format {
            ieee754_compatible: true,
        };
        let row = parse_new_row(&body, ieee, today()).unwrap();
        assert_eq!(row.counts.web.get(), 9_007_199_254_740_993);
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.0",
            "0x10",
            "9223372036854775808",
            "１",
        ] {
            let body = with(valid(), "web", json!(bad));
            assert!(parse_new_row(&body, ieee, today()).is_err(), "{bad:?}");
        }
        // numbers stay accepted in IEEE754 mode
        assert!(parse_new_row(&valid(), ieee, today()).is_ok());
    }

    #[test]
    fn dates_must_be_real_and_not_after_tomorrow() {
        assert!(parse_new_row(
            &with(valid(), "reportRefreshDate", json!("2026-11-30")),
            Int64Format::default(),
            today()
        )
        .is_ok());
        assert!(parse_new_row(
            &with(valid(), "reportRefreshDate", json!("2024-02-29")),
            Int64Format::default(),
            today()
        )
        .is_ok());
        for bad in [
            "2026-12-01",
            "2026-02-29",
            "2026-13-01",
            "2026-11-1",
            "26-11-01",
            "2026/11/01",
            "2026-11-01T00:00:00Z",
            "Date",
            "",
        ] {
            assert_eq!(
                targets(with(valid(), "reportRefreshDate", json!(bad))),
                ["reportRefreshDate"],
                "{bad}"
            );
        }
        assert_eq!(
            targets(with(valid(), "reportRefreshDate", json!(20261101))),
            ["reportRefreshDate"]
        );
    }

    #[test]
    fn period_is_a_day_count_string() {
        for good in ["7", "30", "90", "180"] {
            assert!(parse_new_row(
                &with(valid(), "reportPeriod", json!(good)),
                Int64Format::default(),
                today()
            )
            .is_ok());
        }
        for bad in [
            json!(7),
            json!("D7"),
            json!("365"),
            json!(null),
            json!("Report Period value"),
        ] {
            assert_eq!(
                targets(with(valid(), "reportPeriod", bad.clone())),
                ["reportPeriod"],
                "{bad}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_one_problem() {
        for body in [json!([]), json!("x"), json!(1), Value::Null] {
            assert_eq!(problems(body).len(), 1);
        }
    }

    #[test]
    fn patch_sets_only_what_it_names() {
        let current = parse_new_row(
            &with(valid(), "linux", json!(2)),
            Int64Format::default(),
            today(),
        )
        .unwrap();
        let patch = parse_row_patch(
            &json!({"web": 10, "linux": null}),
            Int64Format::default(),
            today(),
        )
        .unwrap();
        let next = patch.apply(&current);
        assert_eq!(next.counts.web.get(), 10);
        assert_eq!(next.counts.linux, None);
        assert_eq!(next.counts.mac, current.counts.mac);
        assert_eq!(next.report_period, current.report_period);
    }

    #[test]
    fn patch_refuses_what_create_refuses() {
        let p = parse_row_patch(
            &json!({"id": "x", "web": -2, "bogus": 1}),
            Int64Format::default(),
            today(),
        )
        .unwrap_err();
        let mut t: Vec<_> = p.into_iter().map(|p| p.target).collect();
        t.sort();
        assert_eq!(t, ["bogus", "id", "web"]);
        // required properties are not required in a patch
        assert_eq!(
            parse_row_patch(&json!({}), Int64Format::default(), today()).unwrap(),
            RowPatch::default()
        );
    }
}
