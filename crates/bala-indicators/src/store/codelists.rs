//! Code lists: which Bala code an external system's code stands for.

use super::IndError;
use crate::exchange::{CodeKind, CodeMap, CodeMapping};
use bala_core::ValidationErrors;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, AnyConnection, Row};
use bala_store::{time_fmt, Db};

fn kind_code(k: CodeKind) -> &'static str {
    match k {
        CodeKind::Indicator => "indicator",
        CodeKind::Area => "area",
        CodeKind::Disaggregation => "disaggregation",
    }
}

pub fn parse_kind(s: &str) -> Option<CodeKind> {
    match s.trim() {
        "indicator" => Some(CodeKind::Indicator),
        "area" => Some(CodeKind::Area),
        "disaggregation" => Some(CodeKind::Disaggregation),
        _ => None,
    }
}

/// A system name: letters, digits, `-`, `_`, `.`; at most 40 characters.
pub fn check_system(system: &str) -> Result<(), ValidationErrors> {
    let ok = !system.is_empty()
        && system.len() <= 40
        && system
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ValidationErrors::single(bala_core::FieldError::new(
            "system",
            crate::exchange::codes::BAD_CODE,
            "a system name uses letters, digits, '-', '_' and '.' (at most 40)",
        )))
    }
}

pub(crate) async fn insert_in(
    conn: &mut AnyConnection,
    rows: &[CodeMapping],
    actor: &str,
) -> Result<(), sqlx::Error> {
    let now = time_fmt::now();
    for m in rows {
        sqlx::query(
            "INSERT INTO ind_code_mappings (system, kind, external, bala, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (system, kind, external) DO UPDATE SET bala = $4, updated_at = $5, updated_by = $6",
        )
        .bind(&m.system)
        .bind(kind_code(m.kind))
        .bind(m.external.trim())
        .bind(m.bala.trim())
        .bind(&now)
        .bind(actor)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every mapping, optionally of one system, sorted.
pub async fn list(db: &Db, system: Option<&str>) -> Result<Vec<CodeMapping>, IndError> {
    let rows = sqlx::query(
        "SELECT system, kind, external, bala FROM ind_code_mappings ORDER BY system, kind, external",
    )
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let sys: String = r.try_get("system")?;
        if system.is_some_and(|s| s != sys) {
            continue;
        }
        let kind: String = r.try_get("kind")?;
        out.push(CodeMapping {
            system: sys,
            kind: parse_kind(&kind).ok_or_else(|| {
                IndError::Store(bala_store::StoreError::Other(format!(
                    "bad code kind {kind}"
                )))
            })?,
            external: r.try_get("external")?,
            bala: r.try_get("bala")?,
        });
    }
    Ok(out)
}

/// The names of the systems that have mappings.
pub async fn systems(db: &Db) -> Result<Vec<String>, IndError> {
    Ok(
        sqlx::query("SELECT DISTINCT system FROM ind_code_mappings ORDER BY system")
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?,
    )
}

/// The code map of one system (empty if it has no mappings).
pub async fn code_map(db: &Db, system: &str) -> Result<CodeMap, IndError> {
    let rows = list(db, Some(system)).await?;
    Ok(CodeMap::from_mappings(system, &rows)?)
}

/// Adds or changes one mapping after checking it fits with the rest of its system.
pub async fn put(db: &Db, actor: &Actor, m: &CodeMapping) -> Result<(), IndError> {
    check_system(&m.system)?;
    let mut all = list(db, Some(&m.system)).await?;
    all.retain(|x| !(x.kind == m.kind && x.external.trim() == m.external.trim()));
    all.push(m.clone());
    // The whole system must still form a valid map (no conflicting rows).
    CodeMap::from_mappings(&m.system, &all).map_err(|e| {
        ValidationErrors(
            e.0.into_iter()
                .map(|f| bala_core::FieldError::new("bala", f.code, f.detail))
                .collect(),
        )
    })?;
    let mut tx = db.begin().await?;
    insert_in(&mut tx, std::slice::from_ref(m), &actor.name).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(
            actor,
            "indicators.codelist.put",
            "ind_code_mapping",
            format!("{}/{}/{}", m.system, kind_code(m.kind), m.external),
        )
        .with_details(serde_json::json!({"bala": m.bala})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one mapping; `NotFound` when there is none.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    system: &str,
    kind: CodeKind,
    external: &str,
) -> Result<(), IndError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "DELETE FROM ind_code_mappings WHERE system = $1 AND kind = $2 AND external = $3",
    )
    .bind(system)
    .bind(kind_code(kind))
    .bind(external)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(IndError::NotFound);
    }
    audit::append(
        &mut tx,
        &NewEntry::by(
            actor,
            "indicators.codelist.delete",
            "ind_code_mapping",
            format!("{system}/{}/{external}", kind_code(kind)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub fn kind_name(k: CodeKind) -> &'static str {
    kind_code(k)
}
