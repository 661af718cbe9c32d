//! Graph's CSV form of the report: the columns, named once, and the mapping
//! from a row to a CSV record. The report function writes it; an importer of
//! Graph CSV exports reads the same columns by header name.

use super::{ApiVersion, DistributionRow, Property};

mod document;
mod read;

pub use document::{check_csv, CheckedCsv, LineProblem};
pub use read::{CsvHeader, CsvProblem};

/// Graph's CSV (and Excel) opens with a UTF-8 byte-order mark.
pub const CSV_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Every column Graph's CSV export can carry, header name -> property, in
/// Graph's column order. `id` has no column: exports carry no row ids.
pub const CSV_COLUMNS: [(&str, Property); 10] = [
    ("Report Refresh Date", Property::ReportRefreshDate),
    ("Web", Property::Web),
    ("Windows Phone", Property::WindowsPhone),
    ("Android Phone", Property::AndroidPhone),
    ("iOS", Property::Ios),
    ("Mac", Property::Mac),
    ("Windows", Property::Windows),
    ("Chrome OS", Property::ChromeOs),
    ("Linux", Property::Linux),
    ("Report Period", Property::ReportPeriod),
];

/// Graph's CSV shape under `version`: the columns in order, header name and
/// property (`/v1.0` writes 8, `/beta` 10).
pub fn csv_columns(version: ApiVersion) -> impl Iterator<Item = (&'static str, Property)> {
    CSV_COLUMNS
        .into_iter()
        .filter(move |(_, property)| version.has_csv_column(*property))
}

pub fn csv_header(version: ApiVersion) -> Vec<&'static str> {
    csv_columns(version).map(|(name, _)| name).collect()
}

/// The property a CSV header names (exact, as Graph writes it).
pub fn property_for_header(name: &str) -> Option<Property> {
    CSV_COLUMNS
        .into_iter()
        .find(|(header, _)| *header == name)
        .map(|(_, property)| property)
}

/// One cell as Graph writes it: dates `YYYY-MM-DD`, counts in decimal, the
/// period as its day count, a null count as an empty cell.
pub fn csv_cell(row: &DistributionRow, property: Property) -> String {
    match property {
        Property::Id => row.id.to_string(),
        Property::ReportRefreshDate => row.report_refresh_date.to_string(),
        Property::ReportPeriod => row.report_period.to_string(),
        count => row
            .counts
            .get(count)
            .map_or(String::new(), |c| c.get().to_string()),
    }
}

/// A row as one record of `version`'s CSV.
pub fn csv_record(row: &DistributionRow, version: ApiVersion) -> Vec<String> {
    csv_columns(version)
        .map(|(_, property)| csv_cell(row, property))
        .collect()
}

/// The whole CSV document: BOM, header, one record per row, CRLF line ends
/// (RFC 4180).
pub fn write_csv(version: ApiVersion, rows: &[DistributionRow]) -> Result<Vec<u8>, ::csv::Error> {
    let mut document = csv_opening(version)?;
    document.extend(csv_lines(rows.iter().map(|row| csv_record(row, version)))?);
    Ok(document)
}

/// How a CSV document opens: the BOM and the header line of `version`.
pub fn csv_opening(version: ApiVersion) -> Result<Vec<u8>, ::csv::Error> {
    let mut opening = CSV_BOM.to_vec();
    opening.extend(csv_lines(std::iter::once(csv_header(version)))?);
    Ok(opening)
}

/// Records as CSV lines, CRLF line ends (RFC 4180): the one writer setup,
/// for whole documents and streamed pages alike.
pub fn csv_lines<R, F>(records: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ::csv::Error>
where
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        writer.write_record(record)?;
    }
    writer
        .into_inner()
        .map_err(|e| ::csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReportPeriod;

    fn row(chrome_os: Option<i64>) -> DistributionRow {
        crate::domain::test_row(
            "default",
            "2026-11-28",
            ReportPeriod::D90,
            [3, 12, 0, 4, 5, i64::MAX],
            chrome_os,
            None,
        )
    }

    #[test]
    fn headers_are_graphs_exactly() {
        assert_eq!(
            csv_header(ApiVersion::V1).join(","),
            "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period"
        );
        assert_eq!(
            csv_header(ApiVersion::Beta).join(","),
            "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period"
        );
    }

    #[test]
    fn headers_name_their_properties() {
        assert_eq!(property_for_header("iOS"), Some(Property::Ios));
        assert_eq!(property_for_header("Chrome OS"), Some(Property::ChromeOs));
        assert_eq!(property_for_header("ios"), None);
        assert_eq!(property_for_header("Id"), None);
        for (name, property) in CSV_COLUMNS {
            assert_eq!(property_for_header(name), Some(property));
        }
    }

    #[test]
    fn records_follow_the_version() {
        assert_eq!(
            csv_record(&row(Some(1)), ApiVersion::V1),
            [
                "2026-11-28",
                "3",
                "12",
                "0",
                "4",
                "5",
                "9223372036854775807",
                "90"
            ]
        );
        assert_eq!(
            csv_record(&row(Some(1)), ApiVersion::Beta),
            [
                "2026-11-28",
                "3",
                "12",
                "0",
                "4",
                "5",
                "9223372036854775807",
                "1",
                "",
                "90"
            ]
        );
    }

    #[test]
    fn the_document_has_a_bom_a_header_and_crlf_lines() {
        let bytes = write_csv(ApiVersion::V1, &[row(None)]).unwrap();
        assert!(bytes.starts_with(CSV_BOM));
        let text = std::str::from_utf8(&bytes[CSV_BOM.len()..]).unwrap();
        assert_eq!(
            text,
            "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period\r\n\
             2026-11-28,3,12,0,4,5,9223372036854775807,90\r\n"
        );
    }

    #[test]
    fn no_rows_is_the_header_alone() {
        let bytes = write_csv(ApiVersion::Beta, &[]).unwrap();
        let text = std::str::from_utf8(&bytes[CSV_BOM.len()..]).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with("Linux,Report Period\r\n"));
    }

    #[test]
    fn what_is_written_reads_back_by_header_name() {
        let bytes = write_csv(ApiVersion::Beta, &[row(Some(7))]).unwrap();
        let mut reader = ::csv::Reader::from_reader(&bytes[CSV_BOM.len()..]);
        let headers = reader.headers().unwrap().clone();
        let record = reader.records().next().unwrap().unwrap();
        let cell = |property| {
            let index = headers
                .iter()
                .position(|h| property_for_header(h) == Some(property))
                .unwrap();
            record[index].to_owned()
        };
        assert_eq!(cell(Property::ChromeOs), "7");
        assert_eq!(cell(Property::Linux), "");
        assert_eq!(cell(Property::ReportPeriod), "90");
    }
}
