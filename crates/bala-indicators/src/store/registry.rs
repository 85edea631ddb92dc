//! Indicators, their frameworks and targets, and units, as stored.

use super::IndError;
use crate::exchange::CodeMapping;
use crate::meta::Names;
use crate::model::{format_dims, parse_dims, Period};
use crate::reference;
use crate::registry::{
    code_order, Framework, FrameworkLink, IndicatorDef, Kind, Polarity, Relation, TargetDef,
    TargetRule, Unit,
};
use bala_core::ValidationErrors;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, AnyConnection, Row};
use bala_store::{time_fmt, Db};

fn names(r: &AnyRow, prefix: &str) -> Result<Names, sqlx::Error> {
    Ok(Names {
        kk: r.try_get(format!("{prefix}_kk").as_str())?,
        ru: r.try_get(format!("{prefix}_ru").as_str())?,
        en: r.try_get(format!("{prefix}_en").as_str())?,
    })
}

fn bad(field: &str, what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("ind_indicators.{field}: unknown value '{what}'").into())
}

fn indicator_row(r: &AnyRow) -> Result<IndicatorDef, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let direction: String = r.try_get("direction")?;
    let headline: String = r.try_get("headline")?;
    Ok(IndicatorDef {
        code: r.try_get("code")?,
        names: names(r, "name")?,
        definitions: names(r, "definition")?,
        kind: Kind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        polarity: Polarity::parse(&direction).ok_or_else(|| bad("direction", &direction))?,
        unit: r.try_get("unit")?,
        headline: parse_dims(&headline).map_err(|e| bad("headline", &e))?,
        numerator: names(r, "numerator")?,
        denominator: names(r, "denominator")?,
        source: names(r, "source")?,
        custodian: r.try_get("custodian")?,
        computed: r.try_get("computed")?,
        frameworks: vec![],
        targets: vec![],
    })
}

fn link_row(r: &AnyRow) -> Result<(String, FrameworkLink), sqlx::Error> {
    let fw: String = r.try_get("framework")?;
    let rel: String = r.try_get("relation")?;
    let baseline: Option<String> = r.try_get("baseline")?;
    Ok((
        r.try_get("indicator_code")?,
        FrameworkLink {
            framework: Framework::parse(&fw).ok_or_else(|| bad("framework", &fw))?,
            goal: r.try_get("goal")?,
            target: r.try_get("target")?,
            number: r.try_get("number")?,
            relation: Relation::parse(&rel).ok_or_else(|| bad("relation", &rel))?,
            baseline: baseline.and_then(|b| Period::parse(&b).ok()),
            title: names(r, "title")?,
            target_text: names(r, "target_text")?,
            citation: r.try_get("citation")?,
        },
    ))
}

fn target_row(r: &AnyRow) -> Result<(String, TargetDef), sqlx::Error> {
    let fw: String = r.try_get("framework")?;
    let kind: String = r.try_get("kind")?;
    let value: f64 = r.try_get("value")?;
    let baseline: Option<String> = r.try_get("baseline")?;
    let dims: String = r.try_get("dims")?;
    let by: String = r.try_get("target_period")?;
    let rule = match (kind.as_str(), baseline.and_then(|b| Period::parse(&b).ok())) {
        ("absolute", _) => TargetRule::Absolute { value },
        ("reduction", Some(baseline)) => TargetRule::Reduction {
            fraction: value,
            baseline,
        },
        _ => return Err(bad("kind", &kind)),
    };
    Ok((
        r.try_get("indicator_code")?,
        TargetDef {
            id: Some(r.try_get("id")?),
            framework: Framework::parse(&fw).ok_or_else(|| bad("framework", &fw))?,
            dims: parse_dims(&dims).map_err(|e| bad("dims", &e))?,
            rule,
            by: Period::parse(&by).map_err(|e| bad("target_period", &e.to_string()))?,
            citation: r.try_get("citation")?,
            quote: r.try_get("quote")?,
            text: names(r, "text")?,
        },
    ))
}

/// Every indicator with its frameworks and targets, in reading order of codes.
pub async fn all(db: &Db) -> Result<Vec<IndicatorDef>, IndError> {
    let mut defs: Vec<IndicatorDef> = sqlx::query("SELECT * FROM ind_indicators")
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(indicator_row)
        .collect::<Result<_, _>>()?;
    let links: Vec<(String, FrameworkLink)> =
        sqlx::query("SELECT * FROM ind_frameworks ORDER BY framework, number")
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(link_row)
            .collect::<Result<_, _>>()?;
    let targets: Vec<(String, TargetDef)> =
        sqlx::query("SELECT * FROM ind_targets ORDER BY framework, target_period, id")
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(target_row)
            .collect::<Result<_, _>>()?;
    for d in &mut defs {
        d.frameworks = links
            .iter()
            .filter(|(c, _)| *c == d.code)
            .map(|(_, l)| l.clone())
            .collect();
        d.targets = targets
            .iter()
            .filter(|(c, _)| *c == d.code)
            .map(|(_, t)| t.clone())
            .collect();
    }
    defs.sort_by(|a, b| code_order(&a.code, &b.code));
    Ok(defs)
}

