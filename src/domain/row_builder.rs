//! One row assembler for every reader: a JSON body and a CSV line each hand
//! over their raw values property by property, and `RowBuilder` keeps each
//! typed value or the problem the reader found, then makes the row (or the
//! patch) or gives back every problem at once. The value rules both readers
//! share (dates, counts) are here too; each reader words its own problems.

use chrono::{Datelike, Duration, NaiveDate};

use super::{NewDistributionRow, Property, ReportPeriod, RowPatch, UserCount};

/// One raw value a reader holds (a JSON value, a CSV cell), read as a
/// property's typed value. Each reader words its problems as its clients
/// read them, so `Problem` is the reader's own.
pub trait RawValue {
    type Problem;

    /// The problem of a value given for `property`, which the service assigns.
    fn read_only(&self, property: Property) -> Self::Problem;
    /// The refresh date, from `EARLIEST_REFRESH_DATE` to `latest_refresh_date`.
    fn date(&self) -> Result<NaiveDate, Self::Problem>;
    fn period(&self) -> Result<ReportPeriod, Self::Problem>;
    /// A count that may not be left empty.
    fn count(&self, property: Property) -> Result<UserCount, Self::Problem>;
    /// A count that may be left empty (JSON null, an empty cell): `None` then.
    fn optional_count(&self, property: Property) -> Result<Option<UserCount>, Self::Problem>;
}

/// The properties a new row cannot do without, in Graph's order.
pub const REQUIRED: [Property; 8] = [
    Property::ReportRefreshDate,
    Property::Web,
    Property::WindowsPhone,
    Property::AndroidPhone,
    Property::Ios,
    Property::Mac,
    Property::Windows,
    Property::ReportPeriod,
];

/// A row's content collected property by property, with every problem found
/// on the way, in the order found.
#[derive(Debug)]
pub struct RowBuilder<P> {
    /// The typed values read so far: `None` for a property not given or refused.
    values: RowPatch,
    /// Every property given, read or refused: a refused one is not also missing.
    given: Vec<Property>,
    problems: Vec<P>,
}

impl<P> Default for RowBuilder<P> {
    fn default() -> Self {
        Self {
            values: RowPatch::default(),
            given: Vec::new(),
            problems: Vec::new(),
        }
    }
}

impl<P> RowBuilder<P> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `raw` as `property`'s value, keeping the value or its problem.
    pub fn read(&mut self, property: Property, raw: &impl RawValue<Problem = P>) {
        self.given.push(property);
        let v = &mut self.values;
        let read = match property {
            Property::Id => Err(raw.read_only(property)),
            Property::ReportRefreshDate => raw.date().map(|d| v.report_refresh_date = Some(d)),
            Property::ReportPeriod => raw.period().map(|p| v.report_period = Some(p)),
            Property::Web => raw.count(property).map(|c| v.web = Some(c)),
            Property::WindowsPhone => raw.count(property).map(|c| v.windows_phone = Some(c)),
            Property::AndroidPhone => raw.count(property).map(|c| v.android_phone = Some(c)),
            Property::Ios => raw.count(property).map(|c| v.ios = Some(c)),
            Property::Mac => raw.count(property).map(|c| v.mac = Some(c)),
            Property::Windows => raw.count(property).map(|c| v.windows = Some(c)),
            Property::ChromeOs => raw.optional_count(property).map(|c| v.chrome_os = Some(c)),
            Property::Linux => raw.optional_count(property).map(|c| v.linux = Some(c)),
        };
        if let Err(problem) = read {
            self.problems.push(problem);
        }
    }

    /// A problem of the input that is no property's value (an unknown name, say).
    pub fn problem(&mut self, problem: P) {
        self.problems.push(problem);
    }

    /// What was read as a partial update: each property given sets its value.
    pub fn into_patch(self) -> Result<RowPatch, Vec<P>> {
        if self.problems.is_empty() {
            Ok(self.values)
        } else {
            Err(self.problems)
        }
    }

    /// What was read as a new row; `missing` words the problem of each
    /// required property never given, after every other problem.
    pub fn build(self, missing: impl Fn(Property) -> P) -> Result<NewDistributionRow, Vec<P>> {
        let Self {
            values,
            given,
            mut problems,
        } = self;
        problems.extend(
            REQUIRED
                .into_iter()
                .filter(|property| !given.contains(property))
                .map(missing),
        );
        match values.complete() {
            Some(row) if problems.is_empty() => Ok(row),
            // A required value absent was refused or never given: a problem says which.
            _ => Err(problems),
        }
    }
}

