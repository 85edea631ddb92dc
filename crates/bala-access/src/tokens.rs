//! API tokens for machine clients.
//!
//! A token is `bala_` + 64 hex characters, shown once at creation. The
//! database keeps its SHA-256 and a short prefix (to tell tokens apart in the
//! UI). A token acts as its owner, limited further by its scope, and stops
//! working when revoked, expired, or when its owner is disabled.

use crate::gate::{Principal, TokenScope};
use crate::{random_hex, sha256_hex, users, AccessError};
use bala_core::ValidationErrors;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, Row};
use bala_store::{time_fmt, Db};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

fn info(r: &AnyRow) -> Result<TokenInfo, sqlx::Error> {
    Ok(TokenInfo {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        scope: r.try_get("scope")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// Creates a token and returns its plain text (the only time it exists).
pub async fn create(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    name: &str,
    scope: TokenScope,
    expires_at: Option<&str>,
) -> Result<String, AccessError> {
    if name.trim().is_empty() {
        return Err(ValidationErrors::single(bala_core::FieldError::new(
            "name",
            "err-required",
            "a token needs a name",
        ))
        .into());
    }
    let token = format!("bala_{}", random_hex(32));
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO api_tokens (user_id, name, prefix, token_hash, scope, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user_id)
    .bind(name.trim())
    .bind(&token[..13])
    .bind(sha256_hex(&token))
    .bind(scope.code())
    .bind(time_fmt::now())
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "token.create", "api_token", id)
            .with_details(serde_json::json!({"user_id": user_id, "scope": scope.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn list_for(db: &Db, user_id: i64) -> Result<Vec<TokenInfo>, AccessError> {
    let rows = sqlx::query("SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY id DESC")
        .bind(user_id)
        .fetch_all(db.reader())
        .await?;
    Ok(rows.iter().map(info).collect::<Result<_, _>>()?)
}

/// Revokes one of `user_id`'s tokens (admins pass the owner's id).
pub async fn revoke(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    token_id: i64,
) -> Result<(), AccessError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
        .bind(time_fmt::now())
        .bind(token_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AccessError::NotFound);
    }
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "token.revoke", "api_token", token_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The principal a presented token stands for, if it is live.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<Principal>, AccessError> {
    if !token.starts_with("bala_") || token.len() != 69 {
        return Ok(None);
    }
    let Some(r) = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
        .bind(sha256_hex(token))
        .fetch_optional(db.reader())
        .await?
    else {
        return Ok(None);
    };
    let t = info(&r)?;
    let now = time_fmt::now();
    if t.revoked_at.is_some() || t.expires_at.as_deref().is_some_and(|e| e <= now.as_str()) {
        return Ok(None);
    }
    let user = match users::get(db, t.user_id).await {
        Ok(u) if !u.disabled => u,
        _ => return Ok(None),
    };
    let stale = t
        .last_used_at
        .as_deref()
        .is_none_or(|l| l[..16] != now[..16]);
    if stale {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(t.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let mut p = users::principal(&user);
    p.token = TokenScope::parse(&t.scope);
    if p.token.is_none() {
        return Ok(None);
    }
    Ok(Some(p))
}
