//! Dose evaluation: does each recorded dose count?
//!
//! Doses are taken in date order (ties broken by every other field, so the
//! input order never matters). For each antigen a product counts for, the dose
//! is judged against the *next* dose of that antigen's series, with the previous
//! *valid* dose as the reference for the interval — an invalid dose is as if it
//! had not been given. Checks, first failing wins: the record itself (dated
//! after the evaluation date, before birth, unknown product), then per antigen:
//! series already complete, invalidating flag, lot expiry, maximum age, minimum
//! age, minimum interval. Problems with the vial (flag, expiry) come before the
//! timing checks because they are what a nurse must act on first.

use super::explain::{DateRule, Ruled};
use super::{Administration, Detail, DoseEvaluation, InvalidReason, Outcome};
use crate::calendar::{Calendar, DoseRule, Series};
use std::collections::HashMap;
use time::{Date, Duration};

/// A dose that counted, as later doses need to know it.
#[derive(Debug, Clone)]
struct Counted {
    date: Date,
    label: String,
}

/// Judges every administration for every antigen its product counts for.
/// The result is in processing order: by date, then product code.
pub fn evaluate(
    calendar: &Calendar,
    birth: Date,
    administrations: &[Administration],
    on: Date,
) -> Vec<DoseEvaluation> {
    evaluate_with(calendar, birth, administrations, on, Detail::Full)
}

/// [`evaluate`], writing explanations only at `detail`.
pub fn evaluate_with(
    calendar: &Calendar,
    birth: Date,
    administrations: &[Administration],
    on: Date,
    detail: Detail,
) -> Vec<DoseEvaluation> {
    let mut ordered: Vec<&Administration> = administrations.iter().collect();
    ordered.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut counted: HashMap<&str, Vec<Counted>> = HashMap::new();
    let mut out = Vec::new();
    for admin in ordered {
        if let Some(e) = precheck(calendar, birth, admin, on, detail) {
            out.push(e);
            continue;
        }
        let product = calendar
            .product(&admin.product)
            .expect("precheck found the product");
        for antigen in &product.antigens {
            let history = counted.entry(antigen.as_str()).or_default();
            let e = judge_for_antigen(calendar, birth, admin, antigen, history, detail);
            if e.is_valid() {
                history.push(Counted {
                    date: admin.date,
                    label: e.label.clone().unwrap_or_default(),
                });
            }
            out.push(e);
        }
    }
    out
}

fn verdict(
    admin: &Administration,
    antigen: Option<&str>,
    reason: InvalidReason,
    explanation: String,
) -> DoseEvaluation {
    DoseEvaluation {
        administration: admin.clone(),
        antigen: antigen.map(str::to_owned),
        outcome: Outcome::Invalid(reason),
        dose_number: None,
        label: None,
        grace_applied: false,
        explanation,
    }
}

/// Problems with the record itself, before any series is considered.
fn precheck(
    calendar: &Calendar,
    birth: Date,
    admin: &Administration,
    on: Date,
    detail: Detail,
) -> Option<DoseEvaluation> {
    let (reason, why) = if admin.date > on {
        (
            InvalidReason::AfterEvaluationDate,
            detail.text(|| format!("dated {}, after the evaluation date {on}", admin.date)),
        )
    } else if admin.date < birth {
        (
            InvalidReason::BeforeBirth,
            detail.text(|| format!("dated {}, before the child's birth on {birth}", admin.date)),
        )
    } else if calendar.product(&admin.product).is_none() {
        (
            InvalidReason::UnknownProduct,
            detail.text(|| {
                format!(
                    "product '{}' is not in calendar {}, so what it protects against is unknown",
                    admin.product, calendar.id
                )
            }),
        )
    } else {
        return None;
    };
    Some(verdict(admin, None, reason, why))
}

fn judge_for_antigen(
    calendar: &Calendar,
    birth: Date,
    admin: &Administration,
    antigen: &str,
    history: &[Counted],
    detail: Detail,
) -> DoseEvaluation {
    let Some(series) = calendar.series_for(antigen) else {
        let why = detail.text(|| format!("calendar {} has no series for {antigen}", calendar.id));
        return verdict(admin, Some(antigen), InvalidReason::NoSeries, why);
    };
    let Some(rule) = series.doses.get(history.len()) else {
        let why = detail.text(|| {
            format!(
                "the {antigen} series was already complete ({} valid doses)",
                history.len()
            )
        });
        return verdict(admin, Some(antigen), InvalidReason::ExtraDose, why);
    };
    let mut e = judge_dose(calendar, birth, admin, series, rule, history.last(), detail);
    e.dose_number = Some(rule.number);
    e.label = Some(rule.label.clone());
    e
}

