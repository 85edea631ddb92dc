//! Surveillance performance indicators (aggregates only).

use super::ApiQuery;
use crate::error::{AppError, Problem};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::extract::State;
use axum::Json;
use bala_access::Action;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> RouteTable {
    RouteTable::new().get(
        "/api/v1/surveillance/performance",
        Rule::Can(Action::ViewAggregates),
        performance,
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceParams {
    /// KATO code inside your areas (default: your first area).
    pub area: Option<String>,
    /// Year of onset (default: this year).
    pub year: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorDto {
    /// npafp-rate, stool-adequacy, afp-investigated-48h, afp-follow-up, nmnr-rate,
    /// measles-investigated-48h, measles-adequate-specimen, measles-results-4d,
    /// reporting-completeness, reporting-timeliness
    pub code: String,
    pub numerator: i64,
    pub denominator: f64,
    pub value: Option<f64>,
    /// `per_100k` or `percent`
    pub unit: String,
    pub target: f64,
    pub meets: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct AreaIndicatorsDto {
    pub area_code: String,
    pub afp_cases: i64,
    pub measles_cases: i64,
    pub indicators: Vec<IndicatorDto>,
}

#[derive(Serialize, ToSchema)]
pub struct PerformanceDto {
    pub year: i32,
    pub area: AreaIndicatorsDto,
    pub children: Vec<AreaIndicatorsDto>,
    /// Share (%) of sub-areas meeting the discarded NMNR rate of 2 per 100 000.
    pub nmnr_units_meeting: Option<f64>,
    /// True while the year is in progress (rates scaled to a full year).
    pub annualised: bool,
}

fn dto(a: bala_surveillance::store::AreaIndicators) -> AreaIndicatorsDto {
    AreaIndicatorsDto {
        area_code: a.area_code,
        afp_cases: a.afp_cases,
        measles_cases: a.measles_cases,
        indicators: a
            .indicators
            .into_iter()
            .map(|i| IndicatorDto {
                code: i.code.to_string(),
                numerator: i.numerator,
                denominator: i.denominator,
                value: i.value,
                unit: match i.unit {
                    bala_surveillance::performance::Unit::Per100k => "per_100k".into(),
                    bala_surveillance::performance::Unit::Percent => "percent".into(),
                },
                target: i.target,
                meets: i.meets,
            })
            .collect(),
    }
}

/// WHO polio (AFP) and measles/rubella surveillance indicators for an area and its sub-areas.
#[utoipa::path(get, path = "/api/v1/surveillance/performance", tag = "surveillance", params(PerformanceParams),
    responses((status = 200, body = PerformanceDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn performance(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<PerformanceParams>,
) -> Result<Json<PerformanceDto>, AppError> {
    let p = v.principal()?;
    let area = q.area.unwrap_or_else(|| {
        p.scope
            .first()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default()
    });
    let year = q
        .year
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().year());
    if !(1990..=2100).contains(&year) {
        return Err(
            bala_core::ValidationErrors::single(bala_core::FieldError::new(
                "year",
                "err-year",
                "a year from 1990 to 2100",
            ))
            .into(),
        );
    }
    let perf = bala_surveillance::store::performance(
        &app.db,
        &p.scope,
        &area,
        year,
        time::OffsetDateTime::now_utc().date(),
    )
    .await?;
    Ok(Json(PerformanceDto {
        year,
        nmnr_units_meeting: perf.nmnr_units_meeting,
        annualised: perf.annualised,
        area: dto(perf.area),
        children: perf.children.into_iter().map(dto).collect(),
    }))
}
