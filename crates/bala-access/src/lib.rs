//! Who may do what.
//!
//! * [`gate`] — roles, actions and the one function that decides (`can`). Pure.
//! * [`password`] — Argon2id hashing.
//! * [`users`], [`sessions`], [`tokens`], [`throttle`] — the stored side.
//!
//! Area scope is enforced in two places that agree: the gate answers whether a
//! role may do an action at all, and every query over personal data takes the
//! principal's scope as a parameter, so rows outside it are never loaded (and
//! the caller answers 404, not 403, for them).

pub mod gate;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use gate::{can, token_permits, Action, Principal, Role, TokenScope};

use bala_store::migrate::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1001,
    name: "accounts",
    sql: include_str!("../migrations/1001_accounts.sql"),
}];

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Store(#[from] bala_store::StoreError),
    #[error(transparent)]
    Validation(#[from] bala_core::ValidationErrors),
    #[error("not found")]
    NotFound,
}

impl From<bala_store::sqlx::Error> for AccessError {
    fn from(e: bala_store::sqlx::Error) -> Self {
        AccessError::Store(e.into())
    }
}

/// Random bytes as lower-case hex, from the operating system's generator.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// SHA-256 as hex: how session ids and API tokens are stored.
pub fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}
