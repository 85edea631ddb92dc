//! Browsing the area tree (not personal data: every signed-in user may).

use super::{render, Chrome};
use crate::error::AppError;
use crate::extract::WebPath as Path;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_access::Action;
use bala_registry::areas::{self, Area};

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/areas", Rule::Can(Action::ViewAreas), root)
        .get("/areas/{code}", Rule::Can(Action::ViewAreas), show)
}

struct Child {
    code: String,
    name: String,
    kind_key: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
}

#[derive(Template)]
#[template(path = "areas.html")]
struct AreaPage {
    c: Chrome,
    title: String,
    crumbs: Vec<(String, String)>,
    area: Option<Area>,
    kind_key: String,
    split_from: Option<(String, String)>,
    inside: i64,
    children: Vec<Child>,
}

fn kind_key(kind: &str) -> String {
    format!("area-kind-{}", kind.replace('_', "-"))
}

async fn root(state: State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    show(state, v, uri, Path(bala_core::kato::REPUBLIC.to_string())).await
}

async fn show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let lang = v.lang.code();
    let area = areas::get(&app.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let crumbs = areas::ancestors(&app.db, &code)
        .await?
        .iter()
        .map(|a| (a.code.clone(), a.name(lang).to_string()))
        .collect();
    let split_from = match &area.split_from {
        Some(s) => areas::get(&app.db, s)
            .await?
            .map(|a| (a.code.clone(), a.name(lang).to_string())),
        None => None,
    };
    let children = areas::children(&app.db, &code)
        .await?
        .into_iter()
        .map(|a| Child {
            name: a.name(lang).to_string(),
            kind_key: kind_key(&a.kind),
            code: a.code,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
        })
        .collect();
    let inside = areas::descendants(&app.db, &code).await?.len() as i64 - 1;
    render(&AreaPage {
        c: Chrome::new(&v, "areas", &uri),
        title: area.name(lang).to_string(),
        crumbs,
        kind_key: kind_key(&area.kind),
        split_from,
        inside,
        children,
        area: Some(area),
    })
}
