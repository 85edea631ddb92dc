//! The vaccination card: what was given (with the engine's verdict on each
//! dose), what is due and overdue, refusals and contraindications. Reading it
//! is a read of personal data and is audited.

use super::{calendars, facts, Error};
use crate::calendar::Calendar;
use crate::forecast::{self, ChildRecord, Forecast, Outcome};
use bala_core::Date;
use bala_registry::people::{fetch_in_scope, Ctx, Person};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::Db;
use serde::Serialize;

/// A stored dose with everything recorded about it.
#[derive(Debug, Clone, Serialize)]
pub struct DoseRow {
    pub id: i64,
    pub given_on: String,
    pub product: String,
    pub facility: Option<String>,
    pub lot: Option<String>,
    pub lot_expiry: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub flags: String,
    pub historical: bool,
    pub campaign_id: Option<i64>,
    pub source: String,
    pub external_id: Option<String>,
    /// `recorded` or `entered-in-error`.
    pub status: String,
    pub created_by: String,
    /// The engine's verdict per antigen: (label or antigen, valid, reason code).
    pub verdicts: Vec<Verdict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub antigen: Option<String>,
    pub label: Option<String>,
    pub valid: bool,
    /// Kebab-case reason when invalid (see `InvalidReason::code`).
    pub reason: Option<String>,
    pub grace_applied: bool,
    pub explanation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub person: Person,
    pub calendar_id: String,
    /// The calendar the card was judged against, so a page can name its
    /// antigens and offer its products without reading the calendars again.
    #[serde(skip)]
    pub calendar: Calendar,
    pub record: ChildRecord,
    pub forecast: Forecast,
    pub doses: Vec<DoseRow>,
}

/// All stored doses of a person, entered-in-error ones included (unaudited).
pub async fn dose_rows(db: &Db, person_id: i64) -> Result<Vec<DoseRow>, Error> {
    // An imported dose's provenance is its batch's (migration 3014); the
    // doses are found under the child's area (migration 3015).
    let rows = sqlx::query(
        "SELECT d.id, d.given_on, d.product, d.facility, d.lot, d.lot_expiry, d.site, d.route,
                d.flags, d.historical, d.campaign_id, d.external_id, d.status,
                COALESCE(b.source, d.source) AS source, COALESCE(b.created_by, d.created_by) AS created_by
         FROM imm_doses d LEFT JOIN imm_dose_batches b ON b.id = d.batch_id
         WHERE d.area_code = (SELECT area_code FROM people WHERE id = $1) AND d.person_id = $1
         ORDER BY d.given_on, d.id",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(DoseRow {
            id: r.try_get("id")?,
            given_on: r.try_get("given_on")?,
            product: r.try_get("product")?,
            facility: r.try_get("facility")?,
            lot: r.try_get("lot")?,
            lot_expiry: r.try_get("lot_expiry")?,
            site: r.try_get("site")?,
            route: r.try_get("route")?,
            flags: r.try_get("flags")?,
            historical: r.try_get::<i64, _>("historical")? != 0,
            campaign_id: r.try_get("campaign_id")?,
            source: r.try_get("source")?,
            external_id: r.try_get("external_id")?,
            status: r.try_get("status")?,
            created_by: r.try_get("created_by")?,
            verdicts: Vec::new(),
        });
    }
    Ok(out)
}

/// The child's card on `on`, audited as a read.
pub async fn card(db: &Db, ctx: Ctx<'_>, person_id: i64, on: Date) -> Result<Card, Error> {
    let person = fetch_in_scope(db, ctx.scope, person_id).await?;
    let c = unaudited(db, person, on).await?;
    audit::record(
        db,
        &[NewEntry::by(
            ctx.actor,
            "immunization.card.view",
            "person",
            person_id,
        )],
    )
    .await?;
    Ok(c)
}

/// The card of a person already checked to be in scope; the caller audits.
pub async fn unaudited(db: &Db, person: Person, on: Date) -> Result<Card, Error> {
    let cals = calendars::all(db).await?;
    let cal = calendars::in_force(&cals, on);
    let mut conn = db.reader().acquire().await?;
    let record = facts::child_record(&mut conn, person.id)
        .await?
        .unwrap_or_else(|| ChildRecord::new(on, None));
    drop(conn);
    let fc = forecast::forecast(cal, &record, on);
    let mut doses = dose_rows(db, person.id).await?;
    for d in &mut doses {
        let id = d.id.to_string();
        d.verdicts = fc
            .evaluations
            .iter()
            .filter(|e| e.administration.id.as_deref() == Some(id.as_str()))
            .map(|e| Verdict {
                antigen: e.antigen.clone(),
                label: e.label.clone(),
                valid: e.is_valid(),
                reason: match e.outcome {
                    Outcome::Valid => None,
                    Outcome::Invalid(r) => Some(r.code().to_string()),
                },
                grace_applied: e.grace_applied,
                explanation: e.explanation.clone(),
            })
            .collect();
    }
    Ok(Card {
        person,
        calendar_id: cal.id.clone(),
        calendar: cal.clone(),
        record,
        forecast: fc,
        doses,
    })
}
