//! Request extractors whose failures become Bala's own errors (a page or a
//! problem document in the user's language, naming the field), instead of
//! axum's plain-text rejections.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use bala_core::{FieldError, ValidationErrors};
use serde::de::DeserializeOwned;

fn field_error(msg: String, fallback: &str, code: &'static str) -> AppError {
    // serde names the field in backquotes: "missing field `x`", "unknown field `x`".
    let field = msg.split('`').nth(1).unwrap_or(fallback).to_string();
    AppError::Validation(ValidationErrors::single(FieldError::new(field, code, msg)))
}

/// An `application/x-www-form-urlencoded` body.
pub struct WebForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for WebForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("the form could not be read".into()))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(WebForm)
            .map_err(|e| field_error(e.to_string(), "form", "err-form"))
    }
}

/// Query parameters.
pub struct WebQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for WebQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(WebQuery)
            .map_err(|e| field_error(e.to_string(), "query", "err-query"))
    }
}

/// Path parameters. One that does not parse names no record: 404.
pub struct WebPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for WebPath<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| WebPath(p.0))
            .map_err(|_| AppError::NotFound)
    }
}
