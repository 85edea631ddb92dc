//! Checks on a value before it is stored: the range its kind allows, a numerator
//! not above its denominator, and whether it stands out from the area's history.
//!
//! Range and numerator checks are errors (the value cannot be right). An outlier
//! is a warning: the person entering it confirms it, because real series do jump
//! (a new survey, a reform of borders).

use crate::exchange::codes;
use crate::model::{Dims, Period};
use crate::registry::Kind;
use bala_core::ValidationErrors;
use serde::Serialize;

/// Fluent ids of the errors raised here (besides the exchange codes).
pub mod errors {
    pub const PERCENT_RANGE: &str = "indicators-percent-range";
    pub const NEGATIVE: &str = "indicators-negative";
    pub const NUMERATOR_ABOVE: &str = "indicators-numerator-above";
    pub const DENOMINATOR_ZERO: &str = "indicators-denominator-zero";
    pub const MISMATCH: &str = "indicators-ratio-mismatch";
    pub const NOT_A_RATIO: &str = "indicators-not-ratio";
    pub const UNKNOWN_CODE: &str = "indicators-unknown-code";
}

/// Codes allowed in the closed code lists Bala checks. SDMX `CL_SEX` has F, M
/// and `_U`/`_O`/`_N` (unknown, other, not applicable); urbanisation is urban or
/// rural. Other dimensions (age groups, series) are open: sources add codes.
pub const CLOSED_DIMENSIONS: &[(&str, &[&str])] = &[
    ("SEX", &["F", "M", "_U", "_O", "_N"]),
    ("URBANISATION", &["U", "R"]),
    ("INCOME_WEALTH_QUANTILE", &["Q1", "Q2", "Q3", "Q4", "Q5"]),
];

