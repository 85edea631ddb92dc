//! Progress to a target, as UNICEF and UN IGME assess it.
//!
//! The current trend is an average annual rate of reduction (AARR, see [`aarr`]);
//! the required rate is what it would take to go from the latest value to the target
//! by the target year; the status compares the two. Everything is computed on a
//! *burden* that should fall (see [`Measure`]), so one set of formulas serves
//! mortality (lower is better) and coverage (higher is better).
//!
//! # Status rules
//! Checked in this order, on continuous rates (% a year) so the published compound
//! log-linear figure and the two-point required figure are compared like for like:
//! 1. **Achieved** — the latest value already meets the target.
//! 2. **On track** — current rate ≥ required rate (the projection from the latest
//!    value at the current rate reaches the target in time).
//! 3. **Getting worse** — current rate ≤ −`stagnation` (the burden grows by at least
//!    that much a year).
//! 4. **No progress** — |current rate| < `stagnation`.
//! 5. **Insufficient progress** — `stagnation` ≤ current rate < required rate.
//!
//! The default `stagnation` of 1 % a year is UNICEF's "no progress" threshold for
//! under-five mortality (AARR below 1 %) in the *Committing to Child Survival: A
//! Promise Renewed* progress reports; the band is symmetric so that small
//! fluctuations either way read as stagnation rather than as a trend.

pub mod aarr;

use crate::model::{Direction, Period};
use aarr::AarrError;
use serde::Serialize;
use thiserror::Error;

/// How the quantity that should fall (the *burden* U) is derived from a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Measure {
    /// Lower is better (mortality, stunting): U is the value itself, as UN IGME and
    /// the UNICEF AARR note do.
    Reduce,
    /// Higher is better and bounded above by `max` (100 for a percentage, e.g.
    /// vaccine coverage): U is the shortfall `max − value`.
    ///
    /// Why the shortfall: a percentage cannot grow geometrically forever, but the
    /// share *not yet covered* can shrink geometrically, so "rate of reduction of the
    /// unmet need" is meaningful and comparable with mortality AARRs; UNICEF uses it
    /// for coverage-type indicators (e.g. water, sanitation, skilled attendance).
    /// The logit `ln(p/(100−p))` is symmetric near both bounds and would suit a
    /// quantity that may fall as well as rise towards 0, but no UNICEF or UN
    /// publication reports logit rates, so they could not be checked against
    /// published figures; the shortfall is used instead.
    RaiseToCeiling { max: f64 },
    /// Higher is better with no upper bound (counts, ratios): U is `1/value`, so the
    /// AARR of U is the value's average annual rate of *increase*.
    Raise,
}

impl Measure {
    pub fn direction(&self) -> Direction {
        match self {
            Measure::Reduce => Direction::LowerIsBetter,
            _ => Direction::HigherIsBetter,
        }
    }

    /// The burden U for an indicator value.
    pub fn burden(&self, value: f64) -> f64 {
        match self {
            Measure::Reduce => value,
            Measure::RaiseToCeiling { max } => max - value,
            Measure::Raise => 1.0 / value,
        }
    }

    /// The indicator value for a burden U (inverse of [`Measure::burden`]).
    pub fn value(&self, burden: f64) -> f64 {
        match self {
            Measure::Reduce => burden,
            Measure::RaiseToCeiling { max } => max - burden,
            Measure::Raise => 1.0 / burden,
        }
    }

    fn describe(&self) -> String {
        match self {
            Measure::Reduce => "U is the value itself (lower is better)".into(),
            Measure::RaiseToCeiling { max } => {
                format!("U is the shortfall {max} − value (higher is better, at most {max})")
            }
            Measure::Raise => {
                "U is 1/value, so the rate is the value's rate of increase (higher is better)"
                    .into()
            }
        }
    }
}

/// The goal: `value` by `by` (e.g. under-five mortality ≤ 25 by 2030).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    pub value: f64,
    pub by: Period,
}

