//! The people register: search, register, view, edit, merge, relations.

use super::{redirect_with_flash, render, Chrome, FieldMessages};
use crate::error::{translated_field_error, AppError};
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::i18n::Tr;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use bala_access::Action;
use bala_core::{AreaCode, ValidationErrors};
use bala_registry::households::{self, RELATIONSHIP_KINDS};
use bala_registry::people::{self, CreateOutcome, Ctx, Person, Search};
use bala_registry::person::PersonInput;
use bala_registry::{areas, RegistryError};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> RouteTable {
    let view = Rule::Can(Action::ViewPeople);
    let edit = Rule::Can(Action::EditPeople);
    RouteTable::new()
        .get("/people", view, list)
        .get("/people/new", edit, new_form)
        .post("/people", edit, create)
        .get("/people/{id}", view, show)
        .get("/people/{id}/edit", edit, edit_form)
        .post("/people/{id}", edit, update)
        .get("/people/{id}/history", view, history)
        .get(
            "/people/{id}/merge",
            Rule::Can(Action::MergePeople),
            merge_form,
        )
        .post("/people/{id}/merge", Rule::Can(Action::MergePeople), merge)
        .post("/people/{id}/relations", edit, add_relation)
        .post(
            "/people/{id}/relations/{related}/delete",
            edit,
            remove_relation,
        )
        .post("/people/{id}/household", edit, set_household)
        .get("/households/{id}", view, household)
}

/// Areas the user can choose, indented by depth, current ones only.
pub async fn area_options(
    app: &AppState,
    scope: &[AreaCode],
    lang: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let all = areas::all(&app.db).await?;
    let today = bala_core::date::iso(time::OffsetDateTime::now_utc().date());
    let mut inside = std::collections::HashSet::new();
    for a in scope {
        inside.extend(areas::descendants(&app.db, a.as_str()).await?);
    }
    let by_code: HashMap<&str, &areas::Area> = all.iter().map(|a| (a.code.as_str(), a)).collect();
    let mut out: Vec<(String, String, String)> = all
        .iter()
        .filter(|a| inside.contains(&a.code) && a.is_valid_on(&today))
        .map(|a| {
            // Sort key: the chain of codes from the top, so children follow parents.
            let mut chain = vec![a.code.clone()];
            let mut cur = a.parent_code.as_deref();
            while let Some(pc) = cur {
                chain.push(pc.to_string());
                cur = by_code.get(pc).and_then(|p| p.parent_code.as_deref());
            }
            chain.reverse();
            let indent = "\u{a0}\u{a0}".repeat(a.level.max(0) as usize);
            (
                chain.join("/"),
                a.code.clone(),
                format!("{indent}{}", a.name(lang)),
            )
        })
        .collect();
    out.sort();
    Ok(out
        .into_iter()
        .map(|(_, code, label)| (code, label))
        .collect())
}

/// "1 y 4 m" in the page's language.
pub fn age_label(tr: Tr, birth: &str) -> String {
    let Ok(b) = bala_core::parse_date(birth) else {
        return String::new();
    };
    let today = time::OffsetDateTime::now_utc().date();
    let months = bala_core::date::age_months(b, today).max(0);
    if months < 24 {
        tr.t1("age-months", "m", months as i64)
    } else {
        tr.t1(
            "age-years",
            "y",
            bala_core::date::age_years(b, today) as i64,
        )
    }
}

pub(crate) fn ctx<'a>(
    v: &'a Visitor,
    actor: &'a bala_store::audit::Actor,
) -> Result<Ctx<'a>, AppError> {
    Ok(Ctx {
        actor,
        scope: &v.principal()?.scope,
    })
}

// ---- list -------------------------------------------------------------------

struct Row {
    id: i64,
    name: String,
    latin: String,
    iin: Option<String>,
    birth_date: String,
    age: String,
    sex: String,
    area: String,
}

struct QueryView {
    q: String,
    birth_date: String,
    area: String,
    sex: String,
    age: String,
    errors: FieldMessages,
}

