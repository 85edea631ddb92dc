//! Official target populations (surviving infants) per area and year: the
//! denominator of administrative coverage, entered by the programme.

use super::Error;
use bala_core::{AreaCode, FieldError, ValidationErrors};
use bala_registry::areas;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Estimate {
    pub area_code: String,
    pub year: i64,
    pub surviving_infants: i64,
    pub source: String,
    pub updated_at: String,
}

/// The estimate for `area` in `year`: its own, else the sum over its child areas
/// (when every child area has one, so a partial sum never passes for a total).
pub async fn official(db: &Db, area: &str, year: i32) -> Result<Option<i64>, Error> {
    if let Some(r) = sqlx::query(
        "SELECT surviving_infants FROM imm_target_population WHERE area_code = $1 AND year = $2",
    )
    .bind(area)
    .bind(year as i64)
    .fetch_optional(db.reader())
    .await?
    {
        return Ok(Some(r.try_get(0)?));
    }
    let children = areas::children(db, area).await?;
    if children.is_empty() {
        return Ok(None);
    }
    let mut total = 0;
    for c in &children {
        match sqlx::query(
            "SELECT surviving_infants FROM imm_target_population WHERE area_code = $1 AND year = $2",
        )
        .bind(&c.code)
        .bind(year as i64)
        .fetch_optional(db.reader())
        .await?
        {
            Some(r) => total += r.try_get::<i64, _>(0)?,
            None => return Ok(None),
        }
    }
    Ok(Some(total))
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
