//! Bulk writes: hundreds of thousands of rows in one transaction, through each
//! database's own fast path (ADR 0013).
//!
//! sqlx spends tens of microseconds on every statement it sends to SQLite (a
//! round trip to its worker thread), which caps multi-row INSERTs near 55 000
//! rows/s however they are batched; SQLite itself takes about 3 µs a row. So a
//! [`Bulk`] session writes to SQLite through `rusqlite` (the same
//! `libsqlite3-sys` sqlx links) with one prepared statement reused per row, and
//! to PostgreSQL with `COPY … FROM STDIN`. Everything else in a session —
//! reads, deletes, upserts — is an ordinary [`Sql`] with `$n` placeholders, the
//! same text on both databases, so the one-query-set rule of ADR 0002 holds:
//! only the row transport differs.
//!
//! A session is one transaction: [`Bulk::commit`] makes all of it visible at
//! once, and dropping a session without committing rolls all of it back, so a
//! failed load leaves nothing half-written. On SQLite the session holds the
//! process's write connection, so no other writer of this process interleaves.

use crate::db::{sqlite_path, Backend, Db};
use crate::error::StoreError;
use crate::query::{Sql, Value};
use crate::sqlite_insert::Insert;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnection;
use sqlx::{Any, Column, Connection, Executor, Row, TypeInfo};

/// One open bulk transaction.
pub struct Bulk {
    inner: Inner,
    /// The SQLite write-pool connection, held so the process's other writers
    /// queue behind the load instead of failing with SQLITE_BUSY (closed
    /// instead for an exclusive session, which no one else may write beside).
    _writer: Option<PoolConnection<Any>>,
    /// SQLite only: the session writes with a rollback journal and puts the
    /// file back into WAL mode at its commit (ADR 0031).
    exclusive: bool,
    /// Statements that recreate the indexes and constraints
    /// [`Bulk::defer_indexes`] dropped, in the order they must run.
    deferred: Vec<String>,
    /// PostgreSQL tables emptied in this session by [`Bulk::defer_indexes`]:
    /// their rows are copied in frozen (`COPY … WITH (FREEZE)`).
    frozen: Vec<String>,
}

enum Inner {
    /// `None` only while a blocking call has the connection.
    Sqlite(Option<rusqlite::Connection>),
    /// `None` only while a COPY task has the connection ([`Bulk::insert_all`]).
    Postgres(Option<Box<PgConnection>>),
}

fn broken() -> StoreError {
    StoreError::Other("bulk session broken by an earlier failure".into())
}

/// The PostgreSQL connection in `slot`, unless a failed task kept it.
fn connection(slot: &mut Option<Box<PgConnection>>) -> Result<&mut PgConnection, StoreError> {
    slot.as_deref_mut().ok_or_else(broken)
}

pub(crate) fn sqlite_err(e: rusqlite::Error) -> StoreError {
    let unique = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    );
    StoreError::Bulk {
        message: e.to_string(),
        unique,
    }
}

fn pg_err(e: sqlx::Error) -> StoreError {
    let unique = crate::is_unique_violation(&e);
    StoreError::Bulk {
        message: e.to_string(),
        unique,
    }
}

pub(crate) fn join_err(e: tokio::task::JoinError) -> StoreError {
    StoreError::Other(format!("bulk write task failed: {e}"))
}

/// Who checks that the rows a bulk session writes refer to rows that exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum References {
    /// The database, by its foreign keys (SQLite row by row; PostgreSQL row
    /// by row, or in one join per key when indexes are deferred).
    Database,
    /// The caller, by what it read in the same session: every referenced row
    /// was read inside this transaction, which on SQLite holds the write lock
    /// from its start (`BEGIN IMMEDIATE`), so no other writer can remove it
    /// before the commit. SQLite then skips its own per-row checks
    /// (`foreign_keys = OFF` for the session: 0.4–0.6 s of a register's
    /// 1.1 M-dose load, ADR 0027). PostgreSQL checks as with
    /// [`References::Database`]: its initial loads validate each key in one
    /// join, and switching its checks off needs a superuser.
    Caller,
}

