//! `import FILE --tenant T [--new-tenant]`: loads a Graph CSV export (the report function's
//! CSV, 8 or 10 columns, matched by header name) into one tenant.
//!
//! The whole file is checked before anything is stored (`domain::check_csv`).
//! Then the rows are stored in ONE transaction, idempotent like POST: a line
//! equal to the stored row is skipped, and a line whose natural key is stored
//! with other counts fails the import with nothing stored.
//!
//! A tenant with neither a token nor rows is refused unless `--new-tenant`
//! says it is meant: a misspelt tenant creates nothing.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use chrono::Utc;

use super::open_store;
use crate::config::Settings;
use crate::domain::{check_csv, DistributionRow, LineProblem, TenantId};
use crate::storage::{ImportOutcome, Store};

/// At most this many problems are printed; the count says how many there were.
const PRINTED_PROBLEMS: usize = 50;

/// Files with more rows than this report their progress while storing.
const PROGRESS_ABOVE_ROWS: usize = 10_000;

/// Opens the store, imports `file` into `tenant` and says what was stored;
/// a tenant that does not exist yet only with `new_tenant`.
pub async fn run(
    file: &Path,
    tenant: &str,
    new_tenant: bool,
    settings: Settings,
) -> anyhow::Result<()> {
    let tenant = TenantId::parse(tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let store = open_store(&settings).await?;
    let result = async {
        let exists = store.tenant_exists(&tenant).await?;
        if !exists && !new_tenant {
            anyhow::bail!(
                "tenant '{tenant}' has no token and no rows in this database; \
                 check its name, or pass --new-tenant to create it with these rows"
            );
        }
        Ok((
            exists,
            import_file(store.as_ref(), file, tenant.clone()).await?,
        ))
    }
    .await;
    store.close().await;
    let (existed, summary) = result?;
    if !existed && summary.created > 0 {
        eprintln!("tenant '{tenant}' is new: created with these rows");
    }
    eprintln!(
        "imported {} into tenant '{tenant}': rows created: {}, already stored: {}{}",
        file.display(),
        summary.created,
        summary.already_stored,
        match summary.duplicate_lines {
            0 => String::new(),
            n => format!(", repeated lines skipped: {n}"),
        }
    );
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub already_stored: usize,
    pub duplicate_lines: usize,
}

/// Checks `path` whole, then stores its rows for `tenant` in one transaction.
/// Problems and progress go to stderr; the error is the one-line reason.
async fn import_file(
    store: &dyn Store,
    path: &Path,
    tenant: TenantId,
) -> anyhow::Result<ImportSummary> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let now = Utc::now();
    let checked = check_csv(&bytes, now.date_naive()).map_err(|problems| {
        report(path, &problems);
        anyhow::anyhow!(
            "{}: {} problem{} found; nothing was stored",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )
    })?;
    let lines: Vec<u64> = checked.rows.iter().map(|(line, _)| *line).collect();
    let rows: Vec<DistributionRow> = checked
        .rows
        .into_iter()
        .map(|(_, row)| DistributionRow::create(tenant.clone(), row, now))
        .collect();
    let total = rows.len();
    let printed_tenth = AtomicUsize::new(0);
    let progress = |offered: usize| {
        // One line per tenth of a big file, so progress never floods the terminal.
        let tenth = offered * 10 / total.max(1);
        if total > PROGRESS_ABOVE_ROWS && tenth > printed_tenth.fetch_max(tenth, Ordering::Relaxed)
        {
            // Not yet stored: the one transaction commits (or not) at the end.
            eprintln!("checked against the database: {offered} of {total} rows");
        }
    };
    match store.import_rows(&rows, &progress).await? {
        ImportOutcome::Committed {
            created,
            already_stored,
        } => Ok(ImportSummary {
            created,
            already_stored,
            duplicate_lines: checked.duplicate_lines,
        }),
        ImportOutcome::Conflicts(conflicts) => {
            let problems: Vec<LineProblem> = conflicts
                .iter()
                .map(|(index, stored)| {
                    LineProblem::of_line(
                        lines[*index],
                        &format!(
                            "Report Refresh Date {} and Report Period {} are already stored for tenant '{tenant}' with other counts (id {})",
                            stored.report_refresh_date, stored.report_period, stored.id
                        ),
                    )
                })
                .collect();
            report(path, &problems);
            anyhow::bail!(
                "{}: {} line{} conflict with stored rows; nothing was stored",
                path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            )
        }
    }
}

fn report(path: &Path, problems: &[LineProblem]) {
    for problem in problems.iter().take(PRINTED_PROBLEMS) {
        eprintln!("{}: {problem}", path.display());
    }
    if problems.len() > PRINTED_PROBLEMS {
        eprintln!(
            "{}: ... and {} more problems",
            path.display(),
            problems.len() - PRINTED_PROBLEMS
        );
    }
}
