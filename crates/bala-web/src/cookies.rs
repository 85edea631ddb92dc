//! Reading and writing the few cookies Bala uses.

use axum::http::{header, HeaderMap, HeaderValue};

pub const SESSION: &str = "bala_session";
pub const CSRF: &str = "bala_csrf";
pub const LANG: &str = "bala_lang";
pub const FLASH: &str = "bala_flash";

/// The value of cookie `name` in a request's headers.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value. Session-bound cookies are HttpOnly and SameSite=Lax
/// (Strict would drop the session when a user follows a link from e-mail);
/// `Secure` when served over HTTPS.
pub fn set(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are ASCII")
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Some(0), secure)
}
