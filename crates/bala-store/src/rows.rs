//! Reads of many rows (a district's children and their doses) as plain values.
//!
//! sqlx hands every SQLite row from its worker thread to the caller through a
//! channel and copies every value on the way: reading a due list's 60 000 dose
//! rows cost about a second, almost all of it thread wake-ups and allocation.
//! [`Db::rows`] reads SQLite through `rusqlite` read-only connections (kept in
//! a small pool beside the sqlx pools) on a blocking thread, and PostgreSQL
//! through the ordinary pool, decoding by column type. The query is the same
//! [`Sql`] on both (ADR 0013); writes never go this way.

use crate::bulk::{join_err, sqlite_err, sqlite_map, sqlite_rows};
use crate::db::{sqlite_path, Backend, Db};
use crate::error::StoreError;
use crate::query::{Sql, Value};
use sqlx::{Column, Row, TypeInfo};
use std::sync::{Arc, Mutex};

/// Idle read-only SQLite connections for [`Db::rows`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Readers(Arc<Mutex<Vec<rusqlite::Connection>>>);

/// Kept open between reads: a closed connection loses its page cache, and a
/// due list alone reads on up to six at once.
const IDLE_READERS: usize = 8;

impl Readers {
    fn take(&self, path: &std::path::Path) -> Result<rusqlite::Connection, rusqlite::Error> {
        if let Some(c) = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let c = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // No memory map: whenever anyone commits (a due list writes its own
        // audit entry), SQLite unmaps a reader's whole mapping at its next
        // read, so each read re-faulted its pages (16 at a time) and paid for
        // unmapping all it had touched — over a third of a district's due
        // list once it read a few thousand scattered pages (ADR 0020).
        // Reading those pages into the page cache costs less.
        c.execute_batch(
            "PRAGMA busy_timeout = 10000; PRAGMA mmap_size = 0; PRAGMA cache_size = -65536;",
        )?;
        Ok(c)
    }

    /// Closes the idle connections.
    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn give_back(&self, c: rusqlite::Connection) {
        let mut idle = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(c);
        }
    }
}

/// Native PostgreSQL connections for [`Db::rows_as`], opened on first use.
/// Rows through sqlx's `Any` driver are copied into its own values, then into
/// [`Value`]s, before a decoder sees them: for a due list's 80 000 dose rows
/// that was most of the list's time on PostgreSQL.
#[derive(Debug, Default, Clone)]
pub(crate) struct PgReads(Arc<tokio::sync::OnceCell<sqlx::PgPool>>);

/// Shared by the whole process; a due list runs up to a dozen reads at once
/// on PostgreSQL (its id lists are cut to 400), which queue for these.
const PG_READS: u32 = 4;

impl PgReads {
    async fn pool(&self, url: &str) -> Result<&sqlx::PgPool, sqlx::Error> {
        self.0
            .get_or_try_init(|| async {
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(PG_READS)
                    .min_connections(0)
                    .idle_timeout(Some(std::time::Duration::from_secs(60)))
                    .connect(url)
                    .await
            })
            .await
    }

    /// (connections open, idle), zero until first used.
    pub(crate) fn stats(&self) -> (u32, usize) {
        self.0.get().map_or((0, 0), |p| (p.size(), p.num_idle()))
    }

    pub(crate) async fn close(&self) {
        if let Some(pool) = self.0.get() {
            pool.close().await;
        }
    }
}

/// One row as it is read, on either database: what [`Db::rows_as`] hands to
/// its decoder. Columns are numbered from 0 in the query's order.
pub trait Cells {
    /// The integer in column `i`, if it holds one.
    fn int(&self, i: usize) -> Option<i64>;
    /// The text in column `i`, if it holds some.
    fn text(&self, i: usize) -> Option<&str>;
}

impl Cells for Vec<Value> {
    fn int(&self, i: usize) -> Option<i64> {
        self.get(i).and_then(Value::int)
    }
    fn text(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(Value::text)
    }
}

