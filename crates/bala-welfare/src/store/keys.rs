//! Key rotation over the stored ciphertexts: which keys are in use, and
//! re-sealing every value with the current key (`bala keys rotate`).

use super::Result;
use crate::crypt::{key_id_of, KeyRing};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx;
use bala_store::{Db, Row};
use std::collections::BTreeMap;

/// Every sealed text column: (table, column, the field name sealed with).
pub const SEALED_COLUMNS: &[(&str, &str, &str)] = &[
    ("welfare_cases", "summary_enc", "case.summary"),
    ("welfare_case_events", "note_enc", "event.note"),
    ("welfare_break_glass", "reason_enc", "break_glass.reason"),
    ("welfare_plan_items", "goal_enc", "plan.goal"),
    ("welfare_visits", "outcome_enc", "visit.outcome"),
    ("welfare_consents", "given_by_enc", "consent.given_by"),
    ("welfare_documents", "filename_enc", "document.filename"),
    ("welfare_screenings", "answers_enc", "screening.answers"),
    ("welfare_concerns", "narrative_enc", "concern.narrative"),
    (
        "welfare_referrals",
        "decline_reason_enc",
        "referral.decline_reason",
    ),
    ("welfare_referrals", "note_enc", "referral.note"),
    (
        "welfare_alerts",
        "dismiss_reason_enc",
        "alert.dismiss_reason",
    ),
];

/// How many stored values each key id seals.
pub async fn usage(db: &Db) -> Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for (table, column, _) in SEALED_COLUMNS {
        let sql = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL");
        for r in sqlx::query(&sql).fetch_all(db.reader()).await? {
            let v: String = r.try_get(0)?;
            let id = key_id_of(&v).unwrap_or("unreadable").to_string();
            *out.entry(id).or_insert(0) += 1;
        }
    }
    for r in sqlx::query("SELECT key_id, COUNT(*) FROM welfare_documents GROUP BY key_id")
        .fetch_all(db.reader())
        .await?
    {
        *out.entry(r.try_get::<String, _>(0)?).or_insert(0) += r.try_get::<i64, _>(1)?;
    }
    Ok(out)
}

/// Re-seals every value not sealed with the ring's current key, in one
/// transaction (all or nothing); returns how many values changed.
pub async fn reseal_all(db: &Db, ring: &KeyRing) -> Result<usize> {
    let mut changed = 0;
    let mut tx = db.begin().await?;
    for (table, column, field) in SEALED_COLUMNS {
        let sql = format!("SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL");
        let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
        let update = format!("UPDATE {table} SET {column} = $1 WHERE id = $2");
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let v: String = r.try_get(1)?;
            if let Some(new) = ring.reseal(field, &v)? {
                sqlx::query(&update)
                    .bind(new)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                changed += 1;
            }
        }
    }
    let current = ring.current().id().to_string();
    let docs =
        sqlx::query("SELECT id, case_id, key_id, data FROM welfare_documents WHERE key_id <> $1")
            .bind(&current)
            .fetch_all(&mut *tx)
            .await?;
    for r in docs {
        let id: i64 = r.try_get(0)?;
        let case_id: i64 = r.try_get(1)?;
        let key_id: String = r.try_get(2)?;
        let data: Vec<u8> = r.try_get(3)?;
        let field = format!("document.data:{case_id}");
        let plain = ring.open_bytes(&field, &key_id, &data)?;
        let (new_id, sealed) = ring.seal_bytes(&field, &plain);
        sqlx::query("UPDATE welfare_documents SET key_id = $1, data = $2 WHERE id = $3")
            .bind(new_id)
            .bind(sealed)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        changed += 1;
    }
    audit::append(
        &mut tx,
        &NewEntry::new("welfare.keys.rotate", "encryption_key", Some(current))
            .with_details(serde_json::json!({"values_resealed": changed}))
            .by_system(),
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}

trait BySystem {
    fn by_system(self) -> Self;
}
impl BySystem for NewEntry {
    fn by_system(mut self) -> Self {
        let a = Actor::system("keys");
        self.actor = a.name;
        self
    }
}
