//! Reading and writing instruments as TOML, the format practitioners review.

use super::Instrument;
use bala_core::ValidationErrors;
use thiserror::Error;

/// The default instrument for Kazakhstan, shipped with the code.
pub const DEFAULT_KZ_TOML: &str = include_str!("../../data/screening-kz-v1.toml");

#[derive(Debug, Clone, PartialEq, Error)]
pub enum InstrumentError {
    /// The text is not TOML or does not have the instrument's shape (unknown key, wrong type).
    #[error("instrument file is malformed: {0}")]
    Parse(String),
    /// The shape is right but the content is not usable.
    #[error("instrument is invalid: {0}")]
    Invalid(ValidationErrors),
}

impl Instrument {
    /// Parses and validates; an instrument that fails validation is never returned.
    pub fn from_toml(text: &str) -> Result<Instrument, InstrumentError> {
        let inst: Instrument =
            toml::from_str(text).map_err(|e| InstrumentError::Parse(e.to_string()))?;
        inst.validate().map_err(InstrumentError::Invalid)?;
        Ok(inst)
    }

    /// Writes the instrument as TOML that [`Instrument::from_toml`] reads back unchanged.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an instrument always serializes to TOML")
    }

    /// The shipped Kazakhstan instrument (`data/screening-kz-v1.toml`).
    pub fn default_kz() -> Instrument {
        Instrument::from_toml(DEFAULT_KZ_TOML).expect("the shipped instrument is valid")
    }
}

/// `YYYY-MM-DD` strings for dates, as everywhere else in Bala.
pub(crate) mod iso_date {
    use bala_core::date::{iso, parse_date};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&iso(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        parse_date(&s).map_err(|e| D::Error::custom(format!("'{s}' is not a YYYY-MM-DD date: {e}")))
    }
}
