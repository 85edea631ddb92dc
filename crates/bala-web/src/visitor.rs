//! Who is asking: the middleware that resolves the session or API token, the
//! language and the CSRF token for every request, and checks CSRF on writes.

use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::{cookies, csrf};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bala_access::{sessions, tokens, Principal};
use bala_store::audit::Actor;
use std::net::SocketAddr;

/// The resolved caller, available to every handler.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub principal: Option<Principal>,
    pub lang: Lang,
    /// The token forms must carry in `_csrf`.
    pub csrf: String,
    pub ip: Option<String>,
    /// The raw session cookie (for logout).
    pub session: Option<String>,
    /// A message left by the previous request (a Fluent message id).
    pub flash: Option<String>,
}

impl Visitor {
    /// The caller as the audit trail records them.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Some(p) => Actor {
                id: Some(p.user_id),
                name: if p.token.is_some() {
                    format!("{} (token)", p.username)
                } else {
                    p.username.clone()
                },
                ip: self.ip.clone(),
            },
            None => Actor {
                id: None,
                name: "anonymous".into(),
                ip: self.ip.clone(),
            },
        }
    }

    /// The principal; the route gate guarantees one on non-public routes.
    pub fn principal(&self) -> Result<&Principal, AppError> {
        self.principal.as_ref().ok_or(AppError::Unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("visitor middleware not installed")))
    }
}

fn client_ip(req: &Request, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        if let Some(f) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            if let Some(first) = f.split(',').next() {
                return Some(first.trim().to_string());
            }
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn is_write(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cross-site `Origin` (when the browser sends one) on a write is refused.
fn origin_ok(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return true;
    };
    origin.split("://").nth(1) == Some(host)
}

pub async fn resolve(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut lang = Lang::En;
    match resolve_inner(app, req, next, &mut lang).await {
        Ok(r) => r,
        // Errors found here (CSRF, a bad token) happen before the error middleware
        // runs, so they are rendered here, in the language already worked out.
        Err(e) => {
            let res = e.into_response();
            match res.extensions().get::<crate::error::ErrorInfo>() {
                Some(info) => crate::error::render(info, lang, api, None),
                None => res,
            }
        }
    }
}

async fn resolve_inner(
    app: AppState,
    mut req: Request,
    next: Next,
    lang_out: &mut Lang,
) -> Result<Response, AppError> {
    let db = &app.db;
    let headers = req.headers().clone();
    let ip = client_ip(&req, app.config.trust_proxy);

    let mut principal = None;
    let mut session_lang = None;
    let by_token = bearer(&headers);
    if let Some(token) = by_token {
        principal = tokens::authenticate(db, token).await?;
        if principal.is_none() {
            *lang_out = headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
                .unwrap_or(Lang::Kk);
            return Err(AppError::Unauthenticated);
        }
    } else if let Some(cookie) = cookies::get(&headers, cookies::SESSION) {
        if let Some(s) = sessions::lookup(db, &cookie).await? {
            principal = Some(s.principal);
            session_lang = s.lang.as_deref().and_then(Lang::parse);
        }
    }

    let lang = session_lang
        .or_else(|| {
            cookies::get(&headers, cookies::LANG)
                .as_deref()
                .and_then(Lang::parse)
        })
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or(Lang::Kk);

    let existing_csrf = cookies::get(&headers, cookies::CSRF).filter(|c| c.len() == 64);
    let csrf_cookie = existing_csrf
        .clone()
        .unwrap_or_else(|| bala_access::random_hex(32));
    let secret = app.config.secret_key.clone();

    req.extensions_mut().insert(lang);
    // CSRF guards ambient credentials: every browser form (login included), and
    // API calls made with a session cookie. An API call with neither a token nor
    // a session has nothing to protect and meets the gate's 401 instead.
    let has_session = cookies::get(&headers, cookies::SESSION).is_some();
    let needs_csrf = by_token.is_none() && (has_session || !req.uri().path().starts_with("/api/"));
    if is_write(req.method()) && needs_csrf {
        if !origin_ok(&headers) {
            return Err(AppError::Csrf);
        }
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 32 * 1024 * 1024)
            .await
            .map_err(|_| AppError::BadRequest("request body too large or unreadable".into()))?;
        let submitted = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.query().and_then(|q| csrf::field_in(q.as_bytes())))
            .or_else(|| {
                let form = headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
                form.then(|| csrf::field_in(&bytes)).flatten()
            });
        let valid = match (&existing_csrf, submitted) {
            (Some(cookie), Some(token)) => csrf::verify(&secret, cookie, &token),
            _ => false,
        };
        if !valid {
            return Err(AppError::Csrf);
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let flash = cookies::get(&headers, cookies::FLASH).filter(|f| {
        !f.is_empty() && f.len() < 64 && f.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
    });
    let visitor = Visitor {
        principal,
        lang,
        csrf: csrf::token_for(&secret, &csrf_cookie),
        ip,
        session: cookies::get(&headers, cookies::SESSION),
        flash: flash.clone(),
    };
    req.extensions_mut().insert(visitor);
    let mut res = next.run(req).await;
    let sets_flash = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.starts_with(cookies::FLASH)));
    if flash.is_some() && !sets_flash {
        res.headers_mut().append(
            header::SET_COOKIE,
            cookies::clear(cookies::FLASH, app.config.secure_cookies),
        );
    }
    if existing_csrf.is_none() {
        res.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::CSRF, &csrf_cookie, None, app.config.secure_cookies),
        );
    }
    Ok(res)
}
