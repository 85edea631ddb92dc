//! Server-rendered pages. Each module is one resource; `routes()` lists every
//! page route with its access rule.

mod account;
mod admin;
mod areas;
mod auth;
mod fhir_codes;
mod immunization;
mod indicators;
pub(crate) use indicators::api_shared as indicators_api;
pub(crate) mod people;
mod surveillance;
pub(crate) mod welfare;

use crate::error::{AppError, ErrorInfo};
use crate::extract::WebForm as Form;
use crate::i18n::{Lang, Tr};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use crate::{cookies, ops};
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bala_access::{can, Action, Principal};
use serde::Deserialize;

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/", Rule::SignedIn, home)
        .post("/lang", Rule::Public, set_language)
        .get("/healthz", Rule::Public, ops::healthz)
        .get("/metrics", Rule::Public, ops::metrics)
        .get("/static/{name}", Rule::Public, ops::static_file)
        .merge(auth::routes())
        .merge(people::routes())
        .merge(areas::routes())
        .merge(admin::routes())
        .merge(account::routes())
        .merge(immunization::routes())
        .merge(fhir_codes::routes())
        .merge(welfare::routes())
        .merge(indicators::routes())
        .merge(surveillance::routes())
}

/// What every page's layout needs: language, user, CSRF token, where we are.
pub struct Chrome {
    pub tr: Tr,
    pub lang: Lang,
    pub user: Option<Principal>,
    pub csrf: String,
    /// The current path and query, for the language switcher to come back to.
    pub path: String,
    /// The navigation entry to mark as current.
    pub nav: &'static str,
    pub flash: Option<String>,
}

/// Pillar pages in the navigation: (href, nav id, label message, action needed).
const PILLARS: &[(&str, &str, &str, Action)] = &[
    (
        "/immunization",
        "immunization",
        "nav-immunization",
        Action::ViewAggregates,
    ),
    ("/welfare", "welfare", "nav-welfare", Action::Screen),
    (
        "/surveillance",
        "surveillance",
        "nav-surveillance",
        Action::ViewAggregates,
    ),
    (
        "/indicators",
        "indicators",
        "nav-indicators",
        Action::ViewAggregates,
    ),
    (
        "/welfare/statistics",
        "welfare-stats",
        "nav-welfare-stats",
        Action::ViewAggregates,
    ),
    (
        "/welfare/admin",
        "welfare-admin",
        "nav-welfare-admin",
        Action::ManageReference,
    ),
];

fn action_named(name: &str) -> Option<Action> {
    use Action::*;
    Some(match name {
        "ViewPeople" => ViewPeople,
        "EditPeople" => EditPeople,
        "MergePeople" => MergePeople,
        "ViewAreas" => ViewAreas,
        "ViewAggregates" => ViewAggregates,
        "ManageUsers" => ManageUsers,
        "ViewAudit" => ViewAudit,
        "ManageReference" => ManageReference,
        "ViewImmunization" => ViewImmunization,
        "RecordImmunization" => RecordImmunization,
        "Surveillance" => Surveillance,
        "EditIndicators" => EditIndicators,
        "ApproveIndicators" => ApproveIndicators,
        "Screen" => Screen,
        "ManageCases" => ManageCases,
        "SuperviseCases" => SuperviseCases,
        "BulkExchange" => BulkExchange,
        _ => return None,
    })
}

