//! The audit trail: append, browse, verify.
//!
//! Every entry stores the hash of the entry before it, and its own hash covers
//! that and all its fields. Editing an entry breaks its own hash; deleting one
//! breaks the next entry's link (and leaves a gap in `seq`); cutting entries off
//! the end leaves the chain head pointing past the last entry. [`verify`] names
//! each of these.

use crate::db::{Db, Tx};
use crate::error::StoreError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// What is being recorded. `details` must not repeat personal data that is not
/// needed to understand the action (names of fields changed, counts — not values).
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// Who is acting, as the audit trail records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    /// The system itself (migrations, demo loader, command line without a user).
    pub fn system(what: &str) -> Actor {
        Actor {
            id: None,
            name: format!("system:{what}"),
            ip: None,
        }
    }
}

impl NewEntry {
    /// An entry for `actor` doing `action` on one record.
    pub fn by(actor: &Actor, action: &str, record_type: &str, record_id: impl ToString) -> Self {
        Self {
            actor_id: actor.id,
            actor: actor.name.clone(),
            ip: actor.ip.clone(),
            ..Self::new(action, record_type, Some(record_id.to_string()))
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    pub fn new(action: &str, record_type: &str, record_id: impl Into<Option<String>>) -> Self {
        Self {
            action: action.into(),
            record_type: record_type.into(),
            record_id: record_id.into(),
            details: serde_json::Value::Object(Default::default()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub ip: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The entry `new` as appended at `seq` after the entry hashed `prev_hash`.
    fn chained(seq: i64, at: String, prev_hash: String, new: &NewEntry) -> Entry {
        let mut e = Entry {
            seq,
            at,
            actor_id: new.actor_id,
            actor: new.actor.clone(),
            action: new.action.clone(),
            record_type: new.record_type.clone(),
            record_id: new.record_id.clone(),
            ip: new.ip.clone(),
            details: new.details.to_string(),
            prev_hash,
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }
}

fn entry_hash(e: &Entry) -> String {
    // A JSON array is an unambiguous encoding: no field can bleed into the next.
    let material = serde_json::json!([
        e.prev_hash,
        e.seq,
        e.at,
        e.actor_id,
        e.actor,
        e.action,
        e.record_type,
        e.record_id,
        e.ip,
        e.details
    ]);
    hex::encode(Sha256::digest(material.to_string().as_bytes()))
}

/// Appends one entry inside the caller's transaction, so the entry exists if and
/// only if the change it describes was committed.
pub async fn append(conn: &mut AnyConnection, new: &NewEntry) -> Result<i64, StoreError> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let e = Entry::chained(
        head.try_get(0)?,
        crate::time_fmt::now(),
        head.try_get(1)?,
        new,
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, record_type, record_id, ip, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(e.seq)
    .bind(&e.at)
    .bind(e.actor_id)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.record_type)
    .bind(&e.record_id)
    .bind(&e.ip)
    .bind(&e.details)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&e.hash)
        .execute(&mut *conn)
        .await?;
    Ok(e.seq)
}

/// Appends entries inside a bulk session (ADR 0013), so they are committed
/// with the rows they describe: the head moves once by their number, the chain
/// is hashed here, and the rows go in through the session's fast path.
pub async fn append_bulk(bulk: &mut crate::Bulk, entries: &[NewEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut chain = BulkChain::reserve(bulk, entries.len()).await?;
    let batch = chain.batch(entries)?;
    bulk.insert_all(vec![batch]).await?;
    chain.close(bulk).await
}

/// Entries a bulk session appends in parts, each part written with the rows
/// it describes (an import writes a slice of children's doses with their
/// entries, hashing the next slice's while the database writes this one). The
/// head moves once, by the number reserved; each part is chained on the one
/// before; [`BulkChain::close`] stores the last hash and refuses to leave a
/// reserved number unused, which [`verify`] would report as a gap.
pub struct BulkChain {
    /// The seq of the next entry.
    next: i64,
    /// The seq of the last entry reserved.
    last: i64,
    at: String,
    prev: String,
}

const AUDIT_COLUMNS: [&str; 11] = [
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "record_type",
    "record_id",
    "ip",
    "details",
    "prev_hash",
    "hash",
];

impl BulkChain {
    /// Reserves `n` entries at the head of the trail, inside the session.
    pub async fn reserve(bulk: &mut crate::Bulk, n: usize) -> Result<BulkChain, StoreError> {
        let mut bump = crate::Sql::new("UPDATE audit_head SET seq = seq + ");
        bump.push_arg(n as i64)
            .push(" WHERE id = 1 RETURNING seq, hash");
        let head = bulk.fetch(&bump).await?;
        let (Some(last), Some(hash)) = (
            head.first().and_then(|r| r[0].int()),
            head.first().and_then(|r| r[1].text().map(str::to_string)),
        ) else {
            return Err(StoreError::Other("the audit head row is missing".into()));
        };
        Ok(BulkChain {
            next: last - n as i64 + 1,
            last,
            at: crate::time_fmt::now(),
            prev: hash,
        })
    }

    /// The `audit_log` rows of the next `entries`, chained on those before
    /// (pure: the caller writes them).
    pub fn batch(&mut self, entries: &[NewEntry]) -> Result<crate::Batch, StoreError> {
        if self.next + entries.len() as i64 - 1 > self.last {
            return Err(StoreError::Other(format!(
                "{} audit entries more than were reserved",
                self.next + entries.len() as i64 - 1 - self.last
            )));
        }
        let mut rows = Vec::with_capacity(entries.len());
        for new in entries {
            let prev = std::mem::take(&mut self.prev);
            let e = Entry::chained(self.next, self.at.clone(), prev, new);
            self.next += 1;
            self.prev = e.hash.clone();
            rows.push(vec![
                crate::Value::from(e.seq),
                crate::Value::from(e.at),
                crate::Value::Int(e.actor_id),
                crate::Value::from(e.actor),
                crate::Value::from(e.action),
                crate::Value::from(e.record_type),
                crate::Value::Text(e.record_id),
                crate::Value::Text(e.ip),
                crate::Value::from(e.details),
                crate::Value::from(e.prev_hash),
                crate::Value::from(e.hash),
            ]);
        }
        Ok(crate::Batch::new("audit_log", &AUDIT_COLUMNS, rows))
    }

    /// Stores the last entry's hash as the head's; fails if fewer entries
    /// were chained than reserved.
    pub async fn close(self, bulk: &mut crate::Bulk) -> Result<(), StoreError> {
        if self.next != self.last + 1 {
            return Err(StoreError::Other(format!(
                "{} reserved audit entries were not written",
                self.last + 1 - self.next
            )));
        }
        let mut set = crate::Sql::new("UPDATE audit_head SET hash = ");
        set.push_arg(self.prev).push(" WHERE id = 1");
        bulk.execute(&set).await?;
        Ok(())
    }
}

/// Appends entries in their own transaction (for reads, which change nothing else).
pub async fn record(db: &Db, entries: &[NewEntry]) -> Result<(), StoreError> {
    let mut tx: Tx = db.begin().await?;
    for e in entries {
        append(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn from_row(r: &AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        record_type: r.try_get("record_type")?,
        record_id: r.try_get("record_id")?,
        ip: r.try_get("ip")?,
        details: r.try_get("details")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Filters for browsing; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    /// Inclusive lower bound, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Inclusive upper bound, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// Newest first; `before_seq` pages backwards through the trail.
pub async fn list(
    db: &Db,
    f: &Filter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let to_bound = f.to.as_ref().map(|d| format!("{d}T99"));
    let rows = sqlx::query(
        "SELECT * FROM audit_log
         WHERE ($1 IS NULL OR actor = $1)
           AND ($2 IS NULL OR action = $2)
           AND ($3 IS NULL OR record_type = $3)
           AND ($4 IS NULL OR record_id = $4)
           AND ($5 IS NULL OR at >= $5)
           AND ($6 IS NULL OR at < $6)
           AND ($7 IS NULL OR seq < $7)
         ORDER BY seq DESC LIMIT $8",
    )
    .bind(&f.actor)
    .bind(&f.action)
    .bind(&f.record_type)
    .bind(&f.record_id)
    .bind(&f.from)
    .bind(&to_bound)
    .bind(before_seq)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Problem {
    /// The entry's fields do not match its hash: it was edited.
    Edited { seq: i64 },
    /// Entries with these numbers are missing: deleted.
    Missing { from_seq: i64, to_seq: i64 },
    /// The entry does not link to the entry before it: something was removed or
    /// inserted before it.
    BrokenLink { seq: i64 },
    /// The chain head says there were more entries than there are: the end was cut.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Edited { seq } => write!(
                f,
                "entry {seq} was edited (its hash does not match its contents)"
            ),
            Problem::Missing { from_seq, to_seq } if from_seq == to_seq => {
                write!(f, "entry {from_seq} was deleted")
            }
            Problem::Missing { from_seq, to_seq } => {
                write!(f, "entries {from_seq}–{to_seq} were deleted")
            }
            Problem::BrokenLink { seq } => {
                write!(f, "entry {seq} does not link to the entry before it")
            }
            Problem::Truncated { last_seq, head_seq } => {
                write!(
                    f,
                    "entries {}–{head_seq} were cut off the end",
                    last_seq + 1
                )
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub entries: i64,
    pub problems: Vec<Problem>,
}

/// Walks the whole chain in pages and reports every break.
pub async fn verify(db: &Db) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut prev_hash = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut after = 0i64;
    loop {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000")
            .bind(after)
            .fetch_all(db.reader())
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let e = from_row(r)?;
            report.entries += 1;
            if e.seq != expected_seq {
                report.problems.push(Problem::Missing {
                    from_seq: expected_seq,
                    to_seq: e.seq - 1,
                });
            }
            if entry_hash(&e) != e.hash {
                report.problems.push(Problem::Edited { seq: e.seq });
            } else if e.prev_hash != prev_hash {
                report.problems.push(Problem::BrokenLink { seq: e.seq });
            }
            prev_hash = e.hash;
            expected_seq = e.seq + 1;
            after = e.seq;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.reader())
        .await?;
    let head_seq: i64 = head.try_get(0)?;
    let head_hash: String = head.try_get(1)?;
    if head_seq > after {
        report.problems.push(Problem::Truncated {
            last_seq: after,
            head_seq,
        });
    } else if head_hash != prev_hash && report.problems.is_empty() {
        report.problems.push(Problem::BrokenLink { seq: after });
    }
    Ok(report)
}
