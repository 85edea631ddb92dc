//! Browser sessions.
//!
//! The cookie carries a random 256-bit value; the database keeps only its
//! SHA-256. Sessions end after 8 hours without activity or 24 hours in
//! all, at logout, and when the user's password, role or scope changes.

use crate::gate::Principal;
use crate::{random_hex, sha256_hex, users, AccessError};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db};
use time::{Duration, OffsetDateTime};

pub const IDLE_TIMEOUT: Duration = Duration::hours(8);
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(24);
/// `last_seen_at` is written at most this often, so reads stay reads.
const TOUCH_EVERY: Duration = Duration::minutes(1);

pub struct Session {
    pub principal: Principal,
    pub lang: Option<String>,
}

/// Starts a session and returns the cookie value (shown once, never stored).
pub async fn create(db: &Db, user_id: i64, ip: Option<&str>) -> Result<String, AccessError> {
    let token = random_hex(32);
    let now = OffsetDateTime::now_utc();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip)
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(sha256_hex(&token))
    .bind(user_id)
    .bind(time_fmt::format(now))
    .bind(time_fmt::format(now + ABSOLUTE_TIMEOUT))
    .bind(ip)
    .execute(&mut *tx)
    .await?;
    // Housekeeping: expired sessions of anyone.
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(time_fmt::format(now))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// The live session for a cookie value, if any.
pub async fn lookup(db: &Db, token: &str) -> Result<Option<Session>, AccessError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id_hash = sha256_hex(token);
    let Some(r) =
        sqlx::query("SELECT user_id, last_seen_at, expires_at FROM sessions WHERE id_hash = $1")
            .bind(&id_hash)
            .fetch_optional(db.reader())
            .await?
    else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc();
    let last_seen = time_fmt::parse(&r.try_get::<String, _>("last_seen_at")?).unwrap_or(now);
    let expires = time_fmt::parse(&r.try_get::<String, _>("expires_at")?).unwrap_or(now);
    if now >= expires || now - last_seen > IDLE_TIMEOUT {
        delete(db, token).await?;
        return Ok(None);
    }
    let user = match users::get(db, r.try_get("user_id")?).await {
        Ok(u) if !u.disabled => u,
        Ok(_) | Err(AccessError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if now - last_seen > TOUCH_EVERY {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(time_fmt::format(now))
            .bind(&id_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(Some(Session {
        principal: users::principal(&user),
        lang: user.lang,
    }))
}

pub async fn delete(db: &Db, token: &str) -> Result<(), AccessError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(sha256_hex(token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
