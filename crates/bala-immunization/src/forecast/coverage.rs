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
    evals
        .iter()
        .filter(|e| e.is_for(antigen) && e.is_valid())
        .count()
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
    on >= first_birthday(birth)
        && dtp_by_one_year(birth, evals, 1)
        && !dtp_by_one_year(birth, evals, 3)
}

/// Whether the hepatitis B birth dose was given within 24 hours of birth. Only
/// dates are recorded, so "within 24 hours" is read as on the day of birth or
/// the next day: a dose on the next day may be up to 47 hours after birth, but
/// without hours nothing stricter can be said without excluding timely doses.
pub fn hepb_birth_dose_within_24h(birth: Date, evals: &[DoseEvaluation]) -> bool {
    dose_date(evals, "HepB", 1).is_some_and(|d| d <= birth + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, KZ_2020_TOML};
    use crate::forecast::{evaluate, Administration};
    use time::macros::date;

    const BIRTH: Date = date!(2023 - 01 - 01);

    fn evals(doses: &[(Date, &str)], on: Date) -> Vec<DoseEvaluation> {
        let cal = Calendar::from_toml_str(KZ_2020_TOML).unwrap();
        let admins: Vec<_> = doses
            .iter()
            .map(|(d, p)| Administration::new(*d, *p))
            .collect();
        evaluate(&cal, BIRTH, &admins, on)
    }

    #[test]
    fn dose_dates_are_for_valid_doses_only() {
        let e = evals(
            &[
                (date!(2023 - 02 - 01), "DTaP"),
                (date!(2023 - 03 - 01), "DTaP"),
                (date!(2023 - 04 - 01), "DTaP"),
            ],
            date!(2023 - 06 - 01),
        );
        // The first is too early (4 weeks old), so the March dose is DTP1.
        assert_eq!(dose_date(&e, DTP, 1), Some(date!(2023 - 03 - 01)));
        assert_eq!(dose_date(&e, DTP, 2), Some(date!(2023 - 04 - 01)));
        assert_eq!(dose_date(&e, DTP, 3), None);
        assert_eq!(valid_dose_count(&e, DTP), 2);
        assert_eq!(valid_dose_count(&e, "MMR"), 0);
    }

    #[test]
    fn zero_dose_is_no_dtp1_by_twelve_months() {
        let none = evals(&[], date!(2024 - 06 - 01));
        assert!(
            !is_zero_dose(BIRTH, &none, date!(2023 - 12 - 31)),
            "not yet one year old"
        );
        assert!(is_zero_dose(BIRTH, &none, date!(2024 - 01 - 01)));
        let late = evals(&[(date!(2024 - 02 - 01), "HEXA")], date!(2024 - 06 - 01));
        assert!(
            is_zero_dose(BIRTH, &late, date!(2024 - 06 - 01)),
            "DTP1 at 13 months is too late"
        );
        assert!(!is_under_immunized(BIRTH, &late, date!(2024 - 06 - 01)));
        let on_time = evals(&[(date!(2023 - 12 - 31), "HEXA")], date!(2024 - 06 - 01));
        assert!(!is_zero_dose(BIRTH, &on_time, date!(2024 - 06 - 01)));
    }

    #[test]
    fn under_immunized_is_dtp1_without_dtp3() {
        let two = evals(
            &[
                (date!(2023 - 03 - 01), "HEXA"),
                (date!(2023 - 04 - 01), "PENTA"),
            ],
            date!(2024 - 06 - 01),
        );
        assert!(
            !is_under_immunized(BIRTH, &two, date!(2023 - 12 - 31)),
            "judged at one year"
        );
        assert!(is_under_immunized(BIRTH, &two, date!(2024 - 01 - 01)));
        let three = evals(
            &[
                (date!(2023 - 03 - 01), "HEXA"),
                (date!(2023 - 04 - 01), "PENTA"),
                (date!(2023 - 05 - 01), "HEXA"),
            ],
            date!(2024 - 06 - 01),
        );
        assert!(!is_under_immunized(BIRTH, &three, date!(2024 - 01 - 01)));
        assert!(!is_zero_dose(BIRTH, &three, date!(2024 - 01 - 01)));
    }

    #[test]
    fn hepb_birth_dose_timeliness() {
        let on = date!(2023 - 06 - 01);
        assert!(hepb_birth_dose_within_24h(
            BIRTH,
            &evals(&[(BIRTH, "HepB")], on)
        ));
        assert!(hepb_birth_dose_within_24h(
            BIRTH,
            &evals(&[(date!(2023 - 01 - 02), "HepB")], on)
        ));
        assert!(!hepb_birth_dose_within_24h(
            BIRTH,
            &evals(&[(date!(2023 - 01 - 03), "HepB")], on)
        ));
        // A hexavalent at 2 months is HepB1 for this child, but not a birth dose.
        assert!(!hepb_birth_dose_within_24h(
            BIRTH,
            &evals(&[(date!(2023 - 03 - 01), "HEXA")], on)
        ));
    }
}
