//! KATO (Классификатор административно-территориальных объектов) area codes.
//!
//! Nine digits `AB CD EF HIJ`: region, district, rural district, settlement. The
//! digits hint at the hierarchy but reforms (2018, 2022) moved units between
//! regions without recoding all of them, so containment is stored explicitly in
//! the database (an ancestor table), never derived from digit prefixes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AreaCodeError {
    #[error("a KATO code has 9 digits, '{0}' does not")]
    Malformed(String),
}

/// The code Bala uses for the Republic of Kazakhstan as a whole (the root area).
pub const REPUBLIC: &str = "000000000";

impl AreaCode {
    pub fn parse(s: &str) -> Result<AreaCode, AreaCodeError> {
        let t = s.trim();
        if t.len() == 9 && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AreaCode(t.to_string()))
        } else {
            Err(AreaCodeError::Malformed(t.to_string()))
        }
    }

    pub fn republic() -> AreaCode {
        AreaCode(REPUBLIC.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AreaCode {
    type Err = AreaCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AreaCode::parse(s)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = AreaCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AreaCode::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(a: AreaCode) -> String {
        a.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_digits_only() {
        assert!(AreaCode::parse("751110000").is_ok());
        assert!(AreaCode::parse(" 751110000 ").is_ok());
        assert!(AreaCode::parse("75111000").is_err());
        assert!(AreaCode::parse("75111000a").is_err());
        assert!(AreaCode::parse("").is_err());
    }
}
