//! `import FILE --tenant T` through the real binary, on a fresh database of
//! each backend: good files store every row, bad files store nothing and say
//! why, line by line, ending in one `error:` line.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each target uses a part of the shared helpers.
#[allow(dead_code)]
#[macro_use]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use teams_usage_store::domain::{DistributionRow, ReportPeriod};
use teams_usage_store::storage;

use common::fixtures::{date, tenant};
use common::{Backend, TestDatabase};

const BOM: &str = "\u{feff}";
const V1_HEADER: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period";
const BETA_HEADER: &str = "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period";

backend_tests!(
    a_v1_file_with_a_bom_is_stored_whole,
    a_beta_file_is_read_by_header_name_in_any_order,
    importing_again_stores_nothing_new,
    tenants_keep_their_own_rows,
    a_big_file_reports_progress,
    a_missing_column_stores_nothing,
    a_bad_date_stores_nothing,
    a_negative_count_stores_nothing,
    a_bad_period_stores_nothing,
    a_ragged_line_stores_nothing,
    contradicting_lines_store_nothing,
    a_conflict_with_a_stored_row_stores_nothing,
    every_bad_line_is_reported,
);

struct Import {
    success: bool,
    stderr: String,
}

/// Runs `import` on `contents` for `tenant`, in an empty working directory;
/// the tenant may be new (tests/cli/tenants.rs has the refusal without `--new-tenant`).
fn import(database: &TestDatabase, contents: &str, tenant: &str) -> Import {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, contents).unwrap();
    let output = run_import(
        database,
        dir.path(),
        &[file.to_str().unwrap(), "--tenant", tenant, "--new-tenant"],
    );
    Import {
        success: output.status.success(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn run_import(database: &TestDatabase, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teams-usage-store"))
        .arg("import")
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", database.url.expose())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

/// The failure's own line: exactly one `error:` line, and it is the last.
fn assert_failed(import: &Import, reason: &str) {
    assert!(!import.success, "{}", import.stderr);
    let lines: Vec<&str> = import.stderr.lines().collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}", import.stderr);
    assert_eq!(lines.last(), errors.first().copied(), "{}", import.stderr);
    assert!(errors[0].contains(reason), "{}", import.stderr);
    assert!(!import.stderr.contains("panicked"), "{}", import.stderr);
}

/// The `line N, column 'C'` problem lines of a failed import.
fn problem_lines(import: &Import) -> Vec<String> {
    import
        .stderr
        .lines()
        .filter(|l| l.contains(": line "))
        .map(|l| l.split_once(": line ").unwrap().1.to_owned())
        .collect()
}

async fn database(backend: Backend) -> Option<TestDatabase> {
    TestDatabase::create(backend).await
}

async fn latest(
    database: &TestDatabase,
    tenant_name: &str,
    period: ReportPeriod,
) -> Option<DistributionRow> {
    let store = storage::connect(&database.url, 1).await.unwrap();
    let row = store
        .latest_row(&tenant(tenant_name), period)
        .await
        .unwrap();
    store.close().await;
    row
}

fn v1_file() -> String {
    format!(
        "{BOM}{V1_HEADER}\r\n\
         2026-11-01,3,12,12,3,3,7,7\r\n\
         2026-11-01,30,120,120,30,30,70,30\r\n\
         2026-11-08,4,13,13,4,4,8,7\r\n"
    )
}

async fn a_v1_file_with_a_bom_is_stored_whole(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    let import = import(&db, &v1_file(), "contoso");
    assert!(import.success, "{}", import.stderr);
    assert!(
        import.stderr.contains("rows created: 3, already stored: 0"),
        "{}",
        import.stderr
    );
    assert_eq!(db.row_count().await, 3);
    let row = latest(&db, "contoso", ReportPeriod::D7).await.unwrap();
    assert_eq!(row.report_refresh_date, date("2026-11-08"));
    assert_eq!(row.counts.windows_phone.get(), 13);
    assert_eq!((row.counts.chrome_os, row.counts.linux), (None, None));
    let row = latest(&db, "contoso", ReportPeriod::D30).await.unwrap();
    assert_eq!(row.counts.windows.get(), 70);
}

async fn a_beta_file_is_read_by_header_name_in_any_order(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    // No BOM, columns shuffled, an empty Linux cell (null), LF line ends.
    let file = "Report Period,Linux,Web,Chrome OS,Report Refresh Date,Windows,Mac,iOS,Android Phone,Windows Phone\n\
                90,,1,2,2026-10-31,3,4,5,6,7\n\
                180,9,1,2,2026-10-31,3,4,5,6,7\n";
    let import = import(&db, file, "contoso");
    assert!(import.success, "{}", import.stderr);
    let row = latest(&db, "contoso", ReportPeriod::D90).await.unwrap();
    let c = row.counts;
    assert_eq!(
        [
            c.web,
            c.windows_phone,
            c.android_phone,
            c.ios,
            c.mac,
            c.windows
        ]
        .map(|n| n.get()),
        [1, 7, 6, 5, 4, 3]
    );
    assert_eq!(c.chrome_os.map(|n| n.get()), Some(2));
    assert_eq!(c.linux, None);
    let row = latest(&db, "contoso", ReportPeriod::D180).await.unwrap();
    assert_eq!(row.counts.linux.map(|n| n.get()), Some(9));

    // Graph's own beta header order works too, with a BOM.
    let file = format!("{BOM}{BETA_HEADER}\r\n2026-11-01,1,2,3,4,5,6,,,7\r\n");
    assert!(import_ok(&db, &file));
    assert_eq!(db.row_count().await, 3);
}

fn import_ok(db: &TestDatabase, file: &str) -> bool {
    let import = import(db, file, "contoso");
    assert!(import.success, "{}", import.stderr);
    true
}

async fn importing_again_stores_nothing_new(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    assert!(import_ok(&db, &v1_file()));
    let before = latest(&db, "contoso", ReportPeriod::D7).await.unwrap();
    let again = import(&db, &v1_file(), "contoso");
    assert!(again.success, "{}", again.stderr);
    assert!(
        again.stderr.contains("rows created: 0, already stored: 3"),
        "{}",
        again.stderr
    );
    assert_eq!(db.row_count().await, 3);
    assert_eq!(
        latest(&db, "contoso", ReportPeriod::D7).await.unwrap(),
        before
    );

    // A file repeating a line, and adding one new row, stores just the new row.
    let file = format!(
        "{}2026-11-08,4,13,13,4,4,8,7\n2026-11-15,5,5,5,5,5,5,7\n",
        v1_file()
    );
    let import = import(&db, &file, "contoso");
    assert!(import.success, "{}", import.stderr);
    assert!(
        import
            .stderr
            .contains("rows created: 1, already stored: 3, repeated lines skipped: 1"),
        "{}",
        import.stderr
    );
    assert_eq!(db.row_count().await, 4);
}

async fn tenants_keep_their_own_rows(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    assert!(import_ok(&db, &v1_file()));
    let other = import(&db, &v1_file(), "fabrikam");
    assert!(
        other.stderr.contains("rows created: 3,"),
        "{}",
        other.stderr
    );
    assert_eq!(db.row_count().await, 6);

    let bad_tenant = import(&db, &v1_file(), "not a tenant");
    assert_failed(&bad_tenant, "--tenant");
    assert_eq!(db.row_count().await, 6);

    let missing = run_import(
        &db,
        Path::new("."),
        &["no-such-file.csv", "--tenant", "t", "--new-tenant"],
    );
    let missing = Import {
        success: missing.status.success(),
        stderr: String::from_utf8(missing.stderr).unwrap(),
    };
    assert_failed(&missing, "cannot read no-such-file.csv");
}

async fn a_big_file_reports_progress(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    let mut file = format!("{V1_HEADER}\n");
    let start = date("2026-11-01");
    for day in 0..3_000 {
        let refreshed = start - chrono::Duration::days(day);
        for period in [7, 30, 90, 180] {
            file.push_str(&format!("{refreshed},{day},1,2,3,4,5,{period}\n"));
        }
    }
    let import = import(&db, &file, "contoso");
    assert!(import.success, "{}", import.stderr);
    assert!(
        import
            .stderr
            .contains("checked against the database: 6000 of 12000 rows"),
        "{}",
        import.stderr
    );
    assert!(
        import.stderr.contains("rows created: 12000,"),
        "{}",
        import.stderr
    );
    assert_eq!(db.row_count().await, 12_000);
}

/// A file with good rows and one bad thing: the import fails, nothing is stored.
async fn assert_refused(backend: Backend, file: &str, expected_problem: &str) {
    let Some(db) = database(backend).await else {
        return;
    };
    let import = import(&db, file, "contoso");
    assert_failed(&import, "nothing was stored");
    let problems = problem_lines(&import);
    assert_eq!(problems.len(), 1, "{}", import.stderr);
    assert!(
        problems[0].starts_with(expected_problem),
        "expected {expected_problem:?}, got\n{}",
        import.stderr
    );
    assert_eq!(db.row_count().await, 0);
}

async fn a_missing_column_stores_nothing(backend: Backend) {
    let file = "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Windows,Report Period\n\
                2026-11-01,1,2,3,4,6,7\n";
    assert_refused(backend, file, "1: missing column 'Mac'").await;
}

async fn a_bad_date_stores_nothing(backend: Backend) {
    let file = format!("{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,7\n2026-02-30,1,2,3,4,5,6,7\n");
    assert_refused(backend, &file, "3, column 'Report Refresh Date': ").await;
}

async fn a_negative_count_stores_nothing(backend: Backend) {
    let file = format!("{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,7\n2026-11-02,1,2,-3,4,5,6,7\n");
    assert_refused(
        backend,
        &file,
        "3, column 'Android Phone': must be 0 or more",
    )
    .await;
}

async fn a_bad_period_stores_nothing(backend: Backend) {
    let file = format!("{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,D7\n2026-11-02,1,2,3,4,5,6,7\n");
    assert_refused(backend, &file, "2, column 'Report Period': ").await;
}

async fn a_ragged_line_stores_nothing(backend: Backend) {
    let file = format!("{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,7\n2026-11-02,1,2,3,4,5,6,7,8\n");
    assert_refused(backend, &file, "3: has 9 fields, the header has 8").await;
}

async fn contradicting_lines_store_nothing(backend: Backend) {
    let file = format!("{V1_HEADER}\n2026-11-01,1,2,3,4,5,6,7\n2026-11-01,1,2,3,4,5,99,7\n");
    assert_refused(
        backend,
        &file,
        "3: Report Refresh Date 2026-11-01 and Report Period 7 are on line 2 with other counts",
    )
    .await;
}

async fn a_conflict_with_a_stored_row_stores_nothing(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    assert!(import_ok(&db, &v1_file()));
    let stored = latest(&db, "contoso", ReportPeriod::D7).await.unwrap();
    // A new row, then the stored 2026-11-08 row with another Web count.
    let file = format!("{V1_HEADER}\n2026-11-15,1,1,1,1,1,1,7\n2026-11-08,5,13,13,4,4,8,7\n");
    let import = import(&db, &file, "contoso");
    assert_failed(
        &import,
        "1 line conflict with stored rows; nothing was stored",
    );
    let problems = problem_lines(&import);
    assert_eq!(problems.len(), 1, "{}", import.stderr);
    assert!(
        problems[0].starts_with(
            "3: Report Refresh Date 2026-11-08 and Report Period 7 are already stored"
        ),
        "{}",
        import.stderr
    );
    assert!(
        problems[0].contains(&stored.id.to_string()),
        "{}",
        import.stderr
    );
    // Not even the new row of 2026-11-15 was stored.
    assert_eq!(db.row_count().await, 3);
    assert_eq!(
        latest(&db, "contoso", ReportPeriod::D7).await.unwrap(),
        stored
    );
}

async fn every_bad_line_is_reported(backend: Backend) {
    let Some(db) = database(backend).await else {
        return;
    };
    let file = format!(
        "{V1_HEADER}\n\
         2026-11-01,1,2,3,4,5,6,7\n\
         2026-13-01,1,2,3,4,5,6,7\n\
         2026-11-02,x,2,3,4,5,,30\n\
         2026-11-03,1,2\n\
         2099-01-01,1,2,3,4,5,6,8\n"
    );
    let import = import(&db, &file, "contoso");
    assert_failed(&import, "6 problems found; nothing was stored");
    let problems = problem_lines(&import);
    let starts: Vec<&str> = problems
        .iter()
        .map(|p| p.split_once(':').unwrap().0)
        .collect();
    assert_eq!(
        starts,
        [
            "3, column 'Report Refresh Date'",
            "4, column 'Web'",
            "4, column 'Windows'",
            "5",
            "6, column 'Report Refresh Date'",
            "6, column 'Report Period'",
        ],
        "{}",
        import.stderr
    );
    assert_eq!(db.row_count().await, 0);
}
