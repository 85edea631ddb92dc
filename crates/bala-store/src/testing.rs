//! Fresh databases for tests, one per test, on either backend.
//!
//! SQLite: a new file in a temporary directory, migrated. PostgreSQL: a database
//! cloned from a migrated template (`CREATE DATABASE … TEMPLATE`, a file copy
//! inside the server, much faster than migrating each time) and dropped when
//! the test ends. The template's name carries a hash of the migrations, so a
//! changed schema gets a new template. The server is taken from
//! `BALA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! if it cannot be reached the test fails — it is never skipped.

use crate::db::{Backend, Db, DbOptions};
use crate::migrate::{self, Migration};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection, Executor, Row};
use std::path::PathBuf;
use tokio::sync::Mutex;

pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_admin_url() -> String {
    std::env::var("BALA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_string())
}

/// A database that exists for the lifetime of this value.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

fn random_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016x}")
}

fn schema_hash(sets: &[&[Migration]]) -> String {
    let mut h = Sha256::new();
    for m in sets.iter().flat_map(|s| s.iter()) {
        h.update(m.version.to_le_bytes());
        h.update(m.sql.as_bytes());
    }
    hex::encode(h.finalize())[..12].to_string()
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut u = url::Url::parse(admin_url).expect("BALA_TEST_POSTGRES_URL is a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

static TEMPLATE_LOCK: Mutex<Option<String>> = Mutex::const_new(None);

async fn ensure_template(admin_url: &str, sets: &[&[Migration]]) -> String {
    let mut done = TEMPLATE_LOCK.lock().await;
    let name = format!("bala_tpl_{}", schema_hash(sets));
    if done.as_deref() == Some(name.as_str()) {
        return name;
    }
    let mut admin = AnyConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL for tests is not reachable at {admin_url}: {e}. Start it (see README) or set BALA_TEST_POSTGRES_URL."));
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await
        .expect("query pg_database")
        .is_some();
    if !exists {
        // Build under a private name, then rename: a concurrent test process either
        // sees no template or a complete one.
        let tmp = format!("{name}_build_{}", random_suffix());
        admin
            .execute(format!("CREATE DATABASE {tmp}").as_str())
            .await
            .expect("create template");
        {
            let db = Db::connect(
                &with_database(admin_url, &tmp),
                &DbOptions {
                    max_connections: 2,
                    ..Default::default()
                },
            )
            .await
            .expect("connect template");
            migrate::run(&db, sets).await.expect("migrate template");
            db.close().await;
        }
        let renamed = admin
            .execute(format!("ALTER DATABASE {tmp} RENAME TO {name}").as_str())
            .await;
        if renamed.is_err() {
            // Another process won the race; its template is as good as ours.
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {tmp}").as_str())
                .await;
        }
    }
    let _ = admin.close().await;
    *done = Some(name.clone());
    name
}

impl TestDb {
    pub async fn new(backend: Backend, sets: &[&[Migration]]) -> TestDb {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("bala-test-{}", random_suffix()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}/bala.db", dir.display());
                let db = Db::connect(&url, &DbOptions::default())
                    .await
                    .expect("open sqlite");
                migrate::run(&db, sets).await.expect("migrate sqlite");
                TestDb {
                    db,
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let template = ensure_template(&admin_url, sets).await;
                let name = format!("bala_test_{}", random_suffix());
                let mut admin = AnyConnection::connect(&admin_url)
                    .await
                    .expect("connect admin");
                let mut attempt = 0;
                loop {
                    let r = admin
                        .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
                        .await;
                    match r {
                        Ok(_) => break,
                        // "source database is being accessed by other users": another
                        // clone is being made at this instant; try again shortly.
                        Err(e) if attempt < 50 => {
                            attempt += 1;
                            tracing::debug!("retrying template clone: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(e) => panic!("cannot clone the test template: {e}"),
                    }
                }
                let _ = admin.close().await;
                let url = with_database(&admin_url, &name);
                let db = Db::connect(
                    &url,
                    &DbOptions {
                        max_connections: 5,
                        ..Default::default()
                    },
                )
                .await
                .expect("connect test database");
                TestDb {
                    db,
                    url,
                    cleanup: Cleanup::PgDatabase { admin_url, name },
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; do the async work on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let mut admin = AnyConnection::connect(&admin_url).await.ok()?;
                        admin
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await
                            .ok()?;
                        admin.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// Drops test databases left behind by killed test runs (older than the current template's).
pub async fn drop_stale_test_databases(admin_url: &str) -> Result<usize, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let mut admin = AnyConnection::connect(admin_url).await?;
    let names: Vec<String> =
        sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE 'bala\\_test\\_%'")
            .fetch_all(&mut admin)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
    for n in &names {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)").as_str())
            .await?;
    }
    Ok(names.len())
}
