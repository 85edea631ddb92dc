use super::ApiQuery;
use crate::error::{AppError, Problem};
use crate::extract::WebPath as Path;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use bala_access::Action;
use bala_registry::areas::{self, Area};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/areas", Rule::Can(Action::ViewAreas), list)
        .get("/api/v1/areas/{code}", Rule::Can(Action::ViewAreas), get)
}

#[derive(Serialize, ToSchema)]
pub struct AreaDto {
    /// KATO code (9 digits); `000000000` is the republic.
    pub code: String,
    pub parent_code: Option<String>,
    /// 0 republic, 1 region or city of republican significance, 2 district, …
    pub level: i64,
    pub kind: String,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
    /// The statistics bureau's code (as in SDG data).
    pub stat_code: Option<String>,
    pub iso_code: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// The area this one was split from (reforms of 2018 and 2022).
    pub split_from: Option<String>,
    /// False where the code follows the KATO pattern but was not checked against the official file.
    pub code_verified: bool,
}

impl From<Area> for AreaDto {
    fn from(a: Area) -> Self {
        AreaDto {
            code: a.code,
            parent_code: a.parent_code,
            level: a.level,
            kind: a.kind,
            name_kk: a.name_kk,
            name_ru: a.name_ru,
            name_en: a.name_en,
            stat_code: a.stat_code,
            iso_code: a.iso_code,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            split_from: a.split_from,
            code_verified: a.code_verified,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaParams {
    /// Only the areas directly under this one.
    pub parent: Option<String>,
    /// Only areas existing on this date (`YYYY-MM-DD`).
    pub on: Option<String>,
    /// From 1 (default 1).
    pub page: Option<i64>,
    /// 1–200 (default 200).
    pub per_page: Option<i64>,
}

/// Areas: all of them, or the children of `parent`.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(AreaParams),
    responses((status = 200, body = [AreaDto]), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<AreaParams>,
) -> Result<Json<Vec<AreaDto>>, AppError> {
    let mut e = bala_core::ValidationErrors::new();
    if q.on
        .as_deref()
        .is_some_and(|d| bala_core::parse_date(d).is_err())
    {
        e.push("on", "err-date", "not a date in the form YYYY-MM-DD");
    }
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(200);
    if page < 1 {
        e.push("page", "err-page", "pages start at 1");
    }
    if !(1..=200).contains(&per_page) {
        e.push("per_page", "err-per-page", "between 1 and 200");
    }
    e.into_result()?;
    let all = match &q.parent {
        Some(p) => areas::children(&app.db, p).await?,
        None => areas::all(&app.db).await?,
    };
    Ok(Json(
        all.into_iter()
            .filter(|a| q.on.as_deref().is_none_or(|d| a.is_valid_on(d)))
            .skip(((page - 1) * per_page) as usize)
            .take(per_page as usize)
            .map(Into::into)
            .collect(),
    ))
}

/// One area by KATO code.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas", params(("code" = String, Path, description = "KATO code")),
    responses((status = 200, body = AreaDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<AreaDto>, AppError> {
    Ok(Json(
        areas::get(&app.db, &code)
            .await?
            .ok_or(AppError::NotFound)?
            .into(),
    ))
}
