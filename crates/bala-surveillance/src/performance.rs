//! WHO surveillance performance indicators for an area and a year.
//!
//! Rates for the year in progress are annualised (multiplied by 365 over the
//! days elapsed), as WHO does for mid-year monitoring, and marked as such.

use crate::afp::{AfpCase, AfpClass};
use crate::measles::{MeaslesCase, MeaslesClass};
use crate::reporting::Reporting;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Per100k,
    Percent,
}

/// One indicator: value, how it was computed, and whether it meets WHO's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Stable code, also the Fluent message id suffix (`surv-ind-<code>`).
    pub code: &'static str,
    pub numerator: i64,
    /// Population (for rates) or number of cases/reports (for percentages).
    pub denominator: f64,
    pub value: Option<f64>,
    pub unit: Unit,
    pub target: f64,
    /// `None` when there is nothing to judge (no denominator).
    pub meets: Option<bool>,
}

impl Indicator {
    fn rate(
        code: &'static str,
        numerator: i64,
        population: Option<i64>,
        annualise: f64,
        target: f64,
    ) -> Indicator {
        let value = population
            .filter(|p| *p > 0)
            .map(|p| numerator as f64 * 100_000.0 / p as f64 * annualise);
        Indicator {
            code,
            numerator,
            denominator: population.unwrap_or(0) as f64,
            value,
            unit: Unit::Per100k,
            target,
            meets: value.map(|v| v >= target),
        }
    }

    fn percent(code: &'static str, numerator: i64, denominator: i64, target: f64) -> Indicator {
        let value = (denominator > 0).then(|| numerator as f64 * 100.0 / denominator as f64);
        Indicator {
            code,
            numerator,
            denominator: denominator as f64,
            value,
            unit: Unit::Percent,
            target,
            meets: value.map(|v| v >= target),
        }
    }
}

/// Population denominators of an area for a year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Population {
    pub under_15: Option<i64>,
    pub total: Option<i64>,
}

/// Non-polio AFP cases: every AFP case that is not confirmed or compatible
/// polio and not ruled "not AFP" — cases still pending count, as WHO counts them
/// during the year.
pub fn is_non_polio_afp(c: &AfpCase) -> bool {
    matches!(c.classification, AfpClass::NonPolio | AfpClass::Pending)
}

/// AFP indicators: non-polio AFP rate (≥ 2 per 100 000 under 15), adequate stool
/// specimens (≥ 80 %), investigation within 48 h (≥ 80 %), 60-day follow-up of
/// cases with inadequate specimens (≥ 80 %).
pub fn afp(cases: &[AfpCase], pop: Population, annualise: f64) -> Vec<Indicator> {
    let afp: Vec<&AfpCase> = cases
        .iter()
        .filter(|c| c.classification != AfpClass::NotAfp)
        .collect();
    let non_polio_u15 = afp
        .iter()
        .filter(|c| c.under_15() && is_non_polio_afp(c))
        .count() as i64;
    let inadequate: Vec<&&AfpCase> = afp.iter().filter(|c| !c.adequate_specimens()).collect();
    vec![
        Indicator::rate("npafp-rate", non_polio_u15, pop.under_15, annualise, 2.0),
        Indicator::percent(
            "stool-adequacy",
            afp.iter().filter(|c| c.adequate_specimens()).count() as i64,
            afp.len() as i64,
            80.0,
        ),
        Indicator::percent(
            "afp-investigated-48h",
            afp.iter().filter(|c| c.investigated_in_48h()).count() as i64,
            afp.len() as i64,
            80.0,
        ),
        Indicator::percent(
            "afp-follow-up",
            inadequate
                .iter()
                .filter(|c| c.follow_up_done_or_not_needed())
                .count() as i64,
            inadequate.len() as i64,
            80.0,
        ),
    ]
}

/// Measles/rubella indicators: discarded non-measles non-rubella rate (≥ 2 per
/// 100 000 population), adequate investigation within 48 h (≥ 80 %), adequate
/// specimen tested in a proficient laboratory (≥ 80 % of suspected cases not
/// epidemiologically linked), laboratory results within 4 days (≥ 80 %).
pub fn measles(cases: &[MeaslesCase], pop: Population, annualise: f64) -> Vec<Indicator> {
    let discarded = cases
        .iter()
        .filter(|c| c.classification == MeaslesClass::Discarded)
        .count() as i64;
    let not_linked: Vec<&MeaslesCase> = cases
        .iter()
        .filter(|c| {
            !matches!(
                c.classification,
                MeaslesClass::EpiLinkedMeasles | MeaslesClass::EpiLinkedRubella
            )
        })
        .collect();
    let with_results: Vec<bool> = cases.iter().filter_map(|c| c.results_in_4_days()).collect();
    vec![
        Indicator::rate("nmnr-rate", discarded, pop.total, annualise, 2.0),
        Indicator::percent(
            "measles-investigated-48h",
            cases.iter().filter(|c| c.investigated_in_48h()).count() as i64,
            cases.len() as i64,
            80.0,
        ),
        Indicator::percent(
            "measles-adequate-specimen",
            not_linked
                .iter()
                .filter(|c| c.adequate_specimen_tested())
                .count() as i64,
            not_linked.len() as i64,
            80.0,
        ),
        Indicator::percent(
            "measles-results-4d",
            with_results.iter().filter(|x| **x).count() as i64,
            with_results.len() as i64,
            80.0,
        ),
    ]
}

