//! Calendar versions in the database, edited by administrators as TOML.
//!
//! The bundled calendars are written on first use, so a fresh database and an
//! upgraded one behave the same. Saving a version re-derives every child's
//! valid doses in the same transaction: a changed minimum age changes coverage
//! at once, never "after the next batch".

use super::{facts, Error};
use crate::calendar::{self, bundled, select, validate_set, Calendar, CalendarError};
use bala_core::{Date, FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// One stored version, with the text the administrator edits.
#[derive(Debug, Clone)]
pub struct StoredCalendar {
    pub calendar: Calendar,
    pub toml: String,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// All stored versions, oldest first (seeding the bundled ones if there are none).
pub async fn stored(db: &Db) -> Result<Vec<StoredCalendar>, Error> {
    let mut rows = load(db).await?;
    if rows.is_empty() {
        seed(db).await?;
        rows = load(db).await?;
    }
    let mut out = Vec::new();
    for (toml, version, updated_at, updated_by) in rows {
        // Stored text was validated when saved; a parse failure here means the
        // database was edited by hand, which must be loud.
        let calendar = parse_cached(&toml).map_err(|e| {
            Error::Store(bala_store::StoreError::Other(format!(
                "a stored calendar no longer reads: {e}"
            )))
        })?;
        out.push(StoredCalendar {
            calendar,
            toml,
            version,
            updated_at,
            updated_by,
        });
    }
    Ok(out)
}

/// Parses a stored calendar's text, reusing the result for a text seen before.
///
/// Every dose recorded, card shown and alert evaluated reads the calendars, and
/// parsing the two bundled versions costs milliseconds (about 15 in a debug
/// build): without this, loading the demo's histories spent most of its time
/// re-reading the same TOML. The key is the whole text, so an edited version
/// is parsed afresh and a stale one can never be served; the map is cleared if
/// it ever holds more versions than a country plausibly keeps.
fn parse_cached(toml: &str) -> Result<Calendar, CalendarError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Calendar>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(c) = lock().get(toml) {
        return Ok(c.clone());
    }
    let calendar = Calendar::from_toml_str_unchecked(toml)?;
    let mut map = lock();
    if map.len() >= 64 {
        map.clear();
    }
    map.insert(toml.to_string(), calendar.clone());
    Ok(calendar)
}

/// The calendar versions, oldest first.
pub async fn all(db: &Db) -> Result<Vec<Calendar>, Error> {
    Ok(stored(db).await?.into_iter().map(|s| s.calendar).collect())
}

/// The calendar a child is judged against on `on`: the version in force that
/// day, or the latest one if the date lies outside every version.
pub fn in_force(calendars: &[Calendar], on: Date) -> &Calendar {
    select(calendars, on).unwrap_or_else(|| {
        calendars
            .iter()
            .max_by_key(|c| c.valid_from)
            .expect("at least the bundled calendars are stored")
    })
}

async fn load(db: &Db) -> Result<Vec<(String, i64, String, String)>, Error> {
    let rows = sqlx::query(
        "SELECT toml, version, updated_at, updated_by FROM imm_calendars ORDER BY valid_from, id",
    )
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push((
            r.try_get("toml")?,
            r.try_get("version")?,
            r.try_get("updated_at")?,
            r.try_get("updated_by")?,
        ));
    }
    Ok(out)
}

async fn seed(db: &Db) -> Result<(), Error> {
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    for (text, cal) in [calendar::KZ_2009_TOML, calendar::KZ_2020_TOML]
        .into_iter()
        .zip(bundled())
    {
        sqlx::query(
            "INSERT INTO imm_calendars (id, valid_from, valid_to, toml, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, 'bundled') ON CONFLICT (id) DO NOTHING",
        )
        .bind(&cal.id)
        .bind(super::iso(cal.valid_from))
        .bind(super::opt_iso(cal.valid_to))
        .bind(text)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn invalid(errors: ValidationErrors) -> Error {
    Error::Validation(errors)
}

/// Saves a calendar version from its TOML text (a new id adds a version, an
/// existing id replaces it if `expected_version` still matches). The whole set
/// must stay valid: no overlapping periods. Returns how many children's valid
/// doses were re-derived.
pub async fn save(
    db: &Db,
    actor: &Actor,
    text: &str,
    expected_version: Option<i64>,
) -> Result<usize, Error> {
    let cal = match Calendar::from_toml_str_unchecked(text) {
        Ok(c) => c,
        Err(CalendarError::Parse(msg)) => {
            return Err(invalid(ValidationErrors::single(FieldError::new(
                "toml",
                "err-cal-toml",
                msg,
            ))))
        }
        Err(other) => {
            return Err(invalid(ValidationErrors::single(FieldError::new(
                "toml",
                "err-cal-toml",
                other.to_string(),
            ))))
        }
    };
    let mut set: Vec<Calendar> = all(db)
        .await?
        .into_iter()
        .filter(|c| c.id != cal.id)
        .collect();
    let existing = stored(db)
        .await?
        .into_iter()
        .find(|s| s.calendar.id == cal.id);
    set.push(cal.clone());
    validate_set(&set).into_result().map_err(invalid)?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    match (&existing, expected_version) {
        (Some(_), Some(v)) => {
            let r = sqlx::query(
                "UPDATE imm_calendars SET valid_from = $1, valid_to = $2, toml = $3, version = version + 1,
                    updated_at = $4, updated_by = $5 WHERE id = $6 AND version = $7",
            )
            .bind(super::iso(cal.valid_from))
            .bind(super::opt_iso(cal.valid_to))
            .bind(text)
            .bind(&now)
            .bind(&actor.name)
            .bind(&cal.id)
            .bind(v)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 0 {
                return Err(Error::Conflict);
            }
        }
        (Some(_), None) => {
            return Err(invalid(ValidationErrors::single(FieldError::new(
                "toml",
                "err-cal-exists",
                format!("a calendar with id '{}' exists; edit that one", cal.id),
            ))))
        }
        (None, _) => {
            sqlx::query(
                "INSERT INTO imm_calendars (id, valid_from, valid_to, toml, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&cal.id)
            .bind(super::iso(cal.valid_from))
            .bind(super::opt_iso(cal.valid_to))
            .bind(text)
            .bind(&now)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
        }
    }
    let refreshed = facts::refresh_all(&mut tx, &set).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "immunization.calendar.save", "imm_calendar", &cal.id)
            .with_details(serde_json::json!({ "children_refreshed": refreshed })),
    )
    .await?;
    tx.commit().await?;
    Ok(refreshed)
}
