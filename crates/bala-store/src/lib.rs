//! Bala's database layer.
//!
//! One [`Db`] serves SQLite (embedded, the default) and PostgreSQL (production)
//! through sqlx's `Any` driver, so every query in Bala is written once. The rules
//! that make that possible — `$n` placeholders, ISO text for dates, `BIGINT` for
//! integers, no backend-specific functions in queries — are in
//! `docs/adr/0002-storage.md`. Only this crate knows the two dialects apart, and
//! only for DDL (see [`migrate`]) and a few administrative statements.

pub mod audit;
pub mod bulk;
mod db;
mod error;
pub mod migrate;
pub mod query;
mod rows;
mod sqlite_insert;
pub mod testing;
pub mod time_fmt;

pub use bulk::{Batch, Bulk, References};
pub use db::{redact as redact_url, sqlite_path, Backend, Db, DbOptions, Tx};
pub use error::{is_unique_violation, StoreError};
pub use query::{Sql, Value};
pub use rows::Cells;
pub use sqlx;
pub use sqlx::any::AnyRow;
pub use sqlx::Row;
