//! Bearer tokens on any backend, stored only as hashes, written once over the
//! backend's dialect (`storage::backend`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Database;
use uuid::Uuid;

use super::backend::{Backend, DbOf, Dialect, Driver};
use super::sql::token_columns;
use super::{StoreError, StoreResult, TokenStore};
use crate::domain::{Scopes, StoredToken, TenantId, TokenReach};

// Written once for both databases: SQLite reads `$n` as Postgres does.
const INSERT_TOKEN: &str = concat!(
    "INSERT INTO api_tokens (",
    token_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
);
const SELECT_TOKEN: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE token_hash = $1"
);
/// Every tenant's tokens when the tenant is null; the cast gives Postgres its type.
const LIST_TOKENS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens WHERE CAST($1 AS TEXT) IS NULL OR tenant_id = $1 ORDER BY created_at, id"
);
const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
/// Inserts nothing when the bootstrap token was issued before.
const RECORD_BOOTSTRAP: &str =
    "INSERT INTO service_events (name, happened_at) VALUES ('bootstrap_token_issued', $1) \
     ON CONFLICT (name) DO NOTHING";
/// A token made before the first start (`token create`) is the way in: no bootstrap then.
const ANY_TOKEN: &str = "SELECT COUNT(*) AS n FROM (SELECT 1 FROM api_tokens LIMIT 1) AS any_token";

fn decode_token<D: Dialect>(row: &<D::DB as Database>::Row) -> StoreResult<StoredToken> {
    let scopes = D::DB::get_string(row, "scopes")?;
    let reach = D::DB::get_string(row, "reach")?;
    Ok(StoredToken {
        id: D::get_id(row, "id")?,
        tenant_id: D::DB::get_tenant(row, "tenant_id")?,
        reach: TokenReach::parse(&reach)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown token reach {reach:?}")))?,
        name: D::DB::get_string(row, "name")?,
        scopes: Scopes::parse(&scopes).map_err(StoreError::Corrupt)?,
        token_hash: D::DB::get_string(row, "token_hash")?,
        created_at: D::get_timestamp(row, "created_at")?,
        expires_at: D::get_optional_timestamp(row, "expires_at")?,
        revoked_at: D::get_optional_timestamp(row, "revoked_at")?,
    })
}

async fn insert_token_row<D: Dialect>(
    conn: &mut <D::DB as Database>::Connection,
    token: &StoredToken,
) -> StoreResult<()> {
    let insert = D::bind_id(sqlx::query(INSERT_TOKEN), token.id);
    let insert = D::DB::bind_str(insert, token.tenant_id.as_str());
    let insert = D::DB::bind_str(insert, &token.name);
    let insert = D::DB::bind_string(insert, token.scopes.to_string());
    let insert = D::DB::bind_str(insert, &token.token_hash);
    let insert = D::bind_timestamp(insert, token.created_at);
    let insert = D::bind_optional_timestamp(insert, token.expires_at);
    let insert = D::bind_optional_timestamp(insert, token.revoked_at);
    let insert = D::DB::bind_str(insert, token.reach.name());
    D::DB::execute(conn, insert).await?;
    Ok(())
}

#[async_trait]
impl<B: Backend> TokenStore for B {
    async fn insert_token(&self, token: &StoredToken) -> StoreResult<()> {
        insert_token_row::<B::Dialect>(&mut *self.pools().writer.acquire().await?, token).await?;
        self.committed();
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<StoredToken>> {
        let select = DbOf::<B>::bind_str(sqlx::query(SELECT_TOKEN), token_hash);
        let row =
            DbOf::<B>::fetch_optional(&mut *self.pools().readers.acquire().await?, select).await?;
        row.as_ref().map(decode_token::<B::Dialect>).transpose()
    }

    async fn list_tokens(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<StoredToken>> {
        let select =
            DbOf::<B>::bind_optional_str(sqlx::query(LIST_TOKENS), tenant.map(TenantId::as_str));
        let rows =
            DbOf::<B>::fetch_all(&mut *self.pools().readers.acquire().await?, select).await?;
        rows.iter().map(decode_token::<B::Dialect>).collect()
    }

    async fn revoke_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        let revoke = B::Dialect::bind_timestamp(sqlx::query(REVOKE_TOKEN), at);
        let revoke = B::Dialect::bind_id(revoke, id);
        let revoked =
            DbOf::<B>::execute(&mut *self.pools().writer.acquire().await?, revoke).await? == 1;
        self.committed();
        Ok(revoked)
    }

    async fn insert_bootstrap_token(&self, token: &StoredToken) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let record = B::Dialect::bind_timestamp(sqlx::query(RECORD_BOOTSTRAP), token.created_at);
        let recorded = DbOf::<B>::execute(&mut tx, record).await? == 1;
        let first = recorded && {
            let row = DbOf::<B>::fetch_one(&mut tx, sqlx::query(ANY_TOKEN)).await?;
            DbOf::<B>::get_optional_int(&row, "n")? == Some(0)
        };
        if first {
            insert_token_row::<B::Dialect>(&mut tx, token).await?;
        }
        self.commit(tx).await?;
        Ok(first)
    }
}
