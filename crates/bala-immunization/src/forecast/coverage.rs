//! Questions coverage and equity indicators ask of one child's evaluated doses.
//!
//! Only valid doses count, so an indicator built on these never credits a dose
//! given too early or from an expired lot. Antigen codes are the calendar's
//! (`DTP`, `MMR` for MCV, `Polio`, `PCV`, `BCG`, `HepB`).

use super::DoseEvaluation;
use crate::span::Span;
use time::{Date, Duration};

/// The antigen code of DTP-containing vaccines, used by the zero-dose definitions.
pub const DTP: &str = "DTP";

/// How many valid doses of `antigen` were recorded.
pub fn valid_dose_count(evals: &[DoseEvaluation], antigen: &str) -> usize {
    evals.iter().filter(|e| e.is_for(antigen) && e.is_valid()).count()
}

/// The date the `n`th valid dose of `antigen` was given (n from 1): DTP1 is
/// `dose_date(evals, "DTP", 1)`, MCV2 `dose_date(evals, "MMR", 2)`.
pub fn dose_date(evals: &[DoseEvaluation], antigen: &str, n: u32) -> Option<Date> {
    evals
        .iter()
        .find(|e| e.is_for(antigen) && e.is_valid() && e.dose_number == Some(n))
        .map(|e| e.administration.date)
}

fn first_birthday(birth: Date) -> Date {
    Span::months(12).add_to(birth)
}

/// Whether the `n`th valid DTP dose was given before the first birthday.
fn dtp_by_one_year(birth: Date, evals: &[DoseEvaluation], n: u32) -> bool {
    dose_date(evals, DTP, n).is_some_and(|d| d < first_birthday(birth))
}

/// Zero-dose child (Gavi, IA2030): no DTP1 by 12 months of age.
///
/// Judged only once the child has turned 12 months on `on` (before that no one
/// can be zero-dose yet). A child who gets DTP1 later *was* zero-dose and stays
/// so here — the definition is about the first year; to find zero-dose children
/// still unreached, also check `valid_dose_count(evals, DTP) == 0`.
pub fn is_zero_dose(birth: Date, evals: &[DoseEvaluation], on: Date) -> bool {
    on >= first_birthday(birth) && !dtp_by_one_year(birth, evals, 1)
}

/// Under-immunized child (Gavi): DTP1 but not DTP3, both judged by 12 months of
/// age like [`is_zero_dose`], so the two never overlap and, with the fully
/// immunized (DTP3), partition every child aged one or more.
pub fn is_under_immunized(birth: Date, evals: &[DoseEvaluation], on: Date) -> bool {
    on >= first_birthday(birth) && dtp_by_one_year(birth, evals, 1) && !dtp_by_one_year(birth, evals, 3)
}

/// Whether the hepatitis B birth dose was given within 24 hours of birth. Only
/// dates are recorded, so "within 24 hours" is read as on the day of birth or
/// the next day: a dose on the next day may be up to 47 hours after birth, but
/// without hours nothing stricter can be said without excluding timely doses.
pub fn hepb_birth_dose_within_24h(birth: Date, evals: &[DoseEvaluation]) -> bool {
    dose_date(evals, "HepB", 1).is_some_and(|d| d <= birth + Duration::days(1))
}
