//! CSRF protection: signed double-submit tokens.
//!
//! Each browser gets a random `bala_csrf` cookie (HttpOnly); forms carry
//! `HMAC-SHA256(secret, cookie)` in a hidden `_csrf` field (or the
//! `X-CSRF-Token` header for scripts). A cross-site page can neither read the
//! cookie nor compute the token. Requests authenticated by an API token carry
//! no ambient credentials and need no CSRF token. As a second line, a request
//! whose `Origin` names another site is refused.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn token_for(secret: &[u8], cookie: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"bala-csrf:");
    mac.update(cookie.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a submitted token.
pub fn verify(secret: &[u8], cookie: &str, submitted: &str) -> bool {
    let Ok(bytes) = hex::decode(submitted) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"bala-csrf:");
    mac.update(cookie.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

/// Pulls `_csrf` out of an `application/x-www-form-urlencoded` body or a query string.
pub fn field_in(form: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(form)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_cookie_and_key() {
        let t = token_for(b"secret", "cookie-a");
        assert!(verify(b"secret", "cookie-a", &t));
        assert!(!verify(b"secret", "cookie-b", &t));
        assert!(!verify(b"other", "cookie-a", &t));
        assert!(!verify(b"secret", "cookie-a", "zz"));
        assert_eq!(field_in(b"a=1&_csrf=abc&b=2").as_deref(), Some("abc"));
    }
}
