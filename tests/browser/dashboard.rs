//! What a person does on the dashboard, checked against the stored rows.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::Value;
use teams_usage_store::dashboard::DEVICES;
use teams_usage_store::domain::{
    DeviceCounts, DistributionRow, NewDistributionRow, ReportPeriod, TenantId, UserCount,
};
use teams_usage_store::storage::CollectionRun;
use thirtyfour::prelude::*;
use uuid::Uuid;

use crate::browser::Browser;
use crate::helpers::{Backend, TestApp, READ};

backend_tests!(
    signed_in_the_page_shows_the_stored_rows,
    a_wrong_token_is_refused,
    an_empty_tenant_is_told_so,
    counts_up_to_int64s_maximum_are_shown_exactly,
    the_collector_status_is_shown_as_text,
    three_years_render_in_under_a_second
);

/// Day `i`'s counts: every device moves differently; Linux starts late.
fn counts(i: i64) -> DeviceCounts {
    let count = |n: i64| UserCount::new(n).unwrap();
    DeviceCounts {
        web: count(100 + 3 * i),
        windows_phone: count(5 + i % 3),
        android_phone: count((400 - i).abs()),
        ios: count(150 + i),
        mac: count(80 + 2 * i),
        windows: count(900 + 11 * i),
        chrome_os: Some(count(10 + i % 5)),
        linux: (i >= 10).then(|| count(i - 10)),
    }
}

/// A row of the tenant `default`.
fn row_on(date: NaiveDate, period: ReportPeriod, counts: DeviceCounts) -> DistributionRow {
    DistributionRow::create(
        TenantId::parse("default").unwrap(),
        NewDistributionRow {
            report_refresh_date: date,
            report_period: period,
            counts,
        },
        Utc::now(),
    )
}

/// `days` rows for `period`, one a day from `first` for the tenant `default`.
async fn store_rows(app: &TestApp, first: NaiveDate, days: i64, period: ReportPeriod) {
    let rows: Vec<DistributionRow> = (0..days)
        .map(|i| row_on(first + chrono::Duration::days(i), period, counts(i)))
        .collect();
    app.store.import_rows(&rows, &|_| {}).await.unwrap();
}

async fn open(app: &TestApp, browser: &Browser) {
    browser.driver.goto(app.url("/")).await.unwrap();
    browser
        .wait_for("document.getElementById('token')", "the sign-in form")
        .await;
}

async fn sign_in(browser: &Browser, token: &str) {
    let field = browser.driver.find(By::Id("token")).await.unwrap();
    field.send_keys(token).await.unwrap();
    field.send_keys(Key::Enter).await.unwrap();
}

async fn wait_loaded(browser: &Browser) {
    browser
        .wait_for(
            "/status-(ok|empty)/.test(document.getElementById('status').className)",
            "the dashboard to load",
        )
        .await;
}

/// The table's cells, row by row, numbers without separators.
async fn table(browser: &Browser) -> Vec<Vec<String>> {
    let cells = browser
        .eval(
            "return [...document.querySelectorAll('#rows tbody tr')].map(tr =>
               [...tr.cells].map(td => td.textContent.replace(/,/g, '')))",
        )
        .await;
    serde_json::from_value(cells).unwrap()
}

/// What the table shows for day `i` of `first`.
fn expected_cells(first: NaiveDate, i: i64, period: ReportPeriod) -> Vec<String> {
    let row = counts(i);
    let mut cells = vec![(first + chrono::Duration::days(i)).to_string()];
    for device in &DEVICES {
        cells.push(
            row.get(device.property)
                .map_or("–".to_owned(), |c| c.get().to_string()),
        );
    }
    cells.push(period.to_string());
    cells
}

