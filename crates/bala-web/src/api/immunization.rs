//! The immunization pillar's JSON API: the vaccination card with the engine's
//! forecast, recording doses, outreach lists and coverage.

use super::{ApiJson, ApiQuery};
use crate::error::{AppError, Problem};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bala_access::Action;
use bala_core::{parse_date, FieldError, ValidationErrors};
use bala_immunization::store::{card, coverage, doses, duelist};
use bala_registry::people::Ctx;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::WebPath as Path;

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get(
            "/api/v1/immunization/children/{id}/card",
            Rule::Can(Action::ViewImmunization),
            card_get,
        )
        .post(
            "/api/v1/immunization/children/{id}/doses",
            Rule::Can(Action::RecordImmunization),
            dose_create,
        )
        .get(
            "/api/v1/immunization/lists",
            Rule::Can(Action::ViewImmunization),
            lists,
        )
        .get(
            "/api/v1/immunization/coverage",
            Rule::Can(Action::ViewAggregates),
            coverage_get,
        )
}

fn today() -> bala_core::Date {
    time::OffsetDateTime::now_utc().date()
}

fn field(name: &str, code: &'static str, detail: &str) -> AppError {
    ValidationErrors::single(FieldError::new(name, code, detail)).into()
}

/// The card: stored doses with the engine's verdict on each, and every series'
/// status with its next dose's dates and the rule behind them.
#[derive(Serialize, ToSchema)]
pub struct CardDto {
    pub person_id: i64,
    pub birth_date: String,
    pub calendar_id: String,
    /// Evaluations and series forecasts, as the engine gives them.
    #[schema(value_type = Object)]
    pub forecast: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub doses: serde_json::Value,
}

