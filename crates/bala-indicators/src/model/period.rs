//! Reporting periods: a calendar year, a quarter or a month.
//!
//! These are the only period types in the reference data (kazstat and UNICEF publish
//! years; DHIS2 and ADX feeds from the health system are monthly or quarterly). The
//! canonical text is the SDMX/ISO form — `2020`, `2020-Q1`, `2020-03` — so that a
//! period stored as text sorts and compares the same way in every database, and so
//! that what Bala writes is what SDMX tools read.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;
use time::{Date, Month};

/// A year, quarter or month; valid by construction (year 1–9999, quarter 1–4,
/// month 1–12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    year: i32,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unit {
    Year,
    Quarter(u8),
    Month(u8),
}

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Granularity {
    Year,
    Quarter,
    Month,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("'{text}' is not a period: {reason}")]
pub struct PeriodError {
    pub text: String,
    pub reason: &'static str,
}

const EXPECTED: &str = "expected a year (2020), a quarter (2020-Q1) or a month (2020-03)";

fn err(text: &str, reason: &'static str) -> PeriodError {
    PeriodError {
        text: text.to_string(),
        reason,
    }
}

impl Period {
    /// A calendar year. Four-digit years only, because the text form must be
    /// unambiguous and sort correctly.
    pub fn annual(year: i32) -> Result<Period, PeriodError> {
        check_year(year)?;
        Ok(Period {
            year,
            unit: Unit::Year,
        })
    }

    pub fn quarterly(year: i32, quarter: u8) -> Result<Period, PeriodError> {
        check_year(year)?;
        if !(1..=4).contains(&quarter) {
            return Err(err(&format!("{year}-Q{quarter}"), "a quarter is 1 to 4"));
        }
        Ok(Period {
            year,
            unit: Unit::Quarter(quarter),
        })
    }

    pub fn monthly(year: i32, month: u8) -> Result<Period, PeriodError> {
        check_year(year)?;
        if !(1..=12).contains(&month) {
            return Err(err(&format!("{year}-{month:02}"), "a month is 01 to 12"));
        }
        Ok(Period {
            year,
            unit: Unit::Month(month),
        })
    }

    /// Parses the canonical forms `2020`, `2020-Q1`, `2020-03`, and the other SDMX
    /// reporting-period spellings of the same periods, `2020-A1` and `2020-M03`
    /// (SDMX 2.1 standard reporting periods), so SDMX files from any agency load.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let t = text.trim();
        let (year_text, rest) = match t.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (t, None),
        };
        let year = parse_year(year_text).ok_or_else(|| err(t, EXPECTED))?;
        match rest {
            None => Period::annual(year),
            Some("A1") => Period::annual(year),
            Some(r) => parse_sub_annual(t, year, r),
        }
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn quarter(&self) -> Option<u8> {
        match self.unit {
            Unit::Quarter(q) => Some(q),
            _ => None,
        }
    }

    pub fn month(&self) -> Option<u8> {
        match self.unit {
            Unit::Month(m) => Some(m),
            _ => None,
        }
    }

    pub fn granularity(&self) -> Granularity {
        match self.unit {
            Unit::Year => Granularity::Year,
            Unit::Quarter(_) => Granularity::Quarter,
            Unit::Month(_) => Granularity::Month,
        }
    }

    /// The first month of the period, 1–12.
    pub fn first_month(&self) -> u8 {
        match self.unit {
            Unit::Year => 1,
            Unit::Quarter(q) => 3 * (q - 1) + 1,
            Unit::Month(m) => m,
        }
    }

    /// How many months the period covers: 12, 3 or 1.
    pub fn months(&self) -> u8 {
        match self.unit {
            Unit::Year => 12,
            Unit::Quarter(_) => 3,
            Unit::Month(_) => 1,
        }
    }

    /// First day of the period.
    pub fn start_date(&self) -> Date {
        let month = Month::try_from(self.first_month()).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }

    /// Last day of the period (inclusive).
    pub fn end_date(&self) -> Date {
        let last =
            Month::try_from(self.first_month() + self.months() - 1).unwrap_or(Month::December);
        let day = last.length(self.year);
        Date::from_calendar_date(self.year, last, day).unwrap_or(Date::MAX)
    }

    /// The middle of the period in decimal years (2020 → 2020.5, 2020-Q1 → 2020.125).
    ///
    /// Why the midpoint: an annual rate, coverage or mortality figure describes the
    /// whole year, and UN IGME estimates refer to mid-year; using the midpoint for every
    /// granularity keeps the time differences that AARR divides by correct when years,
    /// quarters and months are mixed (between two years it is exactly their difference).
    pub fn midpoint(&self) -> f64 {
        let half_months = 2 * u16::from(self.first_month() - 1) + u16::from(self.months());
        f64::from(self.year) + f64::from(half_months) / 24.0
    }

    /// Months since year 0 of the first month; used for ordering.
    fn start_index(&self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.first_month() - 1)
    }
}

fn check_year(year: i32) -> Result<(), PeriodError> {
    if (1..=9999).contains(&year) {
        Ok(())
    } else {
        Err(err(&year.to_string(), "a year has four digits (0001–9999)"))
    }
}