impl Db {
    /// Opens a bulk transaction (see the module docs) whose references the
    /// database checks.
    pub async fn bulk(&self) -> Result<Bulk, StoreError> {
        self.bulk_with(References::Database).await
    }

    /// Opens a bulk transaction whose references are checked as `refs` says.
    pub async fn bulk_with(&self, refs: References) -> Result<Bulk, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let mut writer = Some(self.writer().acquire().await?);
                let path = sqlite_path(self.url())
                    .ok_or_else(|| StoreError::Other("bulk writes need a SQLite file".into()))?;
                let alone = self.exclusive_loads();
                if alone {
                    // Leaving WAL mode needs every connection to the file
                    // closed, this process's idle ones included. (The write
                    // connection was acquired first, so no write of this
                    // process is under way.)
                    if let Some(w) = writer.take() {
                        let _ = w.close().await;
                    }
                    self.close_idle().await;
                }
                // A 256 MiB page cache: index pages of a national register
                // stay in memory for the length of a load (the default 2 MiB
                // re-reads them from disk). No checkpoint at the commit: a
                // register's load leaves half a gigabyte in the write-ahead
                // log, and copying it into the database (a second or two)
                // is left to `Db::vacuum`, which an importer runs while it
                // builds its report, or else to the next ordinary write.
                // (`foreign_keys` cannot change inside a transaction, so it is
                // set for the whole session, before it begins.)
                let keys = match refs {
                    References::Database => "ON",
                    References::Caller => "OFF",
                };
                let (conn, exclusive) = tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(path)?;
                    let exclusive = alone && rollback_journal(&c);
                    // With a rollback journal, NORMAL leaves a small chance
                    // that a power failure at the wrong moment corrupts the
                    // file (SQLite's documentation); FULL does not, for one
                    // more sync of the small journal.
                    let sync = if exclusive { "FULL" } else { "NORMAL" };
                    c.execute_batch(&format!(
                        "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = {keys}; \
                         PRAGMA busy_timeout = 10000; PRAGMA cache_size = -262144; \
                         PRAGMA wal_autocheckpoint = 0; BEGIN IMMEDIATE;"
                    ))?;
                    Ok::<_, rusqlite::Error>((c, exclusive))
                })
                .await
                .map_err(join_err)?
                .map_err(sqlite_err)?;
                if alone && !exclusive {
                    // Someone else has the file open: an ordinary session,
                    // which holds the write connection again.
                    tracing::info!(
                        "the database is open elsewhere; loading beside its write-ahead log"
                    );
                    writer = Some(self.writer().acquire().await?);
                }
                Ok(Bulk {
                    inner: Inner::Sqlite(Some(conn)),
                    _writer: writer,
                    exclusive,
                    deferred: Vec::new(),
                    frozen: Vec::new(),
                })
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(self.url()).await?;
                conn.execute("BEGIN").await?;
                Ok(Bulk {
                    inner: Inner::Postgres(Some(Box::new(conn))),
                    _writer: None,
                    exclusive: false,
                    deferred: Vec::new(),
                    frozen: Vec::new(),
                })
            }
        }
    }
}

/// Switches `c`'s file to a rollback journal if no other connection has it
/// open; says whether it did. It does not wait: another process's connection
/// makes SQLite refuse at once ("database is locked"), and the session then
/// goes on in WAL mode.
fn rollback_journal(c: &rusqlite::Connection) -> bool {
    let _ = c.execute_batch("PRAGMA busy_timeout = 0");
    c.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    })
    .map(|mode| mode.eq_ignore_ascii_case("delete"))
    .unwrap_or(false)
}

impl Bulk {
    /// Whether this session writes with a rollback journal (ADR 0031).
    pub fn is_exclusive(&self) -> bool {
        self.exclusive
    }