/// Each device's line in the chart goes through its stored values: one point per
/// date, x a linear function of the date and y of the count, the same for every
/// device (fitted over all points, to the pixel).
async fn assert_chart_matches(browser: &Browser, days: i64) {
    let lines: Vec<(String, String)> = serde_json::from_value(
        browser
            .eval(
                "return [...document.querySelectorAll('#chart svg polyline')].map(p =>
                   [p.getAttribute('stroke'), p.getAttribute('points')])",
            )
            .await,
    )
    .unwrap();
    let title = browser
        .eval("return document.querySelector('#chart svg > title').textContent")
        .await;
    assert!(title.as_str().unwrap().starts_with("Teams users by device"));
    // (device, day, count, x, y) for every point drawn.
    let mut drawn = Vec::new();
    for device in &DEVICES {
        let values: Vec<(i64, i64)> = (0..days)
            .filter_map(|i| Some((i, counts(i).get(device.property)?.get())))
            .collect();
        let (_, points) = lines
            .iter()
            .find(|(stroke, _)| stroke.eq_ignore_ascii_case(&device.hex()))
            .unwrap_or_else(|| panic!("no line for {}", device.label));
        let points: Vec<(f64, f64)> = points
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(
            points.len(),
            values.len(),
            "{}: one point per date",
            device.label
        );
        for ((day, count), (x, y)) in values.into_iter().zip(points) {
            drawn.push((device.label, day as f64, count as f64, x, y));
        }
    }
    let x_line = fit(drawn.iter().map(|p| (p.1, p.3)));
    let y_line = fit(drawn.iter().map(|p| (p.2, p.4)));
    for (label, day, count, x, y) in drawn {
        let (expected_x, expected_y) = (x_line.0 + x_line.1 * day, y_line.0 + y_line.1 * count);
        assert!(
            (x - expected_x).abs() <= 1.5,
            "{label} on day {day}: x {x}, expected {expected_x}"
        );
        assert!(
            (y - expected_y).abs() <= 1.5,
            "{label} on day {day}: y {y}, expected {expected_y}"
        );
    }
}

/// Least squares: (offset, slope) of the line through the pairs.
fn fit(pairs: impl Iterator<Item = (f64, f64)> + Clone) -> (f64, f64) {
    let n = pairs.clone().count() as f64;
    let (sx, sy) = pairs
        .clone()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = pairs.fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    let slope = sxy / sxx;
    (my - slope * mx, slope)
}

