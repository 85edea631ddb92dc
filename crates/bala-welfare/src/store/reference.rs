//! Stored versions of the screening instrument and the alert rules.
//!
//! The shipped versions (`data/*.toml`) are loaded on first use; an
//! administrator publishes a new version by editing the TOML in the UI. A
//! version is validated in full before it is stored (every problem named by
//! its path, e.g. `domains[2].questions[1].answer.yes.weight`) and never
//! changes afterwards, so every screening and alert keeps its meaning.

use super::{now, Result, WelfareError};
use crate::alerts::{RuleSet, RuleSetError};
use crate::instrument::{Instrument, InstrumentError};
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx;
use bala_store::{Db, Row};

/// One stored version, as listed to administrators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionInfo {
    pub code: String,
    pub version: i64,
    pub valid_from: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Clone, Copy)]
enum Kind {
    Instrument,
    Rules,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Instrument => "welfare_instruments",
            Kind::Rules => "welfare_rule_sets",
        }
    }
    fn record(self) -> &'static str {
        match self {
            Kind::Instrument => "welfare_instrument",
            Kind::Rules => "welfare_rule_set",
        }
    }
}

async fn insert(
    db: &Db,
    actor: &Actor,
    kind: Kind,
    code: &str,
    version: u32,
    valid_from: &str,
    body: &str,
) -> Result<bool> {
    let (at, _) = now();
    let mut tx = db.begin().await?;
    let sql = format!(
        "INSERT INTO {} (code, version, valid_from, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (code, version) DO NOTHING RETURNING id",
        kind.table()
    );
    let inserted = sqlx::query(&sql)
        .bind(code)
        .bind(i64::from(version))
        .bind(valid_from)
        .bind(body)
        .bind(&at)
        .bind(&actor.name)
        .fetch_optional(&mut *tx)
        .await?;
    if inserted.is_none() {
        return Ok(false);
    }
    audit::append(
        &mut tx,
        &NewEntry::by(
            actor,
            "welfare.reference.publish",
            kind.record(),
            format!("{code}@{version}"),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Stores the shipped instrument and rule set unless already there.
pub async fn ensure_shipped(db: &Db) -> Result<()> {
    let actor = Actor::system("shipped");
    let i = Instrument::default_kz();
    insert(
        db,
        &actor,
        Kind::Instrument,
        &i.code,
        i.version,
        &bala_core::date::iso(i.valid_from),
        crate::instrument::DEFAULT_KZ_TOML,
    )
    .await?;
    let r = RuleSet::default_kz();
    insert(
        db,
        &actor,
        Kind::Rules,
        &r.code,
        r.version,
        &bala_core::date::iso(r.valid_from),
        crate::alerts::DEFAULT_KZ_TOML,
    )
    .await?;
    Ok(())
}

async fn bodies(db: &Db, kind: Kind) -> Result<Vec<String>> {
    let sql = format!("SELECT body FROM {} ORDER BY code, version", kind.table());
    let mut rows = sqlx::query(&sql).fetch_all(db.reader()).await?;
    if rows.is_empty() {
        ensure_shipped(db).await?;
        rows = sqlx::query(&sql).fetch_all(db.reader()).await?;
    }
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>(0)?))
        .collect()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> WelfareError {
    WelfareError::Store(bala_store::StoreError::Other(format!(
        "a stored {what} no longer parses: {e}"
    )))
}

/// Every stored instrument version.
pub async fn instruments(db: &Db) -> Result<Vec<Instrument>> {
    bodies(db, Kind::Instrument)
        .await?
        .iter()
        .map(|b| Instrument::from_toml(b).map_err(|e| corrupt("instrument", e)))
        .collect()
}

/// Every stored rule-set version.
pub async fn rule_sets(db: &Db) -> Result<Vec<RuleSet>> {
    bodies(db, Kind::Rules)
        .await?
        .iter()
        .map(|b| RuleSet::from_toml(b).map_err(|e| corrupt("rule set", e)))
        .collect()
}

/// The instrument version in force today (the shipped code unless told otherwise).
pub async fn instrument_in_force(db: &Db, code: &str) -> Result<Instrument> {
    let all = instruments(db).await?;
    Instrument::in_force(&all, code, super::today())
        .cloned()
        .ok_or(WelfareError::NotFound)
}

/// One instrument version (to show an old screening as it was scored).
pub async fn instrument(db: &Db, code: &str, version: i64) -> Result<Instrument> {
    instruments(db)
        .await?
        .into_iter()
        .find(|i| i.code == code && i64::from(i.version) == version)
        .ok_or(WelfareError::NotFound)
}

pub async fn rule_set_in_force(db: &Db, code: &str) -> Result<RuleSet> {
    let all = rule_sets(db).await?;
    RuleSet::in_force(&all, code, super::today())
        .cloned()
        .ok_or(WelfareError::NotFound)
}

async fn list(db: &Db, kind: Kind) -> Result<Vec<VersionInfo>> {
    bodies(db, kind).await?; // loads the shipped versions on first use
    let sql = format!(
        "SELECT code, version, valid_from, created_at, created_by FROM {} ORDER BY code, version DESC",
        kind.table()
    );
    let rows = sqlx::query(&sql).fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok(VersionInfo {
                code: r.try_get(0)?,
                version: r.try_get(1)?,
                valid_from: r.try_get(2)?,
                created_at: r.try_get(3)?,
                created_by: r.try_get(4)?,
            })
        })
        .collect()
}

