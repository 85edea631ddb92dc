//! Bala's web application: server-rendered pages (askama templates), the JSON
//! API under `/api/v1` with its OpenAPI document, and the machinery around them
//! (sessions, CSRF, the permission gate, i18n, metrics, security headers).

pub mod api;
pub mod app;
pub mod charts;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod indicators_view;
pub mod integration;
pub mod ops;
pub mod pages;
pub mod pdf;
pub mod routes;
pub mod state;
pub mod visitor;

pub use app::{build, route_specs, serve, shutdown_signal};
pub use config::Config;

use bala_store::migrate::Migration;

/// Every migration of every crate, in the order they apply.
pub fn all_migrations() -> Vec<&'static [Migration]> {
    vec![
        bala_store::migrate::MIGRATIONS,
        bala_access::MIGRATIONS,
        bala_registry::MIGRATIONS,
        bala_immunization::MIGRATIONS,
        bala_welfare::MIGRATIONS,
        bala_indicators::MIGRATIONS,
        bala_surveillance::MIGRATIONS,
    ]
}

/// Columns in pillar tables that hold a person id (re-pointed when records merge).
pub fn person_refs() -> Vec<bala_registry::people::PersonRef> {
    [
        bala_immunization::PERSON_REFS,
        bala_welfare::PERSON_REFS,
        bala_indicators::PERSON_REFS,
        bala_surveillance::PERSON_REFS,
    ]
    .concat()
}
