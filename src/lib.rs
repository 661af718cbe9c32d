//! teams-usage-store: keeps the history of Microsoft Teams device-usage
//! reports behind a Graph-style REST API, on SQLite or Postgres.

pub mod auth;
pub mod cli;
pub mod collect;
pub mod config;
pub mod dashboard;
pub mod domain;
pub mod error;
pub mod fleet;
pub mod group_commit;
pub mod http;
pub mod metadata;
pub mod odata;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
