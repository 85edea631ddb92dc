//! The register shared by all three pillars: areas, people, households.
//!
//! * [`areas`] — the KATO tree and containment ("everything inside X").
//! * [`person`] — pure rules: validating a person record, spotting likely duplicates.
//! * [`people`] — the stored register: create, read, search, edit, merge — every
//!   call scoped to the caller's areas and audited.
//! * [`households`] — households and relationships between people.

pub mod areas;
pub mod households;
pub mod people;
pub mod person;
pub mod scope;

use bala_store::migrate::Migration;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2001,
        name: "registry",
        sql: include_str!("../migrations/2001_registry.sql"),
    },
    Migration {
        version: 2002,
        name: "relationships_by_person",
        sql: include_str!("../migrations/2002_relationships_by_person.sql"),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Store(#[from] bala_store::StoreError),
    #[error(transparent)]
    Validation(#[from] bala_core::ValidationErrors),
    /// Absent, or outside the caller's scope — the two are deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    /// The record changed since the caller read it.
    #[error("the record was changed by someone else; reload it and try again")]
    Conflict,
}

impl From<bala_store::sqlx::Error> for RegistryError {
    fn from(e: bala_store::sqlx::Error) -> Self {
        RegistryError::Store(e.into())
    }
}

/// One page of results with the total, for paging UIs and APIs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}