/// One indicator, or `NotFound`.
pub async fn get(db: &Db, code: &str) -> Result<IndicatorDef, IndError> {
    all(db)
        .await?
        .into_iter()
        .find(|d| d.code == code)
        .ok_or(IndError::NotFound)
}

pub async fn units(db: &Db) -> Result<Vec<Unit>, IndError> {
    Ok(sqlx::query("SELECT * FROM ind_units ORDER BY code")
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(Unit {
                code: r.try_get("code")?,
                multiplier: r.try_get("multiplier")?,
                names: names(r, "name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Inserts or replaces one indicator with its frameworks and targets.
pub async fn upsert_in(
    conn: &mut AnyConnection,
    def: &IndicatorDef,
    actor: &str,
) -> Result<(), sqlx::Error> {
    let now = time_fmt::now();
    let n = |x: &Names, l: crate::meta::Lang| x.get(l).map(str::to_string);
    use crate::meta::Lang::{En, Kk, Ru};
    let name = |l| {
        def.names
            .get(l)
            .map(str::to_string)
            .unwrap_or_else(|| def.code.clone())
    };
    sqlx::query(
        "INSERT INTO ind_indicators (code, name_kk, name_ru, name_en, definition_kk, definition_ru, definition_en,
            kind, direction, unit, headline, numerator_kk, numerator_ru, numerator_en, denominator_kk, denominator_ru,
            denominator_en, source_kk, source_ru, source_en, custodian, computed, version, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 1, $23, $24)
         ON CONFLICT (code) DO UPDATE SET name_kk = $2, name_ru = $3, name_en = $4, definition_kk = $5,
            definition_ru = $6, definition_en = $7, kind = $8, direction = $9, unit = $10, headline = $11,
            numerator_kk = $12, numerator_ru = $13, numerator_en = $14, denominator_kk = $15, denominator_ru = $16,
            denominator_en = $17, source_kk = $18, source_ru = $19, source_en = $20, custodian = $21, computed = $22,
            version = ind_indicators.version + 1, updated_at = $23, updated_by = $24",
    )
    .bind(&def.code)
    .bind(name(Kk))
    .bind(name(Ru))
    .bind(name(En))
    .bind(n(&def.definitions, Kk))
    .bind(n(&def.definitions, Ru))
    .bind(n(&def.definitions, En))
    .bind(def.kind.code())
    .bind(def.polarity.code())
    .bind(&def.unit)
    .bind(format_dims(&def.headline))
    .bind(n(&def.numerator, Kk))
    .bind(n(&def.numerator, Ru))
    .bind(n(&def.numerator, En))
    .bind(n(&def.denominator, Kk))
    .bind(n(&def.denominator, Ru))
    .bind(n(&def.denominator, En))
    .bind(n(&def.source, Kk))
    .bind(n(&def.source, Ru))
    .bind(n(&def.source, En))
    .bind(&def.custodian)
    .bind(&def.computed)
    .bind(&now)
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM ind_frameworks WHERE indicator_code = $1")
        .bind(&def.code)
        .execute(&mut *conn)
        .await?;
    for l in &def.frameworks {
        sqlx::query(
            "INSERT INTO ind_frameworks (indicator_code, framework, goal, target, number, relation, baseline,
                title_kk, title_ru, title_en, target_text_kk, target_text_ru, target_text_en, citation)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&def.code)
        .bind(l.framework.code())
        .bind(&l.goal)
        .bind(&l.target)
        .bind(&l.number)
        .bind(l.relation.code())
        .bind(l.baseline.map(|b| b.to_string()))
        .bind(n(&l.title, Kk))
        .bind(n(&l.title, Ru))
        .bind(n(&l.title, En))
        .bind(n(&l.target_text, Kk))
        .bind(n(&l.target_text, Ru))
        .bind(n(&l.target_text, En))
        .bind(&l.citation)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM ind_targets WHERE indicator_code = $1")
        .bind(&def.code)
        .execute(&mut *conn)
        .await?;
    for t in &def.targets {
        insert_target(conn, &def.code, t).await?;
    }
    Ok(())
}

async fn insert_target(
    conn: &mut AnyConnection,
    code: &str,
    t: &TargetDef,
) -> Result<(), sqlx::Error> {
    use crate::meta::Lang::{En, Kk, Ru};
    let (kind, value, baseline) = match t.rule {
        TargetRule::Absolute { value } => ("absolute", value, None),
        TargetRule::Reduction { fraction, baseline } => {
            ("reduction", fraction, Some(baseline.to_string()))
        }
    };
    sqlx::query(
        "INSERT INTO ind_targets (indicator_code, framework, dims, kind, value, baseline, target_period, citation, quote,
            text_kk, text_ru, text_en)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(code)
    .bind(t.framework.code())
    .bind(format_dims(&t.dims))
    .bind(kind)
    .bind(value)
    .bind(baseline)
    .bind(t.by.to_string())
    .bind(&t.citation)
    .bind(&t.quote)
    .bind(t.text.get(Kk).map(str::to_string))
    .bind(t.text.get(Ru).map(str::to_string))
    .bind(t.text.get(En).map(str::to_string))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Loads the shipped registry, units and code lists into an empty database; a
/// database that already has indicators is left as it is (administrators may have
/// edited them). Returns how many indicators were loaded.
pub async fn seed_reference(db: &Db) -> Result<usize, IndError> {
    let have: i64 = sqlx::query("SELECT COUNT(*) FROM ind_indicators")
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    if have > 0 {
        return Ok(0);
    }
    let seed = reference::seed();
    let mut tx = db.begin().await?;
    for u in &seed.units {
        use crate::meta::Lang::{En, Kk, Ru};
        sqlx::query(
            "INSERT INTO ind_units (code, multiplier, name_kk, name_ru, name_en) VALUES ($1, CAST($2 AS DOUBLE PRECISION), $3, $4, $5)
             ON CONFLICT (code) DO NOTHING",
        )
        .persistent(false)
        .bind(&u.code)
        .bind(u.multiplier)
        .bind(u.names.get(Kk).unwrap_or(&u.code).to_string())
        .bind(u.names.get(Ru).unwrap_or(&u.code).to_string())
        .bind(u.names.get(En).unwrap_or(&u.code).to_string())
        .execute(&mut *tx)
        .await?;
    }
    for d in &seed.indicators {
        upsert_in(&mut tx, d, "system:seed").await?;
    }
    super::codelists::insert_in(&mut tx, &seed.code_mappings, "system:seed").await?;
    let entry = NewEntry::by(
        &Actor::system("seed"),
        "indicators.seed",
        "ind_indicators",
        seed.indicators.len(),
    )
    .with_details(serde_json::json!({
        "indicators": seed.indicators.len(),
        "code_mappings": seed.code_mappings.len(),
        "kazstat_commit": reference::KAZSTAT_COMMIT.trim(),
    }));
    audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(seed.indicators.len())
}

/// Adds an indicator Bala computes from its own registers (other pillars call
/// this once, at start, for the indicators they publish), or updates it.
pub async fn ensure_computed(db: &Db, def: &IndicatorDef) -> Result<(), IndError> {
    let mut errors = ValidationErrors::new();
    if !crate::model::is_code(&def.code) {
        errors.push(
            "code",
            crate::exchange::codes::BAD_CODE,
            "not a valid indicator code",
        );
    }
    if def
        .computed
        .as_deref()
        .is_none_or(|s| !s.starts_with("bala:"))
    {
        errors.push(
            "computed",
            crate::exchange::codes::BAD_CODE,
            "a computed indicator names its source as bala:<pillar>",
        );
    }
    if !units(db).await?.iter().any(|u| u.code == def.unit) {
        errors.push(
            "unit",
            crate::exchange::codes::UNMAPPED,
            format!("unit {} is not defined", def.unit),
        );
    }
    errors.into_result()?;
    let mut tx = db.begin().await?;
    upsert_in(&mut tx, def, "system:computed").await?;
    tx.commit().await?;
    Ok(())
}

/// A target added by an administrator (e.g. a national MDG-plus target).
pub async fn add_target(
    db: &Db,
    actor: &Actor,
    code: &str,
    target: &TargetDef,
) -> Result<(), IndError> {
    let def = get(db, code).await?;
    let mut errors = ValidationErrors::new();
    match target.rule {
        TargetRule::Absolute { value } if !value.is_finite() => {
            errors.push("value", crate::exchange::codes::NOT_NUMBER, "not a number")
        }
        TargetRule::Reduction { fraction, baseline } => {
            if !(fraction > 0.0 && fraction < 1.0) {
                errors.push(
                    "value",
                    crate::quality::errors::PERCENT_RANGE,
                    "a reduction is a share between 0 and 100 %",
                );
            }
            if baseline >= target.by {
                errors.push(
                    "baseline",
                    crate::exchange::codes::BAD_PERIOD,
                    "the baseline must come before the target period",
                );
            }
        }
        _ => {}
    }
    if target.citation.trim().is_empty() {
        errors.push(
            "citation",
            crate::exchange::codes::MISSING,
            "cite where the target is set",
        );
    }
    errors.into_result()?;
    let mut tx = db.begin().await?;
    insert_target(&mut tx, &def.code, target).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "indicators.target.add", "ind_indicator", &def.code).with_details(
            serde_json::json!({"framework": target.framework.code(), "target_period": target.by.to_string()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The shipped code mappings, for tests and the seed.
pub fn shipped_mappings() -> &'static [CodeMapping] {
    &reference::seed().code_mappings
}
