//! Black-box tests: HTTP against the real server, each on SQLite and on Postgres.

// Not every test file uses every helper.
#[allow(dead_code)]
mod helpers;

mod batch;
mod create;
mod openapi;
