//! Supplementary immunization activities (measles or polio campaigns): target
//! ages, areas with their target populations, dates; doses recorded against the
//! campaign; the daily tally and coverage against target by area.

use super::doses::ValidInput;
use super::{date_field, iso, Error};
use crate::span::Span;
use bala_core::{parse_date, AreaCode, Date, FieldError, ValidationErrors};
use bala_registry::areas;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CampaignInput {
    pub name: String,
    pub product: String,
    pub start_date: String,
    pub end_date: String,
    pub min_age_months: String,
    pub max_age_months: String,
    /// One line per area: `KATO target`, e.g. `751210000 1200`.
    pub areas: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CampaignArea {
    pub area_code: String,
    pub target: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub product: String,
    pub start_date: String,
    pub end_date: String,
    pub min_age_months: i64,
    pub max_age_months: i64,
    pub areas: Vec<CampaignArea>,
}

impl Campaign {
    pub fn target(&self) -> i64 {
        self.areas.iter().map(|a| a.target).sum()
    }
}

/// Progress of a campaign: doses per day and per area against target.
#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    pub campaign: Campaign,
    /// (date, doses that day, cumulative).
    pub daily: Vec<(String, i64, i64)>,
    /// (area, target, doses, coverage %).
    pub by_area: Vec<(String, i64, i64, Option<f64>)>,
    pub total: i64,
    pub coverage: Option<f64>,
}

fn int(e: &mut ValidationErrors, field: &str, raw: &str, max: i64) -> Option<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Some(n),
        _ => {
            e.push(
                field,
                "err-number-range",
                format!("a whole number from 0 to {max}"),
            );
            None
        }
    }
}

