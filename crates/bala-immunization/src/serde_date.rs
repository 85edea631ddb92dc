//! Dates in calendars and records are ISO `YYYY-MM-DD` text, as everywhere in Bala
//! (`bala_core::date`), so a TOML file or JSON payload reads the way people write
//! dates. `time`'s own serde form (a year/ordinal tuple) would not.

use bala_core::date::{iso, parse_date};
use serde::{Deserialize, Deserializer, Serializer};
use time::Date;

pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let text = String::deserialize(d)?;
    parse_date(&text)
        .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a YYYY-MM-DD date: {e}")))
}

/// The same for `Option<Date>`; pair with `#[serde(default)]` so a missing key is `None`.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            parse_date(&t).map_err(|e| {
                serde::de::Error::custom(format!("'{t}' is not a YYYY-MM-DD date: {e}"))
            })
        })
        .transpose()
    }
}
