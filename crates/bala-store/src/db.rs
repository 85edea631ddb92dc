use crate::error::StoreError;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor};
use std::time::Duration;

/// Which database is behind a [`Db`]. Queries never branch on this; DDL, backup
/// and administrative statements do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL with any password replaced, safe for logs and error messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

pub type Tx = sqlx::Transaction<'static, Any>;

/// The database handle shared by the whole application.
///
/// SQLite allows one writer at a time; rather than let concurrent writers fail
/// with SQLITE_BUSY, writes go through a one-connection pool that queues them,
/// while reads use a wider pool (WAL lets them run beside the writer). On
/// PostgreSQL both pools are the same. Reads of many rows go beside sqlx's
/// `Any` driver on either database (rusqlite read-only connections on SQLite,
/// a small native pool on PostgreSQL: [`Db::rows_as`], ADRs 0013 and 0019).
#[derive(Clone, Debug)]
pub struct Db {
    /// Tells apart the databases one process opens (tests open hundreds), for
    /// caches that live beside a `Db`; clones share it.
    instance: u64,
    /// rusqlite read-only connections for [`Db::rows`] (SQLite only).
    readers: crate::rows::Readers,
    /// Native PostgreSQL connections for [`Db::rows_as`] (PostgreSQL only).
    pg_reads: crate::rows::PgReads,
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    url: String,
    /// Whether SQLite bulk sessions may take the file for themselves
    /// ([`Db::with_exclusive_loads`]).
    exclusive_loads: bool,
}