/// Creates a campaign after checking every field and area line.
pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &CampaignInput,
    products: &[String],
) -> Result<i64, Error> {
    let mut e = ValidationErrors::new();
    let name = input.name.trim();
    if name.is_empty() {
        e.push("name", "err-required", "name the campaign");
    }
    let product = input.product.trim();
    if !products.iter().any(|p| p == product) {
        e.push(
            "product",
            "err-imm-product",
            "choose a product of the calendar",
        );
    }
    let start = date_field(&mut e, "start_date", &input.start_date, true, false);
    let end = date_field(&mut e, "end_date", &input.end_date, true, false);
    if let (Some(s), Some(t)) = (start, end) {
        if t < s {
            e.push("end_date", "err-date-order", "the end is before the start");
        }
    }
    let min = int(&mut e, "min_age_months", &input.min_age_months, 216);
    let max = int(&mut e, "max_age_months", &input.max_age_months, 216);
    if let (Some(a), Some(b)) = (min, max) {
        if b <= a {
            e.push(
                "max_age_months",
                "err-number-range",
                "the upper age must be above the lower",
            );
        }
    }
    let mut lines = Vec::new();
    for (n, line) in input
        .areas
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let field = format!("areas[{}]", n + 1);
        let mut parts = line.split_whitespace();
        let (Some(code), Some(target), None) = (parts.next(), parts.next(), parts.next()) else {
            e.push(
                &field,
                "err-imm-campaign-area",
                "write the area code and its target, e.g. 751210000 1200",
            );
            continue;
        };
        if AreaCode::parse(code).is_err() || areas::get(db, code).await?.is_none() {
            e.push(
                &field,
                "err-area-unknown",
                format!("no area with code '{code}'"),
            );
            continue;
        }
        match int(&mut ValidationErrors::new(), &field, target, 10_000_000) {
            Some(t) => lines.push((code.to_string(), t)),
            None => e.push(&field, "err-number-range", "the target is a whole number"),
        }
    }
    if lines.is_empty() && e.is_empty() {
        e.push(
            "areas",
            "err-required",
            "list at least one area with its target",
        );
    }
    e.into_result()?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO imm_campaigns (name, product, start_date, end_date, min_age_months, max_age_months, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(name)
    .bind(product)
    .bind(iso(start.expect("checked")))
    .bind(iso(end.expect("checked")))
    .bind(min)
    .bind(max)
    .bind(&now)
    .bind(&actor.name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    for (code, target) in &lines {
        sqlx::query(
            "INSERT INTO imm_campaign_areas (campaign_id, area_code, target) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(code)
        .bind(target)
        .execute(&mut *tx)
        .await
        .map_err(|err| {
            if bala_store::is_unique_violation(&err) {
                Error::Validation(ValidationErrors::single(FieldError::new(
                    "areas",
                    "err-imm-campaign-area",
                    format!("area {code} is listed twice"),
                )))
            } else {
                err.into()
            }
        })?;
    }
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "immunization.campaign.create", "imm_campaign", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list(db: &Db) -> Result<Vec<Campaign>, Error> {
    // Two reads, not one per campaign: the areas of all campaigns, then the campaigns.
    let mut areas: BTreeMap<i64, Vec<CampaignArea>> = BTreeMap::new();
    for a in sqlx::query(
        "SELECT campaign_id, area_code, target FROM imm_campaign_areas \
         ORDER BY campaign_id, area_code",
    )
    .fetch_all(db.reader())
    .await?
    {
        areas
            .entry(a.try_get("campaign_id")?)
            .or_default()
            .push(campaign_area(&a)?);
    }
    sqlx::query("SELECT * FROM imm_campaigns ORDER BY start_date DESC, id DESC")
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            campaign(r, areas.remove(&id).unwrap_or_default())
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Error::from)
}

pub async fn get(db: &Db, id: i64) -> Result<Campaign, Error> {
    let r = sqlx::query("SELECT * FROM imm_campaigns WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or(Error::NotFound)?;
    let areas = sqlx::query("SELECT area_code, target FROM imm_campaign_areas WHERE campaign_id = $1 ORDER BY area_code")
        .bind(id)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(campaign_area)
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(campaign(&r, areas)?)
}

fn campaign_area(a: &sqlx::any::AnyRow) -> Result<CampaignArea, sqlx::Error> {
    Ok(CampaignArea {
        area_code: a.try_get("area_code")?,
        target: a.try_get("target")?,
    })
}

fn campaign(r: &sqlx::any::AnyRow, areas: Vec<CampaignArea>) -> Result<Campaign, sqlx::Error> {
    Ok(Campaign {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        product: r.try_get("product")?,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        min_age_months: r.try_get("min_age_months")?,
        max_age_months: r.try_get("max_age_months")?,
        areas,
    })
}

/// Campaigns running on `on` (for the dose form's list).
pub async fn running(db: &Db, on: Date) -> Result<Vec<Campaign>, Error> {
    Ok(list(db)
        .await?
        .into_iter()
        .filter(|c| {
            c.start_date.as_str() <= iso(on).as_str() && iso(on).as_str() <= c.end_date.as_str()
        })
        .collect())
}

/// A dose recorded against a campaign must be of its product, within its dates
/// and for a child of its target ages.
pub async fn check_dose(db: &Db, id: i64, dose: &ValidInput, birth: Date) -> Result<(), Error> {
    let c = match get(db, id).await {
        Ok(c) => c,
        Err(Error::NotFound) => {
            return Err(ValidationErrors::single(FieldError::new(
                "campaign_id",
                "err-choice",
                "no such campaign",
            ))
            .into())
        }
        Err(e) => return Err(e),
    };
    let mut e = ValidationErrors::new();
    if dose.product != c.product {
        e.push(
            "product",
            "err-imm-campaign-product",
            format!("the campaign gives {}", c.product),
        );
    }
    let (Ok(start), Ok(end)) = (parse_date(&c.start_date), parse_date(&c.end_date)) else {
        return Ok(());
    };
    if dose.given_on < start || dose.given_on > end {
        e.push(
            "given_on",
            "err-imm-campaign-dates",
            format!("the campaign runs from {} to {}", c.start_date, c.end_date),
        );
    }
    let youngest = Span::months(c.min_age_months as u16).add_to(birth);
    let oldest = Span::months(c.max_age_months as u16).add_to(birth);
    if dose.given_on < youngest || dose.given_on >= oldest {
        e.push(
            "campaign_id",
            "err-imm-campaign-age",
            format!(
                "the campaign is for children aged {} to {} months",
                c.min_age_months, c.max_age_months
            ),
        );
    }
    e.into_result()?;
    Ok(())
}

/// Daily tally and coverage against target by campaign area.
pub async fn tally(db: &Db, id: i64) -> Result<Tally, Error> {
    let campaign = get(db, id).await?;
    let mut daily = Vec::new();
    let mut cumulative = 0;
    for r in sqlx::query(
        "SELECT given_on, COUNT(*) AS n FROM imm_doses WHERE campaign_id = $1 AND status = 'recorded'
         GROUP BY given_on ORDER BY given_on",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?
    {
        let n: i64 = r.try_get("n")?;
        cumulative += n;
        daily.push((r.try_get::<String, _>("given_on")?, n, cumulative));
    }
    let mut by_area_counts: BTreeMap<String, i64> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT ca.area_code AS area, COUNT(*) AS n FROM imm_doses d
         JOIN area_closure c ON c.descendant = d.area_code
         JOIN imm_campaign_areas ca ON ca.area_code = c.ancestor AND ca.campaign_id = d.campaign_id
         WHERE d.campaign_id = $1 AND d.status = 'recorded' GROUP BY ca.area_code",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?
    {
        by_area_counts.insert(r.try_get("area")?, r.try_get("n")?);
    }
    let pct = |n: i64, t: i64| (t > 0).then(|| n as f64 * 100.0 / t as f64);
    let by_area = campaign
        .areas
        .iter()
        .map(|a| {
            let n = by_area_counts.get(&a.area_code).copied().unwrap_or(0);
            (a.area_code.clone(), a.target, n, pct(n, a.target))
        })
        .collect();
    let coverage = pct(cumulative, campaign.target());
    Ok(Tally {
        campaign,
        daily,
        by_area,
        total: cumulative,
        coverage,
    })
}
