//! User accounts.

use crate::gate::{Principal, Role};
use crate::{password, AccessError};
use bala_core::{AreaCode, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, Row};
use bala_store::{is_unique_violation, time_fmt, Db};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub lang: Option<String>,
    pub scope: Vec<AreaCode>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub scope: Vec<AreaCode>,
}

/// Usernames: 3–32 of a–z, 0–9, `.`, `_`, `-`; stored lower-case.
pub fn check_username(username: &str) -> Result<String, ValidationErrors> {
    let u = username.trim().to_lowercase();
    let ok = (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(u)
    } else {
        Err(ValidationErrors::single(bala_core::FieldError::new(
            "username",
            "err-username",
            "3–32 characters: latin letters, digits, '.', '_' or '-'",
        )))
    }
}

fn validate(new: &NewUser) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let username = match check_username(&new.username) {
        Ok(u) => Some(u),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    if new.display_name.trim().is_empty() {
        errors.push("display_name", "err-required", "a display name is required");
    }
    if let Err(e) = password::check_policy(&new.password, username.as_deref().unwrap_or("")) {
        errors.0.extend(e.0);
    }
    if new.scope.is_empty() {
        errors.push("scope", "err-scope-empty", "a user needs at least one area");
    }
    errors.into_result()?;
    Ok(username.expect("no errors"))
}

fn row_to_user(r: &AnyRow, scope: Vec<AreaCode>) -> Result<User, AccessError> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: role
            .parse()
            .map_err(|e: String| bala_store::StoreError::Other(e))?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        lang: r.try_get("lang")?,
        scope,
        created_at: r.try_get("created_at")?,
    })
}

async fn scope_of(db: &Db, user_id: i64) -> Result<Vec<AreaCode>, AccessError> {
    let rows =
        sqlx::query("SELECT area_code FROM user_scopes WHERE user_id = $1 ORDER BY area_code")
            .bind(user_id)
            .fetch_all(db.reader())
            .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            r.try_get::<String, _>(0)
                .ok()
                .and_then(|c| AreaCode::parse(&c).ok())
        })
        .collect())
}

/// Creates a user. The caller checks that the scope's areas exist.
pub async fn create(db: &Db, actor: &Actor, new: &NewUser) -> Result<i64, AccessError> {
    let username = validate(new)?;
    let hash = {
        let pw = new.password.clone();
        tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .expect("hashing task")
    };
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let id: i64 = match sqlx::query(
        "INSERT INTO users (username, display_name, password_hash, role, disabled, created_at, password_changed_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id",
    )
    .bind(&username)
    .bind(new.display_name.trim())
    .bind(&hash)
    .bind(new.role.code())
    .bind(&now)
    .fetch_one(&mut *tx)
    .await
    {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => {
            return Err(ValidationErrors::single(bala_core::FieldError::new(
                "username",
                "err-username-taken",
                format!("the username '{username}' is taken"),
            ))
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    for area in &new.scope {
        sqlx::query("INSERT INTO user_scopes (user_id, area_code) VALUES ($1, $2)")
            .bind(id)
            .bind(area.as_str())
            .execute(&mut *tx)
            .await?;
    }
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "user.create", "user", id).with_details(serde_json::json!({
            "username": username, "role": new.role.code(),
            "scope": new.scope.iter().map(|a| a.as_str()).collect::<Vec<_>>()
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn get(db: &Db, id: i64) -> Result<User, AccessError> {
    let r = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or(AccessError::NotFound)?;
    row_to_user(&r, scope_of(db, id).await?)
}

pub async fn find_by_username(
    db: &Db,
    username: &str,
) -> Result<Option<(User, String)>, AccessError> {
    let Some(r) = sqlx::query("SELECT * FROM users WHERE username = $1")
        .bind(username.trim().to_lowercase())
        .fetch_optional(db.reader())
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = r.try_get("id")?;
    let hash: String = r.try_get("password_hash")?;
    Ok(Some((row_to_user(&r, scope_of(db, id).await?)?, hash)))
}

pub async fn list(db: &Db) -> Result<Vec<User>, AccessError> {
    let rows = sqlx::query("SELECT * FROM users ORDER BY username")
        .fetch_all(db.reader())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        out.push(row_to_user(r, scope_of(db, id).await?)?);
    }
    Ok(out)
}

/// Sets a new password and ends the user's sessions.
pub async fn set_password(
    db: &Db,
    actor: &Actor,
    id: i64,
    new_password: &str,
) -> Result<(), AccessError> {
    let user = get(db, id).await?;
    password::check_policy(new_password, &user.username)?;
    let hash = {
        let pw = new_password.to_string();
        tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .expect("hashing task")
    };
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(&hash)
        .bind(time_fmt::now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, &NewEntry::by(actor, "user.password", "user", id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Disables or re-enables a user. Disabling ends sessions and revokes API tokens.
pub async fn set_disabled(
    db: &Db,
    actor: &Actor,
    id: i64,
    disabled: bool,
) -> Result<(), AccessError> {
    get(db, id).await?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled as i64)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    audit::append(&mut tx, &NewEntry::by(actor, action, "user", id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes role, display name and area scope.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    display_name: &str,
    role: Role,
    scope: &[AreaCode],
) -> Result<(), AccessError> {
    let mut errors = ValidationErrors::new();
    if display_name.trim().is_empty() {
        errors.push("display_name", "err-required", "a display name is required");
    }
    if scope.is_empty() {
        errors.push("scope", "err-scope-empty", "a user needs at least one area");
    }
    errors.into_result()?;
    get(db, id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET display_name = $1, role = $2 WHERE id = $3")
        .bind(display_name.trim())
        .bind(role.code())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM user_scopes WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for area in scope {
        sqlx::query("INSERT INTO user_scopes (user_id, area_code) VALUES ($1, $2)")
            .bind(id)
            .bind(area.as_str())
            .execute(&mut *tx)
            .await?;
    }
    // A changed role or scope must take effect now, not at the next login.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "user.update", "user", id).with_details(serde_json::json!({
            "role": role.code(), "scope": scope.iter().map(|a| a.as_str()).collect::<Vec<_>>()
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers the user's interface language.
pub async fn set_lang(db: &Db, id: i64, lang: &str) -> Result<(), AccessError> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
        .bind(lang)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn principal(user: &User) -> Principal {
    Principal {
        user_id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        scope: user.scope.clone(),
        token: None,
    }
}
