//! Reading Graph's CSV: a header matched by column name, and each line
//! checked by the rules a POST body meets, into a `NewDistributionRow`.

use chrono::NaiveDate;

use super::{csv_columns, csv_header, CSV_COLUMNS};
use crate::domain::row_builder::{
    parse_int64_digits, parse_refresh_date, user_count, RawValue, RowBuilder,
};
use crate::domain::{ApiVersion, NewDistributionRow, Property, ReportPeriod, UserCount};

/// At most this many characters of a file's own text are quoted in a
/// problem: a cell or header can be megabytes long, and problems are logged,
/// stored and shown.
const MAX_QUOTED_CHARS: usize = 40;

/// `text` as a problem quotes it: escaped (control characters visible), at
/// most `MAX_QUOTED_CHARS` characters, with its full length when cut.
fn quote(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_QUOTED_CHARS {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{head:?}… ({count} characters)")
}

/// Something wrong with one line of an imported CSV file: the column it is in
/// (`None` for the line as a whole) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProblem {
    pub column: Option<&'static str>,
    pub message: String,
}

impl CsvProblem {
    fn of_line(message: String) -> Self {
        Self {
            column: None,
            message,
        }
    }
}

/// Where a file's columns are, read from its header line by name: in any
/// order, every column of one of Graph's layouts exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    /// Each column the file has, in Graph's order: header name, property, field index.
    columns: Vec<(&'static str, Property, usize)>,
}

impl CsvHeader {
    /// Every problem of the header at once: unknown, repeated and missing columns.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, Vec<CsvProblem>> {
        let mut problems = Vec::new();
        let mut columns: Vec<(&'static str, Property, usize)> = Vec::new();
        for (index, name) in names.into_iter().enumerate() {
            match CSV_COLUMNS.iter().find(|(header, _)| *header == name) {
                None => problems.push(CsvProblem::of_line(format!(
                    "unknown column {}; Graph's columns are {}",
                    quote(name),
                    csv_header(ApiVersion::Beta).join(", ")
                ))),
                Some((header, _)) if columns.iter().any(|(h, _, _)| h == header) => problems.push(
                    CsvProblem::of_line(format!("column '{header}' appears twice")),
                ),
                Some(&(header, property)) => columns.push((header, property, index)),
            }
        }
        // Either optional column makes it the 10-column beta version.
        let beta = columns
            .iter()
            .any(|(_, p, _)| matches!(p, Property::ChromeOs | Property::Linux));
        let version = if beta {
            ApiVersion::Beta
        } else {
            ApiVersion::V1
        };
        for (header, _) in csv_columns(version) {
            if !columns.iter().any(|(h, _, _)| *h == header) {
                problems.push(CsvProblem::of_line(format!("missing column '{header}'")));
            }
        }
        if problems.is_empty() {
            // Problems of a line are reported in Graph's column order, whatever the file's.
            columns.sort_by_key(|(header, _, _)| CSV_COLUMNS.iter().position(|(h, _)| h == header));
            Ok(Self { columns })
        } else {
            Err(problems)
        }
    }

    /// The number of fields every line must have.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// One line as a row, checked by the rules a POST body meets, with every
    /// problem at once, in Graph's column order. `today` is the current UTC date.
    pub fn read_row(
        &self,
        fields: &::csv::StringRecord,
        today: NaiveDate,
    ) -> Result<NewDistributionRow, Vec<CsvProblem>> {
        let mut row = RowBuilder::new();
        for &(column, property, index) in &self.columns {
            let cell = Cell {
                column,
                text: fields.get(index).unwrap_or_default(),
                today,
            };
            row.read(property, &cell);
        }
        // The header has every required column, so none is missing from a line.
        row.build(|property| {
            Cell::empty(
                CSV_COLUMNS
                    .iter()
                    .find(|(_, p)| *p == property)
                    .map(|(h, _)| *h),
            )
        })
    }
}

/// One cell of a line, read by the rules of Graph's CSV.
struct Cell<'a> {
    column: &'static str,
    text: &'a str,
    today: NaiveDate,
}

impl Cell<'_> {
    fn problem(&self, message: String) -> CsvProblem {
        CsvProblem {
            column: Some(self.column),
            message,
        }
    }

    fn empty(column: Option<&'static str>) -> CsvProblem {
        CsvProblem {
            column,
            message: "is empty; a value is required".into(),
        }
    }

    /// The cell's text, which a required property may not leave empty.
    fn required(&self) -> Result<&str, CsvProblem> {
        match self.text {
            "" => Err(Self::empty(Some(self.column))),
            text => Ok(text),
        }
    }
}

