//! The store against both databases: migrations, the audit chain and its verification.

use bala_store::audit::{self, NewEntry, Problem};
use bala_store::migrate::MIGRATIONS;
use bala_store::testing::TestDb;
use bala_store::{Backend, Row};

/// Runs `statements` in one transaction and commits it.
async fn run_all(db: &bala_store::Db, statements: &[&str]) {
    let mut tx = db.begin().await.unwrap();
    for sql in statements {
        bala_store::sqlx::query(sql)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn audit_chain_detects_tampering(backend: Backend) {
    let t = TestDb::new(backend, &[MIGRATIONS]).await;
    let db = &t.db;
    for i in 0..5 {
        let mut e = NewEntry::new("person.read", "person", Some(format!("{i}")));
        e.actor = "nurse".into();
        audit::record(db, &[e]).await.unwrap();
    }
    let ok = audit::verify(db).await.unwrap();
    assert_eq!(ok.entries, 5);
    assert!(ok.problems.is_empty(), "{:?}", ok.problems);

    // The database itself refuses edits.
    let refused = bala_store::sqlx::query("UPDATE audit_log SET actor = 'x' WHERE seq = 2")
        .execute(db.reader())
        .await;
    assert!(refused.is_err());

    // Someone who goes around the triggers is still caught.
    let mut tx = db.begin().await.unwrap();
    match backend {
        Backend::Sqlite => {
            bala_store::sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(&mut *tx)
                .await
                .unwrap();
            bala_store::sqlx::query("DROP TRIGGER audit_log_no_delete")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            bala_store::sqlx::query("DROP TRIGGER audit_log_no_change ON audit_log")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    bala_store::sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        .execute(&mut *tx)
        .await
        .unwrap();
    bala_store::sqlx::query("DELETE FROM audit_log WHERE seq = 4")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let bad = audit::verify(db).await.unwrap();
    assert_eq!(bad.entries, 4);
    assert_eq!(
        bad.problems,
        vec![
            Problem::Edited { seq: 2 },
            Problem::Missing {
                from_seq: 4,
                to_seq: 4
            },
            Problem::BrokenLink { seq: 5 }
        ]
    );

    run_all(db, &["DELETE FROM audit_log WHERE seq = 5"]).await;
    let cut = audit::verify(db).await.unwrap();
    assert!(
        cut.problems.contains(&Problem::Truncated {
            last_seq: 3,
            head_seq: 5
        }),
        "{:?}",
        cut.problems
    );
}

async fn filters_and_pages(backend: Backend) {
    let t = TestDb::new(backend, &[MIGRATIONS]).await;
    let mut entries = Vec::new();
    for i in 0..30 {
        let mut e = NewEntry::new(
            if i % 2 == 0 {
                "person.read"
            } else {
                "person.update"
            },
            "person",
            Some(format!("{}", i % 3)),
        );
        e.actor = if i < 10 { "a".into() } else { "b".into() };
        entries.push(e);
    }
    audit::record(&t.db, &entries).await.unwrap();
    let f = audit::Filter {
        actor: Some("b".into()),
        action: Some("person.read".into()),
        ..Default::default()
    };
    let page1 = audit::list(&t.db, &f, None, 4).await.unwrap();
    assert_eq!(page1.len(), 4);
    assert!(page1.windows(2).all(|w| w[0].seq > w[1].seq));
    let page2 = audit::list(&t.db, &f, Some(page1.last().unwrap().seq), 100)
        .await
        .unwrap();
    assert_eq!(page1.len() + page2.len(), 10);
    let count: i64 = bala_store::sqlx::query("SELECT COUNT(*) FROM audit_log")
        .fetch_one(t.db.reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 30);
}

#[tokio::test]
async fn audit_chain_sqlite() {
    audit_chain_detects_tampering(Backend::Sqlite).await;
}
#[tokio::test]
async fn audit_chain_postgres() {
    audit_chain_detects_tampering(Backend::Postgres).await;
}
#[tokio::test]
async fn audit_filters_sqlite() {
    filters_and_pages(Backend::Sqlite).await;
}
#[tokio::test]
async fn audit_filters_postgres() {
    filters_and_pages(Backend::Postgres).await;
}

/// Bulk sessions (ADR 0013): rows with awkward text round-trip, statements and
/// reads see the session's own writes, nothing shows before commit, a dropped
/// session leaves nothing, and a duplicate key is reported as such.
async fn bulk_sessions(backend: Backend) {
    use bala_store::{Sql, Value};
    let t = TestDb::new(backend, &[MIGRATIONS]).await;
    let db = &t.db;
    run_all(
        db,
        &["CREATE TABLE bulk_t (k BIGINT PRIMARY KEY, name TEXT, x DOUBLE PRECISION)"],
    )
    .await;
    let awkward = "tab\there, new\nline, back\\slash, «Қазақ»";
    let rows: Vec<Vec<Value>> = (0..2_000i64)
        .map(|k| {
            vec![
                Value::from(k),
                if k % 7 == 0 {
                    Value::Text(None)
                } else {
                    Value::from(format!("{awkward} {k}"))
                },
                Value::from(k as f64 / 4.0),
            ]
        })
        .collect();
    let mut b = db.bulk().await.unwrap();
    assert_eq!(
        b.insert("bulk_t", &["k", "name", "x"], rows).await.unwrap(),
        2_000
    );
    let mut del = Sql::new("DELETE FROM bulk_t WHERE k >= ");
    del.push_arg(1_990i64);
    assert_eq!(b.execute(&del).await.unwrap(), 10);
    let mut q = Sql::new("SELECT k, name, x FROM bulk_t WHERE k = ");
    q.push_arg(8i64);
    let got = b.fetch(&q).await.unwrap();
    assert_eq!(
        got,
        vec![vec![
            Value::from(8),
            Value::from(format!("{awkward} 8")),
            Value::from(2.0)
        ]]
    );
    // Columns with one value for every row of a batch (bound once on SQLite,
    // appended to each COPY line on PostgreSQL), escapes included.
    let constant = bala_store::Batch::new(
        "bulk_t",
        &["k"],
        (5_000..5_003i64).map(|k| vec![Value::from(k)]).collect(),
    )
    .constant("name", awkward)
    .constant("x", 0.5);
    assert_eq!(b.insert_all(vec![constant]).await.unwrap(), 3);
    let mut q3 = Sql::new("SELECT k, name, x FROM bulk_t WHERE k >= ");
    q3.push_arg(5_000i64).push(" ORDER BY k");
    assert_eq!(
        b.fetch(&q3).await.unwrap(),
        (5_000..5_003i64)
            .map(|k| vec![Value::from(k), Value::from(awkward), Value::from(0.5)])
            .collect::<Vec<_>>()
    );
    let mut tidy = Sql::new("DELETE FROM bulk_t WHERE k >= ");
    tidy.push_arg(5_000i64);
    assert_eq!(b.execute(&tidy).await.unwrap(), 3);
    let outside: i64 = bala_store::sqlx::query("SELECT COUNT(*) FROM bulk_t")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(outside, 0, "nothing is visible before commit");
    // A table never analysed is analysed (PostgreSQL; SQLite has nothing to do).
    let postgres = backend == Backend::Postgres;
    assert_eq!(b.analyze("bulk_t").await.unwrap(), postgres);
    // Statistics just taken are fresh: not sampled again.
    assert!(!b.analyze("bulk_t").await.unwrap());
    b.commit().await.unwrap();
    // The fast reader sees the same rows the session wrote.
    assert_eq!(db.rows(&q).await.unwrap(), got);
    let mut many = Sql::new("SELECT k, name FROM bulk_t WHERE k IN (");
    many.push_list([7i64, 9]).push(") ORDER BY k");
    assert_eq!(
        db.rows(&many).await.unwrap(),
        vec![
            vec![Value::from(7), Value::Text(None)],
            vec![Value::from(9), Value::from(format!("{awkward} 9"))]
        ]
    );
    // Decoded as read (native connections on PostgreSQL): 64-, 32- and 16-bit
    // integers, a boolean as 0/1, text and NULL, the decoder dropping the rows
    // it refuses.
    let mut typed = Sql::new(
        "SELECT k, CAST(k AS INTEGER) AS k32, CAST(k AS SMALLINT) AS k16, k > 8 AS big, name \
         FROM bulk_t WHERE k IN (",
    );
    typed.push_list([6i64, 7, 9]).push(") ORDER BY k");
    let decoded = db
        .rows_as(&typed, |r| {
            (r.int(0)? != 6).then(|| {
                let ints = (r.int(0), r.int(1), r.int(2), r.int(3));
                (ints, r.text(4).map(str::to_string))
            })
        })
        .await
        .unwrap();
    assert_eq!(
        decoded,
        vec![
            ((Some(7), Some(7), Some(7), Some(0)), None),
            (
                (Some(9), Some(9), Some(9), Some(1)),
                Some(format!("{awkward} 9"))
            )
        ]
    );
    let n: i64 = bala_store::sqlx::query("SELECT COUNT(*) FROM bulk_t")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1_990);

    // A dropped session rolls back; a duplicate key says so.
    let mut b = db.bulk().await.unwrap();
    b.insert(
        "bulk_t",
        &["k", "name", "x"],
        vec![vec![Value::from(5_000), Value::from("x"), Value::from(0.0)]],
    )
    .await
    .unwrap();
    drop(b);
    let mut b = db.bulk().await.unwrap();
    let err = b
        .insert(
            "bulk_t",
            &["k", "name", "x"],
            vec![vec![Value::from(1), Value::from("dup"), Value::from(0.0)]],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, bala_store::StoreError::Bulk { unique: true, .. }),
        "{err}"
    );
    drop(b);
    let n: i64 = bala_store::sqlx::query("SELECT COUNT(*) FROM bulk_t")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1_990);
    // Audit entries appended in a session chain on from the head and verify.
    audit::record(db, &[NewEntry::new("before", "t", None)])
        .await
        .unwrap();
    let mut b = db.bulk().await.unwrap();
    let entries: Vec<NewEntry> = (0..3)
        .map(|i| NewEntry::new("bulk.write", "t", Some(i.to_string())))
        .collect();
    audit::append_bulk(&mut b, &entries).await.unwrap();
    // … and so do entries written in parts, each part with its own rows.
    let mut chain = audit::BulkChain::reserve(&mut b, 4).await.unwrap();
    for part in entries[..2].chunks(1).chain([&entries[..2]]) {
        let batch = chain.batch(part).unwrap();
        b.insert_all(vec![batch]).await.unwrap();
    }
    assert!(chain.batch(&entries[..1]).is_err(), "a fifth of four");
    chain.close(&mut b).await.unwrap();
    b.commit().await.unwrap();
    // A chain closed with reserved entries unwritten is refused.
    let mut b = db.bulk().await.unwrap();
    let mut chain = audit::BulkChain::reserve(&mut b, 2).await.unwrap();
    let batch = chain.batch(&entries[..1]).unwrap();
    b.insert_all(vec![batch]).await.unwrap();
    assert!(chain.close(&mut b).await.is_err());
    drop(b);
    audit::record(db, &[NewEntry::new("after", "t", None)])
        .await
        .unwrap();
    let report = audit::verify(db).await.unwrap();
    assert_eq!(report.entries, 9);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The ordinary write path works again once the session is gone.
    run_all(db, &["DELETE FROM bulk_t WHERE k = 0"]).await;
    // Vacuuming after a load runs outside any transaction and keeps the rows.
    db.vacuum(&["bulk_t", "audit_log"]).await.unwrap();
    let left: i64 = bala_store::sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(left, 9);
}

/// A row referring to nothing: a session whose references the database
/// checks refuses it on both databases; one that leaves them to its caller
/// (`References::Caller`) stops SQLite's checks only.
async fn references_checked_by(backend: Backend) {
    use bala_store::{References, Value};
    let t = TestDb::new(backend, &[MIGRATIONS]).await;
    let db = &t.db;
    run_all(
        db,
        &[
            "CREATE TABLE ref_parent (k BIGINT PRIMARY KEY)",
            "CREATE TABLE ref_child (k BIGINT PRIMARY KEY, parent BIGINT NOT NULL REFERENCES ref_parent (k))",
        ],
    )
    .await;
    let write = |refs| async move {
        let mut b = db.bulk_with(refs).await?;
        b.insert(
            "ref_child",
            &["k", "parent"],
            vec![vec![Value::from(1), Value::from(404)]],
        )
        .await?;
        b.commit().await
    };
    assert!(write(References::Database).await.is_err());
    let stored = write(References::Caller).await;
    assert_eq!(stored.is_ok(), backend == Backend::Sqlite, "{stored:?}");
}

#[tokio::test]
async fn references_sqlite() {
    references_checked_by(Backend::Sqlite).await;
}
#[tokio::test]
async fn references_postgres() {
    references_checked_by(Backend::Postgres).await;
}

#[tokio::test]
async fn bulk_sqlite() {
    bulk_sessions(Backend::Sqlite).await;
}
#[tokio::test]
async fn bulk_postgres() {
    bulk_sessions(Backend::Postgres).await;
}

/// The indexes and constraints of a table, as PostgreSQL would recreate them
/// (SQLite: its schema text), sorted.
async fn schema_of(db: &bala_store::Db, table: &str) -> Vec<String> {
    let sql = match db.backend() {
        Backend::Postgres => {
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = to_regclass($1)
             UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = to_regclass($1)"
        }
        Backend::Sqlite => "SELECT COALESCE(sql, name) FROM sqlite_master WHERE tbl_name = $1",
    };
    let mut out: Vec<String> = bala_store::sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(db.reader())
        .await
        .unwrap();
    out.sort();
    out
}

/// A load at least as large as its table drops the table's indexes and
/// constraints on PostgreSQL and recreates them, identical, at the commit; a
/// row that breaks one of them fails the commit and leaves nothing behind; a
/// load smaller than the table keeps them. SQLite keeps them always.
async fn deferred_indexes(backend: Backend) {
    use bala_store::Value;
    let t = TestDb::new(backend, &[MIGRATIONS]).await;
    let db = &t.db;
    run_all(
        db,
        &[
            "CREATE TABLE def_parent (code TEXT PRIMARY KEY)",
            "CREATE TABLE def_t (k BIGINT PRIMARY KEY, parent TEXT NOT NULL REFERENCES def_parent (code),
             ext TEXT UNIQUE, n BIGINT)",
            "CREATE INDEX def_t_parent ON def_t (parent, n)",
            "CREATE INDEX def_t_some ON def_t (n) WHERE n > 5",
            "INSERT INTO def_parent (code) VALUES ('a'), ('b')",
        ],
    )
    .await;
    let before = schema_of(db, "def_t").await;
    let pg = backend == Backend::Postgres;
    if pg {
        assert_eq!(before.len(), 7, "{before:?}");
    }
    let rows = |from: i64, to: i64, parent: &str| -> Vec<Vec<Value>> {
        (from..to)
            .map(|k| {
                vec![
                    Value::from(k),
                    Value::from(parent),
                    Value::from(format!("e{k}")),
                    Value::from(k % 10),
                ]
            })
            .collect()
    };
    let cols = ["k", "parent", "ext", "n"];
    let count = || async {
        bala_store::sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM def_t")
            .fetch_one(db.reader())
            .await
            .unwrap()
    };

    // An initial load: deferred on PostgreSQL, rebuilt at the commit.
    let mut b = db.bulk().await.unwrap();
    assert_eq!(b.should_defer_indexes("def_t", 1_000).await.unwrap(), pg);
    // Empty: emptied again, to be loaded frozen.
    assert_eq!(b.defer_indexes("def_t").await.unwrap(), pg);
    if pg {
        let left = b
            .fetch(&bala_store::Sql::new(
                "SELECT COUNT(*) FROM pg_index WHERE indrelid = 'def_t'::regclass",
            ))
            .await
            .unwrap();
        assert_eq!(left[0][0].int(), Some(0));
    }
    b.insert("def_t", &cols, rows(0, 1_000, "a")).await.unwrap();
    b.commit().await.unwrap();
    assert_eq!(count().await, 1_000);
    assert_eq!(schema_of(db, "def_t").await, before);
    if pg {
        // The table was empty, so its rows went in frozen: an index-only
        // scan finds every page all-visible without a vacuum.
        assert_eq!(
            heap_fetches(db, "SELECT k FROM def_t WHERE k >= 0").await,
            0
        );
    }

    // A load that breaks a constraint while deferred fails at the commit, and
    // the table keeps its rows and its indexes. (Each is larger than the one
    // before: a rebuild that failed still left PostgreSQL's row estimate
    // raised, as index builds update it in place.)
    for bad in [rows(1_000, 2_500, "zz"), {
        let mut r = rows(1_000, 4_000, "b");
        r[7][2] = Value::from("e3");
        r
    }] {
        let mut b = db.bulk().await.unwrap();
        assert_eq!(
            b.should_defer_indexes("def_t", bad.len()).await.unwrap(),
            pg
        );
        assert!(!b.defer_indexes("def_t").await.unwrap(), "not empty");
        let written = b.insert("def_t", &cols, bad).await;
        let committed = match written {
            Ok(_) => b.commit().await,
            Err(e) => Err(e),
        };
        assert!(committed.is_err(), "a broken constraint was accepted");
        assert_eq!(count().await, 1_000);
        assert_eq!(schema_of(db, "def_t").await, before);
    }

    // A load smaller than the table keeps its indexes (and checks as it goes).
    let mut b = db.bulk().await.unwrap();
    assert!(!b.should_defer_indexes("def_t", 10).await.unwrap());
    b.insert("def_t", &cols, rows(5_000, 5_010, "b"))
        .await
        .unwrap();
    b.commit().await.unwrap();
    assert_eq!(count().await, 1_010);
    assert_eq!(schema_of(db, "def_t").await, before);
}

