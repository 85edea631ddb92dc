use super::people::PersonDto;
use super::{ApiJson, ApiQuery};
use crate::error::{AppError, Problem};
use crate::extract::WebPath as Path;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bala_access::Action;
use bala_registry::households;
use bala_registry::people::Ctx;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/households", Rule::Can(Action::ViewPeople), list)
        .post("/api/v1/households", Rule::Can(Action::EditPeople), create)
        .get(
            "/api/v1/households/{id}",
            Rule::Can(Action::ViewPeople),
            get,
        )
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdSummary {
    pub id: i64,
    pub area_code: String,
    pub address: Option<String>,
    pub members: i64,
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdPage {
    pub items: Vec<HouseholdSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdDto {
    pub id: i64,
    pub area_code: String,
    pub address: Option<String>,
    pub members: Vec<PersonDto>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only households inside this area (KATO).
    pub area: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdBody {
    pub area_code: String,
    pub address: Option<String>,
}

fn check_paging(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64), AppError> {
    let mut e = bala_core::ValidationErrors::new();
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(25);
    if page < 1 {
        e.push("page", "err-page", "pages start at 1");
    }
    if !(1..=200).contains(&per_page) {
        e.push("per_page", "err-per-page", "between 1 and 200");
    }
    e.into_result()?;
    Ok((page, per_page))
}

/// Households in your areas.
#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(ListParams),
    responses((status = 200, body = HouseholdPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<Json<HouseholdPage>, AppError> {
    let actor = v.actor();
    let (page, per_page) = check_paging(q.page, q.per_page)?;
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let r = households::list(&app.db, ctx, q.area.as_deref(), page, per_page).await?;
    Ok(Json(HouseholdPage {
        total: r.total,
        page: r.page,
        per_page: r.per_page,
        items: r
            .items
            .into_iter()
            .map(|(id, area_code, address, members)| HouseholdSummary {
                id,
                area_code,
                address,
                members,
            })
            .collect(),
    }))
}

/// A household with its members.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path, description = "Household number")),
    responses((status = 200, body = HouseholdDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Json<HouseholdDto>, AppError> {
    let actor = v.actor();
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let h = households::get(&app.db, ctx, id).await?;
    Ok(Json(HouseholdDto {
        id: h.id,
        area_code: h.area_code,
        address: h.address,
        members: h.members.into_iter().map(Into::into).collect(),
    }))
}

/// Create a household.
#[utoipa::path(post, path = "/api/v1/households", tag = "households", request_body = HouseholdBody,
    responses((status = 201, body = super::people::Created), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(b): ApiJson<HouseholdBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = Ctx {
        actor: &actor,
        scope: &v.principal()?.scope,
    };
    let id = households::create(&app.db, ctx, &b.area_code, b.address.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/households/{id}"))],
        Json(super::people::Created { id }),
    )
        .into_response())
}
