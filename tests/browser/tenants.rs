//! Who is signed in, how fresh the tenant is, and an operator's tenants: the
//! header and its stale warning, the tenant picker (the tenant-id header on every
//! per-tenant request), the All tenants view, the comparison, the CSV's name.

use std::path::Path;

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use teams_usage_store::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, ReportPeriod, TenantId, UserCount,
};
use teams_usage_store::storage::CollectionRun;
use thirtyfour::prelude::*;
use uuid::Uuid;

use crate::browser::Browser;
use crate::helpers::{Backend, TestApp, READ};

backend_tests!(
    the_header_names_the_tenant_and_token_and_warns_when_stale,
    an_operator_picks_a_tenant_and_sees_all_tenants
);

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Day `i`'s counts, `scale` times a tenant's own mix.
fn counts(i: i64, scale: i64) -> DeviceCounts {
    let count = |n: i64| UserCount::new(n * scale).unwrap();
    DeviceCounts {
        web: count(100 + i),
        windows_phone: count(5),
        android_phone: count(300 - i),
        ios: count(150 + 2 * i),
        mac: count(80),
        windows: count(900 + 3 * i),
        chrome_os: Some(count(10)),
        linux: None,
    }
}

/// `days` 7-day rows of `tenant`, one a day, the newest `newest_age` days ago.
async fn store_rows(app: &TestApp, tenant: &str, days: i64, newest_age: i64, scale: i64) {
    let first = today() - Duration::days(newest_age + days - 1);
    let rows: Vec<DistributionRow> = (0..days)
        .map(|i| {
            DistributionRow::create(
                TenantId::parse(tenant).unwrap(),
                NewDistributionRow {
                    report_refresh_date: first + Duration::days(i),
                    report_period: ReportPeriod::D7,
                    counts: counts(i, scale),
                },
                Utc::now(),
            )
        })
        .collect();
    app.store.import_rows(&rows, &|_| {}).await.unwrap();
}

async fn sign_in(app: &TestApp, browser: &Browser, token: &str) {
    browser.driver.goto(app.url("/")).await.unwrap();
    browser
        .wait_for("document.getElementById('token')", "the sign-in form")
        .await;
    let field = browser.driver.find(By::Id("token")).await.unwrap();
    field.send_keys(token).await.unwrap();
    field.send_keys(Key::Enter).await.unwrap();
}

async fn wait_loaded(browser: &Browser, what: &str) {
    browser
        .wait_for(
            "/status-(ok|empty)/.test(document.getElementById('status').className)",
            what,
        )
        .await;
}

async fn text_of(browser: &Browser, id: &str) -> String {
    let script = format!("return document.getElementById('{id}').textContent");
    browser.eval(&script).await.as_str().unwrap().to_owned()
}

async fn is_hidden(browser: &Browser, id: &str) -> bool {
    let script = format!("return document.getElementById('{id}').hidden");
    browser.eval(&script).await == json!(true)
}

/// The screenshot `name`, also kept as `docs/images/FILE` for the README.
async fn keep_screenshot(browser: &Browser, name: &str, file: &str) {
    let shot = browser.screenshot(name).await;
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
    std::fs::copy(shot, docs.join(file)).unwrap();
}

