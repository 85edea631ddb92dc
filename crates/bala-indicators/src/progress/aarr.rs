//! Average annual rate of reduction (AARR) formulas.
//!
//! Sources:
//! - two points: UN IGME, *Levels and Trends in Child Mortality* (annual reports,
//!   methods section): `AARR = 100·ln(U₁/U₂)/(t₂−t₁)`. This is a *continuous*
//!   (exponential) rate: `U(t) = U₁·e^(−r·(t−t₁)/100)`.
//! - several points: UNICEF, *Technical note: how to calculate average annual rate of
//!   reduction (AARR) of underweight prevalence* (Statistics and Monitoring Section,
//!   2007): fit `ln U = a + b·t` by ordinary least squares and report
//!   `AARR = 100·(1 − e^b)`. This is an *annual compound* rate: each year the value
//!   is multiplied by `1 − AARR/100`.
//! - required AARR: the two-point formula from the latest value to the target over
//!   the years left (same sources; this is how the MDG 4 figure of 4.4 % a year for a
//!   two-thirds cut over 1990–2015 is obtained: `100·ln 3 / 25 = 4.394`).
//!
//! The two published conventions differ slightly for the same trend (4.394 %
//! continuous is 4.299 % compound). Both are reported as published, and
//! [`continuous_from_compound`] / [`compound_from_continuous`] convert between them so
//! rates are only ever compared within one convention.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum AarrError {
    #[error("at least two points are needed for a rate, {0} given")]
    TooFewPoints(usize),
    #[error("the value at {t} is {value}; a rate of reduction needs positive values (ln of zero or a negative number is undefined)")]
    NotPositive { t: f64, value: f64 },
    #[error("a time or value is not a finite number")]
    NotFinite,
    #[error("all points are at the same time ({0}); a rate needs at least two different times")]
    NoTimeSpan(f64),
}

/// Two-point AARR in % a year, continuous convention (UN IGME).
pub fn two_point(u1: f64, t1: f64, u2: f64, t2: f64) -> Result<f64, AarrError> {
    check_point(t1, u1)?;
    check_point(t2, u2)?;
    if t1 == t2 {
        return Err(AarrError::NoTimeSpan(t1));
    }
    Ok(100.0 * (u1 / u2).ln() / (t2 - t1))
}

/// A least-squares fit of `ln U = intercept + slope·t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLinearFit {
    pub intercept: f64,
    pub slope: f64,
    pub points: usize,
}

impl LogLinearFit {
    /// AARR as UNICEF publishes it: `100·(1 − e^b)`, % a year, compound.
    pub fn aarr(&self) -> f64 {
        100.0 * (1.0 - self.slope.exp())
    }

    /// The same trend as a continuous rate, `−100·b`, comparable with
    /// [`two_point`] and [`required`].
    pub fn continuous_rate(&self) -> f64 {
        -100.0 * self.slope
    }

    /// The fitted value at time `t`.
    pub fn fitted(&self, t: f64) -> f64 {
        (self.intercept + self.slope * t).exp()
    }
}

/// Ordinary least squares of `ln U` on `t` over `(t, U)` points.
///
/// Times are centred on their mean before summing, which keeps the sums small and
/// exact enough with calendar years around 2000 (uncentred `Σt²` would be ~4·10⁷ per
/// point and cancel badly).
pub fn log_linear(points: &[(f64, f64)]) -> Result<LogLinearFit, AarrError> {
    if points.len() < 2 {
        return Err(AarrError::TooFewPoints(points.len()));
    }
    for &(t, u) in points {
        check_point(t, u)?;
    }
    let n = points.len() as f64;
    let t_mean = points.iter().map(|p| p.0).sum::<f64>() / n;
    let y_mean = points.iter().map(|p| p.1.ln()).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for &(t, u) in points {
        let dt = t - t_mean;
        sxx += dt * dt;
        sxy += dt * (u.ln() - y_mean);
    }
    if sxx == 0.0 {
        return Err(AarrError::NoTimeSpan(t_mean));
    }
    let slope = sxy / sxx;
    Ok(LogLinearFit {
        intercept: y_mean - slope * t_mean,
        slope,
        points: points.len(),
    })
}

/// The AARR (continuous, % a year) needed to go from `latest` at `t_latest` to
/// `target` at `t_target`.
pub fn required(latest: f64, t_latest: f64, target: f64, t_target: f64) -> Result<f64, AarrError> {
    two_point(latest, t_latest, target, t_target)
}