    /// Runs `f` with the SQLite connection on a blocking thread.
    async fn sqlite<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Inner::Sqlite(slot) = &mut self.inner else {
            unreachable!("called on a SQLite session only")
        };
        let conn = slot.take().ok_or_else(broken)?;
        let (conn, out) = tokio::task::spawn_blocking(move || {
            let out = f(&conn);
            (conn, out)
        })
        .await
        .map_err(join_err)?;
        *slot = Some(conn);
        out.map_err(sqlite_err)
    }

    /// Inserts `rows` (each with one value per column, in order) into `table`.
    /// Returns the number of rows written.
    pub async fn insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Value>>,
    ) -> Result<u64, StoreError> {
        self.insert_all(vec![Batch::new(table, columns, rows)])
            .await
    }

    /// Inserts several tables' rows, in order. On SQLite they go in one
    /// blocking call, so a caller that awaits this beside CPU work (the
    /// importer derives the next slice's facts meanwhile) keeps both cores
    /// busy for the whole write. Returns the number of rows written.
    pub async fn insert_all(&mut self, batches: Vec<Batch>) -> Result<u64, StoreError> {
        let batches: Vec<Batch> = batches.into_iter().filter(|b| !b.rows.is_empty()).collect();
        for b in &batches {
            b.check()?;
        }
        if batches.is_empty() {
            return Ok(0);
        }
        match &mut self.inner {
            Inner::Sqlite(_) => {
                let (n, batches) = self
                    .sqlite(move |c| {
                        let mut n = 0;
                        for b in &batches {
                            // The values are bound in place, not copied
                            // (`sqlite_insert`): they live in `batches`.
                            let mut st = Insert::prepare(c, &b.sqlite_insert())?;
                            // A statement keeps its bindings from row to row.
                            let own = b.columns.len();
                            for (k, (_, v)) in b.constants.iter().enumerate() {
                                st.bind(own + k + 1, v)?;
                            }
                            for row in &b.rows {
                                for (i, v) in row.iter().enumerate() {
                                    st.bind(i + 1, v)?;
                                }
                                st.execute()?;
                            }
                            n += b.rows.len() as u64;
                        }
                        Ok((n, batches))
                    })
                    .await?;
                // Freed here, by the caller's thread (which built them), not
                // by SQLite's: a slice of a register is a quarter of a million
                // strings, and SQLite's thread is the import's bottleneck.
                drop(batches);
                Ok(n)
            }
            Inner::Postgres(slot) => {
                // The COPY runs as a task of its own, so that the server is
                // fed while the caller builds its next batches on its own
                // thread: under `join!` the COPY was only polled between the
                // caller's awaits, and the server sat idle while the caller
                // computed (half of both cores idle through an import's
                // write phase).
                let mut conn = slot.take().ok_or_else(broken)?;
                let frozen: Vec<bool> = batches
                    .iter()
                    .map(|b| self.frozen.contains(&b.table))
                    .collect();
                let (conn, n) = tokio::spawn(async move {
                    let mut n = 0;
                    for (b, frozen) in batches.iter().zip(frozen) {
                        match copy_in(&mut conn, b, frozen).await {
                            Ok(k) => n += k,
                            Err(e) => return (conn, Err(e)),
                        }
                    }
                    (conn, Ok(n))
                })
                .await
                .map_err(join_err)?;
                *slot = Some(conn);
                n
            }
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub async fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        match &mut self.inner {
            Inner::Sqlite(_) => {
                let (text, args) = (sql.text().to_owned(), sql.args().to_vec());
                self.sqlite(move |c| {
                    let mut st = c.prepare_cached(&numbered(&text))?;
                    bind_all(&mut st, &args)?;
                    Ok(st.raw_execute()? as u64)
                })
                .await
            }
            Inner::Postgres(slot) => {
                let done = pg_query(sql)
                    .execute(connection(slot)?)
                    .await
                    .map_err(pg_err)?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Runs one query and returns its rows as values, in column order.
    pub async fn fetch(&mut self, sql: &Sql) -> Result<Vec<Vec<Value>>, StoreError> {
        match &mut self.inner {
            Inner::Sqlite(_) => {
                let (text, args) = (sql.text().to_owned(), sql.args().to_vec());
                self.sqlite(move |c| sqlite_rows(c, &text, &args)).await
            }
            Inner::Postgres(slot) => {
                let rows = pg_query(sql)
                    .fetch_all(connection(slot)?)
                    .await
                    .map_err(pg_err)?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Refreshes PostgreSQL's statistics of `table` after loading it, inside
    /// the session: its planner otherwise still believes the table is as small
    /// as before the load and scans it whole for every later lookup of the
    /// session. (SQLite's planner does not plan these lookups by statistics.)
    ///
    /// Statistics that exist and have seen at most a tenth of the table
    /// change since (autovacuum's own threshold) are left as they are:
    /// sampling costs 0.3 s for a register of 190 000 people. Returns whether
    /// it analysed.
    pub async fn analyze(&mut self, table: &str) -> Result<bool, StoreError> {
        let Inner::Postgres(slot) = &mut self.inner else {
            return Ok(false);
        };
        let conn = connection(slot)?;
        let stale: bool = sqlx::query_scalar(
            "SELECT c.reltuples < 0 OR COALESCE(s.n_mod_since_analyze, 0) > c.reltuples / 10 + 50 \
             FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE c.oid = CAST($1 AS TEXT)::regclass",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(pg_err)?;
        if stale {
            conn.execute(format!("ANALYZE {table}").as_str())
                .await
                .map_err(pg_err)?;
        }
        Ok(stale)
    }

    /// Whether [`Bulk::defer_indexes`] pays for writing `incoming` rows into
    /// `table`: on PostgreSQL when the load is at least as large as the table
    /// (an initial load; `pg_class.reltuples`, or a count if never
    /// analysed), never on SQLite.
    ///
    /// Why: PostgreSQL maintains each index and checks each foreign key row by
    /// row, with a WAL record per index entry and a trigger query per
    /// reference. For 1.15 M doses that was 28–33 s of COPY against 9 s for
    /// the same COPY into the bare table followed by building the indexes by
    /// sorting and validating the references in one join each
    /// (docs/benchmarks.md, ADR 0024). SQLite's in-process B-tree inserts in
    /// key order cost less than rebuilding (1.7 s against 2.9 s for the same
    /// three indexes), and its schema cannot drop a column constraint.
    pub async fn should_defer_indexes(
        &mut self,
        table: &str,
        incoming: usize,
    ) -> Result<bool, StoreError> {
        let Inner::Postgres(slot) = &mut self.inner else {
            return Ok(false);
        };
        let conn = connection(slot)?;
        let held: Option<f32> =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)")
                .bind(table)
                .fetch_optional(&mut *conn)
                .await
                .map_err(pg_err)?;
        // -1: never analysed (PostgreSQL 14+); then count.
        let held = match held {
            None => return Ok(false),
            Some(n) if n >= 0.0 => n as f64,
            Some(_) => {
                let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(pg_err)?;
                n as f64
            }
        };
        Ok(incoming as f64 >= held.max(1.0))
    }

    /// Drops `table`'s indexes and its primary-key, unique and foreign-key
    /// constraints for the rest of the session (PostgreSQL; nothing on
    /// SQLite): [`Bulk::rebuild_deferred`], or the commit, recreates them and
    /// validates every row at once. Ask [`Bulk::should_defer_indexes`] first.
    ///
    /// The cost, on PostgreSQL: from here to the commit the table is locked
    /// against every other reader and writer (`DROP INDEX` takes an ACCESS
    /// EXCLUSIVE lock), and re-adding the foreign keys briefly blocks writes
    /// to the tables they reference. A session that reads `table` by an index
    /// must do so before calling this.
    ///
    /// A table found empty under that lock, and which no foreign key refers
    /// to, is also truncated: that removes nothing, but gives the table a new
    /// file in this transaction, so the session's COPYs into it may write
    /// their rows frozen and mark its pages all-visible (`COPY … WITH
    /// (FREEZE)`, ADR 0032). Otherwise the first reader after the commit sets
    /// a hint bit on every row, and the load's vacuum rereads and rewrites
    /// every page (0.5 s of a register's 1.1 M-dose first load); with it the
    /// vacuum finds nothing to do, and index-only scans skip the heap at once.
    /// Returns whether it did (always `false` on SQLite).
    pub async fn defer_indexes(&mut self, table: &str) -> Result<bool, StoreError> {
        let Inner::Postgres(slot) = &mut self.inner else {
            return Ok(false);
        };
        let conn = connection(slot)?;
        let plan: Vec<(String, String)> = sqlx::query_as(DEFERRABLE)
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(pg_err)?;
        for (drop, _) in &plan {
            conn.execute(drop.as_str()).await.map_err(pg_err)?;
        }
        self.deferred
            .extend(plan.into_iter().rev().map(|(_, restore)| restore));
        // The lock taken above keeps other writers out until the commit, so
        // "empty" stays true (and a table with nothing to drop is locked
        // here). TRUNCATE refuses a table other tables' foreign keys refer
        // to, even an empty one.
        conn.execute(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE").as_str())
            .await
            .map_err(pg_err)?;
        let empty: bool = sqlx::query_scalar(&format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {table}) AND NOT EXISTS \
             (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = to_regclass($1))"
        ))
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(pg_err)?;
        if empty {
            conn.execute(format!("TRUNCATE {table}").as_str())
                .await
                .map_err(pg_err)?;
            self.frozen.push(table.to_string());
        }
        Ok(empty)
    }

    /// Recreates what [`Bulk::defer_indexes`] dropped (a no-op otherwise). The
    /// commit does it too; calling it first lets a caller time it or analyse
    /// the table with its indexes.
    pub async fn rebuild_deferred(&mut self) -> Result<(), StoreError> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let Inner::Postgres(slot) = &mut self.inner else {
            return Ok(());
        };
        let conn = connection(slot)?;
        // Sorting an index of a national register in memory rather than in
        // temporary files (the default is 64 MB).
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            .await
            .map_err(pg_err)?;
        for sql in std::mem::take(&mut self.deferred) {
            conn.execute(sql.as_str()).await.map_err(pg_err)?;
        }
        Ok(())
    }

    /// Makes everything written in the session visible at once.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.rebuild_deferred().await?;
        match &mut self.inner {
            Inner::Sqlite(_) => {
                let exclusive = self.exclusive;
                self.sqlite(move |c| {
                    c.execute_batch("COMMIT")?;
                    if exclusive {
                        // Back to WAL for everyone else. Should this fail, the
                        // next connection Bala opens sets it (`Db::connect`).
                        if let Err(e) = c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())) {
                            tracing::warn!(error = %e, "could not put the database back into WAL mode");
                        }
                    }
                    Ok(())
                })
                .await
            }
            Inner::Postgres(slot) => {
                connection(slot)?.execute("COMMIT").await.map_err(pg_err)?;
                Ok(())
            }
        }
    }
}

/// For a table (`$1`): a statement that drops each of its foreign keys, its
/// other indexes and then its primary-key and unique constraints, with the
/// statement that recreates it, in dropping order. Constraints that other
/// tables' foreign keys rely on are kept.
const DEFERRABLE: &str = "
SELECT dropper, restorer FROM (
    SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS dropper,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
                  pg_get_constraintdef(c.oid)) AS restorer,
           CASE c.contype WHEN 'f' THEN 0 ELSE 2 END AS rank, c.conname::text AS name
    FROM pg_constraint c
    WHERE c.conrelid = to_regclass($1) AND c.contype IN ('p', 'u', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint r
                      WHERE r.contype = 'f' AND r.conindid = c.conindid AND c.contype <> 'f')
    UNION ALL
    SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid),
           1, i.indexrelid::regclass::text
    FROM pg_index i
    WHERE i.indrelid = to_regclass($1)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                      AND c.conrelid = i.indrelid)
) plan ORDER BY rank, name";