/// Picks `tenant` (its value) in the operator's picker.
async fn pick(browser: &Browser, tenant: &str) {
    browser
        .driver
        .find(By::Css(format!("#tenant-picker option[value='{tenant}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn the_header_names_the_tenant_and_token_and_warns_when_stale(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn_with(backend, |s| s.stale_after_days = 3).await else {
        return;
    };
    store_rows(&app, "contoso", 20, 5, 1).await;
    store_rows(&app, "fabrikam", 20, 1, 1).await;
    app.store
        .set_tenant_name(&TenantId::parse("contoso").unwrap(), "Contoso <Ltd>")
        .await
        .unwrap();
    let stale = app.token_for("contoso", READ).await;
    sign_in(&app, &browser, &stale).await;
    wait_loaded(&browser, "the stale tenant").await;
    browser
        .wait_for(
            "!document.getElementById('stale-warning').hidden",
            "the warning",
        )
        .await;
    assert_eq!(
        text_of(&browser, "who-tenant").await,
        "Contoso <Ltd> (contoso)"
    );
    assert_eq!(text_of(&browser, "who-token").await, "test");
    let newest = today() - Duration::days(5);
    assert_eq!(
        text_of(&browser, "stale-warning").await,
        format!("Contoso <Ltd> is stale: newest report 5 days old ({newest}); stale after 3 days.")
    );
    let role = browser
        .eval("return document.getElementById('stale-warning').getAttribute('role')")
        .await;
    assert_eq!(role, "alert");
    // Neither the picker nor the All tenants view is a tenant token's.
    assert!(is_hidden(&browser, "tenant-picker-label").await);
    assert!(is_hidden(&browser, "all-view").await);
    // The comparison: 30 days back is before the first of its 20 rows.
    browser
        .wait_for(
            "document.querySelector('#comparison tbody td.none')",
            "the comparison",
        )
        .await;
    let comparison = text_of(&browser, "comparison").await;
    assert!(comparison.contains("no data that far back"), "{comparison}");
    assert!(comparison.contains("vs 30 days earlier"), "{comparison}");
    keep_screenshot(
        &browser,
        &format!("{backend:?}-stale-warning").to_lowercase(),
        "dashboard-stale.png",
    )
    .await;

    // The CSV's name carries the tenant.
    browser.click("download").await;
    let (file, _) = browser.downloaded_file().await;
    assert_eq!(
        file,
        format!("teams-device-usage-contoso-7-{}.csv", today())
    );

    // A fresh tenant: its id (no display name) and no warning.
    browser.click("sign-out").await;
    let fresh = app.token_for("fabrikam", READ).await;
    sign_in(&app, &browser, &fresh).await;
    wait_loaded(&browser, "the fresh tenant").await;
    browser
        .wait_for(
            "document.getElementById('who-tenant').textContent === 'fabrikam'",
            "the fresh tenant's name",
        )
        .await;
    assert!(is_hidden(&browser, "stale-warning").await);
    assert_eq!(text_of(&browser, "stale-warning").await, "");
    browser.driver.clone().quit().await.unwrap();
}

async fn an_operator_picks_a_tenant_and_sees_all_tenants(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn_with(backend, |s| s.stale_after_days = 3).await else {
        return;
    };
    // contoso fresh with 100 days, northwind 5 days old, fabrikam 10 days old and
    // failing to collect; the bootstrap token's tenant and the operator's own
    // have no rows at all.
    store_rows(&app, "contoso", 100, 1, 3).await;
    store_rows(&app, "northwind", 30, 5, 2).await;
    store_rows(&app, "fabrikam", 30, 10, 1).await;
    app.store
        .set_tenant_name(&TenantId::parse("contoso").unwrap(), "Contoso Ltd")
        .await
        .unwrap();
    let at = Utc::now() - Duration::hours(2);
    app.store
        .record_collection_run(&CollectionRun {
            id: Uuid::now_v7(),
            source: "fabrikam-graph".into(),
            target_tenant: TenantId::parse("fabrikam").unwrap(),
            period: ReportPeriod::D7,
            started_at: at,
            finished_at: at,
            created: 0,
            already_stored: 0,
            conflicting: 0,
            error: Some("<b id=bold>Graph answered 503</b>".to_owned()),
        })
        .await
        .unwrap();
    let operator = app.all_tenants_token("msp", READ).await;
    sign_in(&app, &browser, &operator).await;
    wait_loaded(&browser, "the All tenants view").await;
    browser
        .wait_for(
            "document.querySelector('#rollup-chart svg')",
            "the roll-up chart",
        )
        .await;
    assert!(!is_hidden(&browser, "all-view").await);
    assert!(is_hidden(&browser, "tenant-view").await);
    assert!(!is_hidden(&browser, "tenant-picker-label").await);
    assert_eq!(text_of(&browser, "who-tenant").await, "All tenants");
    assert_eq!(text_of(&browser, "who-token").await, "operator (operator)");
    assert!(is_hidden(&browser, "stale-warning").await);

    // The picker: All tenants, then every tenant by id.
    let options = browser
        .eval("return [...document.querySelectorAll('#tenant-picker option')].map(o => [o.value, o.textContent])")
        .await;
    assert_eq!(
        options,
        json!([
            ["", "All tenants"],
            ["contoso", "Contoso Ltd (contoso)"],
            ["default", "default"],
            ["fabrikam", "fabrikam"],
            ["msp", "msp"],
            ["northwind", "northwind"]
        ])
    );

    // The roll-up chart, its ids kept apart from the tenant chart's.
    let chart: Value = browser
        .eval(
            "const svg = document.querySelector('#rollup-chart svg');
             return [svg.querySelector('title').textContent, svg.getAttribute('aria-labelledby'),
                     svg.querySelectorAll('polyline[stroke-width=\"2\"]').length,
                     document.querySelector('#rollup-chart figcaption').textContent]",
        )
        .await;
    assert_eq!(
        chart[0],
        "Teams users by device, all tenants, 7-day reports"
    );
    assert_eq!(chart[1], "rollup-chart-title rollup-chart-desc");
    assert_eq!(chart[2], 7, "{chart}");
    let newest = today() - Duration::days(1);
    let first = newest - Duration::days(99);
    let caption = chart[3].as_str().unwrap();
    assert!(
        caption.starts_with(&format!(
            "100 dates summed over the tenants from {first} to {newest}"
        )),
        "{caption}"
    );
    // Only contoso has the newest date: its counts are the roll-up's there.
    assert!(
        caption.contains(&format!("Web {}", 3 * (100 + 99))),
        "{caption}"
    );

    // The tenants, the stalest first; the error as text.
    let tenants = browser
        .eval(
            "return [...document.querySelectorAll('#tenants tbody tr')].map(tr =>
               [...tr.cells].map(td => td.textContent))",
        )
        .await;
    let column = |index: usize| -> Vec<String> {
        tenants
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row[index].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        column(0),
        [
            "default",
            "msp",
            "fabrikam",
            "northwind",
            "Contoso Ltdcontoso"
        ]
    );
    assert_eq!(column(2), ["–", "–", "10", "5", "1"]);
    assert_eq!(column(3), ["Stale", "Stale", "Stale", "Stale", "Fresh"]);
    let errors = column(6);
    assert!(
        errors[2].starts_with("<b id=bold>Graph answered 503</b> ("),
        "{errors:?}"
    );
    assert_eq!(errors[0], "none");
    assert_eq!(
        browser.eval("return document.getElementById('bold')").await,
        Value::Null
    );

    // The tenant shares on the newest date, and the roll-up's comparison.
    let shares = text_of(&browser, "tenant-shares").await;
    assert!(
        shares.contains("contoso") && shares.contains("100.00 %"),
        "{shares}"
    );
    let comparison = browser
        .eval(
            "return [...document.querySelectorAll('#rollup-comparison thead th')].map(th => th.textContent)",
        )
        .await;
    assert_eq!(comparison[0], "Device");
    assert_eq!(comparison[1], format!("Share{newest}"));
    assert_eq!(
        comparison[2],
        format!("vs 30 days earlier{}", newest - Duration::days(30))
    );
    assert_eq!(comparison[4], "vs 365 days earlierno data that far back");
    let cells = browser
        .eval(
            "return [...document.querySelectorAll('#rollup-comparison tbody tr')].map(tr =>
               [...tr.cells].map(td => td.textContent))",
        )
        .await;
    // Mac: the same 80 users a day in every tenant while the others grow.
    let mac = cells[4].as_array().unwrap();
    assert_eq!(mac[0], "Mac");
    assert!(mac[2].as_str().unwrap().starts_with('−'), "{mac:?}");
    assert!(mac[2].as_str().unwrap().ends_with(" pt"), "{mac:?}");
    let windows = cells[5].as_array().unwrap();
    assert!(windows[2].as_str().unwrap().starts_with('+'), "{windows:?}");
    assert_eq!(mac[4], "no data that far back");
    browser.resize(1280, 2100).await;
    keep_screenshot(
        &browser,
        &format!("{backend:?}-all-tenants").to_lowercase(),
        "dashboard-all-tenants.png",
    )
    .await;
    browser.resize(1280, 1000).await;

    // Picking a tenant: its rows, its chart, its header, its CSV.
    pick(&browser, "contoso").await;
    browser
        .wait_for(
            "document.getElementById('status').textContent.startsWith('100 7-day reports')",
            "contoso's rows",
        )
        .await;
    assert!(is_hidden(&browser, "all-view").await);
    assert_eq!(
        text_of(&browser, "who-tenant").await,
        "Contoso Ltd (contoso)"
    );
    assert!(is_hidden(&browser, "stale-warning").await);
    let first_row = browser
        .eval("return [...document.querySelector('#rows tbody tr').cells].map(td => td.textContent.replace(/,/g, ''))")
        .await;
    assert_eq!(first_row[0], newest.to_string());
    assert_eq!(first_row[1], (3 * (100 + 99)).to_string());
    browser
        .wait_for(
            "document.querySelector('#chart figcaption') && document.querySelector('#chart figcaption').textContent.startsWith('100 reports')",
            "contoso's chart",
        )
        .await;
    let collector = text_of(&browser, "collector").await;
    assert!(!collector.contains("unavailable"), "{collector}");
    browser
        .wait_for(
            "document.querySelector('#comparison tbody tr th')",
            "contoso's comparison",
        )
        .await;
    browser.click("download").await;
    let (file, bytes) = browser.downloaded_file().await;
    assert_eq!(
        file,
        format!("teams-device-usage-contoso-7-{}.csv", today())
    );
    // 100 rows and the header.
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 101);

    // Another tenant: its rows, and the warning for it.
    pick(&browser, "fabrikam").await;
    browser
        .wait_for(
            "document.getElementById('status').textContent.startsWith('30 7-day reports')",
            "fabrikam's rows",
        )
        .await;
    browser
        .wait_for(
            "!document.getElementById('stale-warning').hidden",
            "fabrikam's warning",
        )
        .await;
    let warning = text_of(&browser, "stale-warning").await;
    assert!(warning.contains("newest report 10 days old"), "{warning}");
    let first_row = browser
        .eval("return document.querySelector('#rows tbody tr').cells[1].textContent.replace(/,/g, '')")
        .await;
    assert_eq!(first_row, (100 + 29).to_string());

    // And back to all of them.
    pick(&browser, "").await;
    browser
        .wait_for(
            "!document.getElementById('all-view').hidden",
            "the All tenants view again",
        )
        .await;
    wait_loaded(&browser, "the roll-up again").await;
    assert!(is_hidden(&browser, "stale-warning").await);
    browser.driver.clone().quit().await.unwrap();
}