/// The value at `t_target` if `value` at `t` keeps falling at continuous rate `rate`
/// (% a year): `U·e^(−rate·Δt/100)`.
pub fn project(value: f64, t: f64, rate: f64, t_target: f64) -> f64 {
    value * (-rate * (t_target - t) / 100.0).exp()
}

/// Continuous rate → compound AARR: `100·(1 − e^(−r/100))`.
pub fn compound_from_continuous(rate: f64) -> f64 {
    100.0 * (1.0 - (-rate / 100.0).exp())
}

/// Compound AARR → continuous rate: `−100·ln(1 − a/100)`. Defined for `a < 100`.
pub fn continuous_from_compound(aarr: f64) -> f64 {
    -100.0 * (1.0 - aarr / 100.0).ln()
}

fn check_point(t: f64, u: f64) -> Result<(), AarrError> {
    if !t.is_finite() || !u.is_finite() {
        return Err(AarrError::NotFinite);
    }
    if u <= 0.0 {
        return Err(AarrError::NotPositive { t, value: u });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn mdg4_needs_4_4_percent_a_year() {
        // A two-thirds cut in 25 years (1990–2015): U₂ = U₁/3, so
        // AARR = 100·ln(3)/25 = 100·1.098612/25 = 4.394 % a year, published as 4.4.
        let r = required(3.0, 1990.0, 1.0, 2015.0).unwrap();
        assert!((r - 4.394_449).abs() < 1e-6, "{r}");
        assert_eq!((r * 10.0).round() / 10.0, 4.4);
        // The same trend as a compound rate: 1 − 3^(−1/25) = 4.299 %.
        assert!((compound_from_continuous(r) - 4.299_292).abs() < 1e-6);
    }

    #[test]
    fn rejects_what_has_no_rate() {
        assert_eq!(
            log_linear(&[(2000.0, 1.0)]),
            Err(AarrError::TooFewPoints(1))
        );
        assert!(matches!(
            two_point(0.0, 2000.0, 1.0, 2001.0),
            Err(AarrError::NotPositive { .. })
        ));
        assert!(matches!(
            two_point(1.0, 2000.0, 2.0, 2000.0),
            Err(AarrError::NoTimeSpan(_))
        ));
        assert!(matches!(
            log_linear(&[(2000.0, 1.0), (2000.0, 2.0)]),
            Err(AarrError::NoTimeSpan(_))
        ));
        assert_eq!(
            log_linear(&[(f64::NAN, 1.0), (1.0, 1.0)]),
            Err(AarrError::NotFinite)
        );
    }

    proptest! {
        /// U_k = U₀·(1−r)^k exactly: ln U is linear with slope ln(1−r), so the fit's
        /// 100·(1−e^b) is 100·r.
        #[test]
        fn log_linear_of_geometric_series_is_its_rate(
            u0 in 1.0f64..1000.0, r in -0.2f64..0.5, start in 1950i32..2020, n in 3usize..25
        ) {
            let pts: Vec<(f64, f64)> =
                (0..n).map(|k| (f64::from(start) + k as f64, u0 * (1.0 - r).powi(k as i32))).collect();
            let fit = log_linear(&pts).unwrap();
            prop_assert!(close(fit.aarr(), 100.0 * r, 1e-9), "{} vs {}", fit.aarr(), 100.0 * r);
        }

        /// Through two points the least-squares line is exact, so both methods
        /// describe the same trend: the continuous rates are equal, and the published
        /// compound figure is its conversion.
        #[test]
        fn two_point_and_log_linear_agree_on_two_points(
            u1 in 0.01f64..1000.0, u2 in 0.01f64..1000.0, t1 in 1950.0f64..2030.0, dt in 0.25f64..40.0
        ) {
            let t2 = t1 + dt;
            let tp = two_point(u1, t1, u2, t2).unwrap();
            let fit = log_linear(&[(t1, u1), (t2, u2)]).unwrap();
            prop_assert!(close(fit.continuous_rate(), tp, 1e-9));
            prop_assert!(close(fit.aarr(), compound_from_continuous(tp), 1e-9));
        }

        #[test]
        fn projection_at_required_rate_lands_on_target(
            latest in 0.01f64..1000.0, target in 0.01f64..1000.0, t in 1990.0f64..2025.0, dt in 0.5f64..30.0
        ) {
            let r = required(latest, t, target, t + dt).unwrap();
            prop_assert!(close(project(latest, t, r, t + dt), target, 1e-9));
        }

        #[test]
        fn conventions_convert_both_ways(a in -50.0f64..99.0) {
            prop_assert!(close(compound_from_continuous(continuous_from_compound(a)), a, 1e-9));
        }
    }
}