impl Db {
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url);
                if let Some(parent) =
                    sqlite_path(&url).and_then(|p| p.parent().map(|p| p.to_owned()))
                {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent)?;
                    }
                }
                let write = sqlite_pool(&url, 1, opts).await?;
                let read = sqlite_pool(&url, opts.max_connections.max(2), opts).await?;
                Ok(Db {
                    instance: next_instance(),
                    readers: Default::default(),
                    pg_reads: Default::default(),
                    read,
                    write,
                    backend,
                    url,
                    exclusive_loads: false,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect(url)
                    .await?;
                Ok(Db {
                    instance: next_instance(),
                    readers: Default::default(),
                    pg_reads: Default::default(),
                    read: pool.clone(),
                    write: pool,
                    backend,
                    url: url.to_string(),
                    exclusive_loads: false,
                })
            }
        }
    }

    /// This handle, whose SQLite bulk sessions write with a rollback journal
    /// instead of the write-ahead log when no other connection has the file
    /// open (ADR 0031): a register's load then writes its pages once, not to
    /// the log and again to the database at the checkpoint. For batch
    /// commands (`bala import`), never for the server: while such a session
    /// runs, a process that opens the file waits for it, and gives up after
    /// SQLite's busy timeout. PostgreSQL is unaffected.
    pub fn with_exclusive_loads(mut self) -> Db {
        self.exclusive_loads = true;
        self
    }

    pub(crate) fn exclusive_loads(&self) -> bool {
        self.exclusive_loads
    }

    /// Closes this handle's idle SQLite read connections (they are opened
    /// again when needed), so that a bulk session can find itself alone.
    /// sqlx hands a connection back to its pool from a task of its own, so
    /// one used just before is not idle yet: those get up to 100 ms to come
    /// back (a connection in use elsewhere stays open, and the session then
    /// loads in WAL mode).
    pub(crate) async fn close_idle(&self) {
        self.readers.clear();
        for _ in 0..50 {
            while let Some(c) = self.read.try_acquire() {
                // A connection that fails to close cleanly is dropped anyway.
                let _ = c.close().await;
            }
            if self.read.size() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// This handle's number in the process (see the field).
    pub fn instance(&self) -> u64 {
        self.instance
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL without its password (or the options Bala adds).
    pub fn display_url(&self) -> String {
        redact(&self.url).replace("?mode=rwc", "")
    }

    /// The URL as connected (for [`crate::bulk`], which opens its own connection).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn readers(&self) -> &crate::rows::Readers {
        &self.readers
    }

    pub(crate) fn pg_reads(&self) -> &crate::rows::PgReads {
        &self.pg_reads
    }

    /// The write pool (for [`crate::bulk`], which holds its one SQLite
    /// connection so no other writer of this process interleaves).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// The pool for reads. Writes must use [`Db::begin`].
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.write.begin().await?)
    }

    /// After a bulk load on PostgreSQL, vacuums and analyses `tables`: until
    /// the visibility map is set, PostgreSQL's index-only scans visit every
    /// heap page they cover (a national coverage query was five times slower
    /// right after `bala synth` than once autovacuum had passed, when it still
    /// counted the cohort from the people index), and until a table is
    /// analysed the planner guesses its row counts (a due list's caregivers by
    /// id list scanned `relationships`). On SQLite, copies the write-ahead log
    /// that bulk sessions leave un-checkpointed into the database (a passive
    /// checkpoint: it does not wait for readers).
    pub async fn vacuum(&self, tables: &[&str]) -> Result<(), StoreError> {
        match self.backend {
            Backend::Postgres => {
                // VACUUM cannot run in a transaction. One statement for all
                // tables vacuums them one after the other on one core; here
                // a lane per core takes the next table on a pooled
                // connection of its own.
                let queue = std::sync::Arc::new(std::sync::Mutex::new(
                    tables
                        .iter()
                        .rev()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>(),
                ));
                let lanes = std::thread::available_parallelism().map_or(1, |n| n.get());
                let mut runs = tokio::task::JoinSet::<Result<(), sqlx::Error>>::new();
                for _ in 0..lanes.min(tables.len()) {
                    let (pool, queue) = (self.write.clone(), queue.clone());
                    runs.spawn(async move {
                        loop {
                            let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                            let Some(t) = next else { return Ok(()) };
                            let sql = format!("VACUUM (ANALYZE) {t}");
                            sqlx::query(&sql).execute(&pool).await?;
                        }
                    });
                }
                while let Some(run) = runs.join_next().await {
                    run.map_err(|e| StoreError::Other(format!("vacuum: {e}")))??;
                }
            }
            Backend::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&self.write)
                    .await?;
            }
        }
        Ok(())
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Pool sizes for `/metrics`: (connections open, idle) over the sqlx
    /// pools and, on PostgreSQL, the native read pool once opened.
    pub fn pool_stats(&self) -> (u32, usize) {
        if self.backend == Backend::Sqlite {
            (
                self.read.size() + self.write.size(),
                self.read.num_idle() + self.write.num_idle(),
            )
        } else {
            let (open, idle) = self.pg_reads.stats();
            (self.read.size() + open, self.read.num_idle() + idle)
        }
    }

    /// Writes a consistent copy of a live SQLite database to `dest` (`VACUUM INTO`,
    /// which reads one snapshot while writers continue). PostgreSQL is backed up
    /// with `pg_dump`, not by Bala.
    pub async fn backup_sqlite(&self, dest: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Other(
                "bala backup copies SQLite databases; back up PostgreSQL with pg_dump (see README)"
                    .into(),
            ));
        }
        if dest.exists() {
            return Err(StoreError::Other(format!(
                "{} already exists; choose a new file",
                dest.display()
            )));
        }
        let path = dest.to_string_lossy().replace('\'', "''");
        let sql = format!("VACUUM INTO '{path}'");
        self.read.execute(sql.as_str()).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.pg_reads.close().await;
    }
}

fn next_instance() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The file path in a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

async fn sqlite_pool(url: &str, max: u32, opts: &DbOptions) -> Result<AnyPool, StoreError> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(opts.acquire_timeout)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL: readers never block the writer; NORMAL sync is durable in WAL mode
                // except for the last transactions on power loss. busy_timeout covers
                // the checkpoint and the other process (CLI beside a server).
                // mmap: reads come straight from the OS page cache instead of
                // being copied into each connection's small page cache (a due
                // list touches tens of thousands of pages).
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA mmap_size = 2147418112;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}
