//! Checking answers against the questions they claim to answer.

use super::{Answer, AnswerValue, RedFlagHit, ScreeningContext};
use crate::instrument::{AnswerSpec, Instrument, Question, Score};
use bala_core::{FieldError, ValidationErrors};
use std::collections::{BTreeMap, BTreeSet};

/// One accepted answer and what it scores.
pub(super) struct Scored {
    pub question: String,
    pub domain: String,
    pub score: Score,
}

impl Scored {
    pub fn red_flag_hit(&self) -> Option<RedFlagHit> {
        self.score.red_flag().map(|level| RedFlagHit {
            question: self.question.clone(),
            domain: self.domain.clone(),
            level,
        })
    }
}

/// Validates the answers and returns their scores in instrument order.
pub(super) fn resolve(
    inst: &Instrument,
    ctx: &ScreeningContext,
    answers: &[Answer],
) -> Result<Vec<Scored>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let by_code = index(inst, answers, &mut errors);
    let mut scored = Vec::new();
    for (domain, q) in inst.questions() {
        let field = field(&q.code);
        let applies = q.applies.applies_to(ctx.child_age_months);
        let answer = match by_code.get(q.code.as_str()) {
            Some(None) => continue, // answered twice: already reported
            Some(Some(v)) => Some(*v),
            None => None,
        };
        match (answer, applies) {
            (None, true) if q.required => errors.push(
                field,
                "err-answer-required",
                "this question must be answered",
            ),
            (None, _) => {}
            (Some(_), false) => errors.push(
                field,
                "err-answer-not-applicable",
                "this question does not apply to a child of this age",
            ),
            (Some(value), true) => match score_of(q, value) {
                Ok(score) => scored.push(Scored {
                    question: q.code.clone(),
                    domain: domain.code.clone(),
                    score,
                }),
                Err(e) => errors.0.push(e),
            },
        }
    }
    errors.into_result().map(|()| scored)
}

fn field(question: &str) -> String {
    format!("answers.{question}")
}

/// Answers by question code, `None` for a question answered more than once
/// (ambiguous, so neither copy is scored); reports duplicates and unknown questions.
fn index<'a>(
    inst: &Instrument,
    answers: &'a [Answer],
    errors: &mut ValidationErrors,
) -> BTreeMap<&'a str, Option<&'a AnswerValue>> {
    let mut by_code = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    for a in answers {
        let code = a.question.as_str();
        if inst.question(code).is_none() {
            if unknown.insert(code) {
                errors.push(
                    field(code),
                    "err-answer-unknown-question",
                    format!("'{code}' is not a question of this instrument version"),
                );
            }
        } else if let Some(previous) = by_code.insert(code, None) {
            if previous.is_some() {
                errors.push(
                    field(code),
                    "err-answer-duplicate",
                    "the question is answered more than once",
                );
            }
        } else {
            by_code.insert(code, Some(&a.value));
        }
    }
    by_code
}

/// The score of one answer, or why the value does not fit the question.
fn score_of(q: &Question, value: &AnswerValue) -> Result<Score, FieldError> {
    let field = field(&q.code);
    match (&q.answer, value) {
        (AnswerSpec::YesNo { yes, no }, AnswerValue::YesNo(b)) => Ok(if *b { *yes } else { *no }),
        (AnswerSpec::SingleChoice { options }, AnswerValue::Choice(c)) => options
            .iter()
            .find(|o| &o.code == c)
            .map(|o| o.score())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "err-answer-unknown-option",
                    format!("'{c}' is not an option of this question"),
                )
            }),
        (
            AnswerSpec::Number {
                min, max, bands, ..
            },
            AnswerValue::Number(n),
        ) => {
            if n < min || n > max {
                return Err(FieldError::new(
                    field,
                    "err-answer-out-of-range",
                    format!("{n} is outside {min}..={max}"),
                ));
            }
            let band = bands.iter().find(|b| b.from <= *n && *n <= b.to);
            Ok(band.map(|b| b.score()).unwrap_or_default())
        }
        (AnswerSpec::Text { max_len }, AnswerValue::Text(t)) => {
            if t.chars().count() > *max_len as usize {
                return Err(FieldError::new(
                    field,
                    "err-answer-too-long",
                    format!("at most {max_len} characters"),
                ));
            }
            Ok(Score::default())
        }
        (spec, _) => Err(FieldError::new(
            field,
            "err-answer-type",
            format!("this question takes a {} answer", type_name(spec)),
        )),
    }
}

fn type_name(spec: &AnswerSpec) -> &'static str {
    match spec {
        AnswerSpec::YesNo { .. } => "yes_no",
        AnswerSpec::SingleChoice { .. } => "choice",
        AnswerSpec::Number { .. } => "number",
        AnswerSpec::Text { .. } => "text",
    }
}