impl Chrome {
    pub fn new(v: &Visitor, nav: &'static str, uri: &Uri) -> Chrome {
        Chrome {
            tr: Tr(v.lang),
            lang: v.lang,
            user: v.principal.clone(),
            csrf: v.csrf.clone(),
            path: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            nav,
            flash: v.flash.clone(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.tr.t(key)
    }
    pub fn t1(&self, key: &str, n: &str, v: impl Into<crate::i18n::FluentArg>) -> String {
        self.tr.t1(key, n, v)
    }
    pub fn t2(
        &self,
        key: &str,
        n1: &str,
        v1: impl Into<crate::i18n::FluentArg>,
        n2: &str,
        v2: impl Into<crate::i18n::FluentArg>,
    ) -> String {
        self.tr.t2(key, n1, v1, n2, v2)
    }
    pub fn date(&self, iso: &str) -> String {
        self.tr.date(iso)
    }
    pub fn odate(&self, iso: &Option<String>) -> String {
        iso.as_deref().map(|d| self.tr.date(d)).unwrap_or_default()
    }
    pub fn stamp(&self, ts: &str) -> String {
        self.tr.stamp(ts)
    }
    pub fn num(&self, n: &i64) -> String {
        self.tr.num(*n)
    }
    pub fn langs(&self) -> [Lang; 3] {
        Lang::ALL
    }
    /// Whether the user's role allows an action (by its name in `bala_access::Action`).
    pub fn can(&self, action: &str) -> bool {
        let a =
            action_named(action).unwrap_or_else(|| panic!("unknown action {action} in a template"));
        self.user.as_ref().is_some_and(|u| can(u, a))
    }
    pub fn user_name(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    }
    pub fn pillars(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        PILLARS
            .iter()
            .filter(|p| self.user.as_ref().is_some_and(|u| can(u, p.3)))
            .map(|p| (p.0, p.1, p.2))
            .collect()
    }
    /// The area's name in the page's language.
    pub fn area(&self, a: &bala_registry::areas::Area) -> String {
        a.name(self.lang.code()).to_string()
    }
    pub fn sex(&self, code: &str) -> String {
        match code {
            "M" => self.t("sex-m"),
            "F" => self.t("sex-f"),
            other => other.to_string(),
        }
    }
}

/// The field errors of a submitted form, translated, in the order they were found.
#[derive(Debug, Default)]
pub struct FieldMessages(pub Vec<(String, String)>);

impl FieldMessages {
    pub fn translate(tr: Tr, errors: Option<&bala_core::ValidationErrors>) -> FieldMessages {
        FieldMessages(
            errors
                .map(|e| {
                    e.0.iter()
                        .map(|f| (f.field.clone(), crate::error::translated_field_error(tr, f)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The message for one field, for an inline error.
    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.iter().find(|e| e.0 == field).map(|e| &e.1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Renders a template into a 200 response.
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    Ok(Html(t.render()?).into_response())
}

/// A redirect after a successful POST, carrying a message for the next page.
pub fn redirect_with_flash(to: &str, flash_key: &str, secure: bool) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(cookies::FLASH, flash_key, Some(60), secure),
    );
    r
}

/// A local path to return to, or `/` (never an open redirect to another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    key: &'static str,
    fields: Vec<(String, String)>,
    detail: Option<String>,
    reference: Option<String>,
}

/// The error page (used by the error middleware for every HTML route).
pub fn error_page(info: &ErrorInfo, lang: Lang, visitor: Option<&Visitor>) -> Response {
    let tr = Tr(lang);
    let page = ErrorPage {
        c: Chrome {
            tr,
            lang,
            user: visitor.and_then(|v| v.principal.clone()),
            csrf: visitor.map(|v| v.csrf.clone()).unwrap_or_default(),
            path: "/".into(),
            nav: "",
            flash: None,
        },
        key: info.key,
        fields: info
            .fields
            .iter()
            .map(|f| (f.field.clone(), crate::error::translated_field_error(tr, f)))
            .collect(),
        detail: info.detail.clone(),
        reference: info.reference.clone(),
    };
    let body = page.render().unwrap_or_else(|_| tr.t(info.key));
    let mut res = (info.status, Html(body)).into_response();
    if info.status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

struct Tile {
    href: &'static str,
    value: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    c: Chrome,
    role_key: String,
    scope_names: String,
    tiles: Vec<Tile>,
}

async fn home(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let p = v.principal()?.clone();
    let c = Chrome::new(&v, "home", &uri);
    let areas = bala_registry::areas::scope_areas(&app.db, &p.scope).await?;
    let scope_names = areas
        .iter()
        .map(|a| c.area(a))
        .collect::<Vec<_>>()
        .join(", ");
    let mut tiles = Vec::new();
    if can(&p, Action::ViewPeople) {
        let counts = bala_registry::people::counts_in_scope(&app.db, &p.scope).await?;
        tiles.push(Tile {
            href: "/people",
            value: c.num(&counts.people),
            label: "home-people",
        });
        tiles.push(Tile {
            href: "/people?age=child",
            value: c.num(&counts.children),
            label: "home-children",
        });
    }
    if can(&p, Action::ManageReference) {
        let codes = bala_fhir::store::code_table(&app.db).await?.rows.len();
        tiles.push(Tile {
            href: "/immunization/fhir-codes",
            value: c.num(&(codes as i64)),
            label: "home-fhir-codes",
        });
    }
    let areas_inside = bala_registry::areas::count_inside(&app.db, &p.scope).await?;
    tiles.push(Tile {
        href: "/areas",
        value: c.num(&areas_inside),
        label: "home-areas",
    });
    render(&Home {
        role_key: format!("role-{}", p.role.code().replace('_', "-")),
        scope_names,
        tiles,
        c,
    })
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    next: Option<String>,
}

/// Switches the interface language, remembers it (cookie, and the account when
/// signed in), and returns to the page.
async fn set_language(
    State(app): State<AppState>,
    v: Visitor,
    Form(f): Form<LangForm>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&f.lang)
        .ok_or_else(|| AppError::BadRequest("lang must be kk, ru or en".into()))?;
    if let Some(p) = &v.principal {
        bala_access::users::set_lang(&app.db, p.user_id, lang.code()).await?;
    }
    let mut r = Redirect::to(&safe_next(f.next.as_deref())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::LANG,
            lang.code(),
            Some(365 * 24 * 3600),
            app.config.secure_cookies,
        ),
    );
    Ok(r)
}
