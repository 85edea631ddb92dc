//! Settings, from command-line flags and `BALA_*` environment variables
//! (the binary parses them; this is what the application receives).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Marks cookies `Secure`. On when Bala is served over HTTPS (directly or
    /// behind a TLS-terminating proxy); off for plain-HTTP development.
    pub secure_cookies: bool,
    /// Key for signing CSRF tokens. Read from `<data_dir>/secret.key` (created on
    /// first start) unless given.
    pub secret_key: Vec<u8>,
    /// Trust `X-Forwarded-For` for the client address (only behind a proxy you run).
    pub trust_proxy: bool,
    /// Keys sealing narrative fields at rest (`--encryption-key`, or
    /// `<data_dir>/encryption.keys` created on first start); see docs/welfare-encryption.md.
    pub encryption: bala_welfare::crypt::KeyRing,
}

impl Config {
    /// A configuration for tests: random port, the given database, fresh secret.
    pub fn for_tests(database_url: &str) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: std::env::temp_dir(),
            database_url: database_url.to_string(),
            secure_cookies: false,
            secret_key: bala_access::random_hex(32).into_bytes(),
            trust_proxy: false,
            encryption: bala_welfare::crypt::KeyRing::random(),
        }
    }
}

/// Reads the signing key from the data directory, creating it (mode 0600) on first start.
pub fn load_or_create_secret(data_dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join("secret.key");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim();
        if s.len() >= 32 {
            return Ok(s.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let key = bala_access::random_hex(32);
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(key.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, &key)?;
    Ok(key.into_bytes())
}
