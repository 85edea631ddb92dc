//! The FHIR vaccine code table page (reference data,
//! edited by administrators; used by FHIR import and export).

use crate::error::AppError;
use crate::extract::WebForm as Form;
use crate::pages::welfare::{field_errors, unprocessable};
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_access::Action;
use bala_fhir::codes::Mapping;
use bala_fhir::store as fhir;
use bala_registry::RegistryError;
use serde::Deserialize;

pub fn routes() -> RouteTable {
    let r = Rule::Can(Action::ManageReference);
    RouteTable::new()
        .get("/immunization/fhir-codes", r, codes)
        .post("/immunization/fhir-codes", r, save)
        .post("/immunization/fhir-codes/delete", r, delete)
}

#[derive(Template)]
#[template(path = "immunization/fhir_codes.html")]
struct CodesPage {
    c: Chrome,
    rows: Vec<Mapping>,
    products: Vec<String>,
    system: String,
    code: String,
    product: String,
    errors: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    system: String,
    code: String,
    product: String,
}

/// Every product of every stored calendar, sorted, for the select.
async fn products(app: &AppState) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = bala_immunization::store::calendars::all(&app.db)
        .await?
        .iter()
        .flat_map(|c| c.products.iter().map(|p| p.code.clone()))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

async fn page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    f: CodeForm,
    errors: Vec<(String, String)>,
) -> Result<CodesPage, AppError> {
    Ok(CodesPage {
        c: Chrome::new(v, "fhir-codes", uri),
        rows: fhir::code_table(&app.db).await?.rows,
        products: products(app).await?,
        system: f.system,
        code: f.code,
        product: f.product,
        errors,
    })
}

async fn codes(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    render(&page(&app, &v, &uri, CodeForm::default(), vec![]).await?)
}

async fn save(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    match fhir::set_code(&app.db, &v.actor(), &f.system, &f.code, &f.product).await {
        Ok(()) => Ok(redirect_with_flash(
            "/immunization/fhir-codes",
            "flash-fhir-code-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let c = Chrome::new(&v, "fhir-codes", &uri);
            let errors = field_errors(&c, &e);
            unprocessable(&page(&app, &v, &uri, f, errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(app): State<AppState>,
    v: Visitor,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    fhir::delete_code(&app.db, &v.actor(), f.system.trim(), f.code.trim()).await?;
    Ok(redirect_with_flash(
        "/immunization/fhir-codes",
        "flash-fhir-code-deleted",
        app.config.secure_cookies,
    ))
}
