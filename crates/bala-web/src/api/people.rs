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
use bala_registry::people::{self, CreateOutcome, Ctx, Person, Search};
use bala_registry::person::PersonInput;
use bala_registry::RegistryError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/people", Rule::Can(Action::ViewPeople), list)
        .post("/api/v1/people", Rule::Can(Action::EditPeople), create)
        .get("/api/v1/people/{id}", Rule::Can(Action::ViewPeople), get)
        .put("/api/v1/people/{id}", Rule::Can(Action::EditPeople), update)
        .get(
            "/api/v1/people/{id}/relations",
            Rule::Can(Action::ViewPeople),
            relations,
        )
}

/// A person in the register.
#[derive(Serialize, ToSchema)]
pub struct PersonDto {
    pub id: i64,
    /// Individual identification number, when known.
    pub iin: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub family_name_lat: Option<String>,
    pub given_name_lat: Option<String>,
    /// The Latin spelling as recorded, or transliterated.
    pub latin_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `M` or `F`.
    pub sex: String,
    /// KATO code of the area of residence.
    pub area_code: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub household_id: Option<i64>,
    /// Set when this record was merged into another.
    pub merged_into: Option<i64>,
    /// Send back with updates (optimistic concurrency).
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Person> for PersonDto {
    fn from(p: Person) -> Self {
        PersonDto {
            latin_name: p.latin_name(),
            id: p.id,
            iin: p.iin,
            family_name: p.family_name,
            given_name: p.given_name,
            patronymic: p.patronymic,
            family_name_lat: p.family_name_lat,
            given_name_lat: p.given_name_lat,
            birth_date: p.birth_date,
            sex: p.sex,
            area_code: p.area_code,
            address: p.address,
            phone: p.phone,
            household_id: p.household_id,
            merged_into: p.merged_into,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Fields of a person to register or update.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    pub iin: Option<String>,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub given_name: String,
    pub patronymic: Option<String>,
    pub family_name_lat: Option<String>,
    pub given_name_lat: Option<String>,
    /// `YYYY-MM-DD`
    #[serde(default)]
    pub birth_date: String,
    /// `M` or `F`
    #[serde(default)]
    pub sex: String,
    /// KATO code inside your areas
    #[serde(default)]
    pub area_code: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// On create: register even though likely duplicates exist.
    #[serde(default)]
    pub confirm_new: bool,
    /// On update: the `version` you read.
    pub version: Option<i64>,
}

impl PersonBody {
    fn input(&self) -> PersonInput {
        PersonInput {
            iin: self.iin.clone(),
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            patronymic: self.patronymic.clone(),
            family_name_lat: self.family_name_lat.clone(),
            given_name_lat: self.given_name_lat.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            area_code: self.area_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// An IIN (or its first digits), or words of a name in any script.
    pub q: Option<String>,
    /// `YYYY-MM-DD`
    pub birth_date: Option<String>,
    /// Only people inside this area (KATO).
    pub area: Option<String>,
    /// `M` or `F`
    pub sex: Option<String>,
    /// `child` (under 18) or `adult`
    pub age: Option<String>,
    pub household_id: Option<i64>,
    /// From 1.
    pub page: Option<i64>,
    /// 1–200, default 25.
    pub per_page: Option<i64>,
}

fn ctx<'a>(v: &'a Visitor, actor: &'a bala_store::audit::Actor) -> Result<Ctx<'a>, AppError> {
    Ok(Ctx {
        actor,
        scope: &v.principal()?.scope,
    })
}

/// Search the register within your areas.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(SearchParams),
    responses((status = 200, body = PersonPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(app): State<AppState>,
    v: Visitor,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<PersonPage>, AppError> {
    let actor = v.actor();
    let s = Search {
        q: p.q,
        birth_date: p.birth_date,
        area: p.area,
        sex: p.sex,
        household_id: p.household_id,
        age: p.age,
        page: p.page,
        per_page: p.per_page,
    };
    let r = people::search(&app.db, ctx(&v, &actor)?, &s).await?;
    Ok(Json(PersonPage {
        total: r.total,
        page: r.page,
        per_page: r.per_page,
        items: r.items.into_iter().map(Into::into).collect(),
    }))
}

/// One person (404 when absent or outside your areas).
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path, description = "Record number")),
    responses((status = 200, body = PersonDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Json<PersonDto>, AppError> {
    let actor = v.actor();
    Ok(Json(
        people::get(&app.db, ctx(&v, &actor)?, id).await?.into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DuplicatesProblem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Records that look like the same person. Resend with `confirm_new: true` to register anyway.
    pub duplicates: Vec<PersonDto>,
}

/// Register a person. Likely duplicates (same birth date and area, same names
/// across scripts) answer 409 with the candidates, unless `confirm_new` is set.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = PersonBody,
    responses((status = 201, body = Created), (status = 409, body = DuplicatesProblem),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(app): State<AppState>,
    v: Visitor,
    ApiJson(body): ApiJson<PersonBody>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match people::create(&app.db, ctx(&v, &actor)?, &body.input(), body.confirm_new).await? {
        CreateOutcome::Created(id) => Ok((
            StatusCode::CREATED,
            [(header::LOCATION, format!("/api/v1/people/{id}"))],
            Json(Created { id }),
        )
            .into_response()),
        CreateOutcome::PossibleDuplicates(d) => {
            let tr = crate::i18n::Tr(v.lang);
            let body = DuplicatesProblem {
                kind: "https://bala.kz/problems/possible-duplicates".into(),
                title: tr.t("dup-title"),
                status: 409,
                duplicates: d.into_iter().map(Into::into).collect(),
            };
            Ok((
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "application/problem+json")],
                Json(body),
            )
                .into_response())
        }
    }
}

/// Update a person. Send the `version` you read; 409 if someone changed it since.
#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "people", request_body = PersonBody,
    params(("id" = i64, Path, description = "Record number")),
    responses((status = 200, body = PersonDto), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PersonBody>,
) -> Result<Json<PersonDto>, AppError> {
    let actor = v.actor();
    let ctx = ctx(&v, &actor)?;
    people::fetch_in_scope(&app.db, ctx.scope, id).await?;
    let Some(version) = body.version else {
        return Err(AppError::Validation(bala_core::ValidationErrors::single(
            bala_core::FieldError::new("version", "err-required", "send the version you read"),
        )));
    };
    match people::update(&app.db, ctx, id, version, &body.input()).await {
        Err(RegistryError::Conflict) => return Err(AppError::Conflict("err-conflict".into())),
        other => other?,
    }
    // A new birth date or area changes which cohort and area the doses count for.
    bala_immunization::store::doses::refresh_person(&app.db, id).await?;
    Ok(Json(
        people::fetch_in_scope(&app.db, ctx.scope, id).await?.into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RelationDto {
    /// How `person` stands to the record asked about: mother, father, guardian, … —
    /// or with `inverse`, how the record asked about stands to `person`.
    pub kind: String,
    pub inverse: bool,
    pub person: PersonDto,
}

/// Relatives of a person within your areas.
#[utoipa::path(get, path = "/api/v1/people/{id}/relations", tag = "people", params(("id" = i64, Path, description = "Record number")),
    responses((status = 200, body = [RelationDto]), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn relations(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Json<Vec<RelationDto>>, AppError> {
    let actor = v.actor();
    let ctx = ctx(&v, &actor)?;
    people::get(&app.db, ctx, id).await?;
    let rels = households::relations(&app.db, ctx.scope, id).await?;
    Ok(Json(
        rels.into_iter()
            .map(|r| RelationDto {
                kind: r.kind,
                inverse: r.inverse,
                person: r.related.into(),
            })
            .collect(),
    ))
}