/// How the current rate is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    /// First and latest point, UN IGME's formula.
    TwoPoint,
    /// Least squares over all points, UNICEF's formula.
    LogLinear,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Options {
    /// `None`: two-point for two points, log-linear for three or more.
    pub method: Option<Method>,
    /// Half-width of the "no progress" band, % a year (see the module docs).
    pub stagnation: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: None,
            stagnation: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    Achieved,
    OnTrack,
    InsufficientProgress,
    NoProgress,
    GettingWorse,
}

/// The assessment, with everything needed to show and check it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressReport {
    pub measure: Measure,
    pub method: Method,
    pub points: usize,
    pub baseline: (Period, f64),
    pub latest: (Period, f64),
    pub target: Target,
    /// Current AARR as the method publishes it (% a year): continuous for
    /// two-point, compound `100·(1−e^b)` for log-linear. `None` when undefined
    /// (a zero burden, e.g. 100 % coverage, with the target already achieved).
    pub current_aarr: Option<f64>,
    /// The current trend as a continuous rate, used for the comparison.
    pub current_rate: Option<f64>,
    /// Required AARR, continuous, from the latest value; `None` if achieved or the
    /// target period is not after the latest one.
    pub required_aarr: Option<f64>,
    /// Value expected at the target period at the current rate, from the latest value.
    pub projected: Option<f64>,
    pub status: Status,
    /// The method, inputs and arithmetic in words, for the page that shows the status.
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProgressError {
    #[error("at least two points are needed, {0} given")]
    TooFewPoints(usize),
    #[error("period {0} appears twice")]
    DuplicatePeriod(Period),
    #[error("{0}")]
    Rate(#[from] AarrError),
    #[error("a value or the target is not a finite number")]
    NotFinite,
}

/// [`assess_with`] with default options.
pub fn assess(
    points: &[(Period, f64)],
    measure: Measure,
    target: Target,
) -> Result<ProgressReport, ProgressError> {
    assess_with(points, measure, target, Options::default())
}

/// Assesses a series (any order, one value per period) against a target.
pub fn assess_with(
    points: &[(Period, f64)],
    measure: Measure,
    target: Target,
    options: Options,
) -> Result<ProgressReport, ProgressError> {
    let series = sorted_series(points)?;
    if !target.value.is_finite() {
        return Err(ProgressError::NotFinite);
    }
    let baseline = series[0];
    let latest = series[series.len() - 1];
    let method = options.method.unwrap_or(if series.len() == 2 {
        Method::TwoPoint
    } else {
        Method::LogLinear
    });
    let achieved = measure.direction().meets(latest.1, target.value);
    let trend = match current_trend(&series, measure, method) {
        Ok(t) => Some(t),
        Err(_) if achieved => None,
        Err(e) => return Err(e.into()),
    };
    let required = required_rate(latest, measure, target, achieved)?;
    let projected = trend.map(|t| projection(latest, measure, t.rate, target.by));
    let status = classify(
        achieved,
        trend.map(|t| t.rate),
        required,
        options.stagnation,
    );
    let mut report = ProgressReport {
        measure,
        method,
        points: series.len(),
        baseline,
        latest,
        target,
        current_aarr: trend.map(|t| t.published),
        current_rate: trend.map(|t| t.rate),
        required_aarr: required,
        projected,
        status,
        explanation: String::new(),
    };
    report.explanation = explain(&report, trend, options.stagnation);
    Ok(report)
}

fn sorted_series(points: &[(Period, f64)]) -> Result<Vec<(Period, f64)>, ProgressError> {
    if points.len() < 2 {
        return Err(ProgressError::TooFewPoints(points.len()));
    }
    if points.iter().any(|p| !p.1.is_finite()) {
        return Err(ProgressError::NotFinite);
    }
    let mut s = points.to_vec();
    s.sort_by_key(|a| a.0);
    if let Some(w) = s.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ProgressError::DuplicatePeriod(w[0].0));
    }
    Ok(s)
}

