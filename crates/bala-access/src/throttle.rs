//! Login throttling.
//!
//! After 5 failures for one username within 15 minutes, or 30 from one address,
//! further attempts are refused until the window passes — whether or not the
//! username exists, so throttling reveals nothing about accounts.

use crate::AccessError;
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db};
use time::{Duration, OffsetDateTime};

pub const WINDOW: Duration = Duration::minutes(15);
pub const MAX_PER_USERNAME: i64 = 5;
pub const MAX_PER_ADDRESS: i64 = 30;

fn keys(username: &str, ip: Option<&str>) -> (String, Option<String>) {
    (
        format!("u:{}", username.trim().to_lowercase()),
        ip.map(|ip| format!("ip:{ip}")),
    )
}

async fn failures_since(db: &Db, key: &str, since: &str) -> Result<i64, AccessError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM login_failures WHERE throttle_key = $1 AND at >= $2")
            .bind(key)
            .bind(since)
            .fetch_one(db.reader())
            .await?
            .try_get(0)?,
    )
}

/// True when this attempt must be refused without checking the password.
pub async fn is_throttled(db: &Db, username: &str, ip: Option<&str>) -> Result<bool, AccessError> {
    let since = time_fmt::format(OffsetDateTime::now_utc() - WINDOW);
    let (user_key, ip_key) = keys(username, ip);
    if failures_since(db, &user_key, &since).await? >= MAX_PER_USERNAME {
        return Ok(true);
    }
    if let Some(ip_key) = ip_key {
        if failures_since(db, &ip_key, &since).await? >= MAX_PER_ADDRESS {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn record_failure(db: &Db, username: &str, ip: Option<&str>) -> Result<(), AccessError> {
    let now = OffsetDateTime::now_utc();
    let (user_key, ip_key) = keys(username, ip);
    let mut tx = db.begin().await?;
    for key in std::iter::once(user_key).chain(ip_key) {
        sqlx::query("INSERT INTO login_failures (throttle_key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(time_fmt::format(now))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(time_fmt::format(now - WINDOW))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// After a successful login the username's failures are forgotten.
pub async fn clear(db: &Db, username: &str) -> Result<(), AccessError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
        .bind(keys(username, None).0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