async fn signed_in_the_page_shows_the_stored_rows(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    store_rows(&app, first, 40, ReportPeriod::D7).await;
    store_rows(&app, first, 12, ReportPeriod::D30).await;
    let name = |state: &str| format!("{backend:?}-{state}").to_lowercase();

    open(&app, &browser).await;
    browser.screenshot(&name("sign-in")).await;
    sign_in(&browser, &app.token).await;
    wait_loaded(&browser).await;
    browser
        .wait_for("document.querySelector('#chart svg')", "the chart")
        .await;
    // The token lives in this tab's sessionStorage only.
    let stored = browser
        .eval("return [sessionStorage.length, localStorage.length, document.cookie, location.href]")
        .await;
    assert_eq!(stored[0], 1);
    assert_eq!(stored[1], 0);
    assert_eq!(stored[2], "");
    assert!(!stored[3].as_str().unwrap().contains(&app.token));

    // The newest 25 of the 7-day rows, newest first; the chart carries all 40.
    let expected: Vec<Vec<String>> = (15..40)
        .rev()
        .map(|i| expected_cells(first, i, ReportPeriod::D7))
        .collect();
    assert_eq!(table(&browser).await, expected);
    assert_chart_matches(&browser, 40).await;
    let status = browser.driver.find(By::Id("status")).await.unwrap();
    assert_eq!(
        status.text().await.unwrap(),
        "40 7-day reports over the whole history."
    );
    // Shares on the latest date, against the first.
    let shares = browser
        .eval("return [...document.querySelectorAll('#shares tbody tr')].map(tr => tr.textContent)")
        .await;
    let latest = counts(39);
    let total: i64 = DEVICES
        .iter()
        .filter_map(|d| latest.get(d.property))
        .map(|c| c.get())
        .sum();
    let windows_share = format!(
        "{:.1} %",
        100.0 * latest.windows.get() as f64 / total as f64
    );
    assert!(
        shares[5].as_str().unwrap().contains(&windows_share),
        "{shares}: {windows_share}"
    );
    browser.screenshot(&name("signed-in")).await;
    // The whole page at once, for the README (docs/images/dashboard.png is a copy).
    browser.resize(1280, 2000).await;
    browser.screenshot(&name("overview")).await;
    browser.resize(1280, 1000).await;

    // The older page, through @odata.nextLink.
    browser.click("older").await;
    browser
        .wait_for(
            "document.getElementById('page-info').textContent.startsWith('26')",
            "the second page",
        )
        .await;
    let expected_older: Vec<Vec<String>> = (0..15)
        .rev()
        .map(|i| expected_cells(first, i, ReportPeriod::D7))
        .collect();
    assert_eq!(table(&browser).await, expected_older);

    // Another period.
    let period = browser.driver.find(By::Id("period")).await.unwrap();
    period
        .find(By::Css("option[value='30']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "document.getElementById('status').textContent.startsWith('12 30-day')",
            "the 30-day rows",
        )
        .await;
    let expected: Vec<Vec<String>> = (0..12)
        .rev()
        .map(|i| expected_cells(first, i, ReportPeriod::D30))
        .collect();
    assert_eq!(table(&browser).await, expected);
    assert_chart_matches(&browser, 12).await;
    browser.screenshot(&name("period-30")).await;

    // A date range, then its CSV.
    period
        .find(By::Css("option[value='7']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .eval("document.getElementById('from').value = '2026-01-05'; document.getElementById('to').value = '2026-01-14'; return null")
        .await;
    browser
        .driver
        .find(By::Css("#controls button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "document.getElementById('status').textContent.startsWith('10 7-day reports from 2026-01-05')",
            "the range",
        )
        .await;
    browser.click("download").await;
    let (file, bytes) = browser.downloaded_file().await;
    assert_eq!(
        file,
        "teams-device-usage-default-7-from-2026-01-05-to-2026-01-14.csv"
    );
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark")
        .lines();
    assert_eq!(
        lines.next().unwrap(),
        "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Chrome OS,Linux,Report Period"
    );
    let expected: Vec<String> = (4..14)
        .rev()
        .map(|i| {
            expected_cells(first, i, ReportPeriod::D7)
                .into_iter()
                .map(|cell| if cell == "–" { String::new() } else { cell })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert_eq!(lines.map(str::to_owned).collect::<Vec<_>>(), expected);
    browser.screenshot(&name("range")).await;

    // Phone width: nothing wider than the screen but the scrolling tables.
    browser.resize(390, 1200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways: {overflow}"
    );
    browser.screenshot(&name("phone")).await;
    browser.resize(1280, 1000).await;

    // Sign-out forgets the token.
    browser.click("sign-out").await;
    let left = browser
        .eval("return [sessionStorage.length, document.getElementById('sign-in').hidden]")
        .await;
    assert_eq!(left, serde_json::json!([0, false]));
    browser.driver.clone().quit().await.unwrap();
}

async fn a_wrong_token_is_refused(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    open(&app, &browser).await;
    sign_in(&browser, "tus_not-a-real-token").await;
    browser
        .wait_for(
            "!document.getElementById('sign-in-error').hidden",
            "the refusal",
        )
        .await;
    let error = browser.driver.find(By::Id("sign-in-error")).await.unwrap();
    assert!(error
        .text()
        .await
        .unwrap()
        .contains("The token was refused"));
    assert_eq!(browser.eval("return sessionStorage.length").await, 0);
    browser
        .screenshot(&format!("{backend:?}-wrong-token").to_lowercase())
        .await;
    browser.driver.clone().quit().await.unwrap();
}

async fn an_empty_tenant_is_told_so(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store_rows(
        &app,
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        5,
        ReportPeriod::D7,
    )
    .await;
    let token = app.token_for("fabrikam", READ).await;
    open(&app, &browser).await;
    sign_in(&browser, &token).await;
    wait_loaded(&browser).await;
    let status = browser.driver.find(By::Id("status")).await.unwrap();
    assert!(status.text().await.unwrap().starts_with("No rows yet"));
    assert!(table(&browser).await[0][0].contains("No rows in this selection"));
    browser
        .wait_for("document.querySelector('#chart svg')", "the empty chart")
        .await;
    let collector = browser.driver.find(By::Id("collector")).await.unwrap();
    assert!(collector
        .text()
        .await
        .unwrap()
        .contains("Collector not configured"));
    browser
        .screenshot(&format!("{backend:?}-empty-tenant").to_lowercase())
        .await;
    browser.driver.clone().quit().await.unwrap();
}

/// Counts at Int64's maximum (past what a JavaScript number holds exactly):
/// the table shows every digit, the shares and the chart are drawn.
async fn counts_up_to_int64s_maximum_are_shown_exactly(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    // Every device a little below `base`, Linux included.
    let extreme = |day: i64, base: i64| {
        let count = |n: i64| UserCount::new(base - n).unwrap();
        let counts = DeviceCounts {
            web: count(0),
            windows_phone: count(1),
            android_phone: count(2),
            ios: count(3),
            mac: count(4),
            windows: count(5),
            chrome_os: Some(count(6)),
            linux: Some(count(7)),
        };
        row_on(
            first + chrono::Duration::days(day),
            ReportPeriod::D7,
            counts,
        )
    };
    let rows = [extreme(0, 8), extreme(1, i64::MAX)];
    app.store.import_rows(&rows, &|_| {}).await.unwrap();
    open(&app, &browser).await;
    sign_in(&browser, &app.token).await;
    wait_loaded(&browser).await;
    let table = table(&browser).await;
    assert_eq!(table[0][1], i64::MAX.to_string(), "{table:?}");
    assert_eq!(table[0][8], (i64::MAX - 7).to_string(), "{table:?}");
    assert_eq!(table[1][1], "8", "{table:?}");
    let shares = browser
        .eval("return document.querySelector('#shares tbody').textContent")
        .await;
    assert!(shares.as_str().unwrap().contains("12.5 %"), "{shares}");
    browser
        .wait_for("document.querySelector('#chart svg')", "the chart")
        .await;
    browser.driver.clone().quit().await.unwrap();
}

/// Three years of daily rows in each period: each period's view is complete
/// (chart, figures, first page, collector) within a second of asking.
async fn three_years_render_in_under_a_second(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first = NaiveDate::from_ymd_opt(2023, 11, 1).unwrap();
    for period in ReportPeriod::ALL {
        store_rows(&app, first, 1096, period).await;
    }
    open(&app, &browser).await;
    sign_in(&browser, &app.token).await;
    wait_loaded(&browser).await;
    let period = browser.driver.find(By::Id("period")).await.unwrap();
    for days in ["30", "90", "180", "7"] {
        let started = Instant::now();
        period
            .find(By::Css(format!("option[value='{days}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser
            .wait_for(
                &format!(
                    "document.getElementById('status').textContent.startsWith('1096 {days}-day')"
                ),
                "the period",
            )
            .await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "{days}-day view took {took:?}"
        );
        let points: Value = browser
            .eval("return document.querySelector('#chart svg polyline[stroke=\"#0072B2\"]').getAttribute('points').trim().split(' ').length")
            .await;
        assert_eq!(points, 1096);
    }
    browser
        .screenshot(&format!("{backend:?}-three-years").to_lowercase())
        .await;
    browser.driver.clone().quit().await.unwrap();
}

/// The status panel reads `{base}/collection/status` (runs recorded here through
/// the store, as the collector records them): each source as text, markup
/// shown as written, never parsed.
async fn the_collector_status_is_shown_as_text(backend: Backend) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    store_rows(
        &app,
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        3,
        ReportPeriod::D7,
    )
    .await;
    // Two runs of one source through the store, as the collector records
    // them: a success, then a failure whose text carries markup.
    let at = |hour| Utc.with_ymd_and_hms(2026, 11, 29, hour, 0, 0).unwrap();
    for (hour, error) in [
        (6, None),
        (7, Some("<b id=bold>Graph answered 503</b>".to_owned())),
    ] {
        app.store
            .record_collection_run(&CollectionRun {
                id: Uuid::now_v7(),
                source: "<img src=x id=injected>contoso".into(),
                target_tenant: TenantId::parse("default").unwrap(),
                period: ReportPeriod::D7,
                started_at: at(hour),
                finished_at: at(hour),
                created: 0,
                already_stored: 0,
                conflicting: 0,
                error,
            })
            .await
            .unwrap();
    }
    open(&app, &browser).await;
    sign_in(&browser, &app.token).await;
    wait_loaded(&browser).await;
    browser
        .wait_for(
            "document.querySelector('#collector dl')",
            "the collector status",
        )
        .await;
    let text = browser
        .driver
        .find(By::Id("collector"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<img src=x id=injected>contoso · 7 days"),
        "{text}"
    );
    assert!(
        text.contains("Last success: 2026-11-29 06:00 UTC"),
        "{text}"
    );
    assert!(text.contains("Last run: 2026-11-29 07:00 UTC"), "{text}");
    assert!(
        text.contains("Last error: <b id=bold>Graph answered 503</b>"),
        "{text}"
    );
    assert!(
        text.contains("Failed runs since the last success: 1"),
        "{text}"
    );
    let injected = browser
        .eval("return [document.getElementById('injected'), document.getElementById('bold')]")
        .await;
    assert_eq!(injected, serde_json::json!([null, null]));
    browser
        .eval("document.getElementById('collector').scrollIntoView(); return null")
        .await;
    browser
        .screenshot(&format!("{backend:?}-collector").to_lowercase())
        .await;
    browser.driver.clone().quit().await.unwrap();
}
