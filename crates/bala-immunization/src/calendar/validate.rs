//! Consistency checks for a calendar an administrator has edited.
//!
//! The forecast engine trusts the calendar: a recommended age below the minimum
//! age, or a schedule that breaks its own minimum interval, would silently give
//! wrong due dates to every child. So every such slip is reported here, all at
//! once, each naming the field in the form an editor can highlight:
//! `series[DTP].doses[2].min_interval` — series and products by code, doses by
//! their position in the list counted from 1.

use super::{Antigen, Calendar, DoseRule, Names, Product, Series};
use crate::span::Span;
use bala_core::ValidationErrors;
use std::collections::{HashMap, HashSet};

/// WHO and ACIP both use 4 days; a week is the most that can be defended.
const MAX_GRACE_DAYS: u32 = 7;
/// No age or interval in a childhood calendar exceeds a human lifetime.
const MAX_SPAN_DAYS: f64 = 100.0 * 365.25;

impl Calendar {
    /// Every inconsistency in this calendar; empty when it can be used.
    pub fn validate(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        check_header(self, &mut errors);
        check_antigens(self, &mut errors);
        check_products(self, &mut errors);
        check_series_list(self, &mut errors);
        errors
    }
}

/// `code` when present, else `#position` so an entry with an empty code can
/// still be pointed at.
fn key(code: &str, position: usize) -> String {
    if code.trim().is_empty() {
        format!("#{position}")
    } else {
        code.to_owned()
    }
}

fn require(errors: &mut ValidationErrors, field: String, value: &str, what: &str) {
    if value.trim().is_empty() {
        errors.push(field, "err-cal-required", format!("{what} is required"));
    }
}

fn check_names(errors: &mut ValidationErrors, field: &str, names: &Names) {
    require(errors, format!("{field}.kk"), &names.kk, "the Kazakh name");
    require(errors, format!("{field}.ru"), &names.ru, "the Russian name");
    require(errors, format!("{field}.en"), &names.en, "the English name");
}

/// Codes end up in URLs, reports and file names: ASCII letters, digits, `-`, `_`.
fn check_code(errors: &mut ValidationErrors, field: String, code: &str, what: &str) {
    if code.trim().is_empty() {
        errors.push(
            field,
            "err-cal-required",
            format!("the {what} code is required"),
        );
    } else if code.len() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(
            field,
            "err-cal-code-format",
            format!("the {what} code '{code}' may only use Latin letters, digits, '-' and '_' (at most 32)"),
        );
    }
}

fn check_span(errors: &mut ValidationErrors, field: String, span: Span) {
    if span.approx_days() > MAX_SPAN_DAYS {
        errors.push(
            field,
            "err-cal-span",
            format!("{} is longer than 100 years", span.describe()),
        );
    }
}

fn check_header(c: &Calendar, errors: &mut ValidationErrors) {
    check_code(errors, "id".into(), &c.id, "calendar");
    check_names(errors, "name", &c.name);
    require(errors, "source".into(), &c.source, "the legal source");
    if let Some(to) = c.valid_to.filter(|to| *to <= c.valid_from) {
        errors.push(
            "valid_to",
            "err-cal-validity",
            format!(
                "the calendar ends on {to}, not after it starts on {}",
                c.valid_from
            ),
        );
    }
    if c.grace_days > MAX_GRACE_DAYS {
        errors.push(
            "grace_days",
            "err-cal-grace",
            format!("a grace period of {} days is too long; WHO and ACIP use 4, at most {MAX_GRACE_DAYS} is accepted", c.grace_days),
        );
    }
    if c.overdue_after.is_zero() {
        errors.push(
            "overdue_after",
            "err-cal-required",
            "a dose needs some time to be due before it is overdue",
        );
    }
    check_span(errors, "overdue_after".into(), c.overdue_after);
}

fn check_antigens(c: &Calendar, errors: &mut ValidationErrors) {
    if c.antigens.is_empty() {
        errors.push(
            "antigens",
            "err-cal-empty",
            "a calendar needs at least one antigen",
        );
    }
    let mut seen = HashMap::new();
    for (i, a) in c.antigens.iter().enumerate() {
        let field = format!("antigens[{}]", key(&a.code, i + 1));
        check_antigen(c, a, &field, errors);
        if let Some(first) = seen.insert(a.code.as_str(), i + 1) {
            if !a.code.is_empty() {
                errors.push(
                    format!("{field}.code"),
                    "err-cal-duplicate",
                    format!(
                        "antigen code '{}' is used by entries {first} and {}",
                        a.code,
                        i + 1
                    ),
                );
            }
        }
    }
}

