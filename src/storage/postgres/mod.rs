//! The Postgres backend: connection pools, so several stateless replicas can
//! serve from one database. The group-commit writers have a pool of their own.

mod dialect;
mod error_codes;

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Postgres};

pub(super) use self::dialect::PostgresDialect;
use super::backend::{Backend, Pools};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 16;

pub struct PostgresStore {
    /// One shared pool reads and writes; group commit's batches have a pool
    /// of their own, one connection per writer task, so a burst of reads
    /// holding every shared connection cannot hold up commits, and each
    /// writer's batches run on one backend rather than going round all of the
    /// shared pool's (docs/benchmarks.md).
    pools: Pools<Postgres>,
}

/// A connection used within this long is taken as alive without a ping.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl PostgresStore {
    /// `writers`: how many group-commit writers share the store, one
    /// connection each.
    pub async fn connect(url: &str, writers: usize) -> anyhow::Result<Self> {
        let pool = Self::pool_options(MAX_CONNECTIONS).connect(url).await?;
        let writers = Self::pool_options(writers.max(1) as u32)
            .connect(url)
            .await?;
        Ok(Self {
            pools: Pools {
                readers: pool.clone(),
                writer: pool,
                batch_writer: writers,
                out_of_space: Default::default(),
            },
        })
    }

    fn pool_options(max_connections: u32) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(CONNECT_TIMEOUT)
            // A ping before every use would cost a round trip per batch and per
            // read (docs/benchmarks.md): only a connection idle a while, the one
            // a restarted Postgres would have dropped, is pinged and replaced.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < PING_AFTER_IDLE {
                        return Ok(true);
                    }
                    Ok(conn.ping().await.is_ok())
                })
            })
    }
}

impl Backend for PostgresStore {
    type Dialect = PostgresDialect;

    const MIGRATOR: &'static Migrator = &MIGRATOR;

    async fn close(&self) {
        tokio::join!(self.pools.batch_writer.close(), self.pools.writer.close());
    }

    fn pools(&self) -> &Pools<Postgres> {
        &self.pools
    }
}
