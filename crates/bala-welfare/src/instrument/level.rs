//! Risk levels, ordered so that "at least high" is a plain comparison.

use crate::text::{Lang, Text};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The result of a screening. The reference instrument and Primero use low /
/// medium / high; *immediate danger* is Primero's "urgent protection concern",
/// which starts the 24-hour first-response clock (see [`crate::case`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    ImmediateDanger,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::ImmediateDanger,
    ];

    /// The code used in data files, the database and the API.
    pub fn code(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::ImmediateDanger => "immediate_danger",
        }
    }

    pub fn name(self) -> Text {
        match self {
            RiskLevel::Low => Text::new("төмен", "низкий", "low"),
            RiskLevel::Medium => Text::new("орташа", "средний", "medium"),
            RiskLevel::High => Text::new("жоғары", "высокий", "high"),
            RiskLevel::ImmediateDanger => Text::new(
                "тікелей қауіп",
                "непосредственная опасность",
                "immediate danger",
            ),
        }
    }

    pub fn label(self, lang: Lang) -> String {
        self.name().get(lang).to_string()
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for RiskLevel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        RiskLevel::ALL
            .into_iter()
            .find(|l| l.code() == s.trim())
            .ok_or(())
    }
}
