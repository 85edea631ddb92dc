//! Storage of the indicators pillar (SQL written once for SQLite and PostgreSQL,
//! see ADR 2).
//!
//! - [`registry`]: indicators, frameworks, targets, units; seeded from
//!   [`crate::reference`].
//! - [`values`]: published values, submissions waiting for approval, the history
//!   of every change, and the queries every view reads.
//! - [`import`]: any exchange format → harmonised, validated values, with a
//!   per-row report, a dry run, and idempotent re-import.
//! - [`computed`]: the interface through which Bala's own registers publish series.
//! - [`codelists`], [`dashboards`].

pub mod codelists;
pub mod computed;
pub mod dashboards;
pub mod export;
pub mod import;
pub mod registry;
pub mod resolve;
pub mod values;

use bala_core::{AreaCode, ValidationErrors};
use bala_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IndError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Absent, or outside the caller's areas.
    #[error("not found")]
    NotFound,
}

impl From<bala_store::sqlx::Error> for IndError {
    fn from(e: bala_store::sqlx::Error) -> Self {
        IndError::Store(e.into())
    }
}

/// Who is writing values, which decides whether they are published at once or
/// wait for approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// The system itself (command line, demo loader, computed series): publishes.
    System,
    /// A signed-in user: values for the whole republic are published (only users
    /// whose areas include the republic may enter them); values for a region or
    /// district wait for a regional manager's approval.
    User { user_id: i64, scope: Vec<AreaCode> },
}

/// Whether a value goes straight to the published table or waits for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Publish,
    Submit,
}

impl Channel {
    pub fn route(&self, area_code: &str) -> Route {
        match self {
            Channel::System => Route::Publish,
            Channel::User { .. } if area_code == bala_core::kato::REPUBLIC => Route::Publish,
            Channel::User { .. } => Route::Submit,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self {
            Channel::System => None,
            Channel::User { user_id, .. } => Some(*user_id),
        }
    }
}

/// The migration of this pillar.
pub const MIGRATION_SQL: &str = include_str!("../../migrations/5001_indicators.sql");

impl From<bala_registry::RegistryError> for IndError {
    fn from(e: bala_registry::RegistryError) -> Self {
        use bala_registry::RegistryError as R;
        match e {
            R::Store(s) => IndError::Store(s),
            R::Validation(v) => IndError::Validation(v),
            R::NotFound => IndError::NotFound,
            R::Conflict => IndError::Store(StoreError::Other("conflict".into())),
        }
    }
}
