//! FHIR R4 exchange of immunization data (ADR 0008, 0012): a child's record as
//! a Bundle (or NDJSON), and import of Patients and Immunizations with a report
//! per resource. Scope and audit as everywhere: a child outside your areas is 404.

use super::ApiQuery;
use crate::error::{AppError, Problem};
use crate::extract::WebPath as Path;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bala_access::Action;
use bala_fhir::store as fhir;
use bala_registry::people::Ctx;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const FHIR_JSON: &str = "application/fhir+json";
pub const FHIR_NDJSON: &str = "application/fhir+ndjson";

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get(
            "/api/v1/fhir/Patient/{id}/$everything",
            Rule::Can(Action::ViewImmunization),
            everything,
        )
        .post(
            "/api/v1/fhir/import",
            Rule::Can(Action::BulkExchange),
            import,
        )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EverythingParams {
    /// `json` (a Bundle, the default) or `ndjson` (one resource per line).
    #[serde(rename = "_format", alias = "format")]
    pub format: Option<String>,
}

/// A child's Patient, every recorded Immunization (entered-in-error ones with that
/// status) and today's ImmunizationRecommendation, as a `collection` Bundle.
#[utoipa::path(get, path = "/api/v1/fhir/Patient/{id}/$everything", tag = "fhir",
    params(("id" = i64, Path, description = "Bala's person number"), EverythingParams),
    responses(
        (status = 200, description = "A FHIR R4 Bundle", content_type = "application/fhir+json", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn everything(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<EverythingParams>,
) -> Result<Response, AppError> {
    let ndjson = match q.format.as_deref() {
        None | Some("json") | Some("application/fhir+json") => false,
        Some("ndjson") | Some("application/fhir+ndjson") => true,
        Some(other) => {
            return Err(
                bala_core::ValidationErrors::single(bala_core::FieldError::new(
                    "_format",
                    "err-choice",
                    format!("'{other}' is not json or ndjson"),
                ))
                .into(),
            )
        }
    };
    let actor = v.actor();
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let bundle =
        fhir::export_child(&app.db, ctx, id, time::OffsetDateTime::now_utc().date()).await?;
    if ndjson {
        let resources: Vec<serde_json::Value> = bundle["entry"]
            .as_array()
            .map(|es| es.iter().map(|e| e["resource"].clone()).collect())
            .unwrap_or_default();
        Ok((
            [(header::CONTENT_TYPE, FHIR_NDJSON)],
            bala_fhir::ndjson(&resources),
        )
            .into_response())
    } else {
        Ok((
            [(header::CONTENT_TYPE, FHIR_JSON)],
            serde_json::to_string(&bundle).unwrap_or_default(),
        )
            .into_response())
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check and report only; nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

/// What became of one resource.
#[derive(Serialize, ToSchema)]
pub struct ResourceOutcomeDto {
    /// Where in the input: `resource`, `resource.entry[2].resource`, `line 3`.
    pub location: String,
    /// `Patient/<id>` or `Immunization/<id>`, when readable.
    pub resource: String,
    /// `imported`, `unchanged` or `rejected`.
    pub outcome: String,
    /// The FHIR element at fault, e.g. `vaccineCode`.
    pub field: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReportDto {
    pub dry_run: bool,
    pub resources: usize,
    pub imported: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub outcomes: Vec<ResourceOutcomeDto>,
}

impl From<fhir::Report> for ImportReportDto {
    fn from(r: fhir::Report) -> Self {
        ImportReportDto {
            dry_run: r.dry_run,
            resources: r.resources,
            imported: r.imported,
            unchanged: r.unchanged,
            rejected: r.rejected,
            outcomes: r
                .outcomes
                .into_iter()
                .map(|o| ResourceOutcomeDto {
                    location: o.location,
                    resource: o.resource,
                    outcome: o.outcome,
                    field: o.field,
                    message: o.message,
                })
                .collect(),
        }
    }
}

/// Imports Patients and Immunizations: one resource, a Bundle, or NDJSON (as
/// `application/fhir+json`, `application/json` or `application/fhir+ndjson`).
/// Patients are matched by IIN, else registered in their KATO area (never when
/// they look like a registered person); Immunizations are recorded once
/// (re-importing changes nothing). Vaccine codes go through the code table.
#[utoipa::path(post, path = "/api/v1/fhir/import", tag = "fhir", params(ImportParams),
    request_body(content = Object, content_type = "application/fhir+json", description = "A resource, a Bundle, or NDJSON"),
    responses((status = 200, body = ImportReportDto),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<ImportParams>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReportDto>, AppError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::BadRequest("the body is not UTF-8 text".into()))?;
    let actor = v.actor();
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let report = fhir::import(&app.db, ctx, text, q.dry_run, &mut |_, _| {}).await?;
    Ok(Json(report.into()))
}