/// The earliest refresh date accepted: year 0 would be `0001-01-01 BC` on Postgres
/// but `0000-01-01` on SQLite, so both backends store only dates from here on.
pub const EARLIEST_REFRESH_DATE: &str = "0001-01-01";

/// The last refresh date accepted on `today` (UTC): tomorrow, for clocks running ahead.
pub fn latest_refresh_date(today: NaiveDate) -> NaiveDate {
    today + Duration::days(1)
}

/// A Graph `Date` as text (a JSON string's content, a CSV cell): `YYYY-MM-DD`,
/// a real calendar day from `EARLIEST_REFRESH_DATE` to `latest_refresh_date`.
/// `quoted` writes `text` as the reader's problems quote it.
pub fn parse_refresh_date(
    text: &str,
    today: NaiveDate,
    quoted: impl FnOnce(&str) -> String,
) -> Result<NaiveDate, String> {
    let date = parse_date_literal(text).ok_or_else(|| {
        format!(
            "'reportRefreshDate' must be a real calendar date YYYY-MM-DD, got {}",
            quoted(text)
        )
    })?;
    if date.year() < 1 {
        return Err(format!(
            "'reportRefreshDate' {text} is before the earliest accepted date {EARLIEST_REFRESH_DATE}"
        ));
    }
    let latest = latest_refresh_date(today);
    if date > latest {
        return Err(format!(
            "'reportRefreshDate' {date} is in the future (latest accepted: {latest})"
        ));
    }
    Ok(date)
}

/// Strictly `YYYY-MM-DD` (chrono alone would also take `2026-1-5`).
pub fn parse_date_literal(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    // Once shaped, `FromStr` reads exactly this form (and no format string).
    shaped.then(|| text.parse().ok()).flatten()
}