#[derive(Debug, Clone, Copy)]
struct Trend {
    /// As published by the method.
    published: f64,
    /// Continuous.
    rate: f64,
    /// Log-linear slope, for the explanation.
    slope: Option<f64>,
}

fn current_trend(
    series: &[(Period, f64)],
    measure: Measure,
    method: Method,
) -> Result<Trend, AarrError> {
    match method {
        Method::TwoPoint => {
            let (a, b) = (series[0], series[series.len() - 1]);
            let r = aarr::two_point(
                measure.burden(a.1),
                a.0.midpoint(),
                measure.burden(b.1),
                b.0.midpoint(),
            )?;
            Ok(Trend {
                published: r,
                rate: r,
                slope: None,
            })
        }
        Method::LogLinear => {
            let pts: Vec<(f64, f64)> = series
                .iter()
                .map(|(p, v)| (p.midpoint(), measure.burden(*v)))
                .collect();
            let fit = aarr::log_linear(&pts)?;
            Ok(Trend {
                published: fit.aarr(),
                rate: fit.continuous_rate(),
                slope: Some(fit.slope),
            })
        }
    }
}

fn required_rate(
    latest: (Period, f64),
    measure: Measure,
    target: Target,
    achieved: bool,
) -> Result<Option<f64>, ProgressError> {
    let unreachable = measure.burden(target.value) <= 0.0;
    if achieved || unreachable || target.by.midpoint() <= latest.0.midpoint() {
        return Ok(None);
    }
    let r = aarr::required(
        measure.burden(latest.1),
        latest.0.midpoint(),
        measure.burden(target.value),
        target.by.midpoint(),
    )?;
    Ok(Some(r))
}

fn projection(latest: (Period, f64), measure: Measure, rate: f64, by: Period) -> f64 {
    let u = aarr::project(
        measure.burden(latest.1),
        latest.0.midpoint(),
        rate,
        by.midpoint(),
    );
    measure.value(u)
}

fn classify(achieved: bool, rate: Option<f64>, required: Option<f64>, stagnation: f64) -> Status {
    let Some(rate) = rate.filter(|_| !achieved) else {
        return Status::Achieved;
    };
    if required.is_some_and(|req| rate >= req) {
        Status::OnTrack
    } else if rate <= -stagnation {
        Status::GettingWorse
    } else if rate < stagnation {
        Status::NoProgress
    } else {
        Status::InsufficientProgress
    }
}

fn explain(r: &ProgressReport, trend: Option<Trend>, stagnation: f64) -> String {
    let mut parts = vec![format!("Burden: {}.", r.measure.describe())];
    parts.push(explain_trend(r, trend));
    parts.push(explain_required(r));
    if let Some(p) = r.projected {
        parts.push(format!(
            "At the current rate the value at {} would be {}.",
            r.target.by,
            num(p)
        ));
    }
    parts.push(explain_status(r, stagnation));
    parts.join(" ")
}

fn explain_trend(r: &ProgressReport, trend: Option<Trend>) -> String {
    let (b, l) = (r.baseline, r.latest);
    let Some(t) = trend else {
        return format!("No rate can be computed (the burden is zero or negative at some point between {} and {}).", b.0, l.0);
    };
    match (r.method, t.slope) {
        (Method::LogLinear, Some(slope)) => format!(
            "Current AARR {}% a year: least-squares fit of ln U = a + b·t over {} points from {} ({}) to {} ({}) (UNICEF AARR note), b = {:.5}, AARR = 100·(1 − e^b); as a continuous rate {}% a year.",
            num(t.published), r.points, b.0, num(b.1), l.0, num(l.1), slope, num(t.rate)
        ),
        _ => format!(
            "Current AARR {}% a year: 100·ln(U₁/U₂)/(t₂ − t₁) from {} ({}, U = {}) to {} ({}, U = {}) (UN IGME two-point formula).",
            num(t.published), b.0, num(b.1), num(r.measure.burden(b.1)), l.0, num(l.1), num(r.measure.burden(l.1))
        ),
    }
}

