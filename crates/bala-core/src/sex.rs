//! Sex as recorded in the register and encoded in the IIN.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    /// The one-letter code stored in the database and used in exchange formats.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Sex {
    type Err = ();
    /// Accepts the codes used by Bala, SDMX (`M`, `F`) and common spellings.
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim().to_lowercase().as_str() {
            "m" | "male" | "м" | "муж" | "мужской" | "ер" => Ok(Sex::Male),
            "f" | "female" | "ж" | "жен" | "женский" | "әйел" => Ok(Sex::Female),
            _ => Err(()),
        }
    }
}
