//! Signing in and out.

use super::{render, safe_next, Chrome};
use crate::cookies;
use crate::error::AppError;
use crate::extract::{WebForm as Form, WebQuery as Query};
use crate::i18n::Lang;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bala_access::{password, sessions, throttle, users};
use bala_store::audit::{self, NewEntry};
use serde::Deserialize;

pub fn routes() -> RouteTable {
    RouteTable::new()
        .get("/login", Rule::Public, login_page)
        .post("/login", Rule::Public, login)
        .post("/logout", Rule::Public, logout)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    username: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    v: Visitor,
    uri: Uri,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if v.principal.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    render(&LoginPage {
        c: Chrome::new(&v, "login", &uri),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Checks the password. The same answer, in about the same time, whether the
/// username is unknown, disabled, or the password is wrong: no enumeration.
async fn login(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let db = &app.db;
    let ip = v.ip.as_deref();
    let again = |error: &'static str, status: StatusCode| -> Result<Response, AppError> {
        let page = LoginPage {
            c: Chrome::new(&v, "login", &uri),
            next: safe_next(f.next.as_deref()),
            username: f.username.clone(),
            error: Some(error),
        };
        Ok((status, Html(page.render()?)).into_response())
    };
    if throttle::is_throttled(db, &f.username, ip).await? {
        return again("login-throttled", StatusCode::TOO_MANY_REQUESTS);
    }
    let found = users::find_by_username(db, &f.username).await?;
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| password::dummy_hash().to_string());
    let pw = f.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let user = match found {
        Some((u, _)) if ok && !u.disabled => u,
        _ => {
            throttle::record_failure(db, &f.username, ip).await?;
            let mut e = NewEntry::new("login.failure", "user", None);
            e.actor = "anonymous".into();
            e.ip = v.ip.clone();
            audit::record(db, &[e]).await?;
            return again("login-failed", StatusCode::UNAUTHORIZED);
        }
    };
    throttle::clear(db, &user.username).await?;
    let token = sessions::create(db, user.id, ip).await?;
    let actor = bala_store::audit::Actor {
        id: Some(user.id),
        name: user.username.clone(),
        ip: v.ip.clone(),
    };
    audit::record(db, &[NewEntry::by(&actor, "login", "user", user.id)]).await?;
    let mut r = Redirect::to(&safe_next(f.next.as_deref())).into_response();
    let secure = app.config.secure_cookies;
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, &token, None, secure),
    );
    // A new CSRF cookie with the new session: tokens from before login stop working.
    h.append(header::SET_COOKIE, cookies::clear(cookies::CSRF, secure));
    // The most recent explicit choice wins: one made on the login page (cookie)
    // is saved to the account; otherwise the account's choice follows the user.
    match (
        cookies::get(&headers, cookies::LANG)
            .as_deref()
            .and_then(Lang::parse),
        &user.lang,
    ) {
        (Some(chosen), saved) if saved.as_deref() != Some(chosen.code()) => {
            users::set_lang(db, user.id, chosen.code()).await?;
        }
        (None, Some(saved)) => {
            h.append(
                header::SET_COOKIE,
                cookies::set(cookies::LANG, saved, Some(365 * 24 * 3600), secure),
            );
        }
        _ => {}
    }
    Ok(r)
}

async fn logout(State(app): State<AppState>, v: Visitor) -> Result<Response, AppError> {
    if let Some(token) = &v.session {
        sessions::delete(&app.db, token).await?;
    }
    if let Some(p) = &v.principal {
        audit::record(
            &app.db,
            &[NewEntry::by(&v.actor(), "logout", "user", p.user_id)],
        )
        .await?;
    }
    let secure = app.config.secure_cookies;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::SESSION, secure));
    r.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::CSRF, secure));
    Ok(r)
}