fn explain_required(r: &ProgressReport) -> String {
    let (l, t) = (r.latest, r.target);
    match r.required_aarr {
        Some(req) => format!(
            "Required AARR {}% a year: 100·ln({} / {}) / ({} − {}), from the latest value {} at {} to the target {} by {}.",
            num(req), num(r.measure.burden(l.1)), num(r.measure.burden(t.value)), t.by, l.0, num(l.1), l.0, num(t.value), t.by
        ),
        None if r.status == Status::Achieved => format!("The latest value {} ({}) already meets the target {}.", num(l.1), l.0, num(t.value)),
        None if r.measure.burden(t.value) <= 0.0 => format!(
            "The target {} means a burden of zero, which no constant rate of reduction reaches; only the direction of the trend is judged.",
            num(t.value)
        ),
        None => format!("The target period {} is not after the latest value ({}), so no rate can reach it in time.", t.by, l.0),
    }
}

fn explain_status(r: &ProgressReport, stagnation: f64) -> String {
    let rate = r.current_rate.map(num).unwrap_or_default();
    match r.status {
        Status::Achieved => "Status: achieved.".into(),
        Status::OnTrack => format!("Status: on track — the current rate ({rate}%) is at least the required rate."),
        Status::InsufficientProgress => format!("Status: insufficient progress — the burden falls ({rate}% a year) but more slowly than required."),
        Status::NoProgress => format!("Status: no progress — the current rate ({rate}%) is within ±{}% a year.", num(stagnation)),
        Status::GettingWorse => format!("Status: getting worse — the burden grows ({rate}% a year)."),
    }
}