/// How many rows an index-only scan of `query` read from the table
/// (PostgreSQL), with its statistics fresh and every other plan disallowed.
async fn heap_fetches(db: &bala_store::Db, query: &str) -> i64 {
    use bala_store::sqlx::Executor;
    let mut tx = db.reader().begin().await.unwrap();
    for set in [
        "ANALYZE def_t",
        "SET LOCAL enable_seqscan = off",
        "SET LOCAL enable_bitmapscan = off",
    ] {
        tx.execute(set).await.unwrap();
    }
    let plan: Vec<String> = bala_store::sqlx::query_scalar(&format!("EXPLAIN ANALYZE {query}"))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let fetches = plan
        .iter()
        .find_map(|l| l.trim().strip_prefix("Heap Fetches: "))
        .unwrap_or_else(|| panic!("no index-only scan: {plan:?}"));
    fetches.parse().unwrap()
}

#[tokio::test]
async fn deferred_indexes_sqlite() {
    deferred_indexes(Backend::Sqlite).await;
}
#[tokio::test]
async fn deferred_indexes_postgres() {
    deferred_indexes(Backend::Postgres).await;
}

/// The journal mode as a new connection of `db` sees it.
async fn journal_mode(db: &bala_store::Db) -> String {
    bala_store::sqlx::query_scalar::<_, String>("PRAGMA journal_mode")
        .fetch_one(db.reader())
        .await
        .unwrap()
}

