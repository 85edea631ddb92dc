//! The indicators pillar's JSON API: the registry, values, progress, entry,
//! approval, import and export.

use super::{ApiJson, ApiQuery};
use crate::error::{AppError, Problem};
use crate::extract::WebPath as Path;
use crate::i18n::Tr;
use crate::indicators_view as iv;
use crate::pages::indicators_api as shared;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bala_access::Action;
use bala_indicators::model::{format_dims, parse_dims, Period};
use bala_indicators::store::import::{self, Format, ImportError, Request};
use bala_indicators::store::values::{
    self, Decision, Existing, Fields, Filter, Outcome, ValueKey, Writer,
};
use bala_indicators::store::{export, registry, Channel};
use bala_store::audit::{self, NewEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> RouteTable {
    let view = Rule::Can(Action::ViewAggregates);
    RouteTable::new()
        .get("/api/v1/indicators", view, list)
        .get("/api/v1/indicators/values", view, values_list)
        .post(
            "/api/v1/indicators/values",
            Rule::Can(Action::EditIndicators),
            submit,
        )
        .post(
            "/api/v1/indicators/import",
            Rule::Can(Action::EditIndicators),
            import_file,
        )
        .get("/api/v1/indicators/export", view, export_file)
        .get(
            "/api/v1/indicators/approvals",
            Rule::Can(Action::ApproveIndicators),
            approvals,
        )
        .post(
            "/api/v1/indicators/approvals",
            Rule::Can(Action::ApproveIndicators),
            review,
        )
        .get("/api/v1/indicators/{indicator}", view, get)
        .get("/api/v1/indicators/{indicator}/progress", view, progress)
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorDto {
    /// `3.2.1` (SDG numbering) or a Bala code.
    pub code: String,
    pub name_kk: Option<String>,
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
    /// percent, rate, count or index.
    pub kind: String,
    /// lower, higher or neutral.
    pub direction: String,
    pub unit: String,
    /// The headline breakdown, `UNIT_MEASURE=PER_1000_LIVE_BIRTHS`.
    pub headline: String,
    /// `SDG 3.2.1`, `MDG 4.1`.
    pub frameworks: Vec<String>,
    pub targets: Vec<TargetDto>,
    /// The source label of values Bala computes (`bala:registry`), if it does.
    pub computed: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TargetDto {
    pub framework: String,
    /// absolute or reduction.
    pub kind: String,
    /// The value (absolute) or the share to cut (reduction, 0–1).
    pub value: f64,
    pub baseline: Option<String>,
    pub target_period: String,
    /// Breakdowns the target applies to (empty: all series).
    pub dims: String,
    pub citation: String,
}

fn dto(d: &bala_indicators::registry::IndicatorDef) -> IndicatorDto {
    use bala_indicators::registry::TargetRule;
    IndicatorDto {
        code: d.code.clone(),
        name_kk: d.names.kk.clone(),
        name_ru: d.names.ru.clone(),
        name_en: d.names.en.clone(),
        kind: d.kind.code().into(),
        direction: d.polarity.code().into(),
        unit: d.unit.clone(),
        headline: format_dims(&d.headline),
        frameworks: d
            .frameworks
            .iter()
            .map(|f| format!("{} {}", f.framework.code(), f.number))
            .collect(),
        targets: d
            .targets
            .iter()
            .map(|t| {
                let (kind, value, baseline) = match t.rule {
                    TargetRule::Absolute { value } => ("absolute", value, None),
                    TargetRule::Reduction { fraction, baseline } => {
                        ("reduction", fraction, Some(baseline.to_string()))
                    }
                };
                TargetDto {
                    framework: t.framework.code().into(),
                    kind: kind.into(),
                    value,
                    baseline,
                    target_period: t.by.to_string(),
                    dims: format_dims(&t.dims),
                    citation: t.citation.clone(),
                }
            })
            .collect(),
        computed: d.computed.clone(),
    }
}

/// The indicator registry.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators",
    responses((status = 200, body = [IndicatorDto])))]
pub async fn list(State(app): State<AppState>) -> Result<Json<Vec<IndicatorDto>>, AppError> {
    Ok(Json(
        registry::all(&app.db).await?.iter().map(dto).collect(),
    ))
}

/// One indicator with its frameworks and targets.
#[utoipa::path(get, path = "/api/v1/indicators/{indicator}", tag = "indicators",
    params(("indicator" = String, Path, description = "Indicator code, e.g. 3.2.1")),
    responses((status = 200, body = IndicatorDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<IndicatorDto>, AppError> {
    Ok(Json(dto(&registry::get(&app.db, &code).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValuesParams {
    /// Indicator codes, comma-separated.
    pub indicator: Option<String>,
    /// KATO codes, comma-separated.
    pub area: Option<String>,
    /// Exact breakdown, `SEX=F;UNIT_MEASURE=PT`.
    pub series: Option<String>,
    pub source: Option<String>,
    /// First period (`2010`, `2020-Q1`, `2020-03`).
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ValueDto {
    pub indicator: String,
    /// KATO code; `000000000` is the republic.
    pub area: String,
    pub period: String,
    /// Breakdown, `SEX=F;UNIT_MEASURE=PT`; empty for the total.
    #[serde(default)]
    pub series: String,
    pub source: String,
    pub value: Option<f64>,
    #[serde(default)]
    pub lower: Option<f64>,
    #[serde(default)]
    pub upper: Option<f64>,
    /// SDMX observation status: A final, P provisional, E estimated.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub footnote: Option<String>,
    #[serde(default)]
    pub numerator: Option<f64>,
    #[serde(default)]
    pub denominator: Option<f64>,
    /// Published version (read only).
    #[serde(default)]
    pub version: Option<i64>,
}

fn field_err(field: &str, code: &'static str, detail: impl Into<String>) -> AppError {
    AppError::Validation(bala_core::ValidationErrors::single(
        bala_core::FieldError::new(field, code, detail),
    ))
}

fn split(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or_default()
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Published values (approved), filtered.
#[utoipa::path(get, path = "/api/v1/indicators/values", tag = "indicators", params(ValuesParams),
    responses((status = 200, body = [ValueDto]), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn values_list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ValuesParams>,
) -> Result<Json<Vec<ValueDto>>, AppError> {
    let period = |f: &str, v: &Option<String>| -> Result<Option<Period>, AppError> {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| {
                Period::parse(s).map_err(|e| field_err(f, "indicators-bad-period", e.to_string()))
            })
            .transpose()
    };
    let filter = Filter {
        indicators: split(&q.indicator),
        areas: split(&q.area),
        from: period("from", &q.from)?,
        to: period("to", &q.to)?,
        dims: q
            .series
            .as_deref()
            .map(|s| parse_dims(s).map_err(|e| field_err("series", "indicators-bad-code", e)))
            .transpose()?,
        source: q.source.clone().filter(|s| !s.is_empty()),
    };
    Ok(Json(
        values::published(&app.db, &filter)
            .await?
            .into_iter()
            .map(|v| ValueDto {
                indicator: v.key.indicator,
                area: v.key.area,
                period: v.key.period.to_string(),
                series: format_dims(&v.key.dims),
                source: v.key.source,
                value: Some(v.fields.value),
                lower: v.fields.lower,
                upper: v.fields.upper,
                status: v.fields.status,
                footnote: v.fields.footnote,
                numerator: v.fields.numerator,
                denominator: v.fields.denominator,
                version: Some(v.version),
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SubmitResult {
    /// added, updated, unchanged or submitted (waiting for approval), per value in order.
    pub outcomes: Vec<String>,
}

/// Enters values: for the republic they are published, for a region or district
/// they wait for a regional manager's approval. All are checked first (ranges,
/// numerator ≤ denominator, codes); if any fails nothing is stored and every
/// problem is named `N.field` (N from 0).
#[utoipa::path(post, path = "/api/v1/indicators/values", tag = "indicators", request_body = [ValueDto],
    responses((status = 200, body = SubmitResult), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn submit(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(rows): ApiJson<Vec<ValueDto>>,
) -> Result<Json<SubmitResult>, AppError> {
    let p = v.principal()?.clone();
    let mut errors = bala_core::ValidationErrors::new();
    let mut ready: Vec<(ValueKey, Fields)> = Vec::new();
    let units = registry::units(&app.db).await?;
    for (i, r) in rows.iter().enumerate() {
        match shared::check_value(&app, &p.scope, &units, r).await? {
            Ok(kf) => ready.push(kf),
            Err(e) => {
                errors.0.extend(e.0.into_iter().map(|f| {
                    bala_core::FieldError::new(format!("{i}.{}", f.field), f.code, f.detail)
                }))
            }
        }
    }
    if rows.is_empty() {
        errors.push("body", "indicators-missing", "send at least one value");
    }
    errors.into_result()?;
    let channel = Channel::User {
        user_id: p.user_id,
        scope: p.scope.clone(),
    };
    let actor = v.actor();
    let mut indicators: Vec<String> = ready.iter().map(|r| r.0.indicator.clone()).collect();
    indicators.sort();
    indicators.dedup();
    let db_err =
        |e: bala_store::sqlx::Error| AppError::from(bala_indicators::store::IndError::from(e));
    let mut tx = app.db.begin().await?;
    let mut existing = Existing::load(&mut tx, &indicators).await.map_err(db_err)?;
    let batch = values::new_batch(&mut tx, "api", None, None, None, &actor.name)
        .await
        .map_err(db_err)?;
    let w = Writer {
        actor: &actor.name,
        user_id: Some(p.user_id),
        batch: Some(batch),
        approved_by: None,
    };
    let mut outcomes = Vec::new();
    for (k, f) in &ready {
        let o = values::write(
            &mut tx,
            &mut existing,
            k,
            f,
            channel.route(&k.area),
            None,
            &w,
        )
        .await
        .map_err(db_err)?;
        outcomes.push(
            match o {
                Outcome::Added => "added",
                Outcome::Updated => "updated",
                Outcome::Unchanged => "unchanged",
                Outcome::Submitted => "submitted",
            }
            .to_string(),
        );
    }
    audit::append(
        &mut tx,
        &NewEntry::by(&actor, "indicators.values.enter", "ind_batch", batch)
            .with_details(serde_json::json!({"values": ready.len(), "indicators": indicators})),
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Json(SubmitResult { outcomes }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// csv, sdmx-csv, sdmx-json, dhis2-json, adx or xlsx.
    pub format: String,
    /// Check only, store nothing.
    pub dry_run: Option<bool>,
    pub indicator: Option<String>,
    pub source: Option<String>,
    pub codelist: Option<String>,
    /// For the report (kazstat's CSV takes the indicator from `indicator_3-2-1.csv`).
    pub file_name: Option<String>,
}

/// Imports a file sent as the request body; answers the per-row report.
#[utoipa::path(post, path = "/api/v1/indicators/import", tag = "indicators", params(ImportParams),
    request_body(content = String, description = "The file, as is", content_type = "application/octet-stream"),
    responses((status = 200, description = "The import report: counts and one entry per row", body = serde_json::Value),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn import_file(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<ImportParams>,
    body: Bytes,
) -> Result<Response, AppError> {
    let format = Format::parse(&q.format).ok_or_else(|| {
        field_err(
            "format",
            "indicators-bad-code",
            "csv, sdmx-csv, sdmx-json, dhis2-json, adx or xlsx",
        )
    })?;
    let p = v.principal()?;
    let channel = Channel::User {
        user_id: p.user_id,
        scope: p.scope.clone(),
    };
    let req = Request {
        format,
        bytes: &body,
        file_name: q.file_name.clone(),
        indicator: q.indicator.clone(),
        source: q.source.clone(),
        codelist: q.codelist.clone(),
        dry_run: q.dry_run.unwrap_or(false),
    };
    match import::import(&app.db, &v.actor(), &channel, &req, &mut |_, _| {}).await {
        Ok(r) => Ok(Json(r).into_response()),
        Err(ImportError::Format(e)) => {
            Err(field_err("body", "indicators-unexpected", e.to_string()))
        }
        Err(ImportError::Ind(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    pub format: Option<String>,
    pub indicator: Option<String>,
    pub area: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub codelist: Option<String>,
}

/// Published values as a file in an exchange format.
#[utoipa::path(get, path = "/api/v1/indicators/export", tag = "indicators", params(ExportParams),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_file(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ExportParams>,
) -> Result<Response, AppError> {
    let eq = crate::pages::indicators_api::ExportQuery {
        format: q.format,
        indicator: q.indicator,
        area: q.area,
        source: q.source,
        from: q.from,
        to: q.to,
        codelist: q.codelist,
    };
    let (format, filter) = crate::pages::indicators_api::export_filter(&eq)?;
    let bytes = export::export(&app.db, format, &filter, eq.codelist.as_deref())
        .await
        .map_err(crate::pages::indicators_api::export_error)?;
    Ok(crate::pages::indicators_api::download(
        format.content_type(),
        &format!("bala-indicators.{}", format.extension()),
        bytes,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SubmissionDto {
    pub id: i64,
    pub value: ValueDto,
    pub published: Option<f64>,
    pub submitted_by: String,
    pub submitted_at: String,
    pub outlier: Option<String>,
}

/// Values waiting for your approval (in your areas).
#[utoipa::path(get, path = "/api/v1/indicators/approvals", tag = "indicators", responses((status = 200, body = [SubmissionDto])))]
pub async fn approvals(
    State(app): State<AppState>,
    v: Visitor,
) -> Result<Json<Vec<SubmissionDto>>, AppError> {
    let p = v.principal()?;
    Ok(Json(
        values::pending(&app.db, &p.scope)
            .await?
            .into_iter()
            .map(|s| SubmissionDto {
                id: s.id,
                value: ValueDto {
                    indicator: s.key.indicator,
                    area: s.key.area,
                    period: s.key.period.to_string(),
                    series: format_dims(&s.key.dims),
                    source: s.key.source,
                    value: Some(s.fields.value),
                    lower: s.fields.lower,
                    upper: s.fields.upper,
                    status: s.fields.status,
                    footnote: s.fields.footnote,
                    numerator: s.fields.numerator,
                    denominator: s.fields.denominator,
                    version: None,
                },
                published: s.published,
                submitted_by: s.submitted_by,
                submitted_at: s.submitted_at,
                outlier: s.outlier,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewDto {
    pub ids: Vec<i64>,
    /// approve or reject.
    #[schema(value_type = String, example = "approve")]
    pub decision: Decision,
    /// Required when rejecting.
    pub note: Option<String>,
}

/// Approves (publishes) or rejects values waiting in your areas.
#[utoipa::path(post, path = "/api/v1/indicators/approvals", tag = "indicators", request_body = ReviewDto,
    responses((status = 200, body = serde_json::Value), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn review(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(r): ApiJson<ReviewDto>,
) -> Result<Json<serde_json::Value>, AppError> {
    let p = v.principal()?;
    let n = values::review(
        &app.db,
        &v.actor(),
        &p.scope,
        &r.ids,
        r.decision,
        r.note.as_deref(),
    )
    .await?;
    Ok(Json(serde_json::json!({ "reviewed": n })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressParams {
    /// KATO code; default the republic.
    pub area: Option<String>,
    /// Breakdown; default the headline.
    pub series: Option<String>,
    pub source: Option<String>,
    /// Language of the explanation: kk, ru or en (default: the request's).
    pub lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressDto {
    pub indicator: String,
    pub area: String,
    pub series: String,
    pub source: String,
    pub values: usize,
    pub targets: Vec<serde_json::Value>,
}

/// Progress to every target that applies: AARR (two-point or log-linear), the
/// required AARR, the projection to the target year, the status, and the method
/// explained step by step.
#[utoipa::path(get, path = "/api/v1/indicators/{indicator}/progress", tag = "indicators",
    params(("indicator" = String, Path, description = "Indicator code"), ProgressParams),
    responses((status = 200, body = ProgressDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn progress(
    State(app): State<AppState>,
    v: Visitor,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ProgressParams>,
) -> Result<Json<ProgressDto>, AppError> {
    let lang = match q.lang.as_deref() {
        Some(l) => crate::i18n::Lang::parse(l)
            .ok_or_else(|| field_err("lang", "err-query", "kk, ru or en"))?,
        None => v.lang,
    };
    let tr = Tr(lang);
    let def = registry::get(&app.db, &code).await?;
    let sel = crate::pages::indicators_api::select(
        &app,
        &def,
        &crate::pages::indicators_api::SeriesQuery {
            area: q.area.clone(),
            series: q.series.clone(),
            source: q.source.clone(),
        },
    )
    .await?;
    let series = values::series(&app.db, &def.code, &sel.area, &sel.dims, &sel.source).await?;
    let pts = iv::points(&series);
    let targets = iv::assess_all(tr, &def, &sel.dims, &pts)
        .into_iter()
        .map(|p| {
            serde_json::json!({
                "framework": p.framework,
                "target": p.target_label,
                "target_value": p.target_value,
                "target_period": p.target_year,
                "citation": p.citation,
                "status": p.status_code,
                "method": p.report.as_ref().map(|r| r.method),
                "current_aarr": p.current_aarr,
                "current_rate_continuous": p.report.as_ref().and_then(|r| r.current_rate),
                "required_aarr": p.required_aarr,
                "projected": p.projected,
                "explanation": p.explanation,
            })
        })
        .collect();
    Ok(Json(ProgressDto {
        indicator: def.code,
        area: sel.area,
        series: format_dims(&sel.dims),
        source: sel.source,
        values: pts.len(),
        targets,
    }))
}