/// An Int64 in decimal digits. A leading `-` is read, so that a negative count
/// is refused as negative; `+`, spaces and other notations are not numbers here.
pub fn parse_int64_digits(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `number` as a count; the problem reads "must be 0 or more, got …".
pub fn user_count(number: i64) -> Result<UserCount, String> {
    UserCount::new(number).ok_or_else(|| format!("must be 0 or more, got {number}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw value that is already typed: the builder's bookkeeping alone.
    enum Given {
        Date(&'static str),
        Count(i64),
        Empty,
    }

    impl RawValue for Given {
        type Problem = String;

        fn read_only(&self, property: Property) -> String {
            format!("{} is read-only", property.json_name())
        }

        fn date(&self) -> Result<NaiveDate, String> {
            match self {
                Self::Date(text) => parse_date_literal(text).ok_or_else(|| "bad date".into()),
                _ => Err("not a date".into()),
            }
        }

        fn period(&self) -> Result<ReportPeriod, String> {
            match self {
                Self::Count(days) => {
                    ReportPeriod::from_json_str(&days.to_string()).ok_or_else(|| "period".into())
                }
                _ => Err("not a period".into()),
            }
        }

        fn count(&self, property: Property) -> Result<UserCount, String> {
            match self.optional_count(property)? {
                Some(count) => Ok(count),
                None => Err(format!("{} is empty", property.json_name())),
            }
        }

        fn optional_count(&self, _: Property) -> Result<Option<UserCount>, String> {
            match self {
                Self::Count(n) => user_count(*n).map(Some),
                Self::Empty => Ok(None),
                Self::Date(_) => Err("not a count".into()),
            }
        }
    }

    fn full() -> RowBuilder<String> {
        let mut row = RowBuilder::new();
        row.read(Property::ReportRefreshDate, &Given::Date("2026-11-28"));
        for property in &REQUIRED[1..7] {
            row.read(*property, &Given::Count(1));
        }
        row.read(Property::ReportPeriod, &Given::Count(30));
        row
    }

    fn missing(property: Property) -> String {
        format!("{} is missing", property.json_name())
    }

    #[test]
    fn every_required_value_makes_a_row() {
        let mut row = full();
        row.read(Property::Linux, &Given::Count(2));
        row.read(Property::ChromeOs, &Given::Empty);
        let row = row.build(missing).unwrap();
        assert_eq!(row.report_period, ReportPeriod::D30);
        assert_eq!(row.counts.linux.map(UserCount::get), Some(2));
        assert_eq!(row.counts.chrome_os, None);
    }

    #[test]
    fn problems_keep_their_order_and_missing_ones_come_last() {
        let mut row = RowBuilder::new();
        row.read(Property::Mac, &Given::Count(-1));
        row.problem("unknown".to_owned());
        row.read(Property::Web, &Given::Empty);
        row.read(Property::Id, &Given::Empty);
        row.read(Property::Linux, &Given::Empty);
        assert_eq!(
            row.build(missing).unwrap_err(),
            [
                "must be 0 or more, got -1",
                "unknown",
                "web is empty",
                "id is read-only",
                "reportRefreshDate is missing",
                "windowsPhone is missing",
                "androidPhone is missing",
                "ios is missing",
                "windows is missing",
                "reportPeriod is missing",
            ]
        );
    }

    #[test]
    fn a_patch_sets_only_what_was_given() {
        let mut row = RowBuilder::<String>::new();
        row.read(Property::Linux, &Given::Empty);
        row.read(Property::Web, &Given::Count(4));
        let patch = row.into_patch().unwrap();
        assert_eq!(patch.linux, Some(None));
        assert_eq!(patch.web.map(UserCount::get), Some(4));
        assert_eq!(patch.chrome_os, None);
        assert_eq!(patch.report_period, None);
    }

    #[test]
    fn refresh_dates_run_from_year_one_to_tomorrow() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let quoted = |text: &str| format!("<{text}>");
        assert_eq!(latest_refresh_date(today).to_string(), "2026-11-30");
        assert!(parse_refresh_date("2026-11-30", today, quoted).is_ok());
        assert!(parse_refresh_date(EARLIEST_REFRESH_DATE, today, quoted).is_ok());
        assert_eq!(
            parse_refresh_date("2026-12-01", today, quoted).unwrap_err(),
            "'reportRefreshDate' 2026-12-01 is in the future (latest accepted: 2026-11-30)"
        );
        assert_eq!(
            parse_refresh_date("0000-12-31", today, quoted).unwrap_err(),
            "'reportRefreshDate' 0000-12-31 is before the earliest accepted date 0001-01-01"
        );
        assert_eq!(
            parse_refresh_date("2026-02-29", today, quoted).unwrap_err(),
            "'reportRefreshDate' must be a real calendar date YYYY-MM-DD, got <2026-02-29>"
        );
    }

    #[test]
    fn date_literals_are_exactly_yyyy_mm_dd() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29);
        assert_eq!(parse_date_literal("2026-11-29"), day);
        // Ten characters each: another shape, or no such day.
        for loose in [
            "+026-11-29",
            " 026-11-29",
            "2026-11-2 ",
            "2026-1-029",
            "2026-02-30",
        ] {
            assert_eq!(parse_date_literal(loose), None, "{loose:?}");
        }
    }

    #[test]
    fn int64_digits_are_plain_decimal() {
        assert_eq!(parse_int64_digits("0"), Some(0));
        assert_eq!(parse_int64_digits("-1"), Some(-1));
        assert_eq!(parse_int64_digits("9223372036854775807"), Some(i64::MAX));
        // The JSON and CSV readers' tests try the other forms refused.
        for bad in ["-", "--1", "1-", "9223372036854775808"] {
            assert_eq!(parse_int64_digits(bad), None, "{bad:?}");
        }
    }
}