/// One table's rows for [`Bulk::insert_all`], each with one value per column.
pub struct Batch {
    table: String,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    /// Columns with one value for every row (an import's source, time and
    /// author): not repeated in each row, and bound once per batch on SQLite,
    /// whose binding of a value copies it.
    constants: Vec<(String, Value)>,
}

impl Batch {
    pub fn new(table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> Batch {
        Batch {
            table: table.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            constants: Vec::new(),
        }
    }

    /// Gives `column` the value `value` in every row of the batch.
    pub fn constant(mut self, column: &str, value: impl Into<Value>) -> Batch {
        self.constants.push((column.to_string(), value.into()));
        self
    }

    fn check(&self) -> Result<(), StoreError> {
        match self.rows.iter().position(|r| r.len() != self.columns.len()) {
            None => Ok(()),
            Some(bad) => Err(StoreError::Other(format!(
                "bulk insert into {}: row {} has {} values for {} columns",
                self.table,
                bad + 1,
                self.rows[bad].len(),
                self.columns.len()
            ))),
        }
    }

    /// Every column: the rows' own, then the constants.
    fn column_list(&self) -> String {
        let all: Vec<&str> = self
            .columns
            .iter()
            .chain(self.constants.iter().map(|(c, _)| c))
            .map(String::as_str)
            .collect();
        all.join(", ")
    }

    fn sqlite_insert(&self) -> String {
        let n = self.columns.len() + self.constants.len();
        let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.table,
            self.column_list(),
            marks.join(", ")
        )
    }
}

