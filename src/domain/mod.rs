//! The resource `microsoft.graph.teamsDeviceUsageDistributionUserCounts`: its
//! properties, the validated types, the JSON it is read from and written as, and
//! Graph's CSV form.

mod csv;
mod json;
mod parse;
mod patch;
mod period;
mod property;
mod row;
mod row_builder;
mod secret;
mod tenant;
mod token;
mod version;

pub use self::csv::{
    check_csv, csv_cell, csv_header, csv_lines, csv_opening, csv_record, property_for_header,
    write_csv, CheckedCsv, CsvHeader, CsvProblem, LineProblem, CSV_BOM, CSV_COLUMNS,
};
pub use json::{Int64, Int64Format, RowJson, RowsJson};
pub use parse::{parse_new_row, parse_row_patch, FieldProblem, ODATA_TYPE};
pub use patch::RowPatch;
pub use period::ReportPeriod;
pub use property::{Property, PropertyKind};
#[cfg(test)]
pub(crate) use row::test_row;
pub use row::{
    truncate_to_micros, DeviceCounts, DistributionRow, NaturalKey, NewDistributionRow, UserCount,
};
pub use row_builder::{latest_refresh_date, parse_date_literal};
pub use secret::Secret;
pub use tenant::TenantId;
pub use token::{Scope, Scopes, StoredToken, TokenReach, TokenRejection};
pub use version::ApiVersion;
