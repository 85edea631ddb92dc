//! The welfare pillar's JSON API: the same store functions, gate and audit as
//! the pages. A case the token's owner may not read answers 404.

use super::{ApiJson, ApiQuery};
use crate::error::{AppError, Problem};
use crate::extract::WebPath as Path;
use crate::pages::welfare as w;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bala_access::Action;
use bala_welfare::store::cases::{self, Listing, NewCase};
use bala_welfare::store::screenings::{self, ConcernInput, ScreeningInput};
use bala_welfare::store::{alerts, referrals, stats};
use bala_welfare::{Answer, Instrument};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> RouteTable {
    let screen = Rule::Can(Action::Screen);
    let m = Rule::Can(Action::ManageCases);
    let agg = Rule::Can(Action::ViewAggregates);
    RouteTable::new()
        .get("/api/v1/welfare/instrument", screen, instrument)
        .post("/api/v1/welfare/screenings", screen, screening_create)
        .get("/api/v1/welfare/screenings/{id}", screen, screening_get)
        .post("/api/v1/welfare/concerns", screen, concern_create)
        .get("/api/v1/welfare/alerts", m, alert_list)
        .post(
            "/api/v1/welfare/alerts/{id}/acknowledge",
            m,
            alert_acknowledge,
        )
        .post("/api/v1/welfare/alerts/{id}/dismiss", m, alert_dismiss)
        .get("/api/v1/welfare/cases", m, case_list)
        .post("/api/v1/welfare/cases", m, case_create)
        .get("/api/v1/welfare/cases/{id}", m, case_get)
        .post("/api/v1/welfare/cases/{id}/transition", m, case_transition)
        .post("/api/v1/welfare/cases/{id}/notes", m, case_note)
        .post("/api/v1/welfare/cases/{id}/referrals", m, case_referral)
        .get("/api/v1/welfare/statistics", agg, statistics)
        .get("/api/v1/welfare/indicators", agg, indicators)
}

/// The screening instrument in force, with its questions, weights and sources.
#[utoipa::path(get, path = "/api/v1/welfare/instrument", tag = "welfare",
    responses((status = 200, description = "The instrument (see data/screening-kz-v1.toml for the shape)", body = serde_json::Value)))]
pub async fn instrument(State(app): State<AppState>) -> Result<Json<Instrument>, AppError> {
    Ok(Json(
        bala_welfare::store::reference::instrument_in_force(
            &app.db,
            &Instrument::default_kz().code,
        )
        .await?,
    ))
}

/// A screening to score and store.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningBody {
    /// The child's record number (in your areas).
    pub person_id: i64,
    /// Who screens: social_services, health, education, police, social_protection or ngo
    /// (default: from your role).
    pub agency: Option<String>,
    /// `[{"question": "afraid_to_go_home", "value": {"type": "yes_no", "value": true}}, …]`;
    /// value types: `yes_no` (bool), `choice` (option code), `number`, `text`.
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<Answer>,
}

/// The stored screening's number, level, and what followed.
#[derive(Serialize, ToSchema)]
pub struct ScreeningSaved {
    pub id: i64,
    /// low, medium, high or immediate_danger.
    pub level: String,
    /// The referral to the district's social services (medium risk and above).
    pub referral_id: Option<i64>,
    /// New alerts raised for the household's children.
    pub alerts_raised: usize,
}

/// Score and store a screening; refers the child when the risk is medium or above.
#[utoipa::path(post, path = "/api/v1/welfare/screenings", tag = "welfare", request_body = ScreeningBody,
    responses((status = 201, body = ScreeningSaved), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn screening_create(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(b): ApiJson<ScreeningBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = w::ctx(&app, &v, &actor)?;
    let input = ScreeningInput {
        person_id: b.person_id,
        agency: b
            .agency
            .unwrap_or_else(|| bala_welfare::store::agency_of(ctx.principal).to_string()),
        answers: b.answers,
    };
    let s = screenings::create(&app.db, ctx, &w::IMMUNIZATION, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(ScreeningSaved {
            id: s.id,
            level: s.level.code().to_string(),
            referral_id: s.referral_id,
            alerts_raised: s.alerts_raised,
        }),
    )
        .into_response())
}