/// Checks breakdown codes against the closed code lists. kazstat's 8.7.1 has a row
/// with `SEX=R` (rural written in the sex column), which this names.
pub fn check_dims(dims: &Dims) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::new();
    for (dim, allowed) in CLOSED_DIMENSIONS {
        if let Some(code) = dims.get(*dim) {
            if !allowed.contains(&code.as_str()) {
                e.push(
                    *dim,
                    errors::UNKNOWN_CODE,
                    format!(
                        "'{code}' is not a code of {dim} (allowed: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
    e.into_result()
}

/// The numbers of one entry.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Entry {
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// Validates an entry and returns its value (computed from numerator and
/// denominator when only they are given). `multiplier` is the unit's (100 for a
/// percentage, 1000 for a rate per 1 000; `None` for counts). A percentage may
/// also be kept in a series whose `UNIT_MEASURE` is `PT`, whatever the indicator's
/// kind, so `percent` says which range applies.
pub fn check_entry(
    kind: Kind,
    percent: bool,
    multiplier: Option<f64>,
    e: Entry,
) -> Result<f64, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let ratio = match (e.numerator, e.denominator) {
        (Some(n), Some(d)) => check_ratio(
            n,
            d,
            percent || kind == Kind::Percent,
            multiplier,
            &mut errs,
        ),
        (Some(_), None) => {
            errs.push(
                "denominator",
                codes::MISSING,
                "a numerator needs its denominator",
            );
            None
        }
        (None, Some(_)) => {
            errs.push(
                "numerator",
                codes::MISSING,
                "a denominator needs its numerator",
            );
            None
        }
        (None, None) => None,
    };
    let value = match (e.value, ratio) {
        (Some(v), Some(r)) => {
            if (v - r).abs() > 0.05_f64.max(r.abs() * 0.0005) {
                errs.push(
                    "value",
                    errors::MISMATCH,
                    format!("the value {v} does not match numerator / denominator = {r:.4}"),
                );
            }
            Some(v)
        }
        (Some(v), None) => Some(v),
        (None, Some(r)) => Some(r),
        (None, None) => {
            if errs.is_empty() {
                errs.push(
                    "value",
                    codes::MISSING,
                    "enter the value, or numerator and denominator",
                );
            }
            None
        }
    };
    if let Some(v) = value {
        check_range(v, percent || kind == Kind::Percent, &mut errs);
    }
    errs.into_result()?;
    value.ok_or_else(ValidationErrors::new)
}

fn check_ratio(
    n: f64,
    d: f64,
    percent: bool,
    multiplier: Option<f64>,
    errs: &mut ValidationErrors,
) -> Option<f64> {
    let mut ok = true;
    for (field, x) in [("numerator", n), ("denominator", d)] {
        if !x.is_finite() || x < 0.0 {
            errs.push(field, errors::NEGATIVE, format!("{field} {x} is negative"));
            ok = false;
        }
    }
    if d == 0.0 {
        errs.push(
            "denominator",
            errors::DENOMINATOR_ZERO,
            "the denominator is zero",
        );
        ok = false;
    }
    if percent && n > d {
        errs.push(
            "numerator",
            errors::NUMERATOR_ABOVE,
            format!("the numerator {n} is above the denominator {d}"),
        );
        ok = false;
    }
    let Some(m) = multiplier else {
        errs.push(
            "numerator",
            errors::NOT_A_RATIO,
            "this unit is not a ratio: enter the value itself",
        );
        return None;
    };
    ok.then(|| n / d * m)
}

/// The range a value of this kind may take.
pub fn check_range(v: f64, percent: bool, errs: &mut ValidationErrors) {
    if !v.is_finite() {
        errs.push(
            "value",
            codes::NOT_NUMBER,
            "the value is not a finite number",
        );
    } else if percent && !(0.0..=100.0).contains(&v) {
        errs.push(
            "value",
            errors::PERCENT_RANGE,
            format!("{v} is not a percentage between 0 and 100"),
        );
    } else if v < 0.0 {
        errs.push("value", errors::NEGATIVE, format!("{v} is negative"));
    }
}

/// A value that stands out from the area's history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outlier {
    pub median: f64,
    /// Median absolute deviation of the history.
    pub mad: f64,
    /// Modified z-score 0.6745·(x − median)/MAD; infinite when MAD is 0.
    pub score: f64,
}

/// The threshold for the modified z-score (Iglewicz & Hoaglin, 1993).
pub const OUTLIER_THRESHOLD: f64 = 3.5;
/// Fewer earlier values than this say too little about the series.
pub const OUTLIER_MIN_HISTORY: usize = 4;

/// Whether `value` is an outlier against `history` (other periods of the same
/// indicator, area and breakdown), by the modified z-score on the median and the
/// median absolute deviation — robust to the outliers it looks for, unlike a mean
/// and standard deviation. A flat history (MAD 0) flags a change of more than 10 %.
pub fn outlier(history: &[(Period, f64)], period: Period, value: f64) -> Option<Outlier> {
    let xs: Vec<f64> = history
        .iter()
        .filter(|(p, v)| *p != period && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    if xs.len() < OUTLIER_MIN_HISTORY {
        return None;
    }
    let mid = median(xs.clone());
    let mad = median(xs.iter().map(|x| (x - mid).abs()).collect());
    let median = mid;
    let dev = value - median;
    if mad == 0.0 {
        let flagged = dev.abs() > 0.1 * median.abs().max(f64::MIN_POSITIVE);
        return flagged.then_some(Outlier {
            median,
            mad,
            score: if dev > 0.0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            },
        });
    }
    let score = 0.6745 * dev / mad;
    (score.abs() > OUTLIER_THRESHOLD).then_some(Outlier { median, mad, score })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn y(year: i32) -> Period {
        Period::annual(year).unwrap()
    }

    #[test]
    fn percentages_stay_within_0_and_100() {
        let e = |v| Entry {
            value: Some(v),
            ..Entry::default()
        };
        assert_eq!(
            check_entry(Kind::Percent, false, Some(100.0), e(95.5)),
            Ok(95.5)
        );
        let err = check_entry(Kind::Percent, false, Some(100.0), e(101.0)).unwrap_err();
        assert_eq!(err.0[0].code, errors::PERCENT_RANGE);
        assert_eq!(err.0[0].field, "value");
        assert!(check_entry(Kind::Rate, false, Some(1000.0), e(-1.0)).is_err());
        assert!(check_entry(Kind::Rate, false, Some(1000.0), e(250.0)).is_ok());
        // A PT series of an index indicator is still a percentage.
        assert!(check_entry(Kind::Index, true, None, e(120.0)).is_err());
    }

    #[test]
    fn numerator_and_denominator() {
        let nd = |n, d| Entry {
            value: None,
            numerator: Some(n),
            denominator: Some(d),
        };
        assert_eq!(
            check_entry(Kind::Percent, false, Some(100.0), nd(45.0, 50.0)),
            Ok(90.0)
        );
        let err = check_entry(Kind::Percent, false, Some(100.0), nd(55.0, 50.0)).unwrap_err();
        assert_eq!(
            err.for_field("numerator").unwrap().code,
            errors::NUMERATOR_ABOVE
        );
        let err = check_entry(Kind::Percent, false, Some(100.0), nd(1.0, 0.0)).unwrap_err();
        assert_eq!(
            err.for_field("denominator").unwrap().code,
            errors::DENOMINATOR_ZERO
        );
        // Rates may exceed their denominator's scale but not mismatch the value.
        assert_eq!(
            check_entry(Kind::Rate, false, Some(1000.0), nd(12.0, 1000.0)),
            Ok(12.0)
        );
        let both = Entry {
            value: Some(13.0),
            numerator: Some(12.0),
            denominator: Some(1000.0),
        };
        assert_eq!(
            check_entry(Kind::Rate, false, Some(1000.0), both)
                .unwrap_err()
                .0[0]
                .code,
            errors::MISMATCH
        );
        let half = Entry {
            value: None,
            numerator: Some(1.0),
            denominator: None,
        };
        assert!(check_entry(Kind::Rate, false, Some(1000.0), half)
            .unwrap_err()
            .for_field("denominator")
            .is_some());
        assert!(check_entry(Kind::Count, false, None, nd(1.0, 2.0)).is_err());
        assert_eq!(
            check_entry(Kind::Count, false, None, Entry::default())
                .unwrap_err()
                .0[0]
                .code,
            codes::MISSING
        );
    }

    #[test]
    fn closed_code_lists() {
        let bad = crate::model::parse_dims("SEX=R;UNIT_MEASURE=PT").unwrap();
        let e = check_dims(&bad).unwrap_err();
        assert_eq!(e.0[0].field, "SEX");
        assert!(e.0[0].detail.contains("'R'"));
        assert!(
            check_dims(&crate::model::parse_dims("SEX=F;URBANISATION=U;AGE=Y0T4").unwrap()).is_ok()
        );
    }

    #[test]
    fn outliers_against_history() {
        let hist: Vec<(Period, f64)> = [19.55, 18.9, 17.3, 16.4, 14.5, 13.2, 12.1]
            .iter()
            .enumerate()
            .map(|(i, v)| (y(2010 + i as i32), *v))
            .collect();
        assert!(outlier(&hist, y(2017), 11.5).is_none());
        let o = outlier(&hist, y(2017), 95.0).unwrap();
        assert!(o.score > OUTLIER_THRESHOLD);
        assert!(
            outlier(&hist[..3], y(2017), 95.0).is_none(),
            "too little history"
        );
        let flat = vec![
            (y(2010), 5.0),
            (y(2011), 5.0),
            (y(2012), 5.0),
            (y(2013), 5.0),
        ];
        assert!(outlier(&flat, y(2014), 5.2).is_none());
        assert!(outlier(&flat, y(2014), 6.0).is_some());
        // The period being replaced does not count as its own history.
        let mut h = hist.clone();
        h.push((y(2017), 95.0));
        assert!(outlier(&h, y(2017), 95.0).is_some());
    }

    proptest! {
        #[test]
        fn computed_percentages_are_in_range(n in 0.0..1e6f64, extra in 0.0..1e6f64) {
            let d = n + extra + 1.0;
            let v = check_entry(Kind::Percent, false, Some(100.0), Entry { value: None, numerator: Some(n), denominator: Some(d) }).unwrap();
            prop_assert!((0.0..=100.0).contains(&v));
        }

        #[test]
        fn the_median_is_never_an_outlier_and_scale_does_not_matter(
            xs in proptest::collection::vec(0.0..100.0f64, 4..20), x in 0.0..200.0f64
        ) {
            let hist: Vec<(Period, f64)> = xs.iter().enumerate().map(|(i, v)| (y(1990 + i as i32), *v)).collect();
            let m = median(xs.clone());
            prop_assert!(outlier(&hist, y(2100), m).is_none());
            // Multiplying by 4 is exact in binary floating point: the verdict is the same.
            let scaled: Vec<(Period, f64)> = hist.iter().map(|(p, v)| (*p, v * 4.0)).collect();
            prop_assert_eq!(outlier(&hist, y(2100), x).is_some(), outlier(&scaled, y(2100), x * 4.0).is_some());
        }
    }
}