/// Sends a batch through `COPY … FROM STDIN` in 1 MiB pieces; `frozen` for a
/// table truncated in the session ([`Bulk::defer_indexes`]).
async fn copy_in(conn: &mut PgConnection, b: &Batch, frozen: bool) -> Result<u64, StoreError> {
    let with = if frozen { " WITH (FREEZE)" } else { "" };
    let sql = format!("COPY {} ({}) FROM STDIN{with}", b.table, b.column_list());
    let mut copy = conn.copy_in_raw(&sql).await.map_err(pg_err)?;
    let mut tail = String::new();
    for (_, v) in &b.constants {
        tail.push('\t');
        copy_value(&mut tail, v);
    }
    let mut buf = String::with_capacity(1 << 20);
    for row in &b.rows {
        copy_values(&mut buf, row);
        buf.push_str(&tail);
        buf.push('\n');
        if buf.len() > (1 << 20) {
            copy.send(std::mem::take(&mut buf).into_bytes())
                .await
                .map_err(pg_err)?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await.map_err(pg_err)?;
    }
    copy.finish().await.map_err(pg_err)
}

/// Runs a query on a SQLite connection and keeps what `each` makes of each
/// row (rows it answers `None` for are skipped).
pub(crate) fn sqlite_map<T>(
    c: &rusqlite::Connection,
    text: &str,
    args: &[Value],
    mut each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Option<T>>,
) -> rusqlite::Result<Vec<T>> {
    let mut st = c.prepare_cached(&numbered(text))?;
    bind_all(&mut st, args)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.extend(each(r)?);
    }
    Ok(out)
}

