//! Administration of the pillar's reference data: the screening instrument and
//! the alert rules (new versions edited as TOML, validated field by field), and
//! the rules' hit rates.

use super::{field_errors, unprocessable, IMMUNIZATION};
use crate::error::AppError;
use crate::extract::{WebForm as Form, WebQuery as Query};
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_access::Action;
use bala_welfare::store::alerts::{self, RuleReport};
use bala_welfare::store::reference::{self, VersionInfo};
use bala_welfare::store::WelfareError;
use serde::Deserialize;

pub fn routes() -> RouteTable {
    let r = Rule::Can(Action::ManageReference);
    RouteTable::new()
        .get("/welfare/admin", r, index)
        .get("/welfare/admin/instruments/new", r, instrument_form)
        .post("/welfare/admin/instruments", r, instrument_publish)
        .get("/welfare/admin/rules/new", r, rules_form)
        .post("/welfare/admin/rules", r, rules_publish)
}

#[derive(Template)]
#[template(path = "welfare/admin.html")]
struct IndexPage {
    c: Chrome,
    instruments: Vec<VersionInfo>,
    rule_sets: Vec<VersionInfo>,
    rules_version: u32,
    children: usize,
    reports: Vec<RuleReport>,
}

async fn index(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let p = v.principal()?;
    let (rules, children, reports) = alerts::hit_rates(&app.db, &IMMUNIZATION, &p.scope).await?;
    render(&IndexPage {
        c: Chrome::new(&v, "welfare-admin", &uri),
        instruments: reference::list_instruments(&app.db).await?,
        rule_sets: reference::list_rule_sets(&app.db).await?,
        rules_version: rules.version,
        children,
        reports,
    })
}

#[derive(Template)]
#[template(path = "welfare/admin_edit.html")]
struct EditPage {
    c: Chrome,
    /// `instruments` or `rules`.
    kind: &'static str,
    title: &'static str,
    body: String,
    errors: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct FromQuery {
    code: Option<String>,
    version: Option<i64>,
}

async fn latest(app: &AppState, instrument: bool, q: &FromQuery) -> Result<String, AppError> {
    let list = if instrument {
        reference::list_instruments(&app.db).await?
    } else {
        reference::list_rule_sets(&app.db).await?
    };
    let chosen = list
        .iter()
        .find(|i| {
            q.code.as_deref().is_none_or(|c| c == i.code)
                && q.version.is_none_or(|v| v == i.version)
        })
        .ok_or(AppError::NotFound)?;
    Ok(reference::body(&app.db, instrument, &chosen.code, chosen.version).await?)
}

async fn instrument_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<FromQuery>,
) -> Result<Response, AppError> {
    render(&EditPage {
        c: Chrome::new(&v, "welfare-admin", &uri),
        kind: "instruments",
        title: "welfare-admin-instrument-new",
        body: latest(&app, true, &q).await?,
        errors: vec![],
    })
}

async fn rules_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<FromQuery>,
) -> Result<Response, AppError> {
    render(&EditPage {
        c: Chrome::new(&v, "welfare-admin", &uri),
        kind: "rules",
        title: "welfare-admin-rules-new",
        body: latest(&app, false, &q).await?,
        errors: vec![],
    })
}

#[derive(Deserialize)]
struct BodyForm {
    #[serde(default)]
    body: String,
}

async fn publish(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    instrument: bool,
    body: String,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let outcome = if instrument {
        reference::publish_instrument(&app.db, &actor, &body)
            .await
            .map(|_| ())
    } else {
        reference::publish_rule_set(&app.db, &actor, &body)
            .await
            .map(|_| ())
    };
    match outcome {
        Ok(()) => Ok(redirect_with_flash(
            "/welfare/admin",
            "flash-reference-published",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(v, "welfare-admin", uri);
            let errors = field_errors(&c, &e);
            unprocessable(&EditPage {
                c,
                kind: if instrument { "instruments" } else { "rules" },
                title: if instrument {
                    "welfare-admin-instrument-new"
                } else {
                    "welfare-admin-rules-new"
                },
                body,
                errors,
            })
        }
        Err(e) => Err(e.into()),
    }
}

async fn instrument_publish(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<BodyForm>,
) -> Result<Response, AppError> {
    publish(&app, &v, &uri, true, f.body).await
}

async fn rules_publish(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<BodyForm>,
) -> Result<Response, AppError> {
    publish(&app, &v, &uri, false, f.body).await
}