/// Reporting completeness and timeliness (both ≥ 80 %).
pub fn reporting(r: Reporting) -> Vec<Indicator> {
    vec![
        Indicator::percent("reporting-completeness", r.received, r.expected, 80.0),
        Indicator::percent("reporting-timeliness", r.on_time, r.expected, 80.0),
    ]
}

/// The factor that annualises a count for a year seen up to `as_of`.
pub fn annualise(year: i32, as_of: bala_core::Date) -> f64 {
    if as_of.year() > year {
        return 1.0;
    }
    let start =
        bala_core::Date::from_calendar_date(year, time::Month::January, 1).expect("1 January");
    let elapsed = ((as_of - start).whole_days() + 1).max(1) as f64;
    let length = if time::util::is_leap_year(year) {
        366.0
    } else {
        365.0
    };
    (length / elapsed).max(1.0)
}

/// Share of sub-areas whose discarded NMNR rate meets 2 per 100 000 (WHO: ≥ 80 %).
pub fn share_of_units_meeting(rates: &[Option<f64>], target: f64) -> Option<f64> {
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    (!known.is_empty())
        .then(|| known.iter().filter(|r| **r >= target).count() as f64 * 100.0 / known.len() as f64)
}

/// An area's population: its own figure, or the sum of its children's when it
/// has none (so regions can be entered whole or district by district).
pub fn rolled_up(
    area: &str,
    own: &std::collections::HashMap<String, Population>,
    children: &dyn Fn(&str) -> Vec<String>,
) -> Population {
    if let Some(p) = own.get(area) {
        return *p;
    }
    let mut sum = Population::default();
    for ch in children(area) {
        let p = rolled_up(&ch, own, children);
        sum.under_15 = add(sum.under_15, p.under_15);
        sum.total = add(sum.total, p.total);
    }
    sum
}

fn add(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::afp::{FollowUp, StoolResult, StoolSpecimen};
    use time::macros::date;

    fn afp_case(adequate: bool, in48: bool, class: AfpClass) -> AfpCase {
        let onset = date!(2025 - 03 - 01);
        let spec = |d: i64| StoolSpecimen {
            collected: onset + time::Duration::days(d),
            lab_arrival: Some(onset + time::Duration::days(d + 2)),
            good_condition: Some(true),
            result: StoolResult::Negative,
        };
        AfpCase {
            epid: "KAZ-ALA-2025-001".into(),
            area_code: "751110000".into(),
            birth_date: Some(date!(2020 - 01 - 01)),
            age_months: None,
            onset,
            notified: onset + time::Duration::days(1),
            investigated: Some(onset + time::Duration::days(if in48 { 2 } else { 5 })),
            polio_doses: Some(4),
            specimens: if adequate {
                vec![spec(2), spec(3)]
            } else {
                vec![spec(2)]
            },
            follow_up_date: None,
            follow_up: FollowUp::NotDone,
            classification: class,
        }
    }

    /// Hand-computed: 3 non-polio AFP cases in 120 000 children under 15 is
    /// 2.5 per 100 000; 2 of 4 AFP cases adequate = 50 %; 3 of 4 in 48 h = 75 %.
    #[test]
    fn afp_indicators_by_hand() {
        let cases = vec![
            afp_case(true, true, AfpClass::NonPolio),
            afp_case(true, true, AfpClass::Pending),
            afp_case(false, true, AfpClass::NonPolio),
            afp_case(false, false, AfpClass::Compatible),
            afp_case(false, false, AfpClass::NotAfp),
        ];
        let ind = afp(
            &cases,
            Population {
                under_15: Some(120_000),
                total: None,
            },
            1.0,
        );
        assert_eq!(ind[0].numerator, 3);
        assert!((ind[0].value.unwrap() - 2.5).abs() < 1e-9);
        assert_eq!(ind[0].meets, Some(true));
        assert_eq!((ind[1].numerator, ind[1].denominator as i64), (2, 4));
        assert_eq!(ind[1].meets, Some(false));
        assert_eq!((ind[2].numerator, ind[2].denominator as i64), (3, 4));
        assert_eq!(
            ind[3].denominator as i64, 2,
            "follow-up is judged on the inadequate cases"
        );
        // No population: no rate, nothing judged.
        assert_eq!(afp(&cases, Population::default(), 1.0)[0].meets, None);
    }

    #[test]
    fn annualising() {
        assert_eq!(annualise(2025, date!(2026 - 02 - 01)), 1.0);
        assert!((annualise(2026, date!(2026 - 07 - 02)) - 365.0 / 183.0).abs() < 1e-9);
    }

    #[test]
    fn population_rolls_up_from_children() {
        let mut own = std::collections::HashMap::new();
        own.insert(
            "d1".to_string(),
            Population {
                under_15: Some(100),
                total: Some(400),
            },
        );
        own.insert(
            "d2".to_string(),
            Population {
                under_15: Some(50),
                total: None,
            },
        );
        let children = |a: &str| {
            if a == "r" {
                vec!["d1".to_string(), "d2".to_string()]
            } else {
                vec![]
            }
        };
        assert_eq!(
            rolled_up("r", &own, &children),
            Population {
                under_15: Some(150),
                total: Some(400)
            }
        );
        own.insert(
            "r".to_string(),
            Population {
                under_15: Some(999),
                total: Some(1),
            },
        );
        assert_eq!(rolled_up("r", &own, &children).under_15, Some(999));
    }

    #[test]
    fn share_meeting() {
        assert_eq!(
            share_of_units_meeting(&[Some(2.5), Some(1.0), None, Some(3.0), Some(2.0)], 2.0),
            Some(75.0)
        );
        assert_eq!(share_of_units_meeting(&[None], 2.0), None);
    }
}
