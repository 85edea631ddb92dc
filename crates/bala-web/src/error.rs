//! One error type for every handler, mapped to HTTP in one place.
//!
//! API routes answer `application/problem+json` (RFC 9457) with the fields at
//! fault; HTML routes render an error page in the user's language. Internal
//! errors are logged with a reference id and shown without details.

use crate::i18n::{Lang, Tr};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bala_core::ValidationErrors;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign in required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("invalid request: {0}")]
    Validation(ValidationErrors),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the security token of the form is missing or expired")]
    Csrf,
    #[error("too many attempts")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<bala_registry::RegistryError> for AppError {
    fn from(e: bala_registry::RegistryError) -> Self {
        use bala_registry::RegistryError as R;
        match e {
            R::NotFound => AppError::NotFound,
            R::Validation(v) => AppError::Validation(v),
            R::Conflict => AppError::Conflict("err-conflict".into()),
            R::Store(s) => AppError::Internal(s.into()),
        }
    }
}

impl From<bala_access::AccessError> for AppError {
    fn from(e: bala_access::AccessError) -> Self {
        use bala_access::AccessError as A;
        match e {
            A::NotFound => AppError::NotFound,
            A::Validation(v) => AppError::Validation(v),
            A::Store(s) => AppError::Internal(s.into()),
        }
    }
}

impl From<bala_welfare::store::WelfareError> for AppError {
    fn from(e: bala_welfare::store::WelfareError) -> Self {
        use bala_welfare::store::WelfareError as W;
        match e {
            W::NotFound => AppError::NotFound,
            W::Forbidden => AppError::Forbidden,
            W::Validation(v) => AppError::Validation(v),
            W::Store(s) => AppError::Internal(s.into()),
            W::Crypt(c) => AppError::Internal(c.into()),
        }
    }
}

impl From<bala_store::StoreError> for AppError {
    fn from(e: bala_store::StoreError) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Fluent message that explains the error to a user.
    pub fn message_key(&self) -> &'static str {
        match self {
            AppError::NotFound => "error-not-found",
            AppError::Unauthenticated => "error-unauthenticated",
            AppError::Forbidden => "error-forbidden",
            AppError::Validation(_) => "error-validation",
            AppError::Conflict(_) => "err-conflict",
            AppError::BadRequest(_) => "error-bad-request",
            AppError::Csrf => "error-csrf",
            AppError::TooManyRequests => "error-too-many",
            AppError::Internal(_) => "error-internal",
        }
    }

    fn log_internal(&self) -> Option<String> {
        if let AppError::Internal(e) = self {
            let reference = bala_access::random_hex(4);
            tracing::error!(reference, error = %format!("{e:#}"), "internal error");
            Some(reference)
        } else {
            None
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For validation problems: each field at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// The field (for imports: `row N: field`).
    pub field: String,
    /// A stable error code (the Fluent message id).
    pub code: String,
    /// A plain-language explanation in the requested language.
    pub message: String,
}

/// What a failed handler leaves in the response for [`render_errors`] to turn
/// into a problem document or an HTML page in the user's language.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub key: &'static str,
    pub reference: Option<String>,
    pub fields: Vec<bala_core::FieldError>,
    pub detail: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let reference = self.log_internal();
        let info = ErrorInfo {
            status: self.status(),
            key: self.message_key(),
            reference,
            fields: match &self {
                AppError::Validation(v) => v.0.clone(),
                _ => vec![],
            },
            detail: match &self {
                AppError::BadRequest(d) => Some(d.clone()),
                _ => None,
            },
        };
        let mut res = self.status().into_response();
        res.extensions_mut().insert(info);
        res
    }
}

/// Answers with `application/problem+json` (RFC 9457).
pub fn problem_response(info: &ErrorInfo, lang: Lang) -> Response {
    let tr = Tr(lang);
    let errors = info
        .fields
        .iter()
        .map(|f| ProblemField {
            field: f.field.clone(),
            code: f.code.to_string(),
            message: translated_field_error(tr, f),
        })
        .collect();
    let detail = match (&info.detail, &info.reference) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(r)) => Some(format!("reference {r}")),
        _ => None,
    };
    let body = Problem {
        kind: format!("https://bala.kz/problems/{}", info.key),
        title: tr.t(info.key),
        status: info.status.as_u16(),
        detail,
        errors,
    };
    (
        info.status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}

/// A field error in the user's language; the English detail when the message has none.
pub fn translated_field_error(tr: Tr, f: &bala_core::FieldError) -> String {
    let t = tr.t(f.code);
    if t == f.code {
        f.detail.clone()
    } else {
        t
    }
}

/// Middleware: renders errors left by handlers, as problem+json under `/api/`
/// and as an HTML page elsewhere, in the request's language and with the
/// visitor's header (so a signed-in user keeps navigation on an error page).
pub async fn render_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let lang = req.extensions().get::<Lang>().copied().unwrap_or(Lang::En);
    let visitor = req.extensions().get::<crate::visitor::Visitor>().cloned();
    let res = next.run(req).await;
    match res.extensions().get::<ErrorInfo>().cloned() {
        Some(info) => render(&info, lang, api, visitor.as_ref()),
        None => res,
    }
}

/// The error as the client should see it.
pub fn render(
    info: &ErrorInfo,
    lang: Lang,
    api: bool,
    visitor: Option<&crate::visitor::Visitor>,
) -> Response {
    if api {
        problem_response(info, lang)
    } else {
        crate::pages::error_page(info, lang, visitor)
    }
}