/// Column `i` of a PostgreSQL row as an integer, for the types read as
/// integers (64, 32 and 16 bit, booleans as 0/1); `None` for other types.
pub(crate) fn pg_int(
    r: &sqlx::postgres::PgRow,
    i: usize,
) -> Option<Result<Option<i64>, sqlx::Error>> {
    Some(match r.columns().get(i)?.type_info().name() {
        "INT8" => r.try_get::<Option<i64>, _>(i),
        "INT4" => r.try_get::<Option<i32>, _>(i).map(|v| v.map(i64::from)),
        "INT2" => r.try_get::<Option<i16>, _>(i).map(|v| v.map(i64::from)),
        "BOOL" => r.try_get::<Option<bool>, _>(i).map(|v| v.map(i64::from)),
        _ => return None,
    })
}

impl Cells for sqlx::postgres::PgRow {
    fn int(&self, i: usize) -> Option<i64> {
        pg_int(self, i)?.ok().flatten()
    }
    fn text(&self, i: usize) -> Option<&str> {
        self.try_get::<Option<&str>, _>(i).ok().flatten()
    }
}

impl Cells for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Option<i64> {
        match self.get_ref(i) {
            Ok(rusqlite::types::ValueRef::Integer(v)) => Some(v),
            _ => None,
        }
    }
    fn text(&self, i: usize) -> Option<&str> {
        match self.get_ref(i) {
            Ok(rusqlite::types::ValueRef::Text(t)) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }
}

impl Db {
    /// Runs `read` with the query's text and arguments on an idle read-only
    /// SQLite connection, on a blocking thread.
    async fn on_reader<T, R>(&self, sql: &Sql, read: R) -> Result<T, StoreError>
    where
        T: Send + 'static,
        R: FnOnce(&rusqlite::Connection, &str, &[Value]) -> rusqlite::Result<T> + Send + 'static,
    {
        let path = sqlite_path(self.url())
            .ok_or_else(|| StoreError::Other("not a SQLite file URL".into()))?;
        let readers = self.readers().clone();
        let (text, args) = (sql.text().to_owned(), sql.args().to_vec());
        tokio::task::spawn_blocking(move || {
            let c = readers.take(&path)?;
            let out = read(&c, &text, &args);
            readers.give_back(c);
            out
        })
        .await
        .map_err(join_err)?
        .map_err(sqlite_err)
    }

    /// Runs a read query and decodes every row with `decode` as it is read,
    /// keeping the rows it accepts. On SQLite the decoding happens on the
    /// reading thread straight from SQLite's buffers, so a large read makes no
    /// intermediate copy of its values (and several such reads decode at once);
    /// on PostgreSQL rows come through native connections ([`PgReads`]) and are
    /// decoded from them directly. [`Cells`] reads integers (64, 32 and 16 bit,
    /// booleans as 0/1) and text: cast aggregates and anything else to
    /// `BIGINT` or `TEXT` in the query (PostgreSQL's `SUM` of a `BIGINT` is a
    /// `NUMERIC`, which reads as no value).
    pub async fn rows_as<T, F>(&self, sql: &Sql, decode: F) -> Result<Vec<T>, StoreError>
    where
        T: Send + 'static,
        F: Fn(&dyn Cells) -> Option<T> + Send + 'static,
    {
        match self.backend() {
            Backend::Sqlite => {
                self.on_reader(sql, move |c, text, args| {
                    sqlite_map(c, text, args, |r| Ok(decode(r)))
                })
                .await
            }
            Backend::Postgres => {
                let pool = self.pg_reads().pool(self.url()).await?;
                let rows = crate::bulk::pg_query(sql).fetch_all(pool).await?;
                Ok(rows.iter().filter_map(|r| decode(r)).collect())
            }
        }
    }

    /// Runs a read query and returns its rows as values, in column order.
    pub async fn rows(&self, sql: &Sql) -> Result<Vec<Vec<Value>>, StoreError> {
        match self.backend() {
            Backend::Sqlite => self.on_reader(sql, sqlite_rows).await,
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
