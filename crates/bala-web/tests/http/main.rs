//! HTTP integration tests: each test spawns Bala on a random port with a fresh
//! database and runs once per backend (SQLite and PostgreSQL).

mod harness;

mod api;
mod auth;
mod authz;
mod fhir;
mod i18n;
mod immunization;
mod indicators;
mod ops;
mod people;
mod surveillance;
mod welfare;
