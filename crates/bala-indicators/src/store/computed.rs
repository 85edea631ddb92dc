//! Series Bala computes from its own registers, published beside survey and
//! official figures and labelled by source (`bala:registry`, `bala:immunization`,
//! `bala:welfare`).
//!
//! The interface for other pillars is [`publish`]: give it rows of (indicator,
//! area, period, breakdown, value) and the source label; it validates them like
//! any other value, writes only what changed (a new version when a figure is
//! recomputed differently), records a batch and an audit entry. Define the
//! indicator first with [`super::registry::ensure_computed`].
//!
//! [`registered_children_under_5`] is the first such series: children in the
//! register under five at the end of each year, by area (every level, from
//! district to republic) and sex.

use super::values::{self, Existing, Fields, Outcome, ValueKey, Writer};
use super::{registry, IndError, Route};
use crate::model::{Dims, Period};
use crate::quality;
use crate::registry::Kind;
use bala_core::{AreaCode, FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::Db;
use serde::Serialize;
use std::collections::BTreeMap;

/// One computed figure.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedRow {
    pub indicator: String,
    pub area: AreaCode,
    pub period: Period,
    pub dims: Dims,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// What a publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Published {
    pub batch_id: Option<i64>,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Publishes computed rows under `source` (which must start with `bala:`). All
/// rows are checked first; if any is invalid nothing is written and every problem
/// is returned, field named `row N: …`.
pub async fn publish(db: &Db, source: &str, rows: &[ComputedRow]) -> Result<Published, IndError> {
    let mut errors = ValidationErrors::new();
    if !source.starts_with("bala:") || !crate::model::is_code(source.trim_start_matches("bala:")) {
        errors.push(
            "source",
            crate::exchange::codes::BAD_CODE,
            "a computed source is bala:<name>",
        );
    }
    let defs = registry::all(db).await?;
    let areas = super::resolve::AreaResolver::load(db).await?;
    for (i, r) in rows.iter().enumerate() {
        let at = |f: &str| format!("row {}: {f}", i + 1);
        let Some(def) = defs.iter().find(|d| d.code == r.indicator) else {
            errors.push(
                at("indicator"),
                crate::exchange::codes::UNMAPPED,
                format!("no indicator {}", r.indicator),
            );
            continue;
        };
        if !areas.exists(r.area.as_str()) {
            errors.push(
                at("area"),
                crate::exchange::codes::UNMAPPED,
                format!("no area {}", r.area),
            );
        }
        let mut e = ValidationErrors::new();
        let percent = r
            .dims
            .get("UNIT_MEASURE")
            .map(|u| u == "PT")
            .unwrap_or(def.kind == Kind::Percent);
        quality::check_range(r.value, percent, &mut e);
        if let Err(d) = quality::check_dims(&r.dims) {
            e.0.extend(d.0);
        }
        if let (Some(n), Some(d)) = (r.numerator, r.denominator) {
            if percent && n > d {
                e.push(
                    "numerator",
                    quality::errors::NUMERATOR_ABOVE,
                    format!("{n} > {d}"),
                );
            }
        }
        for f in e.0 {
            errors.push(at(&f.field), f.code, f.detail);
        }
    }
    errors.into_result()?;

    let mut indicators: Vec<String> = rows.iter().map(|r| r.indicator.clone()).collect();
    indicators.sort();
    indicators.dedup();
    let actor = Actor::system(source);
    let mut tx = db.begin().await?;
    let mut existing = Existing::load(&mut tx, &indicators).await?;
    let batch = values::new_batch(&mut tx, "computed", None, None, None, &actor.name).await?;
    let w = Writer {
        actor: &actor.name,
        user_id: None,
        batch: Some(batch),
        approved_by: None,
    };
    let mut out = Published {
        batch_id: Some(batch),
        ..Published::default()
    };
    for r in rows {
        let key = ValueKey {
            indicator: r.indicator.clone(),
            area: r.area.as_str().to_string(),
            period: r.period,
            dims: r.dims.clone(),
            source: source.to_string(),
        };
        let fields = Fields {
            value: r.value,
            numerator: r.numerator,
            denominator: r.denominator,
            ..Fields::default()
        };
        match values::write(
            &mut tx,
            &mut existing,
            &key,
            &fields,
            Route::Publish,
            None,
            &w,
        )
        .await?
        {
            Outcome::Added => out.added += 1,
            Outcome::Updated => out.updated += 1,
            _ => out.unchanged += 1,
        }
    }
    let summary =
        serde_json::json!({"added": out.added, "updated": out.updated, "unchanged": out.unchanged});
    values::finish_batch(&mut tx, batch, &summary).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(&actor, "indicators.computed.publish", "ind_batch", batch).with_details(
            serde_json::json!({"source": source, "indicators": indicators, "counts": summary}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The indicator code of [`registered_children_under_5`].
pub const CHILDREN_U5: &str = "BALA_CHILDREN_U5";
/// Its source label.
pub const REGISTRY_SOURCE: &str = "bala:registry";

/// Children in the register under five at the end of `year` (or on `as_of`, for
/// the current year), counted in every area that contains their home area, by sex
/// and in total. Records merged into another are not counted. Areas with none get
/// no row (a zero would claim coverage of areas the register does not reach).
pub async fn registered_children_under_5(
    db: &Db,
    year: i32,
    as_of: Option<time::Date>,
) -> Result<Vec<ComputedRow>, IndError> {
    let period = Period::annual(year).map_err(|e| {
        ValidationErrors::single(FieldError::new(
            "year",
            crate::exchange::codes::BAD_PERIOD,
            e.to_string(),
        ))
    })?;
    let end = as_of
        .filter(|d| *d < period.end_date())
        .unwrap_or(period.end_date());
    // Born after the same day five years earlier (so not yet 5) and by the end date.
    let five_before = time::Date::from_calendar_date(end.year() - 5, end.month(), end.day())
        .or_else(|_| time::Date::from_calendar_date(end.year() - 5, end.month(), end.day() - 1))
        .map_err(|e| IndError::Store(bala_store::StoreError::Other(e.to_string())))?;
    let rows = sqlx::query(
        "SELECT c.ancestor AS area, p.sex AS sex, COUNT(*) AS n FROM people p
         JOIN area_closure c ON c.descendant = p.area_code
         WHERE p.merged_into IS NULL AND p.birth_date > $1 AND p.birth_date <= $2
         GROUP BY c.ancestor, p.sex ORDER BY c.ancestor, p.sex",
    )
    .bind(five_before.to_string())
    .bind(end.to_string())
    .fetch_all(db.reader())
    .await?;
    let mut by_area: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows {
        let area: String = r.try_get("area")?;
        let sex: String = r.try_get("sex")?;
        let n: i64 = r.try_get("n")?;
        by_area.entry(area).or_default().insert(sex, n);
    }
    let mut out = Vec::new();
    for (area, by_sex) in by_area {
        let area = AreaCode::parse(&area)
            .map_err(|e| IndError::Store(bala_store::StoreError::Other(e.to_string())))?;
        let unit: Dims = [("UNIT_MEASURE".to_string(), "PERSONS".to_string())].into();
        let total: i64 = by_sex.values().sum();
        out.push(ComputedRow {
            indicator: CHILDREN_U5.into(),
            area: area.clone(),
            period,
            dims: unit.clone(),
            value: total as f64,
            numerator: None,
            denominator: None,
        });
        for (sex, n) in by_sex.into_iter().filter(|(s, _)| s == "F" || s == "M") {
            let mut dims = unit.clone();
            dims.insert("SEX".into(), sex);
            out.push(ComputedRow {
                indicator: CHILDREN_U5.into(),
                area: area.clone(),
                period,
                dims,
                value: n as f64,
                numerator: None,
                denominator: None,
            });
        }
    }
    Ok(out)
}

/// Computes and publishes [`registered_children_under_5`] for the last `years`
/// years up to `today`'s (the current year counted on `today`).
pub async fn refresh_registry_series(
    db: &Db,
    today: time::Date,
    years: i32,
) -> Result<Published, IndError> {
    let mut rows = Vec::new();
    for year in (today.year() - years + 1)..=today.year() {
        rows.extend(registered_children_under_5(db, year, Some(today)).await?);
    }
    publish(db, REGISTRY_SOURCE, &rows).await
}
