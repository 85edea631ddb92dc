//! Validation of rule sets, naming the field at fault
//! (e.g. `rules[0].when.all[1].any[0].value`), for the rule editor.

use super::condition::{Comparison, Condition, Literal, Op};
use super::facts::{FactKind, FactName};
use super::template::{parse, Piece};
use super::{Rule, RuleSet};
use crate::text::{check_code, Lang, Text};
use bala_core::ValidationErrors;
use std::collections::HashMap;

/// Deeper nesting than this is unreadable and almost surely a mistake.
pub const MAX_DEPTH: usize = 8;

impl RuleSet {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_code(&self.code, "code", &mut e);
        if self.version == 0 {
            e.push("version", "err-version", "versions start at 1");
        }
        if self.rules.is_empty() {
            e.push(
                "rules",
                "err-rules-missing",
                "a rule set needs at least one rule",
            );
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            let path = format!("rules[{i}]");
            if let Some(first) = seen.insert(&r.code, i) {
                e.push(
                    format!("{path}.code"),
                    "err-code-duplicate",
                    format!("'{}' is already used by rules[{first}]", r.code),
                );
            }
            r.check(&path, &mut e);
        }
        e.into_result()
    }
}

impl Rule {
    fn check(&self, path: &str, e: &mut ValidationErrors) {
        check_code(&self.code, &format!("{path}.code"), e);
        self.title.check(&format!("{path}.title"), e);
        self.explanation.check(&format!("{path}.explanation"), e);
        check_template(&self.explanation, &format!("{path}.explanation"), e);
        check_condition(&self.when, &format!("{path}.when"), 1, e);
    }
}

fn check_template(t: &Text, path: &str, e: &mut ValidationErrors) {
    for lang in Lang::ALL {
        let field = format!("{path}.{lang}");
        match parse(t.get(lang)) {
            Err(why) => e.push(field, "err-template-syntax", why),
            Ok(pieces) => {
                for p in pieces {
                    if let Piece::Fact(name) = p {
                        if name.parse::<FactName>().is_err() {
                            e.push(
                                field.clone(),
                                "err-template-unknown-fact",
                                format!("{{{name}}} is not a known fact"),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn check_condition(c: &Condition, path: &str, depth: usize, e: &mut ValidationErrors) {
    if depth > MAX_DEPTH {
        e.push(
            path,
            "err-condition-depth",
            format!("conditions nest at most {MAX_DEPTH} deep"),
        );
        return;
    }
    match c {
        Condition::All(a) => check_parts(&a.all, &format!("{path}.all"), depth, e),
        Condition::Any(a) => check_parts(&a.any, &format!("{path}.any"), depth, e),
        Condition::Not(n) => check_condition(&n.not, &format!("{path}.not"), depth + 1, e),
        Condition::Compare(cmp) => check_comparison(cmp, path, e),
    }
}

fn check_parts(parts: &[Condition], path: &str, depth: usize, e: &mut ValidationErrors) {
    if parts.is_empty() {
        e.push(path, "err-condition-empty", "list at least one condition");
    }
    for (i, p) in parts.iter().enumerate() {
        check_condition(p, &format!("{path}[{i}]"), depth + 1, e);
    }
}

fn check_comparison(c: &Comparison, path: &str, e: &mut ValidationErrors) {
    let Some(fact) = c.fact_name() else {
        let known: Vec<&str> = FactName::ALL.iter().map(|f| f.code()).collect();
        e.push(
            format!("{path}.fact"),
            "err-unknown-fact",
            format!("'{}' is not a fact; known: {}", c.fact, known.join(", ")),
        );
        return;
    };
    let kind = fact.kind();
    if kind == FactKind::Bool && !matches!(c.op, Op::Eq | Op::Ne) {
        e.push(
            format!("{path}.op"),
            "err-op-for-bool",
            format!("{fact} is yes/no: use == or !="),
        );
    }
    if c.value.as_value(kind).is_none() {
        let expected = match kind {
            FactKind::Bool => "true or false",
            FactKind::Number => "a whole number",
            FactKind::Level => "a risk level (low, medium, high, immediate_danger)",
        };
        e.push(
            format!("{path}.value"),
            "err-value-kind",
            format!("{fact} compares with {expected}, not '{}'", c.value),
        );
    }
    if let (FactKind::Number, Literal::Int(n)) = (kind, &c.value) {
        if *n < 0 {
            e.push(
                format!("{path}.value"),
                "err-value-negative",
                format!("{fact} is never negative"),
            );
        }
    }
}