impl QueryView {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Template)]
#[template(path = "people_list.html")]
struct ListPage {
    c: Chrome,
    q: QueryView,
    area_options: Vec<(String, String)>,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

fn page_link(s: &Search, page: i64) -> String {
    let pairs: Vec<(&str, String)> = [
        ("q", s.q.clone()),
        ("birth_date", s.birth_date.clone()),
        ("area", s.area.clone()),
        ("sex", s.sex.clone()),
        ("age", s.age.clone()),
        ("page", Some(page.to_string())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    format!(
        "/people?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

async fn area_names(app: &AppState, lang: &str) -> Result<HashMap<String, String>, AppError> {
    Ok(areas::all(&app.db)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a.name(lang).to_string()))
        .collect())
}

async fn list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(s): Query<Search>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let c = Chrome::new(&v, "people", &uri);
    let p = v.principal()?;
    let lang = v.lang.code();
    let mut errors = FieldMessages::default();
    let result = match s.check() {
        Ok(()) => Some(people::search(&app.db, ctx(&v, &actor)?, &s).await?),
        Err(e) => {
            errors = FieldMessages::translate(c.tr, Some(&e));
            None
        }
    };
    let names = area_names(&app, lang).await?;
    let (rows, total, page, pages) = match &result {
        Some(r) => (
            r.items
                .iter()
                .map(|p| Row {
                    id: p.id,
                    name: p.full_name(),
                    latin: p.latin_name(),
                    iin: p.iin.clone(),
                    birth_date: p.birth_date.clone(),
                    age: age_label(c.tr, &p.birth_date),
                    sex: p.sex.clone(),
                    area: names.get(&p.area_code).cloned().unwrap_or_default(),
                })
                .collect(),
            r.total,
            r.page,
            r.pages(),
        ),
        None => (vec![], 0, 1, 1),
    };
    let page_view = ListPage {
        q: QueryView {
            q: s.q.clone().unwrap_or_default(),
            birth_date: s.birth_date.clone().unwrap_or_default(),
            area: s.area.clone().unwrap_or_default(),
            sex: s.sex.clone().unwrap_or_default(),
            age: s.age.clone().unwrap_or_default(),
            errors,
        },
        area_options: area_options(&app, &p.scope, lang).await?,
        rows,
        total,
        page,
        pages,
        prev: (page > 1).then(|| page_link(&s, page - 1)),
        next: (page < pages).then(|| page_link(&s, page + 1)),
        c,
    };
    render(&page_view)
}

// ---- create and edit ----------------------------------------------------------

pub struct FormView {
    pub input: PersonInput,
    pub errors: FieldMessages,
}

impl FormView {
    pub fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
    /// The value of an optional field, for `value="…"`.
    pub fn opt(&self, field: &str) -> &str {
        let v = match field {
            "iin" => &self.input.iin,
            "patronymic" => &self.input.patronymic,
            "family_name_lat" => &self.input.family_name_lat,
            "given_name_lat" => &self.input.given_name_lat,
            "address" => &self.input.address,
            "phone" => &self.input.phone,
            _ => &None,
        };
        v.as_deref().unwrap_or("")
    }
}

struct DupView {
    id: i64,
    name: String,
    birth_date: String,
    iin: Option<String>,
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct FormPage {
    c: Chrome,
    title: &'static str,
    action: String,
    cancel: String,
    version: Option<i64>,
    f: FormView,
    area_options: Vec<(String, String)>,
    duplicates: Vec<DupView>,
}

#[derive(Deserialize)]
struct PersonForm {
    #[serde(flatten)]
    person: PersonInput,
    confirm_new: Option<String>,
    version: Option<String>,
}

async fn form_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    existing: Option<&Person>,
    input: PersonInput,
    errors: Option<&ValidationErrors>,
    duplicates: Vec<Person>,
) -> Result<FormPage, AppError> {
    let c = Chrome::new(v, "people", uri);
    let errors = FieldMessages::translate(c.tr, errors);
    Ok(FormPage {
        title: if existing.is_some() {
            "person-edit"
        } else {
            "person-new"
        },
        action: existing
            .map(|p| format!("/people/{}", p.id))
            .unwrap_or_else(|| "/people".into()),
        cancel: existing
            .map(|p| format!("/people/{}", p.id))
            .unwrap_or_else(|| "/people".into()),
        version: existing.map(|p| p.version),
        f: FormView { input, errors },
        area_options: area_options(app, &v.principal()?.scope, v.lang.code()).await?,
        duplicates: duplicates
            .iter()
            .map(|d| DupView {
                id: d.id,
                name: d.full_name(),
                birth_date: d.birth_date.clone(),
                iin: d.iin.clone(),
            })
            .collect(),
        c,
    })
}

fn unprocessable(page: FormPage) -> Result<Response, AppError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

async fn new_form(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let mut input = PersonInput::default();
    // A user with one district preselects it.
    if let [only] = v.principal()?.scope.as_slice() {
        input.area_code = only.as_str().to_string();
    }
    render(&form_page(&app, &v, &uri, None, input, None, vec![]).await?)
}

async fn create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<PersonForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let confirmed = f.confirm_new.is_some();
    match people::create(&app.db, ctx(&v, &actor)?, &f.person, confirmed).await {
        Ok(CreateOutcome::Created(id)) => Ok(redirect_with_flash(
            &format!("/people/{id}"),
            "flash-person-created",
            app.config.secure_cookies,
        )),
        Ok(CreateOutcome::PossibleDuplicates(d)) => {
            unprocessable(form_page(&app, &v, &uri, None, f.person, None, d).await?)
        }
        Err(RegistryError::Validation(e)) => {
            unprocessable(form_page(&app, &v, &uri, None, f.person, Some(&e), vec![]).await?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let p = people::get(&app.db, ctx(&v, &actor)?, id).await?;
    render(&form_page(&app, &v, &uri, Some(&p), p.to_input(), None, vec![]).await?)
}

async fn update(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<PersonForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let existing = people::fetch_in_scope(&app.db, &v.principal()?.scope, id).await?;
    let version = f
        .version
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(existing.version);
    let updated = people::update(&app.db, ctx(&v, &actor)?, id, version, &f.person).await;
    if updated.is_ok() {
        // A new birth date or area changes which cohort and area the doses count for.
        bala_immunization::store::doses::refresh_person(&app.db, id).await?;
    }
    match updated {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/people/{id}"),
            "flash-person-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => unprocessable(
            form_page(&app, &v, &uri, Some(&existing), f.person, Some(&e), vec![]).await?,
        ),
        Err(RegistryError::Conflict) => {
            let e = ValidationErrors::single(bala_core::FieldError::new(
                "version",
                "err-conflict",
                "changed by someone else",
            ));
            let fresh = people::fetch_in_scope(&app.db, &v.principal()?.scope, id).await?;
            let mut page =
                form_page(&app, &v, &uri, Some(&fresh), f.person, Some(&e), vec![]).await?;
            page.version = Some(fresh.version);
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---- view -----------------------------------------------------------------------

struct RelView {
    label: String,
    id: i64,
    name: String,
    birth_date: String,
    phone: String,
    /// The (person_id, related_id) pair stored, for removing the link.
    child_id: i64,
    related_id: i64,
}

#[derive(Template)]
#[template(path = "person_show.html")]
struct ShowPage {
    c: Chrome,
    p: Person,
    age: String,
    area_path: String,
    relations: Vec<RelView>,
    kinds: Vec<(&'static str, String)>,
    pillar_links: Vec<(String, &'static str)>,
}

fn rel_label(kind: &str, inverse: bool) -> String {
    if inverse {
        format!("rel-inverse-{}", kind.replace('_', "-"))
    } else {
        format!("rel-{}", kind.replace('_', "-"))
    }
}

async fn show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let p = people::get(&app.db, ctx(&v, &actor)?, id).await?;
    let c = Chrome::new(&v, "people", &uri);
    let lang = v.lang.code();
    let area_path = areas::ancestors(&app.db, &p.area_code)
        .await?
        .iter()
        .skip(1)
        .map(|a| a.name(lang).to_string())
        .collect::<Vec<_>>()
        .join(" › ");
    let relations = households::relations(&app.db, &v.principal()?.scope, id)
        .await?
        .into_iter()
        .map(|r| RelView {
            label: rel_label(&r.kind, r.inverse),
            id: r.related.id,
            name: r.related.full_name(),
            birth_date: r.related.birth_date.clone(),
            phone: r.related.phone.clone().unwrap_or_default(),
            child_id: if r.inverse { r.related.id } else { id },
            related_id: if r.inverse { id } else { r.related.id },
        })
        .collect();
    render(&ShowPage {
        age: age_label(c.tr, &p.birth_date),
        area_path,
        relations,
        kinds: RELATIONSHIP_KINDS
            .iter()
            .map(|k| (*k, rel_label(k, false)))
            .collect(),
        pillar_links: welfare_links(&v, id),
        p,
        c,
    })
}

/// Links to the welfare pillar from a person's page, by what the user may do.
fn welfare_links(v: &Visitor, id: i64) -> Vec<(String, &'static str)> {
    let Some(p) = v.principal.as_ref() else {
        return vec![];
    };
    let mut out = vec![];
    if bala_access::can(p, Action::ViewImmunization) {
        out.push((format!("/immunization/children/{id}"), "imm-card"));
    }
    if bala_access::can(p, Action::Screen) {
        out.push((
            format!("/welfare/screenings/new?person={id}"),
            "welfare-screen-child",
        ));
        out.push((
            format!("/welfare/concerns/new?person={id}"),
            "welfare-report-concern",
        ));
    }
    if bala_access::can(p, Action::ManageCases) {
        out.push((
            format!("/welfare/cases/new?person={id}"),
            "welfare-open-case",
        ));
    }
    out
}

struct HistoryRow {
    at: String,
    by: String,
    person_id: i64,
    version: i64,
    name: String,
    iin: String,
    area: String,
}

#[derive(Template)]
#[template(path = "person_history.html")]
struct HistoryPage {
    c: Chrome,
    p: Person,
    rows: Vec<HistoryRow>,
}

async fn history(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&v, &actor)?;
    let p = people::fetch_in_scope(&app.db, ctx.scope, id).await?;
    let names = area_names(&app, v.lang.code()).await?;
    let rows = people::history(&app.db, ctx, id)
        .await?
        .into_iter()
        .map(|(pid, ver)| {
            let old: Option<Person> = serde_json::from_value(ver.data.clone()).ok();
            HistoryRow {
                at: ver.changed_at,
                by: ver.changed_by,
                person_id: pid,
                version: ver.version,
                name: old.as_ref().map(|o| o.full_name()).unwrap_or_default(),
                iin: old.as_ref().and_then(|o| o.iin.clone()).unwrap_or_default(),
                area: old
                    .as_ref()
                    .and_then(|o| names.get(&o.area_code).cloned())
                    .unwrap_or_default(),
            }
        })
        .collect();
    render(&HistoryPage {
        c: Chrome::new(&v, "people", &uri),
        p,
        rows,
    })
}

// ---- merge ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "person_merge.html")]
struct MergePage {
    c: Chrome,
    p: Person,
    candidates: Vec<Person>,
    error: Option<String>,
}

async fn merge_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    id: i64,
    error: Option<String>,
) -> Result<MergePage, AppError> {
    let p = people::fetch_in_scope(&app.db, &v.principal()?.scope, id).await?;
    let valid =
        bala_registry::person::validate(&p.to_input(), time::OffsetDateTime::now_utc().date());
    let candidates = match valid {
        Ok(vp) => people::find_likely_duplicates(&app.db, &vp, Some(id)).await?,
        Err(_) => vec![],
    };
    Ok(MergePage {
        c: Chrome::new(v, "people", uri),
        p,
        candidates,
        error,
    })
}

async fn merge_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&merge_page(&app, &v, &uri, id, None).await?)
}

#[derive(Deserialize)]
struct MergeForm {
    #[serde(default)]
    duplicate_id: String,
}

async fn merge(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let tr = Tr(v.lang);
    let Ok(dup) = f.duplicate_id.trim().parse::<i64>() else {
        let page = merge_page(&app, &v, &uri, id, Some(tr.t("err-merge-id"))).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let merged = people::merge(&app.db, ctx(&v, &actor)?, id, dup, &app.person_refs).await;
    if merged.is_ok() {
        // The survivor now holds both records' doses: re-derive its coverage facts.
        bala_immunization::store::doses::refresh_person(&app.db, id).await?;
    }
    match merged {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/people/{id}"),
            "flash-person-merged",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let msg =
                e.0.iter()
                    .map(|f| translated_field_error(tr, f))
                    .collect::<Vec<_>>()
                    .join(" ");
            let page = merge_page(&app, &v, &uri, id, Some(msg)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(RegistryError::NotFound) => {
            let page = merge_page(&app, &v, &uri, id, Some(tr.t("err-merge-id"))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---- relations and households ---------------------------------------------------

#[derive(Deserialize)]
struct RelationForm {
    /// The related person's record number or IIN.
    related: String,
    kind: String,
}

async fn add_relation(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<RelationForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&v, &actor)?;
    let key = f.related.trim();
    let related = if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) {
        let s = Search {
            q: Some(key.to_string()),
            ..Default::default()
        };
        people::search(&app.db, ctx, &s)
            .await?
            .items
            .first()
            .map(|p| p.id)
    } else {
        key.parse::<i64>().ok()
    };
    let Some(related) = related else {
        return Err(ValidationErrors::single(bala_core::FieldError::new(
            "related",
            "err-person-unknown",
            "no such person in your areas",
        ))
        .into());
    };
    households::link(&app.db, ctx, id, related, &f.kind).await?;
    Ok(redirect_with_flash(
        &format!("/people/{id}"),
        "flash-relation-added",
        app.config.secure_cookies,
    ))
}

async fn remove_relation(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, related)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    households::unlink(&app.db, ctx(&v, &actor)?, id, related).await?;
    Ok(redirect_with_flash(
        &format!("/people/{id}"),
        "flash-relation-removed",
        app.config.secure_cookies,
    ))
}

#[derive(Deserialize)]
struct HouseholdForm {
    household_id: Option<String>,
}

/// Puts the person into a household: an existing one by number, or a new one
/// at the person's address when the field is left empty.
async fn set_household(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<HouseholdForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&v, &actor)?;
    let p = people::fetch_in_scope(&app.db, ctx.scope, id).await?;
    let hid = match f
        .household_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => s.parse::<i64>().map_err(|_| {
            AppError::from(ValidationErrors::single(bala_core::FieldError::new(
                "household_id",
                "err-household",
                "a household number",
            )))
        })?,
        None => households::create(&app.db, ctx, &p.area_code, p.address.as_deref()).await?,
    };
    households::set_household(&app.db, ctx, id, Some(hid)).await?;
    Ok(redirect_with_flash(
        &format!("/people/{id}"),
        "flash-household-saved",
        app.config.secure_cookies,
    ))
}

#[derive(Template)]
#[template(path = "household_show.html")]
struct HouseholdPage {
    c: Chrome,
    h: households::Household,
    area: String,
}

async fn household(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let h = households::get(&app.db, ctx(&v, &actor)?, id).await?;
    let area = areas::get(&app.db, &h.area_code)
        .await?
        .map(|a| a.name(v.lang.code()).to_string())
        .unwrap_or_default();
    render(&HouseholdPage {
        c: Chrome::new(&v, "people", &uri),
        h,
        area,
    })
}
