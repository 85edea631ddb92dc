//! The risk-screening instrument as versioned data.
//!
//! An instrument is a list of domains, each with questions whose answers carry
//! weights and, for the gravest indicators, a *red flag* that lifts the result to
//! high risk or immediate danger whatever the total. Thresholds map the capped
//! total to a level; *combinations* raise the level when several domains are
//! affected at once (the reference proposal: "supervision problems are medium,
//! high together with violence or loss of care").
//!
//! The weights are a proposal to be reviewed by practitioners, so they are data:
//! a new version is a new file (or a row edited in the admin UI), validated by
//! [`Instrument::validate`] before it can be used, and every screening records the
//! code and version it was scored with.

pub(crate) mod io;
mod level;
mod validate;

pub(crate) use io::iso_date;
pub use io::{InstrumentError, DEFAULT_KZ_TOML};
pub use level::RiskLevel;

use crate::text::Text;
use serde::{Deserialize, Serialize};
use time::Date;

/// One version of a screening instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Stable identifier shared by all versions, e.g. `screening-kz`.
    pub code: String,
    /// Increases with every published change; (code, version) identifies the data.
    pub version: u32,
    /// First day on which screenings may use this version.
    #[serde(with = "crate::instrument::iso_date")]
    pub valid_from: Date,
    pub title: Text,
    /// Legal and methodological sources, shown to users with the result.
    pub sources: Vec<String>,
    pub thresholds: Thresholds,
    pub domains: Vec<Domain>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub combinations: Vec<Combination>,
}

/// Minimum capped totals for each level above `low`. A total below `medium` is low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub medium: u32,
    pub high: u32,
    /// Usually absent: immediate danger should come from a red flag, not a sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immediate_danger: Option<u32>,
}

impl Thresholds {
    /// The level a capped total reaches, with the threshold it crossed (if any).
    pub fn level_for(&self, total: u32) -> (RiskLevel, Option<u32>) {
        match self.immediate_danger {
            Some(t) if total >= t => return (RiskLevel::ImmediateDanger, Some(t)),
            _ => {}
        }
        if total >= self.high {
            (RiskLevel::High, Some(self.high))
        } else if total >= self.medium {
            (RiskLevel::Medium, Some(self.medium))
        } else {
            (RiskLevel::Low, None)
        }
    }
}

/// A group of related questions whose score is capped, so that one heavily
/// documented area cannot dominate the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub code: String,
    pub name: Text,
    /// The domain's score is the sum of its answers' weights clamped to `0..=cap`.
    pub cap: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<String>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Unique across the whole instrument: answers are stored by this code.
    pub code: String,
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// A required question that applies to the child must be answered.
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Applicability::is_always")]
    pub applies: Applicability,
    /// The legal category or source behind the indicator, e.g. "Law 345-II Art. 1(1-1)".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<String>,
    pub answer: AnswerSpec,
}

fn yes() -> bool {
    true
}

/// Limits a question to children of some ages (e.g. under 3: `age_months_below = 36`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_months_at_least: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_months_below: Option<u32>,
}

impl Applicability {
    pub fn is_always(&self) -> bool {
        self.age_months_at_least.is_none() && self.age_months_below.is_none()
    }

    /// Whether the question applies to a child of this age. When the age is
    /// unknown the question applies: asking one question too many is safer
    /// than missing a risk to an infant.
    pub fn applies_to(&self, age_months: Option<u32>) -> bool {
        let Some(age) = age_months else { return true };
        self.age_months_at_least.is_none_or(|min| age >= min)
            && self.age_months_below.is_none_or(|below| age < below)
    }
}

/// What kind of answer a question takes and what each answer scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerSpec {
    YesNo {
        yes: Score,
        #[serde(default)]
        no: Score,
    },
    SingleChoice {
        options: Vec<ChoiceOption>,
    },
    /// Whole numbers in `min..=max`; bands (inclusive, ascending, disjoint) score them.
    Number {
        min: i64,
        max: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<Text>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bands: Vec<Band>,
    },
    /// Free text for the worker's notes; never scored.
    Text {
        #[serde(default = "default_max_len")]
        max_len: u32,
    },
}

fn default_max_len() -> u32 {
    2000
}

/// What one answer contributes: a weight towards its domain and possibly a red flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Score {
    #[serde(default)]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub red_flag: bool,
    /// Required with `red_flag`: the least level the result can have (high or immediate danger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red_flag_level: Option<RiskLevel>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Score {
    /// The level a red flag forces, if this answer raises one and it is complete.
    pub fn red_flag(&self) -> Option<RiskLevel> {
        if self.red_flag {
            self.red_flag_level
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub code: String,
    pub label: Text,
    #[serde(default)]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub red_flag: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red_flag_level: Option<RiskLevel>,
}

impl ChoiceOption {
    pub fn score(&self) -> Score {
        Score {
            weight: self.weight,
            red_flag: self.red_flag,
            red_flag_level: self.red_flag_level,
        }
    }
}

/// An inclusive range `from..=to` of numeric answers and what it scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: i64,
    pub to: i64,
    #[serde(default)]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub red_flag: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red_flag_level: Option<RiskLevel>,
}

impl Band {
    pub fn score(&self) -> Score {
        Score {
            weight: self.weight,
            red_flag: self.red_flag,
            red_flag_level: self.red_flag_level,
        }
    }
}

/// Raises the result to `level` when every listed domain reaches its minimum score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combination {
    pub code: String,
    pub name: Text,
    pub when: Vec<DomainMin>,
    pub level: RiskLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainMin {
    pub domain: String,
    pub min_score: u32,
}

impl Instrument {
    /// The version of instrument `code` in force on `on`: the highest version
    /// whose `valid_from` is on or before that day. A screening is scored with
    /// this version and keeps its number, so later versions never rescore it.
    pub fn in_force<'a>(
        versions: &'a [Instrument],
        code: &str,
        on: Date,
    ) -> Option<&'a Instrument> {
        versions
            .iter()
            .filter(|i| i.code == code && i.valid_from <= on)
            .max_by_key(|i| i.version)
    }

    /// Finds a question by code, with the domain it belongs to.
    pub fn question(&self, code: &str) -> Option<(&Domain, &Question)> {
        self.domains
            .iter()
            .flat_map(|d| d.questions.iter().map(move |q| (d, q)))
            .find(|(_, q)| q.code == code)
    }

    pub fn domain(&self, code: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.code == code)
    }

    /// The greatest total any set of answers can reach (the sum of the caps).
    pub fn max_total(&self) -> u32 {
        self.domains.iter().map(|d| d.cap).sum()
    }

    /// Every question in instrument order.
    pub fn questions(&self) -> impl Iterator<Item = (&Domain, &Question)> {
        self.domains
            .iter()
            .flat_map(|d| d.questions.iter().map(move |q| (d, q)))
    }
}

#[cfg(test)]
mod tests;