/// Runs a query on a SQLite connection and returns its rows as values.
pub(crate) fn sqlite_rows(
    c: &rusqlite::Connection,
    text: &str,
    args: &[Value],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    sqlite_map(c, text, args, |r| {
        let n = r.as_ref().column_count();
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Value::Text(None),
                rusqlite::types::ValueRef::Integer(v) => Value::Int(Some(v)),
                rusqlite::types::ValueRef::Real(v) => Value::Float(Some(v)),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Value::Text(Some(String::from_utf8_lossy(t).into_owned()))
                }
            });
        }
        Ok(Some(row))
    })
}

fn bind_sqlite(st: &mut rusqlite::CachedStatement, i: usize, v: &Value) -> rusqlite::Result<()> {
    match v {
        Value::Text(t) => st.raw_bind_parameter(i, t.as_deref()),
        Value::Int(n) => st.raw_bind_parameter(i, n),
        Value::Float(f) => st.raw_bind_parameter(i, f),
    }
}

/// Binds `?1 … ?n` (see [`numbered`]): argument k goes to slot k.
fn bind_all(st: &mut rusqlite::CachedStatement, args: &[Value]) -> rusqlite::Result<()> {
    for (i, v) in args.iter().enumerate() {
        bind_sqlite(st, i + 1, v)?;
    }
    Ok(())
}

