//! How a variable's text becomes its typed value. Each parser returns what
//! was expected and what was given ("must be …, got …"); the caller puts the
//! variable's name in front (`Environment::from_lookup`).

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use crate::domain::{ApiVersion, ReportPeriod, TenantId};
use crate::storage::ConflictPolicy;

/// The value parsers clap takes: a function of the text, cheap to clone.
pub trait Parser<T>: Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {}
impl<T, F: Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static> Parser<T> for F {}

fn expected(what: impl Display, text: &str) -> String {
    format!("must be {what}, got {text:?}")
}

/// A whole number of at least `min`.
pub fn whole_number<T>(min: T) -> impl Parser<T>
where
    T: FromStr + PartialOrd + Display + Copy + Send + Sync + 'static,
{
    move |text| {
        text.parse::<T>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| expected(format_args!("a whole number from {min}"), text))
    }
}

/// A TCP port; 0 picks a free one.
pub fn port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| expected("a number from 0 to 65535", text))
}

/// The unit a duration variable's name gives a bare number (`_SECONDS`, `_MS`).
#[derive(Debug, Clone, Copy)]
pub enum TimeUnit {
    Seconds,
    Milliseconds,
}

impl TimeUnit {
    fn times(self, n: u64) -> Duration {
        match self {
            Self::Seconds => Duration::from_secs(n),
            Self::Milliseconds => Duration::from_millis(n),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Seconds => "seconds",
            Self::Milliseconds => "milliseconds",
        }
    }
}

/// A length of time of at least `min` `unit`s: a whole number of the unit
/// the variable is named for, or a duration with its own unit as humantime
/// reads it (`1500ms`, `90s`, `2m`).
pub fn duration(unit: TimeUnit, min: u64) -> impl Parser<Duration> {
    move |text| {
        let length = match text.parse::<u64>() {
            Ok(n) => Some(unit.times(n)),
            Err(_) => humantime::parse_duration(text).ok(),
        };
        length.filter(|l| *l >= unit.times(min)).ok_or_else(|| {
            expected(
                format_args!(
                    "a whole number of {} from {min}, or a duration such as 90s or 1500ms",
                    unit.name()
                ),
                text,
            )
        })
    }
}

/// A schedule's interval: a number and a unit (`30m`, `6h`, `1d`), longer
/// than zero. A bare number is refused: its unit would be a guess.
pub fn interval(text: &str) -> Result<Duration, String> {
    let length = humantime::parse_duration(text)
        .ok()
        .filter(|_| text.parse::<u64>().is_err())
        .ok_or_else(|| expected("a number and a unit, such as 30m, 6h or 1d", text))?;
    if length.is_zero() {
        return Err(expected("longer than zero", text));
    }
    Ok(length)
}

/// An absolute http(s) URL, kept without its trailing slash.
pub fn http_url(text: &str) -> Result<String, String> {
    let parsed = url::Url::parse(text).map_err(|e| expected(format_args!("a URL ({e})"), text))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(expected("an http(s) URL", text));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

pub fn tenant(text: &str) -> Result<TenantId, String> {
    TenantId::parse(text).map_err(|e| expected(format_args!("a tenant id ({e})"), text))
}

/// `D7,D30` (comma-separated, each once).
pub fn periods(text: &str) -> Result<Vec<ReportPeriod>, String> {
    let wrong = || expected("a comma-separated list of D7, D30, D90, D180", text);
    let mut periods = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let period = ReportPeriod::from_function_arg(item).ok_or_else(wrong)?;
        if !periods.contains(&period) {
            periods.push(period);
        }
    }
    if periods.is_empty() {
        return Err(wrong());
    }
    Ok(periods)
}

pub fn api_version(text: &str) -> Result<ApiVersion, String> {
    ApiVersion::from_segment(text).ok_or_else(|| expected("beta or v1.0", text))
}

pub fn conflict_policy(text: &str) -> Result<ConflictPolicy, String> {
    match text {
        "keep" => Ok(ConflictPolicy::Keep),
        "replace" => Ok(ConflictPolicy::Replace),
        _ => Err(expected("keep or replace", text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_bare_number_in_the_named_unit_or_their_own_unit() {
        let seconds = duration(TimeUnit::Seconds, 1);
        assert_eq!(seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(seconds("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(seconds("1500ms"), Ok(Duration::from_millis(1500)));
        for bad in ["0", "500ms", "1.5", "-1", "soon", ""] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        let millis = duration(TimeUnit::Milliseconds, 0);
        assert_eq!(millis("0"), Ok(Duration::ZERO));
        assert_eq!(millis("2000"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn intervals_need_a_unit_and_a_length() {
        assert_eq!(interval("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(interval("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(interval("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(interval("30 m"), Ok(Duration::from_secs(1_800)));
        assert!(interval("0h").unwrap_err().contains("longer than zero"));
        for bad in ["6", "6 fortnights", "h", ""] {
            assert!(interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_periods_and_choices_say_what_they_expected() {
        assert_eq!(whole_number(1usize)("8"), Ok(8));
        assert_eq!(
            whole_number(1usize)("0").unwrap_err(),
            "must be a whole number from 1, got \"0\""
        );
        assert!(port("70000").is_err());
        assert_eq!(
            periods("D7, D90,D7").unwrap(),
            vec![ReportPeriod::D7, ReportPeriod::D90]
        );
        assert!(periods("D8").is_err());
        assert!(periods(",").is_err());
        assert_eq!(conflict_policy("replace"), Ok(ConflictPolicy::Replace));
        assert!(conflict_policy("merge").is_err());
        assert_eq!(
            http_url("https://graph.example/").unwrap(),
            "https://graph.example"
        );
        assert!(http_url("ftp://graph.example").is_err());
    }
}
