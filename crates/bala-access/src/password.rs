//! Argon2id password hashing (RFC 9106 via the `argon2` crate, OWASP's parameters:
//! 19 MiB, 2 passes, 1 lane — the crate's defaults).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use bala_core::ValidationErrors;

pub const MIN_LENGTH: usize = 10;

/// Checks a new password against the policy: long enough, not trivially weak.
pub fn check_policy(password: &str, username: &str) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if password.chars().count() < MIN_LENGTH {
        errors.push(
            "password",
            "err-password-short",
            format!("a password needs at least {MIN_LENGTH} characters"),
        );
    } else if password.to_lowercase().contains(&username.to_lowercase()) && !username.is_empty() {
        errors.push(
            "password",
            "err-password-username",
            "a password must not contain the username",
        );
    } else if password
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len()
        < 4
    {
        errors.push(
            "password",
            "err-password-weak",
            "a password needs more different characters",
        );
    }
    errors.into_result()
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Verifies a password against a stored PHC string. A malformed stored hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that the time a
/// failed login takes does not reveal whether the username exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not-a-real-password-0000"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery");
        let b = hash("correct horse battery");
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong", &a));
        assert!(!verify("x", "garbage"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", "nurse").is_err());
        assert!(check_policy("nurse-password-1", "nurse").is_err());
        assert!(check_policy("aaaaaaaaaaaa", "nurse").is_err());
        assert!(check_policy("Tulpar-2026-spring", "nurse").is_ok());
    }
}
