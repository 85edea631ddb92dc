//! Cross-pillar alert rules as data.
//!
//! Other pillars (immunization, health visits, screening, cases) each supply a
//! few facts about a child; no single pillar sees that a zero-dose child lives in
//! a household screened at medium risk. Rules combine those facts and say, in the
//! reader's language and with the actual values, why an alert fired, so a worker
//! can judge it rather than trust a black box. [`hit_rates`] lets programme staff
//! see how often each rule fires before switching a new version on.

mod condition;
mod facts;
pub mod template;
mod validate;

pub use condition::{AllOf, AnyOf, Comparison, Condition, Literal, Matched, NotOf, Op, Truth};
pub use facts::{FactKind, FactName, FactValue, Facts};
pub use validate::MAX_DEPTH;

use crate::text::{Lang, Text};
use bala_core::ValidationErrors;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::Date;

/// The default rules for Kazakhstan, shipped with the code.
pub const DEFAULT_KZ_TOML: &str = include_str!("../../data/alert-rules-v1.toml");

/// One published version of the alert rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub code: String,
    pub version: u32,
    #[serde(with = "crate::instrument::iso_date")]
    pub valid_from: Date,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub code: String,
    pub severity: Severity,
    pub title: Text,
    /// Templates with `{fact_name}` placeholders (see [`template`]).
    pub explanation: Text,
    pub when: Condition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    /// Needs action the same day.
    Critical,
}

impl Severity {
    pub fn name(self) -> Text {
        match self {
            Severity::Low => Text::new("төмен", "низкая", "low"),
            Severity::Medium => Text::new("орташа", "средняя", "medium"),
            Severity::High => Text::new("жоғары", "высокая", "high"),
            Severity::Critical => Text::new("шұғыл", "критическая", "critical"),
        }
    }
}

/// An alert that fired on one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredAlert {
    pub rule: String,
    pub severity: Severity,
    pub title: Text,
    /// The rule's explanation with the snapshot's values filled in, in each language.
    pub explanation: Text,
    /// The comparisons that made the rule fire, with actual values.
    pub matched: Vec<Matched>,
}

/// How often a rule fired over a set of snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitRate {
    pub rule: String,
    pub fired: usize,
    /// Snapshots where the rule could not be decided because facts were missing.
    pub unknown: usize,
    pub total: usize,
    /// `fired / total`, 0 for no snapshots.
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum RuleSetError {
    #[error("rule file is malformed: {0}")]
    Parse(String),
    #[error("rule set is invalid: {0}")]
    Invalid(ValidationErrors),
}

impl Rule {
    /// Evaluates the rule; `Some` when it fires.
    pub fn fire(&self, facts: &Facts) -> Option<FiredAlert> {
        (self.when.eval(facts) == Truth::True).then(|| FiredAlert {
            rule: self.code.clone(),
            severity: self.severity,
            title: self.title.clone(),
            explanation: fill(&self.explanation, facts),
            matched: self.when.trace(facts, Truth::True),
        })
    }
}

fn fill(t: &Text, facts: &Facts) -> Text {
    let r = |lang| template::render(t.get(lang), facts, lang);
    Text::new(r(Lang::Kk), r(Lang::Ru), r(Lang::En))
}

/// The alerts that fire on one snapshot, in rule order.
pub fn evaluate_rules(rules: &RuleSet, facts: &Facts) -> Vec<FiredAlert> {
    rules.rules.iter().filter_map(|r| r.fire(facts)).collect()
}

/// For each rule, on how many of `snapshots` it fired (and could not be decided).
pub fn hit_rates(rules: &RuleSet, snapshots: &[Facts]) -> Vec<HitRate> {
    rules
        .rules
        .iter()
        .map(|r| {
            let truths: Vec<Truth> = snapshots.iter().map(|f| r.when.eval(f)).collect();
            let count = |t| truths.iter().filter(|x| **x == t).count();
            let (fired, total) = (count(Truth::True), snapshots.len());
            let rate = if total == 0 {
                0.0
            } else {
                fired as f64 / total as f64
            };
            HitRate {
                rule: r.code.clone(),
                fired,
                unknown: count(Truth::Unknown),
                total,
                rate,
            }
        })
        .collect()
}

impl RuleSet {
    /// The version of rule set `code` in force on `on` (highest version already valid).
    pub fn in_force<'a>(versions: &'a [RuleSet], code: &str, on: Date) -> Option<&'a RuleSet> {
        versions
            .iter()
            .filter(|r| r.code == code && r.valid_from <= on)
            .max_by_key(|r| r.version)
    }

    /// Parses and validates; an invalid rule set is never returned.
    pub fn from_toml(text: &str) -> Result<RuleSet, RuleSetError> {
        let set: RuleSet = toml::from_str(text).map_err(|e| RuleSetError::Parse(e.to_string()))?;
        set.validate().map_err(RuleSetError::Invalid)?;
        Ok(set)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a rule set always serializes to TOML")
    }

    /// The shipped rules (`data/alert-rules-v1.toml`).
    pub fn default_kz() -> RuleSet {
        RuleSet::from_toml(DEFAULT_KZ_TOML).expect("the shipped rules are valid")
    }
}

#[cfg(test)]
mod tests;
