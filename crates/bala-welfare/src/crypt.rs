//! Encryption at rest of narrative fields (case summaries, notes, concern
//! reports, screening answers, documents).
//!
//! ChaCha20-Poly1305 (RustCrypto, pure Rust) with a random 96-bit nonce per
//! value. Each ciphertext names the key that sealed it, so keys can rotate:
//! a [`KeyRing`] holds the current key (used to seal) and older keys (used only
//! to open), and `bala keys rotate` re-seals every stored value with a new key
//! before the old one is retired (see `docs/welfare-encryption.md`).
//!
//! The *associated data* is the field's name (`case.summary`, `event.note`, …),
//! so a ciphertext copied from one column into another does not open.
//!
//! Text format: `enc1:<key id>:<hex of nonce ‖ ciphertext ‖ tag>`.
//! Binary format (documents): the key id travels in its own column and the blob
//! holds `nonce ‖ ciphertext ‖ tag`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;
use thiserror::Error;

const PREFIX: &str = "enc1";
const NONCE_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptError {
    #[error("an encryption key must be 64 hexadecimal characters (32 bytes): {0}")]
    BadKey(String),
    #[error("no encryption key is configured")]
    NoKey,
    #[error(
        "the value was sealed with key '{0}', which is not configured; add it to the old keys"
    )]
    UnknownKey(String),
    #[error("the stored value is not in the encrypted format")]
    Malformed,
    #[error(
        "the stored value does not open with its key (corrupted, or moved from another field)"
    )]
    Tampered,
}

/// One 256-bit key and its id (derived from the key, so it cannot be mislabelled).
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    key: [u8; 32],
}

impl SecretKey {
    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<SecretKey, CryptError> {
        let s = s.trim();
        let bytes = hex::decode(s).map_err(|_| CryptError::BadKey("not hexadecimal".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| CryptError::BadKey(format!("{} bytes", b.len())))?;
        Ok(SecretKey::from_bytes(key))
    }

    pub fn from_bytes(key: [u8; 32]) -> SecretKey {
        let mut h = Sha256::new();
        h.update(b"bala-key-id:");
        h.update(key);
        let id = hex::encode(h.finalize())[..8].to_string();
        SecretKey { id, key }
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> SecretKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretKey::from_bytes(key)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

/// The keys in use: the first seals, all open.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<SecretKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "KeyRing({})", ids.join(", "))
    }
}

impl KeyRing {
    /// A ring whose first key is current. Duplicates are dropped.
    pub fn new(keys: Vec<SecretKey>) -> Result<KeyRing, CryptError> {
        if keys.is_empty() {
            return Err(CryptError::NoKey);
        }
        let mut out: Vec<SecretKey> = Vec::new();
        for k in keys {
            if !out.iter().any(|o| o.id == k.id) {
                out.push(k);
            }
        }
        Ok(KeyRing { keys: out })
    }

    /// A ring with one random key (tests).
    pub fn random() -> KeyRing {
        KeyRing {
            keys: vec![SecretKey::generate()],
        }
    }

    /// Parses keys written one per line or separated by commas (blank lines and
    /// `#` comments ignored); the first is current.
    pub fn parse(text: &str) -> Result<KeyRing, CryptError> {
        let keys = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(SecretKey::from_hex)
            .collect::<Result<Vec<_>, _>>()?;
        KeyRing::new(keys)
    }

    /// The text of a key file for this ring (current key first).
    pub fn to_file_text(&self) -> String {
        let mut s = String::from(
            "# Bala encryption keys: the first seals new values, the others only open old ones.\n\
             # Keep a copy of this file with the backups: without it the narratives cannot be read.\n",
        );
        for k in &self.keys {
            s.push_str(&k.to_hex());
            s.push('\n');
        }
        s
    }

    pub fn current(&self) -> &SecretKey {
        &self.keys[0]
    }

    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// A ring with `key` as the new current key and the present keys kept for opening.
    pub fn rotated(&self, key: SecretKey) -> KeyRing {
        let mut keys = vec![key];
        keys.extend(self.keys.iter().cloned());
        KeyRing::new(keys).expect("not empty")
    }

    /// A ring without the keys not in `keep` (the current key is always kept).
    pub fn retaining(&self, keep: &[String]) -> KeyRing {
        let keys = self
            .keys
            .iter()
            .enumerate()
            .filter(|(i, k)| *i == 0 || keep.contains(&k.id))
            .map(|(_, k)| k.clone())
            .collect();
        KeyRing { keys }
    }

