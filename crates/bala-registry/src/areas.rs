//! The area tree.
//!
//! Areas are keyed by KATO code and linked to their parent; `area_closure` holds
//! every ancestor–descendant pair so that scope checks and "everything inside X"
//! are single indexed lookups however deep the tree. The closure is rebuilt from
//! the parent links whenever areas are loaded, so it can never drift from them.

use crate::RegistryError;
use bala_core::{AreaCode, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, Row};
use bala_store::Db;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: i64,
    pub kind: String,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
    pub stat_code: Option<String>,
    pub iso_code: Option<String>,
    pub map_code: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub split_from: Option<String>,
    /// False for codes that follow the KATO pattern but were not checked against
    /// the official classifier (see `data/README.md`).
    pub code_verified: bool,
}

impl Area {
    /// The name in a UI language (`kk`, `ru`, anything else → English).
    pub fn name(&self, lang: &str) -> &str {
        match lang {
            "kk" => &self.name_kk,
            "ru" => &self.name_ru,
            _ => &self.name_en,
        }
    }

    /// Whether the area exists on `date` (ISO text).
    pub fn is_valid_on(&self, date: &str) -> bool {
        self.valid_from.as_deref().is_none_or(|f| f <= date)
            && self.valid_to.as_deref().is_none_or(|t| date < t)
    }
}

const KINDS: &[&str] = &[
    "republic",
    "region",
    "city_republican",
    "district",
    "city_district",
    "city_regional",
    "rural_district",
    "settlement",
];

/// The areas that ship with Bala.
pub const REFERENCE_CSV: &str = include_str!("../data/areas.csv");

#[derive(Debug, Deserialize)]
struct CsvRow {
    code: String,
    parent: String,
    level: i64,
    kind: String,
    name_kk: String,
    name_ru: String,
    name_en: String,
    stat_code: String,
    iso_code: String,
    map_code: String,
    valid_from: String,
    valid_to: String,
    split_from: String,
    code_verified: i64,
}

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses an areas file (the columns of `data/areas.csv`), naming the row and
/// field of every problem. Parents must come before their children or already exist.
pub fn parse_csv(text: &str, existing: &[String]) -> Result<Vec<Area>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut out = Vec::new();
    let mut known: std::collections::HashSet<String> = existing.iter().cloned().collect();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    for (i, rec) in rdr.deserialize::<CsvRow>().enumerate() {
        let line = i + 2;
        let r = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("row {line}"), "err-csv-row", e.to_string());
                continue;
            }
        };
        let field = |f: &str| format!("row {line}: {f}");
        if AreaCode::parse(&r.code).is_err() {
            errors.push(
                field("code"),
                "err-kato",
                format!("'{}' is not a 9-digit KATO code", r.code),
            );
        }
        let parent = non_empty(r.parent.clone());
        match &parent {
            Some(p) if !known.contains(p) => errors.push(
                field("parent"),
                "err-area-parent",
                format!("parent '{p}' is not defined above"),
            ),
            None if r.level != 0 => errors.push(
                field("parent"),
                "err-required",
                "only the root has no parent",
            ),
            _ => {}
        }
        if !KINDS.contains(&r.kind.as_str()) {
            errors.push(
                field("kind"),
                "err-area-kind",
                format!("'{}' is not one of {}", r.kind, KINDS.join(", ")),
            );
        }
        for (f, v) in [
            ("name_kk", &r.name_kk),
            ("name_ru", &r.name_ru),
            ("name_en", &r.name_en),
        ] {
            if v.trim().is_empty() {
                errors.push(
                    field(f),
                    "err-required",
                    "a name is required in each language",
                );
            }
        }
        for (f, v) in [("valid_from", &r.valid_from), ("valid_to", &r.valid_to)] {
            if !v.is_empty() && bala_core::parse_date(v).is_err() {
                errors.push(
                    field(f),
                    "err-date",
                    format!("'{v}' is not a date (YYYY-MM-DD)"),
                );
            }
        }
        known.insert(r.code.trim().to_string());
        out.push(Area {
            code: r.code.trim().to_string(),
            parent_code: parent,
            level: r.level,
            kind: r.kind,
            name_kk: r.name_kk.trim().to_string(),
            name_ru: r.name_ru.trim().to_string(),
            name_en: r.name_en.trim().to_string(),
            stat_code: non_empty(r.stat_code),
            iso_code: non_empty(r.iso_code),
            map_code: non_empty(r.map_code),
            valid_from: non_empty(r.valid_from),
            valid_to: non_empty(r.valid_to),
            split_from: non_empty(r.split_from),
            code_verified: r.code_verified != 0,
        });
    }
    errors.into_result().map(|_| out)
}

/// Every (ancestor, descendant, depth) pair of a forest given as child → parent links,
/// each node paired with itself at depth 0. Pure, so it is property-tested.
pub fn closure_pairs(parents: &HashMap<String, Option<String>>) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    for code in parents.keys() {
        let mut depth = 0;
        let mut current = Some(code.clone());
        let mut seen = std::collections::HashSet::new();
        while let Some(c) = current {
            if !seen.insert(c.clone()) {
                break; // a cycle in bad data must not hang the loader
            }
            out.push((c.clone(), code.clone(), depth));
            depth += 1;
            current = parents.get(&c).cloned().flatten();
        }
    }
    out
}