/// A child's vaccination card as of today.
#[utoipa::path(get, path = "/api/v1/immunization/children/{id}/card", tag = "immunization",
    params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = CardDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn card_get(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Json<CardDto>, AppError> {
    let actor = v.actor();
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let c = card::card(&app.db, ctx, id, today()).await?;
    Ok(Json(CardDto {
        person_id: c.person.id,
        birth_date: c.person.birth_date.clone(),
        calendar_id: c.calendar_id.clone(),
        forecast: serde_json::to_value(&c.forecast).map_err(|e| AppError::Internal(e.into()))?,
        doses: serde_json::to_value(&c.doses).map_err(|e| AppError::Internal(e.into()))?,
    }))
}

/// A dose to record. Today's doses need lot, lot expiry, site and route;
/// `historical` ones only product and date.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DoseBody {
    /// Product code of the calendar: HEXA, PENTA, BCG, MMR, OPV, IPV …
    pub product: String,
    /// YYYY-MM-DD, not in the future.
    pub given_on: String,
    pub facility: String,
    pub lot: String,
    pub lot_expiry: String,
    /// left-thigh, right-thigh, left-arm, right-arm, oral, intradermal-left-arm
    pub site: String,
    /// IM, SC, ID, PO
    pub route: String,
    pub historical: bool,
    /// partial-dose, cold-chain-breach, recalled-lot, reported
    pub flags: Vec<String>,
    /// Campaign id, when given in a campaign.
    pub campaign_id: Option<i64>,
    /// Identifier in the sending system; sending the same one again changes nothing.
    pub external_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DoseCreated {
    pub id: i64,
    /// False when `external_id` was already recorded (nothing changed).
    pub created: bool,
}

/// Records a dose; the coverage counts change in the same transaction.
#[utoipa::path(post, path = "/api/v1/immunization/children/{id}/doses", tag = "immunization",
    params(("id" = i64, Path, description = "Person id")), request_body = DoseBody,
    responses((status = 201, body = DoseCreated), (status = 200, body = DoseCreated, description = "already recorded"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn dose_create(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DoseBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let input = doses::DoseInput {
        product: b.product,
        given_on: b.given_on,
        facility: b.facility,
        lot: b.lot,
        lot_expiry: b.lot_expiry,
        site: b.site,
        route: b.route,
        historical: b.historical,
        flags: b.flags,
        campaign_id: b.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
    };
    let from = doses::Provenance {
        source: "api".into(),
        external_id: b.external_id.filter(|s| !s.is_empty()),
    };
    Ok(
        match doses::record(&app.db, ctx, id, &input, &from).await? {
            doses::Recorded::New(id) => {
                (StatusCode::CREATED, Json(DoseCreated { id, created: true })).into_response()
            }
            doses::Recorded::AlreadyPresent(id) => {
                (StatusCode::OK, Json(DoseCreated { id, created: false })).into_response()
            }
        },
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// KATO code inside your areas (default: your first area).
    pub area: Option<String>,
    /// due (default), overdue, zero-dose, under-immunized
    pub kind: Option<String>,
    /// Reference date, YYYY-MM-DD (default: today).
    pub on: Option<String>,
    /// Also list doses becoming due up to this date.
    pub until: Option<String>,
    /// Only children overdue by at least this many days.
    pub min_days_overdue: Option<i64>,
}

/// Outreach list for an area: children due or overdue (with caregiver
/// contact), or zero-dose / under-immunized children. Audited.
#[utoipa::path(get, path = "/api/v1/immunization/lists", tag = "immunization", params(ListParams),
    responses((status = 200, body = Vec<Object>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn lists(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<Json<Vec<duelist::Entry>>, AppError> {
    let p = v.principal()?;
    let area = q.area.unwrap_or_else(|| {
        p.scope
            .first()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default()
    });
    if bala_registry::areas::get(&app.db, &area).await?.is_none() {
        return Err(field("area", "err-area-unknown", "no such area"));
    }
    let kind = duelist::Kind::parse(q.kind.as_deref().unwrap_or("")).ok_or_else(|| {
        field(
            "kind",
            "err-choice",
            "due, overdue, zero-dose or under-immunized",
        )
    })?;
    let date = |name: &str, s: Option<String>| -> Result<Option<bala_core::Date>, AppError> {
        s.filter(|s| !s.is_empty())
            .map(|s| {
                parse_date(&s)
                    .map_err(|_| field(name, "err-date", "not a date in the form YYYY-MM-DD"))
            })
            .transpose()
    };
    let filter = duelist::Filter {
        area,
        kind,
        on: date("on", q.on)?.unwrap_or_else(today),
        until: date("until", q.until)?,
        min_days_overdue: q.min_days_overdue.unwrap_or(0).max(0),
    };
    Ok(Json(
        duelist::list(&app.db, &v.actor(), &p.scope, &filter).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// KATO code of any area (default: your first area).
    pub area: Option<String>,
    /// Birth cohort or reporting year (default: last year).
    pub year: Option<i32>,
    /// cohort (default) or period
    pub basis: Option<String>,
}

/// Coverage, dropout and zero-dose counts for an area and its sub-areas
/// (aggregates, no personal data), computed at the moment of the request.
#[utoipa::path(get, path = "/api/v1/immunization/coverage", tag = "immunization", params(CoverageParams),
    responses((status = 200, body = Object), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn coverage_get(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> Result<Json<coverage::Report>, AppError> {
    let p = v.principal()?;
    let area = q.area.unwrap_or_else(|| {
        p.scope
            .first()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default()
    });
    if bala_registry::areas::get(&app.db, &area).await?.is_none() {
        return Err(field("area", "err-area-unknown", "no such area"));
    }
    let year = q.year.unwrap_or_else(|| today().year() - 1);
    if !(1990..=2100).contains(&year) {
        return Err(field("year", "err-year", "a year from 1990 to 2100"));
    }
    let basis = coverage::Basis::parse(q.basis.as_deref().unwrap_or(""))
        .ok_or_else(|| field("basis", "err-choice", "cohort or period"))?;
    Ok(Json(
        coverage::report(&app.db, &area, year, basis, today()).await?,
    ))
}