fn check_antigen(c: &Calendar, a: &Antigen, field: &str, errors: &mut ValidationErrors) {
    check_code(errors, format!("{field}.code"), &a.code, "antigen");
    check_names(errors, &format!("{field}.name"), &a.name);
    if !a.code.is_empty() && c.series_for(&a.code).is_none() {
        errors.push(
            field.to_owned(),
            "err-cal-no-series",
            format!(
                "antigen '{}' has no series; add its doses or remove the antigen",
                a.code
            ),
        );
    }
}

fn check_products(c: &Calendar, errors: &mut ValidationErrors) {
    let mut seen = HashMap::new();
    for (i, p) in c.products.iter().enumerate() {
        let field = format!("products[{}]", key(&p.code, i + 1));
        check_product(c, p, &field, errors);
        if let Some(first) = seen.insert(p.code.as_str(), i + 1) {
            if !p.code.is_empty() {
                errors.push(
                    format!("{field}.code"),
                    "err-cal-duplicate",
                    format!(
                        "product code '{}' is used by entries {first} and {}",
                        p.code,
                        i + 1
                    ),
                );
            }
        }
    }
}

fn check_product(c: &Calendar, p: &Product, field: &str, errors: &mut ValidationErrors) {
    check_code(errors, format!("{field}.code"), &p.code, "product");
    check_names(errors, &format!("{field}.name"), &p.name);
    if p.antigens.is_empty() {
        errors.push(
            format!("{field}.antigens"),
            "err-cal-empty",
            "a product must count for at least one antigen",
        );
    }
    let mut seen = HashSet::new();
    for (j, code) in p.antigens.iter().enumerate() {
        let item = format!("{field}.antigens[{}]", j + 1);
        if c.antigen(code).is_none() {
            errors.push(
                item.clone(),
                "err-cal-unknown-antigen",
                format!(
                    "product '{}' counts for antigen '{code}', which this calendar does not define",
                    p.code
                ),
            );
        }
        if !seen.insert(code.as_str()) {
            errors.push(
                item,
                "err-cal-duplicate",
                format!("antigen '{code}' is listed twice"),
            );
        }
    }
}

fn check_series_list(c: &Calendar, errors: &mut ValidationErrors) {
    let mut seen_antigens = HashSet::new();
    let mut labels: HashMap<&str, String> = HashMap::new();
    for (i, s) in c.series.iter().enumerate() {
        let field = format!("series[{}]", key(&s.antigen, i + 1));
        if s.antigen.trim().is_empty() {
            errors.push(
                format!("{field}.antigen"),
                "err-cal-required",
                "the series' antigen is required",
            );
        } else if c.antigen(&s.antigen).is_none() {
            errors.push(
                format!("{field}.antigen"),
                "err-cal-unknown-antigen",
                format!("antigen '{}' is not defined in this calendar", s.antigen),
            );
        } else if !seen_antigens.insert(s.antigen.as_str()) {
            errors.push(
                format!("{field}.antigen"),
                "err-cal-duplicate",
                format!("antigen '{}' has more than one series", s.antigen),
            );
        }
        check_series(c, s, &field, errors);
        check_labels(s, &field, &mut labels, errors);
    }
}

fn check_labels<'a>(
    s: &'a Series,
    field: &str,
    labels: &mut HashMap<&'a str, String>,
    errors: &mut ValidationErrors,
) {
    for (j, dose) in s.doses.iter().enumerate() {
        let dose_field = format!("{field}.doses[{}].label", j + 1);
        if dose.label.trim().is_empty() {
            errors.push(
                dose_field,
                "err-cal-required",
                "the dose label (e.g. DTP1) is required",
            );
        } else if let Some(other) = labels.insert(dose.label.as_str(), dose_field.clone()) {
            errors.push(
                dose_field,
                "err-cal-duplicate",
                format!("label '{}' is already used by {other}; labels name doses in reports and must be unique", dose.label),
            );
        }
    }
}

fn check_series(c: &Calendar, s: &Series, field: &str, errors: &mut ValidationErrors) {
    if s.doses.is_empty() {
        errors.push(
            format!("{field}.doses"),
            "err-cal-empty",
            "a series needs at least one dose",
        );
    }
    if let (Some(introduced), Some(to)) = (s.introduced, c.valid_to) {
        if introduced >= to {
            errors.push(
                format!("{field}.introduced"),
                "err-cal-introduced",
                format!("introduced on {introduced}, after the calendar ends on {to}"),
            );
        }
    }
    let mut previous: Option<&DoseRule> = None;
    for (j, dose) in s.doses.iter().enumerate() {
        let dose_field = format!("{field}.doses[{}]", j + 1);
        check_dose(dose, j + 1, &dose_field, errors);
        if let Some(prev) = previous {
            check_against_previous(prev, dose, &dose_field, errors);
        }
        previous = Some(dose);
    }
}