    fn key(&self, id: &str) -> Result<&SecretKey, CryptError> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptError::UnknownKey(id.to_string()))
    }

    /// Seals bytes with the current key: `(key id, nonce ‖ ciphertext ‖ tag)`.
    pub fn seal_bytes(&self, field: &str, plain: &[u8]) -> (String, Vec<u8>) {
        let k = self.current();
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&k.key));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: field.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encryption does not fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend(ct);
        (k.id.clone(), out)
    }

    pub fn open_bytes(
        &self,
        field: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptError::Malformed);
        }
        let k = self.key(key_id)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&k.key));
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| CryptError::Tampered)
    }

    /// Seals text for a TEXT column.
    pub fn seal(&self, field: &str, plain: &str) -> String {
        let (id, bytes) = self.seal_bytes(field, plain.as_bytes());
        format!("{PREFIX}:{id}:{}", hex::encode(bytes))
    }

    /// Seals an optional text; blank text is stored as NULL.
    pub fn seal_opt(&self, field: &str, plain: Option<&str>) -> Option<String> {
        plain
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| self.seal(field, s))
    }

    pub fn open(&self, field: &str, sealed: &str) -> Result<String, CryptError> {
        let (id, bytes) = split(sealed)?;
        let plain = self.open_bytes(field, id, &bytes)?;
        String::from_utf8(plain).map_err(|_| CryptError::Malformed)
    }

    pub fn open_opt(
        &self,
        field: &str,
        sealed: Option<&str>,
    ) -> Result<Option<String>, CryptError> {
        sealed.map(|s| self.open(field, s)).transpose()
    }

    /// Re-seals a value with the current key (for rotation); `None` when it already uses it.
    pub fn reseal(&self, field: &str, sealed: &str) -> Result<Option<String>, CryptError> {
        let (id, _) = split(sealed)?;
        if id == self.current().id {
            return Ok(None);
        }
        Ok(Some(self.seal(field, &self.open(field, sealed)?)))
    }
}

/// The key id a sealed text names.
pub fn key_id_of(sealed: &str) -> Option<&str> {
    split(sealed).ok().map(|(id, _)| id)
}

fn split(sealed: &str) -> Result<(&str, Vec<u8>), CryptError> {
    let mut parts = sealed.splitn(3, ':');
    let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CryptError::Malformed);
    };
    let bytes = hex::decode(body).map_err(|_| CryptError::Malformed)?;
    Ok((id, bytes))
}

/// Where the key file lives in the data directory.
pub const KEY_FILE: &str = "encryption.keys";

/// Reads `<data_dir>/encryption.keys`, creating it (mode 0600) with one new key
/// on first start, like `secret.key`.
pub fn load_or_create_key_file(data_dir: &Path) -> std::io::Result<KeyRing> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => KeyRing::parse(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ring = KeyRing::random();
            write_key_file(data_dir, &ring)?;
            Ok(ring)
        }
        Err(e) => Err(e),
    }
}

/// Writes the key file atomically (a temporary file renamed over it), mode 0600.
pub fn write_key_file(data_dir: &Path, ring: &KeyRing) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(KEY_FILE);
    let tmp = data_dir.join(format!("{KEY_FILE}.tmp"));
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(ring.to_file_text().as_bytes())?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    std::fs::write(&tmp, ring.to_file_text())?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_field_binding() {
        let ring = KeyRing::random();
        let s = ring.seal("case.summary", "Бала үйде қорқады");
        assert!(s.starts_with("enc1:"));
        assert!(!s.contains("қорқады"));
        assert_eq!(ring.open("case.summary", &s).unwrap(), "Бала үйде қорқады");
        assert_eq!(ring.open("event.note", &s), Err(CryptError::Tampered));
        // Same text twice: different ciphertexts (random nonces).
        assert_ne!(s, ring.seal("case.summary", "Бала үйде қорқады"));
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_reseals() {
        let old = KeyRing::random();
        let s = old.seal("f", "secret");
        let new_key = SecretKey::generate();
        let rotated = old.rotated(new_key.clone());
        assert_eq!(rotated.current().id(), new_key.id());
        assert_eq!(rotated.open("f", &s).unwrap(), "secret");
        let resealed = rotated.reseal("f", &s).unwrap().unwrap();
        assert_eq!(key_id_of(&resealed), Some(new_key.id()));
        assert_eq!(rotated.reseal("f", &resealed).unwrap(), None);
        let retired = rotated.retaining(&[]);
        assert_eq!(retired.ids(), vec![new_key.id().to_string()]);
        assert_eq!(retired.open("f", &resealed).unwrap(), "secret");
        assert!(matches!(
            retired.open("f", &s),
            Err(CryptError::UnknownKey(_))
        ));
    }

    #[test]
    fn tampering_and_bad_input_are_reported() {
        let ring = KeyRing::random();
        let mut s = ring.seal("f", "abc");
        let last = s.pop().unwrap();
        s.push(if last == '0' { '1' } else { '0' });
        assert_eq!(ring.open("f", &s), Err(CryptError::Tampered));
        assert_eq!(ring.open("f", "plain text"), Err(CryptError::Malformed));
        assert!(matches!(
            SecretKey::from_hex("abcd"),
            Err(CryptError::BadKey(_))
        ));
        assert!(matches!(
            KeyRing::parse("# only a comment\n"),
            Err(CryptError::NoKey)
        ));
    }

    #[test]
    fn key_file_text_round_trips() {
        let ring = KeyRing::random().rotated(SecretKey::generate());
        let back = KeyRing::parse(&ring.to_file_text()).unwrap();
        assert_eq!(back.ids(), ring.ids());
        let dir = std::env::temp_dir().join(format!("bala-keys-{}", SecretKey::generate().id()));
        let created = load_or_create_key_file(&dir).unwrap();
        let again = load_or_create_key_file(&dir).unwrap();
        assert_eq!(created.ids(), again.ids());
        std::fs::remove_dir_all(dir).unwrap();
    }

    proptest! {
        #[test]
        fn any_text_round_trips(s in ".{0,200}") {
            let ring = KeyRing::random();
            prop_assert_eq!(ring.open("x", &ring.seal("x", &s)).unwrap(), s);
        }
    }
}
