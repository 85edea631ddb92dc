//! The pillar's stored side: reference data (instruments, rule sets),
//! screenings, concern reports, referrals, alerts, cases and their timeline,
//! consent, documents, notifications and de-identified statistics.
//!
//! Every function takes a [`Ctx`]: who acts (principal for scope and the case
//! gate, actor for the audit trail) and the key ring that seals narrative
//! fields. Rows a user may not see are filtered in SQL and answer
//! [`WelfareError::NotFound`]; every read of a case and every write is audited.

pub mod access;
pub mod alerts;
pub mod cases;
pub mod keys;
pub mod notify;
pub mod reference;
pub mod referrals;
pub mod screenings;
pub mod stats;

use crate::crypt::{CryptError, KeyRing};
use bala_access::Principal;
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::Actor;
use bala_store::sqlx;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum WelfareError {
    #[error(transparent)]
    Store(#[from] bala_store::StoreError),
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Absent, or not visible to the caller — deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    /// Visible, but the caller's relation to the record does not allow this action.
    #[error("not permitted")]
    Forbidden,
    #[error("encryption: {0}")]
    Crypt(#[from] CryptError),
}

impl From<sqlx::Error> for WelfareError {
    fn from(e: sqlx::Error) -> Self {
        WelfareError::Store(e.into())
    }
}

impl From<bala_registry::RegistryError> for WelfareError {
    fn from(e: bala_registry::RegistryError) -> Self {
        use bala_registry::RegistryError as R;
        match e {
            R::NotFound => WelfareError::NotFound,
            R::Validation(v) => WelfareError::Validation(v),
            R::Store(s) => WelfareError::Store(s),
            R::Conflict => WelfareError::Validation(ValidationErrors::single(FieldError::new(
                "version",
                "err-conflict",
                "changed by someone else",
            ))),
        }
    }
}

impl From<bala_access::AccessError> for WelfareError {
    fn from(e: bala_access::AccessError) -> Self {
        use bala_access::AccessError as A;
        match e {
            A::NotFound => WelfareError::NotFound,
            A::Validation(v) => WelfareError::Validation(v),
            A::Store(s) => WelfareError::Store(s),
        }
    }
}

pub type Result<T> = std::result::Result<T, WelfareError>;

/// Who acts, and with which keys.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub principal: &'a Principal,
    pub actor: &'a Actor,
    pub keys: &'a KeyRing,
}

impl Ctx<'_> {
    pub fn me(&self) -> i64 {
        self.principal.user_id
    }
}

/// The current time, as stored and as a value.
pub(crate) fn now() -> (String, OffsetDateTime) {
    let t = OffsetDateTime::now_utc();
    (bala_store::time_fmt::format(t), t)
}

pub(crate) fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// A serde enum's code (`CaseState::CasePlan` → `case_plan`).
pub fn code_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("not a unit enum: {other:?}"),
    }
}

/// Parses a serde enum from its code.
pub fn parse_code<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

pub(crate) fn stamp_of(s: &str) -> std::result::Result<OffsetDateTime, WelfareError> {
    bala_store::time_fmt::parse(s).ok_or_else(|| {
        WelfareError::Store(bala_store::StoreError::Other(format!("bad timestamp {s}")))
    })
}

/// Trimmed text that must be present and at most `max` characters.
pub(crate) fn required_text(
    field: &str,
    value: &str,
    max: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        errors.push(field, "err-required", "this field is required");
        None
    } else if v.chars().count() > max {
        errors.push(field, "err-too-long", format!("at most {max} characters"));
        None
    } else {
        Some(v.to_string())
    }
}

/// Optional trimmed text of at most `max` characters (blank is `None`).
pub(crate) fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.push(field, "err-too-long", format!("at most {max} characters"));
        return None;
    }
    Some(v.to_string())
}

/// A `YYYY-MM-DD` date that must be present.
pub(crate) fn required_date(
    field: &str,
    value: &str,
    errors: &mut ValidationErrors,
) -> Option<time::Date> {
    let v = value.trim();
    if v.is_empty() {
        errors.push(field, "err-required", "this field is required");
        return None;
    }
    match bala_core::parse_date(v) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(field, "err-date", "write the date as YYYY-MM-DD");
            None
        }
    }
}

/// A code that must be one of `allowed`.
pub(crate) fn required_code(
    field: &str,
    value: &str,
    allowed: &[&str],
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        errors.push(field, "err-required", "this field is required");
        None
    } else if !allowed.contains(&v) {
        errors.push(
            field,
            "err-choice",
            format!("'{v}' is not one of: {}", allowed.join(", ")),
        );
        None
    } else {
        Some(v.to_string())
    }
}

/// A list of codes, each one of `allowed`; at least one unless `may_be_empty`.
pub(crate) fn code_list(
    field: &str,
    values: &[String],
    allowed: &[&str],
    may_be_empty: bool,
    errors: &mut ValidationErrors,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if !allowed.contains(&v) {
            errors.push(
                field,
                "err-choice",
                format!("'{v}' is not one of: {}", allowed.join(", ")),
            );
        } else if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    if out.is_empty() && !may_be_empty && errors.for_field(field).is_none() {
        errors.push(field, "err-choose-one", "choose at least one");
    }
    out
}

/// The role-based agency of a front-line worker (what a screening is sent "from").
pub fn agency_of(p: &Principal) -> &'static str {
    match p.role {
        bala_access::Role::HealthWorker => "health",
        _ => "social_services",
    }
}
