//! Official target populations (surviving infants) per area and year: the
//! denominator of administrative coverage, entered by the programme.

use super::Error;
use bala_core::{AreaCode, FieldError, ValidationErrors};
use bala_registry::areas;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Estimate {
    pub area_code: String,
    pub year: i64,
    pub surviving_infants: i64,
    pub source: String,
    pub updated_at: String,
}

/// The estimates for `area` and each of its child areas in `year`, in two reads
/// whatever the number of areas (coverage asks for a region and its districts).
/// Each is the area's own estimate, else the sum over its child areas when every
/// child area has one, so a partial sum never passes for a total.
pub async fn official_under(
    db: &Db,
    area: &str,
    year: i32,
) -> Result<BTreeMap<String, Option<i64>>, Error> {
    // The area, its children and its grandchildren (whose sums may stand in
    // for a child's missing estimate), each with its own estimate if any.
    let rows = sqlx::query(
        "SELECT a.code, a.parent_code, t.surviving_infants \
         FROM area_closure c JOIN areas a ON a.code = c.descendant \
         LEFT JOIN imm_target_population t ON t.area_code = a.code AND t.year = $2 \
         WHERE c.ancestor = $1 AND c.depth <= 2",
    )
    .bind(area)
    .bind(year as i64)
    .fetch_all(db.reader())
    .await?;
    let mut own = HashMap::new();
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    for r in &rows {
        let code: String = r.try_get("code")?;
        if let Some(parent) = r.try_get::<Option<String>, _>("parent_code")? {
            children.entry(parent).or_default().push(code.clone());
        }
        if let Some(n) = r.try_get::<Option<i64>, _>("surviving_infants")? {
            own.insert(code, n);
        }
    }
    let mut codes = vec![area.to_string()];
    codes.extend(children.get(area).cloned().unwrap_or_default());
    Ok(codes
        .into_iter()
        .map(|c| {
            let n = estimate_of(&c, &own, &children);
            (c, n)
        })
        .collect())
}

/// An area's own estimate, else the sum over its child areas if all have one.
fn estimate_of(
    code: &str,
    own: &HashMap<String, i64>,
    children: &HashMap<String, Vec<String>>,
) -> Option<i64> {
    if let Some(n) = own.get(code) {
        return Some(*n);
    }
    let kids = children.get(code).filter(|k| !k.is_empty())?;
    kids.iter().map(|k| own.get(k)).sum()
}

pub async fn list(db: &Db, year: i32) -> Result<Vec<Estimate>, Error> {
    let rows =
        sqlx::query("SELECT * FROM imm_target_population WHERE year = $1 ORDER BY area_code")
            .bind(year as i64)
            .fetch_all(db.reader())
            .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(Estimate {
            area_code: r.try_get("area_code")?,
            year: r.try_get("year")?,
            surviving_infants: r.try_get("surviving_infants")?,
            source: r.try_get("source")?,
            updated_at: r.try_get("updated_at")?,
        });
    }
    Ok(out)
}

/// Saves (or replaces) one estimate, naming the field at fault.
pub async fn save(
    db: &Db,
    actor: &Actor,
    area: &str,
    year: &str,
    surviving_infants: &str,
    source: &str,
) -> Result<(), Error> {
    let mut e = ValidationErrors::new();
    let area = area.trim();
    if AreaCode::parse(area).is_err() || areas::get(db, area).await?.is_none() {
        e.push("area_code", "err-area-unknown", "choose an existing area");
    }
    let year = match year.trim().parse::<i64>() {
        Ok(y) if (1990..=2100).contains(&y) => Some(y),
        _ => {
            e.push("year", "err-year", "a year from 1990 to 2100");
            None
        }
    };
    let n = match surviving_infants.trim().parse::<i64>() {
        Ok(n) if (0..=10_000_000).contains(&n) => Some(n),
        _ => {
            e.push(
                "surviving_infants",
                "err-number-range",
                "a whole number from 0 to 10000000",
            );
            None
        }
    };
    let source = source.trim();
    if source.is_empty() {
        e.push("source", "err-required", "name the source of the estimate");
    }
    e.into_result()?;
    let (Some(year), Some(n)) = (year, n) else {
        return Err(ValidationErrors::single(FieldError::new("year", "err-year", "")).into());
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO imm_target_population (area_code, year, surviving_infants, source, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (area_code, year) DO UPDATE SET surviving_infants = excluded.surviving_infants,
            source = excluded.source, updated_at = excluded.updated_at",
    )
    .bind(area)
    .bind(year)
    .bind(n)
    .bind(source)
    .bind(time_fmt::now())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "immunization.population.save", "area", area)
            .with_details(serde_json::json!({ "year": year, "surviving_infants": n })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_is_the_areas_own_else_a_complete_sum_of_its_children() {
        let own: HashMap<String, i64> = [("R1", 900), ("D1", 40), ("D2", 60), ("D3", 10)]
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect();
        let children: HashMap<String, Vec<String>> = [
            ("R1", vec!["D1", "D2"]),
            ("R2", vec!["D1", "D2"]),
            ("R3", vec!["D3", "D4"]),
        ]
        .into_iter()
        .map(|(p, k)| (p.to_string(), k.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(estimate_of("R1", &own, &children), Some(900), "own wins");
        assert_eq!(estimate_of("R2", &own, &children), Some(100), "sum");
        assert_eq!(estimate_of("R3", &own, &children), None, "D4 has none");
        assert_eq!(estimate_of("D4", &own, &children), None, "leaf without");
    }
}