/// At most four decimals, without trailing zeros, for readable text.
fn num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(year: i32) -> Period {
        Period::annual(year).unwrap()
    }

    fn series(start: i32, values: &[f64]) -> Vec<(Period, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (y(start + i as i32), *v))
            .collect()
    }

    #[test]
    fn mdg4_two_point() {
        // 1990 → 2015 with a two-thirds cut: exactly the required rate, so on track.
        let pts = [(y(1990), 90.0), (y(2000), 60.0)];
        let target = Target {
            value: 30.0,
            by: y(2015),
        };
        let r = assess(&pts, Measure::Reduce, target).unwrap();
        assert_eq!(r.method, Method::TwoPoint);
        // current: 100·ln(90/60)/10 = 4.0547; required: 100·ln(60/30)/15 = 4.6210
        assert!((r.current_aarr.unwrap() - 4.054_651).abs() < 1e-6);
        assert!((r.required_aarr.unwrap() - 4.620_981).abs() < 1e-6);
        assert_eq!(r.status, Status::InsufficientProgress);
        // projection: 60·e^(−0.040547·15) = 60·(2/3)^1.5 = 32.66
        assert!((r.projected.unwrap() - 32.659_863).abs() < 1e-5);
        assert!(
            r.explanation.contains("100·ln(60 / 30) / (2015 − 2000)"),
            "{}",
            r.explanation
        );
    }

    #[test]
    fn statuses() {
        let t = Target {
            value: 5.0,
            by: y(2030),
        };
        let on = assess(&series(2010, &[20.0, 16.0, 12.8]), Measure::Reduce, t).unwrap();
        assert_eq!(on.status, Status::OnTrack);
        let flat = assess(&series(2010, &[20.0, 20.1, 19.9, 20.0]), Measure::Reduce, t).unwrap();
        assert_eq!(flat.status, Status::NoProgress);
        let worse = assess(&series(2010, &[20.0, 22.0, 24.2]), Measure::Reduce, t).unwrap();
        assert_eq!(worse.status, Status::GettingWorse);
        let slow = assess(&series(2010, &[20.0, 19.6, 19.2]), Measure::Reduce, t).unwrap();
        assert_eq!(slow.status, Status::InsufficientProgress);
        let done = assess(&series(2010, &[6.0, 5.0]), Measure::Reduce, t).unwrap();
        assert_eq!(done.status, Status::Achieved);
        assert_eq!(done.required_aarr, None);
    }

    #[test]
    fn coverage_uses_the_shortfall() {
        // 80 % → 90 %: the shortfall halves in 5 years, 100·ln(20/10)/5 = 13.86 % a year.
        let pts = [(y(2015), 80.0), (y(2020), 90.0)];
        let m = Measure::RaiseToCeiling { max: 100.0 };
        let r = assess(
            &pts,
            m,
            Target {
                value: 95.0,
                by: y(2025),
            },
        )
        .unwrap();
        assert!((r.current_aarr.unwrap() - 13.862_944).abs() < 1e-6);
        // required: 100·ln(10/5)/5, the same rate, so on track and the projection hits 95.
        assert_eq!(r.status, Status::OnTrack);
        assert!((r.projected.unwrap() - 95.0).abs() < 1e-9);
    }

    #[test]
    fn full_coverage_is_achieved_without_a_rate() {
        let pts = [(y(2015), 98.0), (y(2020), 100.0)];
        let r = assess(
            &pts,
            Measure::RaiseToCeiling { max: 100.0 },
            Target {
                value: 95.0,
                by: y(2025),
            },
        )
        .unwrap();
        assert_eq!(r.status, Status::Achieved);
        assert_eq!(r.current_aarr, None);
    }

    #[test]
    fn a_zero_burden_target_is_judged_on_the_trend_only() {
        let pts = [(y(2015), 80.0), (y(2020), 90.0)];
        let r = assess(
            &pts,
            Measure::RaiseToCeiling { max: 100.0 },
            Target {
                value: 100.0,
                by: y(2030),
            },
        )
        .unwrap();
        assert_eq!(r.required_aarr, None);
        assert_eq!(r.status, Status::InsufficientProgress);
    }

    #[test]
    fn unbounded_increase() {
        // doubling in 10 years: rate of increase 100·ln 2/10 = 6.93 % a year
        let pts = [(y(2010), 50.0), (y(2020), 100.0)];
        let r = assess(
            &pts,
            Measure::Raise,
            Target {
                value: 400.0,
                by: y(2040),
            },
        )
        .unwrap();
        assert!((r.current_aarr.unwrap() - 6.931_472).abs() < 1e-6);
        assert_eq!(r.status, Status::OnTrack);
        assert!((r.projected.unwrap() - 400.0).abs() < 1e-6);
    }

    #[test]
    fn bad_input_is_an_error() {
        let t = Target {
            value: 5.0,
            by: y(2030),
        };
        assert_eq!(
            assess(&[(y(2010), 1.0)], Measure::Reduce, t),
            Err(ProgressError::TooFewPoints(1))
        );
        assert_eq!(
            assess(&[(y(2010), 1.0), (y(2010), 2.0)], Measure::Reduce, t),
            Err(ProgressError::DuplicatePeriod(y(2010)))
        );
        assert!(assess(
            &[(y(2010), 10.0), (y(2011), 0.0)],
            Measure::Reduce,
            Target {
                value: -1.0,
                by: y(2030)
            }
        )
        .is_err());
        assert_eq!(
            assess(&[(y(2010), f64::NAN), (y(2011), 1.0)], Measure::Reduce, t),
            Err(ProgressError::NotFinite)
        );
    }

    #[test]
    fn passed_deadline_cannot_be_on_track() {
        let pts = series(2010, &[20.0, 18.0, 16.2]);
        let r = assess(
            &pts,
            Measure::Reduce,
            Target {
                value: 5.0,
                by: y(2012),
            },
        )
        .unwrap();
        assert_eq!(r.required_aarr, None);
        assert_eq!(r.status, Status::InsufficientProgress);
        assert!(r.explanation.contains("not after the latest value"));
    }
}
