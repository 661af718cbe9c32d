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
mod auth_failures;
mod batch;
mod connection;
mod create;
mod csv;
mod dashboard;
mod errors;
mod forwarding;
mod full_disk;
mod group_commit;
mod keys;
mod lifecycle;
mod malformed_heads;
mod metadata;
mod metrics;
mod odata_client;
mod openapi;
mod operator;
mod powerbi;
mod query;
mod races;
mod rate_limit;
mod report;
mod rollup;
mod session;
mod slow_clients;
mod tenants;
mod update;
mod validation;
mod wire;
