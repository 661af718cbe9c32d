//! The dashboard in a real browser: Debian's chromium driven through chromedriver
//! (WebDriver), against the real server on a random port, on both backends.
//! Without chromium and chromedriver these tests are skipped with a message,
//! unless `CI` or `TEST_REQUIRE_BROWSER` is set: then they fail.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[macro_use]
#[path = "../common/mod.rs"]
mod common;

// The API tests' app fixture, shared rather than copied; this target uses part of it.
#[allow(dead_code, unused_imports)]
#[path = "../api/helpers.rs"]
mod helpers;

mod browser;
mod dashboard;
mod tenants;