impl RawValue for Cell<'_> {
    type Problem = CsvProblem;

    fn read_only(&self, _: Property) -> CsvProblem {
        self.problem("is assigned by the service, not read from a file".into())
    }

    fn date(&self) -> Result<NaiveDate, CsvProblem> {
        parse_refresh_date(self.required()?, self.today, quote).map_err(|m| self.problem(m))
    }

    /// The period as Graph's CSV writes it: the day count.
    fn period(&self) -> Result<ReportPeriod, CsvProblem> {
        let text = self.required()?;
        ReportPeriod::from_json_str(text).ok_or_else(|| {
            self.problem(format!(
                "must be one of 7, 30, 90, 180 (days), got {}",
                quote(text)
            ))
        })
    }

    /// A count as Graph writes it: decimal digits, a non-negative Int64.
    fn count(&self, _: Property) -> Result<UserCount, CsvProblem> {
        let text = self.required()?;
        parse_int64_digits(text)
            .ok_or_else(|| {
                format!(
                    "must be a whole number from 0 to 9223372036854775807, got {}",
                    quote(text)
                )
            })
            .and_then(user_count)
            .map_err(|m| self.problem(m))
    }

    /// An empty cell leaves an optional count empty.
    fn optional_count(&self, property: Property) -> Result<Option<UserCount>, CsvProblem> {
        match self.text {
            "" => Ok(None),
            _ => self.count(property).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> Result<CsvHeader, Vec<String>> {
        CsvHeader::parse(line.split(','))
            .map_err(|problems| problems.into_iter().map(|p| p.message).collect())
    }

    fn read(header_line: &str, line: &str) -> Result<NewDistributionRow, Vec<String>> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let record = ::csv::StringRecord::from(line.split(',').collect::<Vec<_>>());
        header(header_line)
            .unwrap()
            .read_row(&record, today)
            .map_err(|problems| {
                problems
                    .into_iter()
                    .map(|p| format!("{}: {}", p.column.unwrap_or("-"), p.message))
                    .collect()
            })
    }

    #[test]
    fn headers_are_read_by_name_in_any_order() {
        let v1 = csv_header(ApiVersion::V1).join(",");
        assert_eq!(header(&v1).unwrap().len(), 8);
        let shuffled = "Report Period,Linux,Web,Chrome OS,Report Refresh Date,Windows,Mac,iOS,Android Phone,Windows Phone";
        let row = read(shuffled, "90,,1,2,2026-10-31,3,4,5,6,7").unwrap();
        assert_eq!(row.report_period, ReportPeriod::D90);
        assert_eq!(row.counts.web.get(), 1);
        assert_eq!(row.counts.windows_phone.get(), 7);
        assert_eq!(row.counts.chrome_os.map(UserCount::get), Some(2));
        assert_eq!(row.counts.linux, None);
    }

    #[test]
    fn problems_follow_graphs_column_order_whatever_the_files() {
        let shuffled = "Report Period,Linux,Web,Chrome OS,Report Refresh Date,Windows,Mac,iOS,Android Phone,Windows Phone";
        assert_eq!(
            read(shuffled, ",x,-1,,,3,4,5,6,7").unwrap_err(),
            [
                "Report Refresh Date: is empty; a value is required",
                "Web: must be 0 or more, got -1",
                "Linux: must be a whole number from 0 to 9223372036854775807, got \"x\"",
                "Report Period: is empty; a value is required",
            ]
        );
    }

    #[test]
    fn every_header_problem_is_reported() {
        let problems =
            header("Report Refresh Date,Web,Web,Windows Phone,ios,Mac,Windows,Linux,Report Period")
                .unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert_eq!(problems[0], "column 'Web' appears twice");
        assert!(problems[1]
            .starts_with("unknown column \"ios\"; Graph's columns are Report Refresh Date, Web,"));
        assert_eq!(
            &problems[2..],
            [
                "missing column 'Android Phone'",
                "missing column 'iOS'",
                "missing column 'Chrome OS'"
            ]
        );
    }

    #[test]
    fn problems_quote_at_most_a_bounded_escaped_part_of_the_file() {
        let huge = format!("\u{1b}[31m{}", "x".repeat(5_000_000));
        let problems = header(&format!("{},Report Period", huge)).unwrap_err();
        let unknown = &problems[0];
        assert!(unknown.len() < 400, "{} bytes", unknown.len());
        assert!(
            unknown.starts_with("unknown column \"\\u{1b}[31mxxx"),
            "{unknown}"
        );
        assert!(unknown.contains("… (5000005 characters)"), "{unknown}");
        assert!(!unknown.contains('\u{1b}'));

        let v1 = csv_header(ApiVersion::V1).join(",");
        let cell = "9".repeat(100_000);
        let line = format!("{cell},{cell},2,3,4,5,6,{cell}");
        let problems = read(&v1, &line).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for problem in &problems {
            assert!(problem.len() < 200, "{problem}");
            assert!(problem.ends_with("… (100000 characters)"), "{problem}");
        }
    }

    #[test]
    fn cells_meet_the_rules_of_a_post_body() {
        let v1 = csv_header(ApiVersion::V1).join(",");
        let problems = read(&v1, "2026-11-31,-1,x,,+4,99999999999999999999,6,D7").unwrap_err();
        assert_eq!(
            problems,
            [
                "Report Refresh Date: 'reportRefreshDate' must be a real calendar date YYYY-MM-DD, got \"2026-11-31\"",
                "Web: must be 0 or more, got -1",
                "Windows Phone: must be a whole number from 0 to 9223372036854775807, got \"x\"",
                "Android Phone: is empty; a value is required",
                "iOS: must be a whole number from 0 to 9223372036854775807, got \"+4\"",
                "Mac: must be a whole number from 0 to 9223372036854775807, got \"99999999999999999999\"",
                "Report Period: must be one of 7, 30, 90, 180 (days), got \"D7\"",
            ]
        );
        // Tomorrow is accepted (clocks run ahead), the day after is not.
        assert!(read(&v1, "2026-11-30,1,2,3,4,5,6,7").is_ok());
        let future = read(&v1, "2026-12-01,1,2,3,4,5,6,7").unwrap_err();
        assert!(future[0].contains("is in the future"), "{future:?}");
    }
}
