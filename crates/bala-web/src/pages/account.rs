//! The signed-in user's own account: password and API tokens.

use super::{redirect_with_flash, render, Chrome};
use crate::error::{translated_field_error, AppError};
use crate::extract::{WebForm as Form, WebPath as Path};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use bala_access::{password, tokens, users, AccessError, TokenScope};
use bala_registry::areas;
use serde::Deserialize;

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/account", Rule::SignedIn, show)
        .post("/account/password", Rule::SignedIn, change_password)
        .post("/account/tokens", Rule::SignedIn, create_token)
        .post("/account/tokens/{id}/revoke", Rule::SignedIn, revoke_token)
}

struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    scope_key: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    username: String,
    role_key: String,
    scope: String,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    errors: Vec<String>,
}

async fn page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    new_token: Option<String>,
    errors: Vec<String>,
) -> Result<AccountPage, AppError> {
    let p = v.principal()?;
    let lang = v.lang.code();
    let scope = areas::scope_areas(&app.db, &p.scope)
        .await?
        .iter()
        .map(|a| a.name(lang).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let tokens = tokens::list_for(&app.db, p.user_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            scope_key: format!("token-scope-{}", t.scope.replace('_', "-")),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    Ok(AccountPage {
        c: Chrome::new(v, "account", uri),
        username: p.username.clone(),
        role_key: format!("role-{}", p.role.code().replace('_', "-")),
        scope,
        tokens,
        new_token,
        errors,
    })
}

async fn show(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    render(&page(&app, &v, &uri, None, vec![]).await?)
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    password: String,
}

async fn change_password(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let (_, hash) = users::find_by_username(&app.db, &p.username)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = f.current.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&current, &hash))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let tr = crate::i18n::Tr(v.lang);
    let errors = if !ok {
        vec![tr.t("err-current-password")]
    } else {
        match users::set_password(&app.db, &v.actor(), p.user_id, &f.password).await {
            // Changing the password ends every session, this one too: sign in again.
            Ok(()) => {
                return Ok(redirect_with_flash(
                    "/login",
                    "flash-password-changed",
                    app.config.secure_cookies,
                ))
            }
            Err(AccessError::Validation(e)) => {
                e.0.iter().map(|x| translated_field_error(tr, x)).collect()
            }
            Err(e) => return Err(e.into()),
        }
    };
    let page = page(&app, &v, &uri, None, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    scope: String,
}

async fn create_token(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<TokenForm>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let scope = TokenScope::parse(&f.scope)
        .ok_or_else(|| AppError::BadRequest("scope must be read or read_write".into()))?;
    let token = tokens::create(&app.db, &v.actor(), p.user_id, &f.name, scope, None).await?;
    render(&page(&app, &v, &uri, Some(token), vec![]).await?)
}

async fn revoke_token(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    tokens::revoke(&app.db, &v.actor(), v.principal()?.user_id, id).await?;
    Ok(redirect_with_flash(
        "/account",
        "flash-token-revoked",
        app.config.secure_cookies,
    ))
}
