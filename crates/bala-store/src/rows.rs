//! Reads of many rows (a district's children and their doses) as plain values.
//!
//! sqlx hands every SQLite row from its worker thread to the caller through a
//! channel and copies every value on the way: reading a due list's 60 000 dose
//! rows cost about a second, almost all of it thread wake-ups and allocation.
//! [`Db::rows`] reads SQLite through `rusqlite` read-only connections (kept in
//! a small pool beside the sqlx pools) on a blocking thread, and PostgreSQL
//! through the ordinary pool, decoding by column type. The query is the same
//! [`Sql`] on both (ADR 0013); writes never go this way.

use crate::bulk::{join_err, sqlite_err, sqlite_rows};
use crate::db::{sqlite_path, Backend, Db};
use crate::error::StoreError;
use crate::query::{Sql, Value};
use sqlx::{Column, Row, TypeInfo};
use std::sync::{Arc, Mutex};

/// Idle read-only SQLite connections for [`Db::rows`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Readers(Arc<Mutex<Vec<rusqlite::Connection>>>);

const IDLE_READERS: usize = 4;

impl Readers {
    fn take(&self, path: &std::path::Path) -> Result<rusqlite::Connection, rusqlite::Error> {
        if let Some(c) = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let c = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.execute_batch(
            "PRAGMA busy_timeout = 10000; PRAGMA mmap_size = 2147418112; PRAGMA cache_size = -65536;",
        )?;
        Ok(c)
    }

    fn give_back(&self, c: rusqlite::Connection) {
        let mut idle = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(c);
        }
    }
}

impl Db {
    /// Runs a read query and returns its rows as values, in column order.
    pub async fn rows(&self, sql: &Sql) -> Result<Vec<Vec<Value>>, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let path = sqlite_path(self.url())
                    .ok_or_else(|| StoreError::Other("not a SQLite file URL".into()))?;
                let readers = self.readers().clone();
                let (text, args) = (sql.text().to_owned(), sql.args().to_vec());
                tokio::task::spawn_blocking(move || {
                    let c = readers.take(&path)?;
                    let out = sqlite_rows(&c, &text, &args);
                    readers.give_back(c);
                    out
                })
                .await
                .map_err(join_err)?
                .map_err(sqlite_err)
            }
            Backend::Postgres => {
                let rows = sql.query().fetch_all(self.reader()).await?;
                rows.iter()
                    .map(|r| {
                        r.columns()
                            .iter()
                            .map(|c| {
                                let i = c.ordinal();
                                Ok(match c.type_info().name() {
                                    "NULL" => Value::Text(None),
                                    "BOOLEAN" => {
                                        Value::Int(r.try_get::<Option<bool>, _>(i)?.map(i64::from))
                                    }
                                    "SMALLINT" | "INTEGER" | "BIGINT" => Value::Int(r.try_get(i)?),
                                    "REAL" | "DOUBLE" => Value::Float(r.try_get(i)?),
                                    _ => Value::Text(r.try_get(i)?),
                                })
                            })
                            .collect::<Result<Vec<Value>, sqlx::Error>>()
                    })
                    .collect::<Result<_, _>>()
                    .map_err(StoreError::from)
            }
        }
    }
}
