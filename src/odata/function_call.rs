//! A report function's call, as a URL segment and its query string:
//! `microsoft.graph.{function}(period='D7')` and the one query option a
//! function takes, `$format`. String literals are read by the `$filter`
//! lexer's own reader, so both spell quotes alike.

use super::filter::string_literal;
use crate::domain::ReportPeriod;

/// The namespace a function name may be qualified with.
const NAMESPACE: &str = "microsoft.graph.";

/// The period a call segment of `function` names: `{function}(period='D7')`,
/// optionally qualified with `microsoft.graph.`.
pub fn parse_period_call(segment: &str, function: &str) -> Result<ReportPeriod, String> {
    let malformed =
        || format!("The function call '{segment}' is malformed: write {function}(period='D7')");
    let call = segment.strip_prefix(NAMESPACE).unwrap_or(segment);
    let arguments = call
        .strip_prefix(function)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(malformed)?;
    let mut period = None;
    for argument in arguments.split(',').filter(|a| !a.is_empty()) {
        let (name, value) = argument.split_once('=').ok_or_else(malformed)?;
        if name != "period" {
            return Err(format!(
                "{function} has no parameter '{name}'; its only parameter is period"
            ));
        }
        if period.is_some() {
            return Err("The parameter period is given twice".into());
        }
        let text = string_literal(value).ok_or_else(|| {
            format!("The parameter period must be a quoted string such as 'D7', got {value}")
        })?;
        period = Some(ReportPeriod::from_function_arg(&text).ok_or_else(|| {
            format!("The parameter period must be one of 'D7', 'D30', 'D90', 'D180', got '{text}'")
        })?);
    }
    period.ok_or_else(|| format!("{function} requires the parameter period, as in (period='D7')"))
}

/// A function takes one query option, `$format`; nothing else is ignored silently.
pub fn parse_function_options(
    query_string: &str,
    function: &str,
) -> Result<Option<String>, String> {
    let mut format = None;
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        match name.as_ref() {
            "$format" if format.is_some() => {
                return Err("The query option $format is given twice".into())
            }
            "$format" => format = Some(value.into_owned()),
            other => {
                return Err(format!(
                "The query option '{other}' is not supported by {function}; it takes only $format"
            ))
            }
        }
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FUNCTION: &str = "getTeamsDeviceUsageDistributionUserCounts";

    #[test]
    fn calls_name_a_period() {
        for (call, period) in [
            (
                "getTeamsDeviceUsageDistributionUserCounts(period='D7')",
                ReportPeriod::D7,
            ),
            (
                "getTeamsDeviceUsageDistributionUserCounts(period='D180')",
                ReportPeriod::D180,
            ),
            (
                "microsoft.graph.getTeamsDeviceUsageDistributionUserCounts(period='D30')",
                ReportPeriod::D30,
            ),
        ] {
            assert_eq!(parse_period_call(call, FUNCTION), Ok(period), "{call}");
        }
    }

    #[test]
    fn malformed_calls_say_why() {
        for call in [
            "getTeamsDeviceUsageDistributionUserCounts",
            "getTeamsDeviceUsageDistributionUserCounts()",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7'",
            "getTeamsDeviceUsageDistributionUserCounts(period=D7)",
            "getTeamsDeviceUsageDistributionUserCounts(period=\"D7\")",
            "getTeamsDeviceUsageDistributionUserCounts(period='D8')",
            "getTeamsDeviceUsageDistributionUserCounts(period='d7')",
            "getTeamsDeviceUsageDistributionUserCounts(period='7')",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7''')",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7',period='D7')",
            "getTeamsDeviceUsageDistributionUserCounts(period='D7',date='2026-11-01')",
            "getTeamsDeviceUsageDistributionUserCounts(Period='D7')",
            "getTeamsDeviceUsageDistributionUserCounts(period)",
            "getTeamsDeviceUsageDistributionUserCounts(period=@p)",
            "graph.getTeamsDeviceUsageDistributionUserCounts(period='D7')",
        ] {
            let message = parse_period_call(call, FUNCTION).unwrap_err();
            assert!(!message.is_empty(), "{call}");
        }
    }

    #[test]
    fn only_format_is_an_option() {
        assert_eq!(parse_function_options("", FUNCTION), Ok(None));
        assert_eq!(
            parse_function_options("$format=text%2Fcsv", FUNCTION),
            Ok(Some("text/csv".into()))
        );
        assert!(parse_function_options("$format=text/csv&$format=text/csv", FUNCTION).is_err());
        assert!(parse_function_options("$top=1", FUNCTION).is_err());
        assert!(parse_function_options("period=D7", FUNCTION).is_err());
    }
}