fn from_row(r: &AnyRow) -> Result<Area, sqlx::Error> {
    Ok(Area {
        code: r.try_get("code")?,
        parent_code: r.try_get("parent_code")?,
        level: r.try_get("level")?,
        kind: r.try_get("kind")?,
        name_kk: r.try_get("name_kk")?,
        name_ru: r.try_get("name_ru")?,
        name_en: r.try_get("name_en")?,
        stat_code: r.try_get("stat_code")?,
        iso_code: r.try_get("iso_code")?,
        map_code: r.try_get("map_code")?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        split_from: r.try_get("split_from")?,
        code_verified: r.try_get::<i64, _>("code_verified")? != 0,
    })
}

/// Inserts or updates areas and rebuilds the closure, in one transaction.
pub async fn upsert(db: &Db, actor: &Actor, areas: &[Area]) -> Result<usize, RegistryError> {
    let mut sorted: Vec<&Area> = areas.iter().collect();
    sorted.sort_by_key(|a| a.level);
    let mut tx = db.begin().await?;
    for a in &sorted {
        sqlx::query(
            "INSERT INTO areas (code, parent_code, level, kind, name_kk, name_ru, name_en, stat_code, iso_code,
                                map_code, valid_from, valid_to, split_from, code_verified)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (code) DO UPDATE SET parent_code = $2, level = $3, kind = $4, name_kk = $5,
                name_ru = $6, name_en = $7, stat_code = $8, iso_code = $9, map_code = $10,
                valid_from = $11, valid_to = $12, split_from = $13, code_verified = $14",
        )
        .bind(&a.code)
        .bind(&a.parent_code)
        .bind(a.level)
        .bind(&a.kind)
        .bind(&a.name_kk)
        .bind(&a.name_ru)
        .bind(&a.name_en)
        .bind(&a.stat_code)
        .bind(&a.iso_code)
        .bind(&a.map_code)
        .bind(&a.valid_from)
        .bind(&a.valid_to)
        .bind(&a.split_from)
        .bind(a.code_verified as i64)
        .execute(&mut *tx)
        .await?;
    }
    let links: HashMap<String, Option<String>> = sqlx::query("SELECT code, parent_code FROM areas")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    sqlx::query("DELETE FROM area_closure")
        .execute(&mut *tx)
        .await?;
    for chunk in closure_pairs(&links).chunks(300) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3))
            .collect();
        let sql = format!(
            "INSERT INTO area_closure (ancestor, descendant, depth) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (a, d, depth) in chunk {
            q = q.bind(a).bind(d).bind(*depth);
        }
        q.execute(&mut *tx).await?;
    }
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "area.load", "area", "*")
            .with_details(serde_json::json!({"count": areas.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(areas.len())
}

/// Loads the areas that ship with Bala. Writes (and audits) only when the
/// database differs from the shipped file, so it can run at every start.
pub async fn seed_reference(db: &Db) -> Result<usize, RegistryError> {
    let shipped = parse_csv(REFERENCE_CSV, &[]).expect("shipped areas.csv is valid");
    let existing: HashMap<String, Area> = all(db)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    let changed: Vec<Area> = shipped
        .into_iter()
        .filter(|a| existing.get(&a.code) != Some(a))
        .collect();
    if changed.is_empty() {
        return Ok(0);
    }
    upsert(db, &Actor::system("reference-data"), &changed).await
}

/// Imports an areas file supplied by an administrator.
pub async fn import_csv(db: &Db, actor: &Actor, text: &str) -> Result<usize, RegistryError> {
    let existing: Vec<String> = sqlx::query("SELECT code FROM areas")
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let areas = parse_csv(text, &existing)?;
    upsert(db, actor, &areas).await
}

pub async fn get(db: &Db, code: &str) -> Result<Option<Area>, RegistryError> {
    let r = sqlx::query("SELECT * FROM areas WHERE code = $1")
        .bind(code)
        .fetch_optional(db.reader())
        .await?;
    Ok(r.as_ref().map(from_row).transpose()?)
}

pub async fn by_stat_code(db: &Db, stat_code: &str) -> Result<Option<Area>, RegistryError> {
    let r = sqlx::query("SELECT * FROM areas WHERE stat_code = $1")
        .bind(stat_code)
        .fetch_optional(db.reader())
        .await?;
    Ok(r.as_ref().map(from_row).transpose()?)
}

pub async fn children(db: &Db, code: &str) -> Result<Vec<Area>, RegistryError> {
    let rows = sqlx::query(
        "SELECT * FROM areas WHERE parent_code = $1 ORDER BY valid_to IS NOT NULL, code",
    )
    .bind(code)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The chain from the root down to `code` (inclusive).
pub async fn ancestors(db: &Db, code: &str) -> Result<Vec<Area>, RegistryError> {
    let rows = sqlx::query(
        "SELECT a.* FROM area_closure c JOIN areas a ON a.code = c.ancestor
         WHERE c.descendant = $1 ORDER BY c.depth DESC",
    )
    .bind(code)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn all(db: &Db) -> Result<Vec<Area>, RegistryError> {
    let rows = sqlx::query("SELECT * FROM areas ORDER BY level, code")
        .fetch_all(db.reader())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Codes of `code` and everything inside it.
pub async fn descendants(db: &Db, code: &str) -> Result<Vec<String>, RegistryError> {
    Ok(
        sqlx::query("SELECT descendant FROM area_closure WHERE ancestor = $1 ORDER BY descendant")
            .bind(code)
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?,
    )
}

/// Whether `code` lies inside one of the scope's areas.
pub async fn is_within(db: &Db, code: &str, scope: &[AreaCode]) -> Result<bool, RegistryError> {
    if scope.is_empty() {
        return Ok(false);
    }
    let mut sql = bala_store::Sql::new("SELECT 1 FROM area_closure WHERE descendant = ");
    sql.push_arg(code)
        .push(" AND ancestor IN (")
        .push_list(scope.iter().map(|a| a.as_str()))
        .push(")");
    Ok(sql.query().fetch_optional(db.reader()).await?.is_some())
}

/// How many areas lie inside the scope (the scope's own areas included).
pub async fn count_inside(db: &Db, scope: &[AreaCode]) -> Result<i64, RegistryError> {
    if scope.is_empty() {
        return Ok(0);
    }
    let mut sql = bala_store::Sql::new(
        "SELECT COUNT(DISTINCT descendant) FROM area_closure WHERE ancestor IN (",
    );
    sql.push_list(scope.iter().map(|a| a.as_str())).push(")");
    Ok(sql.query().fetch_one(db.reader()).await?.try_get(0)?)
}

/// The areas a scope covers at the top (for pickers): the scope areas themselves.
pub async fn scope_areas(db: &Db, scope: &[AreaCode]) -> Result<Vec<Area>, RegistryError> {
    let mut out = Vec::new();
    for a in scope {
        if let Some(area) = get(db, a.as_str()).await? {
            out.push(area);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shipped_file_is_valid() {
        let areas = parse_csv(REFERENCE_CSV, &[]).unwrap();
        let top: Vec<_> = areas.iter().filter(|a| a.level == 1).collect();
        // 17 regions + 3 cities of republican significance today, plus South Kazakhstan (until 2018).
        assert_eq!(top.len(), 21);
        assert_eq!(
            top.iter().filter(|a| a.is_valid_on("2026-01-01")).count(),
            20
        );
        // Before 2018: 14 regions (South Kazakhstan among them) and the cities Astana and Almaty.
        assert_eq!(
            top.iter().filter(|a| a.is_valid_on("2017-01-01")).count(),
            16
        );
    }

    #[test]
    fn errors_name_row_and_field() {
        let text = "code,parent,level,kind,name_kk,name_ru,name_en,stat_code,iso_code,map_code,valid_from,valid_to,split_from,code_verified\n\
                    000000000,,0,republic,Қ,К,K,,,,,,,1\n\
                    12345,000000000,1,region,,Р,R,,,,2020-13-01,,,1\n";
        let e = parse_csv(text, &[]).unwrap_err();
        assert!(e.for_field("row 3: code").is_some());
        assert!(e.for_field("row 3: name_kk").is_some());
        assert!(e.for_field("row 3: valid_from").is_some());
    }

    /// Random forests: each node's parent is an earlier node (or none).
    fn arb_forest() -> impl Strategy<Value = HashMap<String, Option<String>>> {
        proptest::collection::vec(proptest::option::of(0usize..1000), 1..60).prop_map(|parents| {
            parents
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    (
                        format!("n{i}"),
                        p.filter(|_| i > 0).map(|p| format!("n{}", p % i)),
                    )
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn closure_is_reachability(forest in arb_forest()) {
            let pairs = closure_pairs(&forest);
            let set: std::collections::HashSet<(String, String)> =
                pairs.iter().map(|(a, d, _)| (a.clone(), d.clone())).collect();
            for (node, parent) in &forest {
                prop_assert!(set.contains(&(node.clone(), node.clone())));
                if let Some(p) = parent {
                    // Everything above the parent is above the node, one level further.
                    for (a, d, depth) in &pairs {
                        if d == p {
                            let below = pairs.iter().find(|(a2, d2, _)| a2 == a && d2 == node);
                            prop_assert_eq!(below.map(|x| x.2), Some(depth + 1));
                        }
                    }
                }
            }
            // No pair without a path: count equals the sum of depths + 1.
            let expected: usize = forest.keys().map(|k| {
                let mut n = 0; let mut c = Some(k.clone());
                while let Some(x) = c { n += 1; c = forest.get(&x).cloned().flatten(); }
                n
            }).sum();
            prop_assert_eq!(pairs.len(), expected);
        }
    }
}
