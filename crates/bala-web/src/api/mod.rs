//! The JSON API, `/api/v1/…`, and its OpenAPI 3.1 document generated from
//! these handlers' annotations. Same gate, scope and audit as the pages.

mod areas;
pub(crate) mod fhir;
mod households;
mod immunization;
pub(crate) mod indicators;
mod people;
mod surveillance;
mod welfare;

use crate::error::{AppError, Problem, ProblemField};
use crate::routes::{RouteTable, Rule};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/openapi.json", Rule::Public, openapi_json)
        .merge(people::routes())
        .merge(households::routes())
        .merge(areas::routes())
        .merge(immunization::routes())
        .merge(fhir::routes())
        .merge(welfare::routes())
        .merge(indicators::routes())
        .merge(surveillance::routes())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bala API",
        version = "1",
        description = "Bala's register of children and caregivers, households and areas. \
            Authenticate with an API token (`Authorization: Bearer bala_…`, created on the account page). \
            Every read and write of personal data is audited; a record outside the token owner's areas answers 404. \
            Errors are `application/problem+json` (RFC 9457) naming each field at fault.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        people::list, people::get, people::create, people::update, people::relations,
        households::list, households::get, households::create,
        areas::list, areas::get,
        indicators::list, indicators::get, indicators::values_list, indicators::submit,
        indicators::import_file, indicators::export_file, indicators::approvals, indicators::review,
        indicators::progress,
        surveillance::performance,
        immunization::card_get, immunization::dose_create, immunization::lists, immunization::coverage_get,
        fhir::everything, fhir::import,
        welfare::instrument, welfare::screening_create, welfare::screening_get, welfare::concern_create,
        welfare::alert_list, welfare::alert_acknowledge, welfare::alert_dismiss,
        welfare::case_list, welfare::case_create, welfare::case_get, welfare::case_transition,
        welfare::case_note, welfare::case_referral, welfare::statistics, welfare::indicators,
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "people", description = "Children and caregivers"),
        (name = "households", description = "Households"),
        (name = "areas", description = "Kazakhstan's administrative tree (KATO)"),
        (name = "indicators", description = "Indicators of children's and women's situation: registry, values, progress, approval, exchange"),
        (name = "welfare", description = "Child welfare: screenings, concern reports, alerts, cases (visible only to their worker, supervisors and users they are shared with), statistics"),
        (name = "surveillance", description = "WHO polio and measles surveillance indicators (aggregates)"),
        (name = "immunization", description = "Vaccination cards, doses, due and zero-dose lists (audited), coverage (aggregates)"),
        (name = "fhir", description = "FHIR R4 immunization exchange: a child's record as a Bundle or NDJSON, import of Patients and Immunizations")
    )
)]
pub struct ApiDoc;

async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        ApiDoc::openapi().to_pretty_json().unwrap_or_default(),
    )
        .into_response()
}

/// A JSON body whose parse errors become problem documents naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(AppError::BadRequest(
                "send the body as application/json".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("the body could not be read".into()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error(de).map(ApiJson)
    }
}

/// Deserialises, turning serde's message into a field error.
fn serde_path_to_error<'de, T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
) -> Result<T, AppError> {
    T::deserialize(de).map_err(|e| {
        let msg = e.to_string();
        // serde names the field in backquotes: "missing field `x`", "unknown field `x`".
        let field = msg.split('`').nth(1).unwrap_or("body").to_string();
        AppError::Validation(bala_core::ValidationErrors::single(
            bala_core::FieldError::new(field, "err-json", msg),
        ))
    })
}

/// Query parameters whose errors become problem documents naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q).map(ApiQuery).map_err(|e| {
            let msg = e.to_string();
            let field = msg.split('`').nth(1).unwrap_or("query").to_string();
            AppError::Validation(bala_core::ValidationErrors::single(
                bala_core::FieldError::new(field, "err-query", msg),
            ))
        })
    }
}