/// A stored screening with its answers, result and explanation (yours, or of your areas).
#[utoipa::path(get, path = "/api/v1/welfare/screenings/{id}", tag = "welfare", params(("id" = i64, Path)),
    responses((status = 200, body = serde_json::Value), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn screening_get(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let actor = v.actor();
    let s = screenings::get(&app.db, w::ctx(&app, &v, &actor)?, id).await?;
    let explanation: Vec<serde_json::Value> = bala_welfare::Lang::ALL
        .iter()
        .map(|l| serde_json::json!({"lang": l.code(), "sentences": s.result.explain(&s.instrument, *l)}))
        .collect();
    Ok(Json(serde_json::json!({
        "id": s.id,
        "person_id": s.person_id,
        "instrument": s.instrument.code,
        "instrument_version": s.instrument.version,
        "answers": s.answers,
        "result": s.result,
        "explanation": explanation,
        "agency": s.agency,
        "screened_at": s.screened_at,
        "screened_by": s.screened_by,
        "referral": s.referral.map(|(id, state)| serde_json::json!({"id": id, "state": state})),
    })))
}

/// A short concern report.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcernBody {
    pub person_id: i64,
    /// Concern codes (physical_abuse, neglect, …), main one first.
    pub concerns: Vec<String>,
    /// low, medium, high or immediate_danger.
    pub level: String,
    pub agency: Option<String>,
    /// What was seen or heard (stored encrypted).
    pub narrative: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConcernSaved {
    pub id: i64,
    pub referral_id: i64,
}

/// Report a concern; it is referred to the district's social services.
#[utoipa::path(post, path = "/api/v1/welfare/concerns", tag = "welfare", request_body = ConcernBody,
    responses((status = 201, body = ConcernSaved), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn concern_create(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(b): ApiJson<ConcernBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = w::ctx(&app, &v, &actor)?;
    let input = ConcernInput {
        person_id: b.person_id,
        concerns: b.concerns,
        level: b.level,
        agency: b
            .agency
            .unwrap_or_else(|| bala_welfare::store::agency_of(ctx.principal).to_string()),
        narrative: b.narrative,
    };
    let (id, referral_id) = screenings::report_concern(&app.db, ctx, &input).await?;
    Ok((StatusCode::CREATED, Json(ConcernSaved { id, referral_id })).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllParams {
    /// Include alerts already dealt with.
    pub all: Option<bool>,
}

/// Your alerts (open and acknowledged unless `all`), with their explanations in kk, ru and en.
#[utoipa::path(get, path = "/api/v1/welfare/alerts", tag = "welfare", params(AllParams),
    responses((status = 200, body = serde_json::Value)))]
pub async fn alert_list(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<AllParams>,
) -> Result<Json<Vec<alerts::Alert>>, AppError> {
    let actor = v.actor();
    Ok(Json(
        alerts::list(&app.db, w::ctx(&app, &v, &actor)?, q.all.unwrap_or(false)).await?,
    ))
}

/// Acknowledge an open alert.
#[utoipa::path(post, path = "/api/v1/welfare/alerts/{id}/acknowledge", tag = "welfare", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn alert_acknowledge(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let actor = v.actor();
    alerts::acknowledge(&app.db, w::ctx(&app, &v, &actor)?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[serde(default)]
    pub reason: String,
}

/// Dismiss an alert with a reason.
#[utoipa::path(post, path = "/api/v1/welfare/alerts/{id}/dismiss", tag = "welfare", params(("id" = i64, Path)), request_body = ReasonBody,
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn alert_dismiss(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> Result<StatusCode, AppError> {
    let actor = v.actor();
    alerts::dismiss(&app.db, w::ctx(&app, &v, &actor)?, id, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListParams {
    /// `mine` (default) or `visible` (everything you may read).
    pub show: Option<String>,
    /// Include closed cases.
    pub closed: Option<bool>,
}

/// Cases assigned to you, or every case you may read.
#[utoipa::path(get, path = "/api/v1/welfare/cases", tag = "welfare", params(CaseListParams),
    responses((status = 200, body = serde_json::Value)))]
pub async fn case_list(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<CaseListParams>,
) -> Result<Json<Vec<cases::CaseSummary>>, AppError> {
    let actor = v.actor();
    let which = match q.show.as_deref() {
        None | Some("mine") => Listing::Mine,
        Some("visible") => Listing::Visible,
        Some(_) => {
            return Err(AppError::Validation(bala_core::ValidationErrors::single(
                bala_core::FieldError::new("show", "err-choice", "mine or visible"),
            )))
        }
    };
    Ok(Json(
        cases::list(
            &app.db,
            w::ctx(&app, &v, &actor)?,
            which,
            q.closed.unwrap_or(false),
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    pub person_id: i64,
    /// `child` or `family`.
    pub subject: String,
    pub concerns: Vec<String>,
    /// low, medium, high or immediate_danger.
    pub risk: String,
    /// Stored encrypted.
    pub summary: String,
    /// Username of the worker to assign (default: you).
    pub assign_to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Open a case for a child in your areas.
#[utoipa::path(post, path = "/api/v1/welfare/cases", tag = "welfare", request_body = CaseBody,
    responses((status = 201, body = Created), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn case_create(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(b): ApiJson<CaseBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let n = NewCase {
        person_id: b.person_id,
        subject: b.subject,
        concerns: b.concerns,
        risk: b.risk,
        summary: b.summary,
        assign_to: b.assign_to,
        source: "direct".into(),
        source_id: None,
    };
    let id = cases::create(&app.db, w::ctx(&app, &v, &actor)?, &n).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

/// One case with its timeline, plan, visits, referrals, consent and documents (read audited).
#[utoipa::path(get, path = "/api/v1/welfare/cases/{id}", tag = "welfare", params(("id" = i64, Path)),
    responses((status = 200, body = serde_json::Value), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn case_get(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Json<cases::CaseDetail>, AppError> {
    let actor = v.actor();
    Ok(Json(
        cases::get(&app.db, w::ctx(&app, &v, &actor)?, id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// registered, assessment, case_plan, implementation, follow_up, review or closed.
    #[serde(default)]
    pub to: String,
    /// Required when closing.
    pub closure_reason: Option<String>,
    /// Required when reopening.
    pub note: Option<String>,
}

/// Move a case to another stage.
#[utoipa::path(post, path = "/api/v1/welfare/cases/{id}/transition", tag = "welfare", params(("id" = i64, Path)), request_body = TransitionBody,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn case_transition(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TransitionBody>,
) -> Result<StatusCode, AppError> {
    let actor = v.actor();
    cases::transition(
        &app.db,
        w::ctx(&app, &v, &actor)?,
        id,
        &b.to,
        b.closure_reason.as_deref(),
        b.note.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// note, assessment or review.
    #[serde(default)]
    pub kind: String,
    /// Stored encrypted.
    #[serde(default)]
    pub text: String,
}

/// Add a note, assessment or review to the case's timeline.
#[utoipa::path(post, path = "/api/v1/welfare/cases/{id}/notes", tag = "welfare", params(("id" = i64, Path)), request_body = NoteBody,
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn case_note(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Result<StatusCode, AppError> {
    let actor = v.actor();
    cases::add_note(&app.db, w::ctx(&app, &v, &actor)?, id, &b.kind, &b.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralBody {
    /// health, education, police, social_protection, ngo or social_services.
    #[serde(default)]
    pub to_agency: String,
    /// A service code (medical, psychological, legal, …).
    #[serde(default)]
    pub service: String,
    pub note: Option<String>,
}

/// Refer the case's child to another agency (needs the family's consent for that agency).
#[utoipa::path(post, path = "/api/v1/welfare/cases/{id}/referrals", tag = "welfare", params(("id" = i64, Path)), request_body = ReferralBody,
    responses((status = 201, body = Created), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn case_referral(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReferralBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let rid = referrals::send_from_case(
        &app.db,
        w::ctx(&app, &v, &actor)?,
        id,
        &b.to_agency,
        &b.service,
        b.note.as_deref().unwrap_or(""),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: rid })).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    /// A calendar year (1990–2100); all years when absent (statistics) or this year (indicators).
    pub year: Option<String>,
}

/// De-identified counts over your areas; cells below 5 are suppressed (`primary`) and
/// cells that would reveal them too (`secondary`).
#[utoipa::path(get, path = "/api/v1/welfare/statistics", tag = "welfare", params(YearParams),
    responses((status = 200, body = serde_json::Value), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn statistics(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<YearParams>,
) -> Result<Json<Vec<stats::Table>>, AppError> {
    let year = w::parse_year(q.year.as_deref())?;
    Ok(Json(
        stats::statistics(&app.db, &v.principal()?.scope, year).await?,
    ))
}

/// Indicator values computed from Bala's own data, per district, for one year
/// (suppressed values have `value: null`, `status: "suppressed"`).
#[utoipa::path(get, path = "/api/v1/welfare/indicators", tag = "welfare", params(YearParams),
    responses((status = 200, body = serde_json::Value), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn indicators(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<YearParams>,
) -> Result<Json<Vec<stats::IndicatorValue>>, AppError> {
    let year =
        w::parse_year(q.year.as_deref())?.unwrap_or_else(|| time::OffsetDateTime::now_utc().year());
    Ok(Json(
        stats::indicator_values(&app.db, &v.principal()?.scope, year).await?,
    ))
}