fn parse_year(text: &str) -> Option<i32> {
    if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok().filter(|y| *y >= 1)
    } else {
        None
    }
}

fn two_digits(text: &str) -> Option<u8> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn parse_sub_annual(whole: &str, year: i32, rest: &str) -> Result<Period, PeriodError> {
    if let Some(q) = rest.strip_prefix('Q') {
        return match q.as_bytes() {
            [d @ b'1'..=b'4'] => Period::quarterly(year, d - b'0'),
            _ => Err(err(whole, "a quarter is Q1 to Q4")),
        };
    }
    let month_text = rest.strip_prefix('M').unwrap_or(rest);
    match two_digits(month_text) {
        Some(m) if (1..=12).contains(&m) => Period::monthly(year, m),
        Some(_) => Err(err(whole, "a month is 01 to 12")),
        None => Err(err(whole, EXPECTED)),
    }
}

/// Chronological by first day; a longer period sorts before a shorter one starting
/// the same day (2020 < 2020-Q1 < 2020-01), so a year's total precedes its parts.
impl Ord for Period {
    fn cmp(&self, other: &Self) -> Ordering {
        self.start_index()
            .cmp(&other.start_index())
            .then_with(|| other.months().cmp(&self.months()))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            Unit::Year => write!(f, "{:04}", self.year),
            Unit::Quarter(q) => write!(f, "{:04}-Q{q}", self.year),
            Unit::Month(m) => write!(f, "{:04}-{m:02}", self.year),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn parses_canonical_and_sdmx_forms() {
        assert_eq!(
            Period::parse("2020").unwrap(),
            Period::annual(2020).unwrap()
        );
        assert_eq!(
            Period::parse(" 2020-A1 ").unwrap(),
            Period::annual(2020).unwrap()
        );
        assert_eq!(
            Period::parse("2020-Q3").unwrap(),
            Period::quarterly(2020, 3).unwrap()
        );
        assert_eq!(
            Period::parse("2020-03").unwrap(),
            Period::monthly(2020, 3).unwrap()
        );
        assert_eq!(
            Period::parse("2020-M11").unwrap(),
            Period::monthly(2020, 11).unwrap()
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "", "20", "20200", "2020-Q5", "2020-Q0", "2020-13", "2020-00", "2020-3", "0000",
            "2020Q1", "abcd", "2020-W01", "-2020",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} should not parse");
        }
        let e = Period::parse("2020-Q5").unwrap_err();
        assert!(e.to_string().contains("Q1 to Q4"), "{e}");
    }

    #[test]
    fn formats_canonically() {
        assert_eq!(Period::annual(2020).unwrap().to_string(), "2020");
        assert_eq!(Period::quarterly(2020, 1).unwrap().to_string(), "2020-Q1");
        assert_eq!(Period::monthly(2020, 3).unwrap().to_string(), "2020-03");
    }

    #[test]
    fn dates_and_midpoints() {
        let q = Period::quarterly(2020, 1).unwrap();
        assert_eq!(q.start_date(), date!(2020 - 01 - 01));
        assert_eq!(q.end_date(), date!(2020 - 03 - 31));
        assert_eq!(
            Period::monthly(2021, 2).unwrap().end_date(),
            date!(2021 - 02 - 28)
        );
        assert_eq!(Period::annual(2020).unwrap().midpoint(), 2020.5);
        assert_eq!(q.midpoint(), 2020.125);
        assert_eq!(
            Period::monthly(2020, 12).unwrap().midpoint(),
            2020.0 + 23.0 / 24.0
        );
    }

    #[test]
    fn orders_chronologically_longest_first() {
        let y = Period::annual(2020).unwrap();
        let q1 = Period::quarterly(2020, 1).unwrap();
        let m1 = Period::monthly(2020, 1).unwrap();
        let m4 = Period::monthly(2020, 4).unwrap();
        let q2 = Period::quarterly(2020, 2).unwrap();
        let mut v = [m4, q2, m1, q1, y, Period::annual(2019).unwrap()];
        v.sort();
        let text: Vec<String> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            text,
            ["2019", "2020", "2020-Q1", "2020-01", "2020-Q2", "2020-04"]
        );
    }

    fn any_period() -> impl Strategy<Value = Period> {
        prop_oneof![
            (1..=9999i32).prop_map(|y| Period::annual(y).unwrap()),
            (1..=9999i32, 1..=4u8).prop_map(|(y, q)| Period::quarterly(y, q).unwrap()),
            (1..=9999i32, 1..=12u8).prop_map(|(y, m)| Period::monthly(y, m).unwrap()),
        ]
    }

    proptest! {
        #[test]
        fn text_round_trips(p in any_period()) {
            prop_assert_eq!(Period::parse(&p.to_string()).unwrap(), p);
        }

        #[test]
        fn order_agrees_with_start_date(a in any_period(), b in any_period()) {
            if a.start_date() < b.start_date() {
                prop_assert!(a < b);
            }
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        }

        #[test]
        fn parse_never_panics(s in ".{0,12}") {
            let _ = Period::parse(&s);
        }
    }
}