/// ADR 0031: a handle with exclusive loads writes its SQLite bulk sessions
/// with a rollback journal when nothing else has the file open, and puts the
/// file back into WAL mode at the commit; beside another open connection it
/// loads in WAL mode as usual; a session dropped unfinished leaves nothing,
/// and the handle goes on working.
#[tokio::test]
async fn exclusive_loads_sqlite() {
    use bala_store::{Sql, Value};
    let t = TestDb::new(Backend::Sqlite, &[MIGRATIONS]).await;
    run_all(&t.db, &["CREATE TABLE ex (k BIGINT PRIMARY KEY, v TEXT)"]).await;
    let db = t.db.clone().with_exclusive_loads();
    let count = || async {
        bala_store::sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ex")
            .fetch_one(t.db.reader())
            .await
            .unwrap()
    };
    let rows = |from: i64| {
        (from..from + 3)
            .map(|k| vec![Value::from(k), Value::from("қазақша")])
            .collect::<Vec<_>>()
    };

    // Alone with the file (the handle's own idle connections are closed).
    assert_eq!(journal_mode(&db).await, "wal");
    let mut b = db.bulk().await.unwrap();
    assert!(b.is_exclusive());
    let mode = b.fetch(&Sql::new("PRAGMA journal_mode")).await.unwrap();
    assert_eq!(mode[0][0].text(), Some("delete"));
    b.insert("ex", &["k", "v"], rows(1)).await.unwrap();
    b.commit().await.unwrap();
    assert_eq!(count().await, 3);
    assert_eq!(journal_mode(&db).await, "wal");

    // Unfinished: rolled back, and the handle writes as before.
    let mut b = db.bulk().await.unwrap();
    assert!(b.is_exclusive());
    b.insert("ex", &["k", "v"], rows(10)).await.unwrap();
    drop(b);
    assert_eq!(count().await, 3);
    run_all(&db, &["INSERT INTO ex (k, v) VALUES (100, 'after')"]).await;
    assert_eq!(count().await, 4);
    assert_eq!(journal_mode(&db).await, "wal");

    // Beside a connection in use elsewhere: an ordinary WAL session.
    let mut held = t.db.reader().acquire().await.unwrap();
    bala_store::sqlx::query("SELECT COUNT(*) FROM ex")
        .fetch_one(&mut *held)
        .await
        .unwrap();
    let mut b = db.bulk().await.unwrap();
    assert!(!b.is_exclusive());
    b.insert("ex", &["k", "v"], rows(20)).await.unwrap();
    b.commit().await.unwrap();
    drop(held);
    assert_eq!(count().await, 7);
    assert_eq!(journal_mode(&db).await, "wal");
}