pub async fn list_instruments(db: &Db) -> Result<Vec<VersionInfo>> {
    list(db, Kind::Instrument).await
}

pub async fn list_rule_sets(db: &Db) -> Result<Vec<VersionInfo>> {
    list(db, Kind::Rules).await
}

/// The stored TOML of one version (to start an edit from).
pub async fn body(db: &Db, instrument: bool, code: &str, version: i64) -> Result<String> {
    let kind = if instrument {
        Kind::Instrument
    } else {
        Kind::Rules
    };
    bodies(db, kind).await?;
    let sql = format!(
        "SELECT body FROM {} WHERE code = $1 AND version = $2",
        kind.table()
    );
    let r = sqlx::query(&sql)
        .bind(code)
        .bind(version)
        .fetch_optional(db.reader())
        .await?
        .ok_or(WelfareError::NotFound)?;
    Ok(r.try_get(0)?)
}

/// Field errors of a validation, each path prefixed so a form can show them.
fn prefixed(e: ValidationErrors) -> ValidationErrors {
    ValidationErrors(
        e.0.into_iter()
            .map(|f| FieldError {
                field: format!("body.{}", f.field),
                ..f
            })
            .collect(),
    )
}

fn parse_error(msg: String) -> ValidationErrors {
    ValidationErrors::single(FieldError::new("body", "err-toml", msg))
}

async fn check_new_version(db: &Db, kind: Kind, code: &str, version: u32) -> Result<()> {
    let sql = format!("SELECT MAX(version) FROM {} WHERE code = $1", kind.table());
    let max: Option<i64> = sqlx::query(&sql)
        .bind(code)
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    if let Some(max) = max {
        if i64::from(version) <= max {
            return Err(ValidationErrors::single(FieldError::new(
                "body.version",
                "err-version-not-new",
                format!(
                    "version {version} exists; publish version {} or higher",
                    max + 1
                ),
            ))
            .into());
        }
    }
    Ok(())
}

/// Validates and publishes a new instrument version; returns it.
pub async fn publish_instrument(db: &Db, actor: &Actor, toml: &str) -> Result<Instrument> {
    let inst = Instrument::from_toml(toml).map_err(|e| match e {
        InstrumentError::Parse(m) => parse_error(m),
        InstrumentError::Invalid(v) => prefixed(v),
    })?;
    bodies(db, Kind::Instrument).await?;
    check_new_version(db, Kind::Instrument, &inst.code, inst.version).await?;
    let stored = insert(
        db,
        actor,
        Kind::Instrument,
        &inst.code,
        inst.version,
        &bala_core::date::iso(inst.valid_from),
        toml,
    )
    .await?;
    if !stored {
        check_new_version(db, Kind::Instrument, &inst.code, inst.version).await?;
    }
    Ok(inst)
}

/// Validates and publishes a new rule-set version; returns it.
pub async fn publish_rule_set(db: &Db, actor: &Actor, toml: &str) -> Result<RuleSet> {
    let set = RuleSet::from_toml(toml).map_err(|e| match e {
        RuleSetError::Parse(m) => parse_error(m),
        RuleSetError::Invalid(v) => prefixed(v),
    })?;
    bodies(db, Kind::Rules).await?;
    check_new_version(db, Kind::Rules, &set.code, set.version).await?;
    let stored = insert(
        db,
        actor,
        Kind::Rules,
        &set.code,
        set.version,
        &bala_core::date::iso(set.valid_from),
        toml,
    )
    .await?;
    if !stored {
        check_new_version(db, Kind::Rules, &set.code, set.version).await?;
    }
    Ok(set)
}