fn check_dose(d: &DoseRule, position: usize, field: &str, errors: &mut ValidationErrors) {
    if d.number as usize != position {
        errors.push(
            format!("{field}.number"),
            "err-cal-dose-number",
            format!(
                "dose number {} is in position {position}; number doses 1, 2, 3… in order",
                d.number
            ),
        );
    }
    require(
        errors,
        format!("{field}.rule_source"),
        &d.rule_source,
        "the source of the minimum age and interval",
    );
    for (name, span) in [
        ("recommended_age", Some(d.recommended_age)),
        ("min_age", Some(d.min_age)),
        ("min_interval", d.min_interval),
        ("max_age", d.max_age),
    ] {
        if let Some(span) = span {
            check_span(errors, format!("{field}.{name}"), span);
        }
    }
    if !d.min_age.never_after(d.recommended_age) {
        errors.push(
            format!("{field}.recommended_age"),
            "err-cal-min-above-recommended",
            format!(
                "{} is recommended at {}, below its minimum age of {}",
                d.label,
                d.recommended_age.describe(),
                d.min_age.describe()
            ),
        );
    }
    check_max_age(d, field, errors);
    check_interval_presence(d, position, field, errors);
}

fn check_max_age(d: &DoseRule, field: &str, errors: &mut ValidationErrors) {
    let Some(max) = d.max_age else { return };
    let recommendable = d.recommended_age.never_after(max) && !max.never_after(d.recommended_age);
    if !recommendable {
        errors.push(
            format!("{field}.max_age"),
            "err-cal-max-age",
            format!(
                "{} stops at {}, which is not after its recommended age of {}",
                d.label,
                max.describe(),
                d.recommended_age.describe()
            ),
        );
    }
}

fn check_interval_presence(
    d: &DoseRule,
    position: usize,
    field: &str,
    errors: &mut ValidationErrors,
) {
    match (position, d.min_interval) {
        (1, Some(_)) => errors.push(
            format!("{field}.min_interval"),
            "err-cal-first-interval",
            format!(
                "{} is the first dose; there is no previous dose to measure an interval from",
                d.label
            ),
        ),
        (p, None) if p > 1 => errors.push(
            format!("{field}.min_interval"),
            "err-cal-required",
            format!(
                "{} needs a minimum interval after the previous dose",
                d.label
            ),
        ),
        (p, Some(i)) if p > 1 && i.is_zero() => errors.push(
            format!("{field}.min_interval"),
            "err-cal-interval",
            format!(
                "{} cannot follow the previous dose on the same day; give an interval above 0",
                d.label
            ),
        ),
        _ => {}
    }
}

fn check_against_previous(
    prev: &DoseRule,
    d: &DoseRule,
    field: &str,
    errors: &mut ValidationErrors,
) {
    let strictly_later = prev.recommended_age.never_after(d.recommended_age)
        && !d.recommended_age.never_after(prev.recommended_age);
    if !strictly_later {
        errors.push(
            format!("{field}.recommended_age"),
            "err-cal-order",
            format!(
                "{} at {} is not after {} at {}; doses must be listed in the order they are given",
                d.label,
                d.recommended_age.describe(),
                prev.label,
                prev.recommended_age.describe()
            ),
        );
    }
    if !prev.min_age.never_after(d.min_age) {
        errors.push(
            format!("{field}.min_age"),
            "err-cal-order",
            format!(
                "{}'s minimum age is below that of {}, the dose before it",
                d.label, prev.label
            ),
        );
    }
    check_schedule_keeps_interval(prev, d, field, errors);
}

/// The national schedule must itself respect the minimum interval, or a child
/// vaccinated exactly on time would have an invalid dose.
fn check_schedule_keeps_interval(
    prev: &DoseRule,
    d: &DoseRule,
    field: &str,
    errors: &mut ValidationErrors,
) {
    let Some(interval) = d.min_interval.filter(|i| !i.is_zero()) else {
        return;
    };
    let gap = crate::span::reference_births().find(|birth| {
        interval.add_to(prev.recommended_age.add_to(*birth)) > d.recommended_age.add_to(*birth)
    });
    if let Some(birth) = gap {
        errors.push(
            format!("{field}.min_interval"),
            "err-cal-interval",
            format!(
                "{} ({}) + {} is after {} ({}) for a child born on {birth}; the schedule breaks its own minimum interval",
                prev.label,
                prev.recommended_age.describe(),
                interval.describe(),
                d.label,
                d.recommended_age.describe()
            ),
        );
    }
}

#[cfg(test)]
mod tests;
