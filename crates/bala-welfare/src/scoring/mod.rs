//! Scoring a screening: answers in, a risk level and its reasons out.
//!
//! The rules, in the order applied:
//! 1. every answer must name a question of this instrument version, once, with a
//!    value of the question's type, and every required question that applies to
//!    the child (by age) must be answered;
//! 2. each answer adds its weight to its domain, and a domain's score is the sum
//!    clamped to `0..=cap`; the total is the sum of domain scores;
//! 3. the total maps to a level through the thresholds;
//! 4. combinations and red flags can only *raise* the level, never lower it.
//!
//! Because every step is monotone, answering "yes" to a question whose yes
//! weighs at least as much as its no can never lower the level, and because the
//! answers are looked up by question code, their order never matters.

mod answers;
mod explain;

pub use explain::Reason;

use crate::instrument::{Instrument, RiskLevel};
use bala_core::ValidationErrors;
use serde::{Deserialize, Serialize};

/// One answer as a form or API client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    pub value: AnswerValue,
}

impl Answer {
    pub fn new(question: impl Into<String>, value: AnswerValue) -> Self {
        Self {
            question: question.into(),
            value,
        }
    }
}

/// The value of an answer; its variant must match the question's answer type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    YesNo(bool),
    /// The code of the chosen option.
    Choice(String),
    Number(i64),
    Text(String),
}

/// What the scorer needs to know about the child besides the answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningContext {
    /// Age in whole months on the day of screening; decides which questions apply.
    pub child_age_months: Option<u32>,
}

/// The outcome of scoring, stored with the screening so it can be shown later
/// exactly as it was computed, even after the instrument changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningResult {
    pub instrument: String,
    pub instrument_version: u32,
    /// One entry per domain, in instrument order.
    pub domains: Vec<DomainScore>,
    pub total: u32,
    /// The level the total alone reaches.
    pub threshold_level: RiskLevel,
    /// Red flags raised, in instrument order.
    pub red_flags: Vec<RedFlagHit>,
    /// Combinations whose conditions all held.
    pub combinations: Vec<CombinationHit>,
    /// The final level: the highest of the threshold level, red flags and combinations.
    pub level: RiskLevel,
    /// What drove the level first, then the domains that contributed, largest first.
    pub explanation: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainScore {
    pub domain: String,
    /// The unclamped sum of weights (may be negative or above the cap).
    pub raw: i64,
    pub score: u32,
    pub cap: u32,
    /// Questions whose answer carried a non-zero weight, in instrument order.
    pub contributing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedFlagHit {
    pub question: String,
    pub domain: String,
    pub level: RiskLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CombinationHit {
    pub code: String,
    pub level: RiskLevel,
}

/// Scores `answers` against `instrument`, or names every answer at fault.
///
/// Errors are reported at `answers.<question code>` so a form can mark the
/// question; the instrument itself is assumed valid (see [`Instrument::validate`]).
pub fn score(
    instrument: &Instrument,
    ctx: &ScreeningContext,
    answers: &[Answer],
) -> Result<ScreeningResult, ValidationErrors> {
    let scored = answers::resolve(instrument, ctx, answers)?;
    let domains = domain_scores(instrument, &scored);
    let total = domains.iter().map(|d| d.score).sum();
    let (threshold_level, _) = instrument.thresholds.level_for(total);
    let red_flags: Vec<RedFlagHit> = scored
        .iter()
        .filter_map(answers::Scored::red_flag_hit)
        .collect();
    let combinations = combinations_met(instrument, &domains);
    let level = red_flags
        .iter()
        .map(|r| r.level)
        .chain(combinations.iter().map(|c| c.level))
        .fold(threshold_level, Ord::max);
    let mut result = ScreeningResult {
        instrument: instrument.code.clone(),
        instrument_version: instrument.version,
        domains,
        total,
        threshold_level,
        red_flags,
        combinations,
        level,
        explanation: Vec::new(),
    };
    result.explanation = explain::explain(instrument, &result);
    Ok(result)
}

fn domain_scores(instrument: &Instrument, scored: &[answers::Scored]) -> Vec<DomainScore> {
    instrument
        .domains
        .iter()
        .map(|d| {
            let mine = scored.iter().filter(|s| s.domain == d.code);
            let raw: i64 = mine.clone().map(|s| i64::from(s.score.weight)).sum();
            let contributing = mine
                .filter(|s| s.score.weight != 0)
                .map(|s| s.question.clone())
                .collect();
            let score = raw.clamp(0, i64::from(d.cap)) as u32;
            DomainScore {
                domain: d.code.clone(),
                raw,
                score,
                cap: d.cap,
                contributing,
            }
        })
        .collect()
}

fn combinations_met(instrument: &Instrument, domains: &[DomainScore]) -> Vec<CombinationHit> {
    let score_of = |code: &str| {
        domains
            .iter()
            .find(|d| d.domain == code)
            .map_or(0, |d| d.score)
    };
    instrument
        .combinations
        .iter()
        .filter(|c| !c.when.is_empty() && c.when.iter().all(|m| score_of(&m.domain) >= m.min_score))
        .map(|c| CombinationHit {
            code: c.code.clone(),
            level: c.level,
        })
        .collect()
}

#[cfg(test)]
mod tests;
