//! Thorough validation of an instrument, because administrators edit instruments
//! in a form and every mistake must be shown next to the field that holds it.
//! Paths follow the serialized layout: `domains[2].questions[1].answer.options`.

use super::*;
use crate::text::check_code;
use bala_core::ValidationErrors;
use std::collections::HashMap;

/// The largest weight one answer may carry; larger ones are almost surely typos.
pub const MAX_WEIGHT: i32 = 100;

impl Instrument {
    /// Returns every problem found, each naming its field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        self.check_header(&mut e);
        self.check_domains(&mut e);
        self.check_thresholds(&mut e);
        self.check_combinations(&mut e);
        e.into_result()
    }

    fn check_header(&self, e: &mut ValidationErrors) {
        check_code(&self.code, "code", e);
        if self.version == 0 {
            e.push("version", "err-version", "versions start at 1");
        }
        self.title.check("title", e);
        if self.sources.is_empty() {
            e.push("sources", "err-sources-missing", "cite at least one source");
        }
        for (i, s) in self.sources.iter().enumerate() {
            if s.trim().is_empty() {
                e.push(
                    format!("sources[{i}]"),
                    "err-blank",
                    "a source citation is blank",
                );
            }
        }
    }

    fn check_domains(&self, e: &mut ValidationErrors) {
        if self.domains.is_empty() {
            e.push(
                "domains",
                "err-domains-missing",
                "an instrument needs at least one domain",
            );
        }
        let mut domain_codes = HashMap::new();
        let mut question_codes = HashMap::new();
        for (i, d) in self.domains.iter().enumerate() {
            let path = format!("domains[{i}]");
            define(&d.code, &format!("{path}.code"), &mut domain_codes, e);
            d.check(&path, &mut question_codes, e);
        }
    }

    fn check_thresholds(&self, e: &mut ValidationErrors) {
        let t = &self.thresholds;
        let max = self.max_total();
        if t.medium == 0 {
            e.push(
                "thresholds.medium",
                "err-threshold-zero",
                "a medium threshold of 0 makes every child at least medium risk",
            );
        }
        if t.high <= t.medium {
            e.push(
                "thresholds.high",
                "err-threshold-order",
                format!("high ({}) must be above medium ({})", t.high, t.medium),
            );
        }
        if t.high > max {
            e.push(
                "thresholds.high",
                "err-threshold-unreachable",
                format!(
                    "high ({}) is above the largest possible total ({max})",
                    t.high
                ),
            );
        }
        if let Some(id) = t.immediate_danger {
            if id <= t.high {
                e.push(
                    "thresholds.immediate_danger",
                    "err-threshold-order",
                    format!("immediate danger ({id}) must be above high ({})", t.high),
                );
            }
            if id > max {
                e.push(
                    "thresholds.immediate_danger",
                    "err-threshold-unreachable",
                    format!("immediate danger ({id}) is above the largest possible total ({max})"),
                );
            }
        }
    }

    fn check_combinations(&self, e: &mut ValidationErrors) {
        let mut codes = HashMap::new();
        for (i, c) in self.combinations.iter().enumerate() {
            let path = format!("combinations[{i}]");
            define(&c.code, &format!("{path}.code"), &mut codes, e);
            c.name.check(&format!("{path}.name"), e);
            if c.level == RiskLevel::Low {
                e.push(
                    format!("{path}.level"),
                    "err-combination-level",
                    "a combination must raise the level above low",
                );
            }
            if c.when.is_empty() {
                e.push(
                    format!("{path}.when"),
                    "err-combination-empty",
                    "list at least one domain",
                );
            }
            self.check_domain_mins(&c.when, &format!("{path}.when"), e);
        }
    }

    fn check_domain_mins(&self, mins: &[DomainMin], path: &str, e: &mut ValidationErrors) {
        let mut seen = HashMap::new();
        for (j, m) in mins.iter().enumerate() {
            let field = format!("{path}[{j}].domain");
            unique(&m.domain, &field, &mut seen, e);
            match self.domain(&m.domain) {
                None => e.push(
                    field,
                    "err-unknown-domain",
                    format!("no domain '{}'", m.domain),
                ),
                Some(d) if m.min_score == 0 || m.min_score > d.cap => e.push(
                    format!("{path}[{j}].min_score"),
                    "err-min-score-range",
                    format!("must be between 1 and the domain's cap ({})", d.cap),
                ),
                Some(_) => {}
            }
        }
    }
}

impl Domain {
    fn check(
        &self,
        path: &str,
        question_codes: &mut HashMap<String, String>,
        e: &mut ValidationErrors,
    ) {
        self.name.check(&format!("{path}.name"), e);
        if self.cap == 0 {
            e.push(
                format!("{path}.cap"),
                "err-cap-zero",
                "a domain's cap must be at least 1",
            );
        }
        if self.questions.is_empty() {
            e.push(
                format!("{path}.questions"),
                "err-questions-missing",
                "a domain needs at least one question",
            );
        }
        for (j, q) in self.questions.iter().enumerate() {
            let qpath = format!("{path}.questions[{j}]");
            define(&q.code, &format!("{qpath}.code"), question_codes, e);
            q.check(&qpath, e);
        }
    }
}