/// `$n` placeholders rewritten as `?n`, outside quoted literals and
/// identifiers. SQLite takes `$n` as a *name* and numbers names by first
/// appearance, so binding by number would need a name lookup per argument —
/// linear in the number of parameters, quadratic for an IN list of 2 000 ids.
/// `?n` carries its number.
pub(crate) fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

pub(crate) fn pg_query(
    sql: &Sql,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(sql.text());
    for a in sql.args() {
        q = match a {
            Value::Text(v) => q.bind(v.clone()),
            Value::Int(v) => q.bind(*v),
            Value::Float(v) => q.bind(*v),
        };
    }
    q
}

fn pg_row(r: &sqlx::postgres::PgRow) -> Result<Vec<Value>, StoreError> {
    r.columns()
        .iter()
        .map(|c| {
            let i = c.ordinal();
            if let Some(v) = crate::rows::pg_int(r, i) {
                return Ok(Value::Int(v?));
            }
            Ok(match c.type_info().name() {
                "FLOAT8" => Value::Float(r.try_get(i)?),
                "FLOAT4" => Value::Float(r.try_get::<Option<f32>, _>(i)?.map(f64::from)),
                _ => Value::Text(r.try_get(i)?),
            })
        })
        .collect()
}

/// A row's values in COPY's text format: tab-separated, `\N` for NULL, with
/// backslash, tab, newline and carriage return escaped; no newline (the
/// caller appends a batch's constants first).
fn copy_values(buf: &mut String, row: &[Value]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        copy_value(buf, v);
    }
}

fn copy_value(buf: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::Text(None) | Value::Int(None) | Value::Float(None) => buf.push_str("\\N"),
        Value::Int(Some(n)) => {
            let _ = write!(buf, "{n}");
        }
        Value::Float(Some(f)) => {
            let _ = write!(buf, "{f}");
        }
        // Most text has nothing COPY reads specially and goes in whole.
        Value::Text(Some(s))
            if !s
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) =>
        {
            buf.push_str(s)
        }
        Value::Text(Some(s)) => {
            for ch in s.chars() {
                match ch {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    c => buf.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_outside_literals() {
        assert_eq!(
            numbered("SELECT '$1', \"$2\" FROM t WHERE a = $10 AND b IN ($2, $1) AND c = '$'"),
            "SELECT '$1', \"$2\" FROM t WHERE a = ?10 AND b IN (?2, ?1) AND c = '$'"
        );
    }

    #[test]
    fn copy_lines_escape_what_copy_reads_specially() {
        let mut b = String::new();
        copy_values(
            &mut b,
            &[
                Value::from("a\tb\\c\nd\re"),
                Value::Int(None),
                Value::from(7),
                Value::from(1.5),
                Value::from("plain ÿ text"),
            ],
        );
        assert_eq!(b, "a\\tb\\\\c\\nd\\re\t\\N\t7\t1.5\tplain ÿ text");
    }
}
