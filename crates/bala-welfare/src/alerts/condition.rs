//! A small condition language: comparisons on named facts, combined with
//! `all`, `any` and `not`.
//!
//! ```toml
//! when = { all = [
//!   { any = [{ fact = "zero_dose", op = "==", value = true },
//!            { fact = "max_days_overdue", op = ">=", value = 60 }] },
//!   { fact = "household_risk", op = ">=", value = "medium" },
//! ] }
//! ```
//!
//! Evaluation uses three-valued (Kleene) logic: a comparison on a missing fact
//! is *unknown*, `not unknown` is unknown, `all` is false if any part is false,
//! `any` is true if any part is true. A rule fires only when its condition is
//! *true*. This makes rules monotone in information: learning more facts can
//! never make a rule that fired stop firing, and a missing fact can never make a
//! `not` fire by accident.

use super::facts::{FactKind, FactName, FactValue, Facts};
use crate::instrument::RiskLevel;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    All(AllOf),
    Any(AnyOf),
    Not(NotOf),
    Compare(Comparison),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllOf {
    pub all: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnyOf {
    pub any: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotOf {
    pub not: Box<Condition>,
}

/// `fact op value`. The fact is kept as text so that a misspelt name in an
/// edited rule is reported by validation at its path rather than as a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub fact: String,
    pub op: Op,
    pub value: Literal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub const ALL: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds<T: Ord>(self, a: T, b: T) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A literal as written in a rule file; its meaning depends on the fact's kind
/// (a string is a risk level for `household_risk`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Text(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Text(s) => write!(f, "{s}"),
        }
    }
}

impl Literal {
    /// The literal as a value of `kind`, if it is one.
    pub fn as_value(&self, kind: FactKind) -> Option<FactValue> {
        match (self, kind) {
            (Literal::Bool(b), FactKind::Bool) => Some(FactValue::Bool(*b)),
            (Literal::Int(n), FactKind::Number) => Some(FactValue::Number(*n)),
            (Literal::Text(s), FactKind::Level) => {
                s.parse::<RiskLevel>().ok().map(FactValue::Level)
            }
            _ => None,
        }
    }
}

/// Kleene truth values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// A comparison that helped a rule fire, with the fact's actual value.
/// `negated` marks one that helped by being false under a `not`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matched {
    pub fact: FactName,
    pub op: Op,
    pub value: Literal,
    pub actual: FactValue,
    pub negated: bool,
}

impl fmt::Display for Matched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actual = match self.actual {
            FactValue::Bool(b) => b.to_string(),
            FactValue::Number(n) => n.to_string(),
            FactValue::Level(l) => l.code().to_string(),
        };
        let not = if self.negated { "not " } else { "" };
        write!(
            f,
            "{not}{} {} {} (is {actual})",
            self.fact, self.op, self.value
        )
    }
}

impl Condition {
    pub fn all(parts: Vec<Condition>) -> Condition {
        Condition::All(AllOf { all: parts })
    }

    pub fn any(parts: Vec<Condition>) -> Condition {
        Condition::Any(AnyOf { any: parts })
    }

    #[allow(clippy::should_implement_trait)] // a constructor, not negation of a value
    pub fn not(inner: Condition) -> Condition {
        Condition::Not(NotOf {
            not: Box::new(inner),
        })
    }

    pub fn compare(fact: FactName, op: Op, value: Literal) -> Condition {
        Condition::Compare(Comparison {
            fact: fact.code().to_string(),
            op,
            value,
        })
    }

    /// Three-valued evaluation. Invalid comparisons (unknown fact, literal of the
    /// wrong kind) are unknown; validation reports them before a rule is used.
    pub fn eval(&self, facts: &Facts) -> Truth {
        match self {
            Condition::Compare(c) => c.eval(facts),
            Condition::Not(n) => n.not.eval(facts).not(),
            Condition::All(a) => {
                let ts: Vec<Truth> = a.all.iter().map(|c| c.eval(facts)).collect();
                if ts.contains(&Truth::False) {
                    Truth::False
                } else if ts.contains(&Truth::Unknown) {
                    Truth::Unknown
                } else {
                    Truth::True
                }
            }
            Condition::Any(a) => {
                let ts: Vec<Truth> = a.any.iter().map(|c| c.eval(facts)).collect();
                if ts.contains(&Truth::True) {
                    Truth::True
                } else if ts.contains(&Truth::Unknown) {
                    Truth::Unknown
                } else {
                    Truth::False
                }
            }
        }
    }

    /// The comparisons that made this condition evaluate to `target`: for a
    /// true `any`, only its true parts; for a true `all`, all of them; under a
    /// `not`, the parts that were false.
    pub fn trace(&self, facts: &Facts, target: Truth) -> Vec<Matched> {
        let mut out = Vec::new();
        self.trace_into(facts, target, &mut out);
        out
    }

    fn trace_into(&self, facts: &Facts, target: Truth, out: &mut Vec<Matched>) {
        match self {
            Condition::Compare(c) => {
                if c.eval(facts) == target {
                    out.extend(c.matched(facts, target == Truth::False));
                }
            }
            Condition::Not(n) => n.not.trace_into(facts, target.not(), out),
            Condition::All(AllOf { all: parts }) | Condition::Any(AnyOf { any: parts }) => {
                for part in parts.iter().filter(|p| p.eval(facts) == target) {
                    part.trace_into(facts, target, out);
                }
            }
        }
    }
}

impl Comparison {
    /// The fact this comparison reads, if the name is known.
    pub fn fact_name(&self) -> Option<FactName> {
        self.fact.parse().ok()
    }

    pub fn eval(&self, facts: &Facts) -> Truth {
        let Some(name) = self.fact_name() else {
            return Truth::Unknown;
        };
        let (Some(actual), Some(expected)) = (facts.get(name), self.value.as_value(name.kind()))
        else {
            return Truth::Unknown;
        };
        if self.op.holds(actual, expected) {
            Truth::True
        } else {
            Truth::False
        }
    }

    fn matched(&self, facts: &Facts, negated: bool) -> Option<Matched> {
        let fact = self.fact_name()?;
        Some(Matched {
            fact,
            op: self.op,
            value: self.value.clone(),
            actual: facts.get(fact)?,
            negated,
        })
    }
}