/// Judges `admin` as dose `rule` of `series`, the previous valid dose being `previous`.
fn judge_dose(
    calendar: &Calendar,
    birth: Date,
    admin: &Administration,
    series: &Series,
    rule: &DoseRule,
    previous: Option<&Counted>,
    detail: Detail,
) -> DoseEvaluation {
    let antigen = Some(series.antigen.as_str());
    let not_as = |reason, why: &dyn Fn() -> String| {
        let text = detail.text(|| format!("does not count as {}: {}", rule.label, why()));
        verdict(admin, antigen, reason, text)
    };
    if let Some(flag) = admin.flags.iter().copied().find(|f| f.invalidates()) {
        return not_as(InvalidReason::Flagged(flag), &|| flag.describe().to_owned());
    }
    if let Some(expiry) = admin.lot_expiry.filter(|x| *x < admin.date) {
        return not_as(InvalidReason::ExpiredLot, &|| {
            format!(
                "the lot expired on {expiry}, before the dose was given on {}",
                admin.date
            )
        });
    }
    if let Some(max) = rule.max_age {
        let stop = max.add_to(birth);
        if admin.date >= stop {
            return not_as(InvalidReason::AfterMaxAge, &|| {
                format!(
                    "given on {}, but it is not given from the age of {} ({stop})",
                    admin.date,
                    max.describe()
                )
            });
        }
    }
    let limits = lower_limits(birth, rule, previous);
    let grace = Duration::days(i64::from(calendar.grace_days));
    for (limit, reason) in &limits {
        if admin.date < limit.date - grace {
            return not_as(*reason, &|| {
                too_early(admin.date, limit, calendar.grace_days)
            });
        }
    }
    valid(admin, antigen, rule, &limits, calendar.grace_days, detail)
}

/// The minimum-age and minimum-interval dates this dose must respect.
fn lower_limits(
    birth: Date,
    rule: &DoseRule,
    previous: Option<&Counted>,
) -> Vec<(Ruled, InvalidReason)> {
    let mut limits = vec![(
        Ruled::new(
            rule.min_age.add_to(birth),
            DateRule::MinimumAge { age: rule.min_age },
        ),
        InvalidReason::TooEarlyAge,
    )];
    if let (Some(prev), Some(interval)) = (previous, rule.min_interval) {
        let rule = DateRule::MinimumInterval {
            interval,
            after: prev.label.clone(),
            previous: prev.date,
        };
        limits.push((
            Ruled::new(interval.add_to(prev.date), rule),
            InvalidReason::TooShortInterval,
        ));
    }
    limits
}

fn too_early(given: Date, limit: &Ruled, grace_days: u32) -> String {
    let days = (limit.date - given).whole_days();
    format!(
        "given on {given}, {days} days before {limit}; the {grace_days}-day grace period accepts doses from {}",
        limit.date - Duration::days(i64::from(grace_days))
    )
}

fn valid(
    admin: &Administration,
    antigen: Option<&str>,
    rule: &DoseRule,
    limits: &[(Ruled, InvalidReason)],
    grace_days: u32,
    detail: Detail,
) -> DoseEvaluation {
    let binding = limits
        .iter()
        .map(|(l, _)| l)
        .max_by_key(|l| l.date)
        .expect("minimum age is always a limit");
    let grace_applied = admin.date < binding.date;
    let explanation = detail.text(|| {
        if grace_applied {
            let days = (binding.date - admin.date).whole_days();
            format!(
                "counts as {} thanks to the {grace_days}-day grace period: given on {}, {days} days before {binding}",
                rule.label, admin.date
            )
        } else {
            format!(
                "counts as {}: given on {}, on or after {binding}",
                rule.label, admin.date
            )
        }
    });
    DoseEvaluation {
        administration: admin.clone(),
        antigen: antigen.map(str::to_owned),
        outcome: Outcome::Valid,
        dose_number: Some(rule.number),
        label: Some(rule.label.clone()),
        grace_applied,
        explanation,
    }
}
