//! A whole Graph CSV document checked at once: the header matched by name,
//! every line read by the rules a POST body meets, every problem reported
//! with its line and column. Within the document, a line that repeats an
//! earlier one exactly is skipped; the same key with other counts is a problem.

use std::collections::hash_map::{Entry, HashMap};
use std::fmt;

use chrono::NaiveDate;

use super::{CsvHeader, CsvProblem, CSV_BOM};
use crate::domain::{NewDistributionRow, ReportPeriod};

/// One thing wrong with a document, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: u64,
    pub column: Option<&'static str>,
    pub message: String,
}

impl LineProblem {
    /// A problem of the line as a whole.
    pub fn of_line(line: u64, message: &str) -> Self {
        Self {
            line,
            column: None,
            message: message.to_owned(),
        }
    }

    fn at(line: u64, problem: CsvProblem) -> Self {
        Self {
            line,
            column: problem.column,
            message: problem.message,
        }
    }
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, column '{column}': {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// The rows of a document that passed every check, each with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCsv {
    pub rows: Vec<(u64, NewDistributionRow)>,
    /// Lines that repeat an earlier line exactly.
    pub duplicate_lines: usize,
}

/// Reads and checks a whole CSV document (`bytes`, a byte-order mark allowed):
/// the rows, or every problem found.
pub fn check_csv(bytes: &[u8], today: NaiveDate) -> Result<CheckedCsv, Vec<LineProblem>> {
    let bytes = bytes.strip_prefix(CSV_BOM).unwrap_or(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        // Ragged lines are reported by line, not as a parse failure.
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(bytes);
    let mut lines = LineCounter::new(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            return Err(vec![LineProblem::of_line(
                1,
                "the file is empty: expected a header line",
            )])
        }
        Some(Err(e)) => return Err(vec![csv_error(e, &mut lines)]),
        Some(Ok(names)) => CsvHeader::parse(names.iter()).map_err(|problems| {
            problems
                .into_iter()
                .map(|p| LineProblem::at(1, p))
                .collect::<Vec<_>>()
        })?,
    };
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut lines_by_key: HashMap<(NaiveDate, ReportPeriod), usize> = HashMap::new();
    let mut duplicate_lines = 0;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(csv_error(e, &mut lines));
                continue;
            }
        };
        let line = lines.at(record.position());
        if record.len() != header.len() {
            problems.push(LineProblem::of_line(
                line,
                &format!(
                    "has {} fields, the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let row = match header.read_row(&record, today) {
            Ok(row) => row,
            Err(found) => {
                problems.extend(found.into_iter().map(|p| LineProblem::at(line, p)));
                continue;
            }
        };
        match lines_by_key.entry((row.report_refresh_date, row.report_period)) {
            Entry::Vacant(slot) => {
                slot.insert(rows.len());
                rows.push((line, row));
            }
            Entry::Occupied(first) => {
                let (first_line, first_row) = &rows[*first.get()];
                if *first_row == row {
                    duplicate_lines += 1;
                } else {
                    problems.push(LineProblem::of_line(
                        line,
                        &format!(
                            "Report Refresh Date {} and Report Period {} are on line {first_line} with other counts",
                            row.report_refresh_date, row.report_period
                        ),
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(CheckedCsv {
            rows,
            duplicate_lines,
        })
    } else {
        Err(problems)
    }
}

/// Physical line numbers from byte offsets: the csv crate's own line count
/// leaves blank lines out.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line `position` starts on; positions come in increasing order.
    fn at(&mut self, position: Option<&::csv::Position>) -> u64 {
        let Some(byte) = position.and_then(|p| usize::try_from(p.byte()).ok()) else {
            return self.line;
        };
        let mut byte = byte.clamp(self.offset, self.text.len());
        // A record's position is where reading it began, before the blank
        // lines skipped ahead of it.
        while matches!(self.text.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        let newlines = self.text[self.offset..byte].iter().filter(|&&b| b == b'\n');
        self.line += newlines.count() as u64;
        self.offset = byte;
        self.line
    }
}

fn csv_error(error: ::csv::Error, lines: &mut LineCounter) -> LineProblem {
    let line = lines.at(error.position());
    let message = match error.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
        _ => format!("cannot be read as CSV: {error}"),
    };
    LineProblem::of_line(line, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_HEADER: &str =
        "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn check(text: &str) -> Result<CheckedCsv, Vec<String>> {
        check_csv(text.as_bytes(), today())
            .map_err(|problems| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn rows_keep_their_line_numbers() {
        let file = check(&format!(
            "{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,7\n\n2026-11-02,1,2,3,4,5,6,30\n"
        ))
        .unwrap();
        let lines: Vec<u64> = file.rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 4]);

        let problems = check(&format!(
            "{V1_HEADER}\n\n\n2026-11-01,\"x\n\",2,3,4,5,6,7\n\n2026-11-02,x,2,3,4,5,6,7\n"
        ))
        .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("line 4, column 'Web'"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("line 7, column 'Web'"),
            "{problems:?}"
        );
        assert_eq!(file.rows[1].1.report_period, ReportPeriod::D30);
    }

    #[test]
    fn a_bom_is_skipped() {
        let mut bytes = CSV_BOM.to_vec();
        bytes.extend_from_slice(format!("{V1_HEADER}\r\n2026-11-01,1,2,3,4,5,6,7\r\n").as_bytes());
        assert_eq!(check_csv(&bytes, today()).unwrap().rows.len(), 1);
    }

    #[test]
    fn every_problem_is_reported_with_its_line_and_column() {
        let problems = check(&format!(
            "{V1_HEADER}\n2026-02-30,1,2,3,4,5,6,7\n2026-11-01,-1,2,3,4,x,6,8\n2026-11-01,1,2\n"
        ))
        .unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].starts_with("line 2, column 'Report Refresh Date': "));
        assert!(problems[1].starts_with("line 3, column 'Web': "));
        assert!(problems[2].starts_with("line 3, column 'Mac': "));
        assert!(problems[3].starts_with("line 3, column 'Report Period': "));
        assert_eq!(problems[4], "line 4: has 3 fields, the header has 8");
    }

    #[test]
    fn repeated_lines_are_skipped_and_contradicting_lines_refused() {
        let row = "2026-11-01,1,2,3,4,5,6,7";
        let file = check(&format!("{V1_HEADER}\n{row}\n{row}\n")).unwrap();
        assert_eq!((file.rows.len(), file.duplicate_lines), (1, 1));

        let problems =
            check(&format!("{V1_HEADER}\n{row}\n2026-11-01,9,2,3,4,5,6,7\n")).unwrap_err();
        assert_eq!(
            problems,
            ["line 3: Report Refresh Date 2026-11-01 and Report Period 7 are on line 2 with other counts"]
        );
    }

    #[test]
    fn an_empty_file_or_bad_header_is_a_problem_of_line_one() {
        assert_eq!(
            check("").unwrap_err(),
            ["line 1: the file is empty: expected a header line"]
        );
        let problems = check("Report Refresh Date,Web\n2026-11-01,1\n").unwrap_err();
        assert!(
            problems.iter().all(|p| p.starts_with("line 1")),
            "{problems:?}"
        );
    }

    #[test]
    fn invalid_utf8_is_reported_by_line() {
        let mut bytes = format!("{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,7\n").into_bytes();
        bytes.extend_from_slice(b"2026-11-02,\xff,2,3,4,5,6,7\n");
        let problems = check_csv(&bytes, today()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
        assert!(problems[0].message.contains("UTF-8"), "{:?}", problems[0]);
    }
}
