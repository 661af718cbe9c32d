//! Black-box tests: HTTP against the real server, each on SQLite and on Postgres.
// A test fails by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each target uses a part of the shared helpers.
#[allow(dead_code)]
#[macro_use]
#[path = "../common/mod.rs"]
mod common;

// Not every test file uses every helper.
#[allow(dead_code)]
mod helpers;

mod auth;
mod batch;
mod create;
mod dashboard;
mod errors;
mod group_commit;
mod lifecycle;
mod metrics;
mod openapi;
mod query;
mod rate_limit;
mod report;
mod update;
mod validation;