impl Question {
    fn check(&self, path: &str, e: &mut ValidationErrors) {
        self.text.check(&format!("{path}.text"), e);
        if let Some(help) = &self.help {
            help.check(&format!("{path}.help"), e);
        }
        let a = self.applies;
        if let (Some(min), Some(below)) = (a.age_months_at_least, a.age_months_below) {
            if min >= below {
                e.push(
                    format!("{path}.applies"),
                    "err-age-range",
                    format!("no age is at least {min} and below {below} months"),
                );
            }
        }
        self.answer.check(&format!("{path}.answer"), e);
    }
}

impl AnswerSpec {
    fn check(&self, path: &str, e: &mut ValidationErrors) {
        match self {
            AnswerSpec::YesNo { yes, no } => {
                check_score(yes, &format!("{path}.yes"), e);
                check_score(no, &format!("{path}.no"), e);
            }
            AnswerSpec::SingleChoice { options } => check_options(options, path, e),
            AnswerSpec::Number {
                min,
                max,
                unit,
                bands,
            } => {
                if min > max {
                    e.push(
                        format!("{path}.max"),
                        "err-range-order",
                        format!("max ({max}) is below min ({min})"),
                    );
                }
                if let Some(unit) = unit {
                    unit.check(&format!("{path}.unit"), e);
                }
                check_bands(bands, (*min, *max), path, e);
            }
            AnswerSpec::Text { max_len } => {
                if *max_len == 0 {
                    e.push(
                        format!("{path}.max_len"),
                        "err-max-len",
                        "a text answer must allow at least one character",
                    );
                }
            }
        }
    }
}

fn check_options(options: &[ChoiceOption], path: &str, e: &mut ValidationErrors) {
    if options.len() < 2 {
        e.push(
            format!("{path}.options"),
            "err-options-too-few",
            "a single-choice question needs at least two options",
        );
    }
    let mut codes = HashMap::new();
    for (k, o) in options.iter().enumerate() {
        let opath = format!("{path}.options[{k}]");
        define(&o.code, &format!("{opath}.code"), &mut codes, e);
        o.label.check(&format!("{opath}.label"), e);
        check_score(&o.score(), &opath, e);
    }
}

fn check_bands(bands: &[Band], (min, max): (i64, i64), path: &str, e: &mut ValidationErrors) {
    let mut previous_to: Option<i64> = None;
    for (k, b) in bands.iter().enumerate() {
        let bpath = format!("{path}.bands[{k}]");
        if b.from > b.to {
            e.push(
                format!("{bpath}.to"),
                "err-range-order",
                format!("to ({}) is below from ({})", b.to, b.from),
            );
        }
        if b.from < min || b.to > max {
            e.push(
                bpath.clone(),
                "err-band-outside",
                format!(
                    "{}..={} is outside the answer's range {min}..={max}",
                    b.from, b.to
                ),
            );
        }
        if let Some(prev) = previous_to {
            if b.from <= prev {
                e.push(format!("{bpath}.from"), "err-band-order", format!("bands must ascend without overlap; {} is not above the previous band's end {prev}", b.from));
            }
        }
        previous_to = Some(b.to);
        check_score(&b.score(), &bpath, e);
    }
}

fn check_score(s: &Score, path: &str, e: &mut ValidationErrors) {
    if s.weight.abs() > MAX_WEIGHT {
        e.push(
            format!("{path}.weight"),
            "err-weight-range",
            format!("weights lie between -{MAX_WEIGHT} and {MAX_WEIGHT}"),
        );
    }
    match (s.red_flag, s.red_flag_level) {
        (true, None) => e.push(
            format!("{path}.red_flag_level"),
            "err-red-flag-level-missing",
            "a red flag needs a level (high or immediate_danger)",
        ),
        (true, Some(l)) if l < RiskLevel::High => e.push(
            format!("{path}.red_flag_level"),
            "err-red-flag-level-low",
            format!("a red flag overrides to high or immediate_danger, not {l}"),
        ),
        (false, Some(_)) => e.push(
            format!("{path}.red_flag_level"),
            "err-red-flag-level-without-flag",
            "a level is set but red_flag is not",
        ),
        _ => {}
    }
}

/// Checks a code where it is defined: its format, and that it is not used twice.
fn define(code: &str, field: &str, seen: &mut HashMap<String, String>, e: &mut ValidationErrors) {
    check_code(code, field, e);
    unique(code, field, seen, e);
}

/// Records `code` at `field`, reporting a duplicate with the field of its first use.
fn unique(code: &str, field: &str, seen: &mut HashMap<String, String>, e: &mut ValidationErrors) {
    if let Some(first) = seen.get(code) {
        e.push(
            field,
            "err-code-duplicate",
            format!("'{code}' is already used at {first}"),
        );
    } else {
        seen.insert(code.to_string(), field.to_string());
    }
}
