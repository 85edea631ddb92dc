//! Ages and intervals: a span of years, months, weeks and days.
//!
//! Schedules are written the way clinicians say them ("2 months", "6 weeks",
//! "13 years 11 months"), and a month is not a fixed number of days, so a span
//! keeps its units and is only turned into a date by adding it to one.
//!
//! **Date rule.** `date + span` adds years and months first, as calendar months;
//! when the day does not exist in the target month it is *clamped to the last day
//! of that month* (31 Dec + 2 months = 28 Feb, or 29 Feb in a leap year;
//! 29 Feb + 1 year = 28 Feb). Weeks and days are then added exactly. Clamping
//! keeps "2 months after" inside the second calendar month, as people count on a
//! calendar page, and never skips a month (rolling forward would turn 31 Dec +
//! 2 months into 1 or 2 March). CDC's CDSi
//! instead rolls a missing day forward to the 1st of the next month; the
//! difference is at most 3 days and always smaller than the 4-day grace period.
//!
//! Written as text: `"6w"`, `"2m"`, `"1y6m"`, `"13y 11m"`, `"0d"` — units in the
//! order y, m, w, d, each at most once.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;
use time::{Date, Duration, Month};

/// A non-negative age or interval, kept in the units it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub years: u16,
    pub months: u16,
    pub weeks: u16,
    pub days: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpanError {
    #[error("an age or interval cannot be empty; write e.g. 6w, 2m, 1y6m or 0d")]
    Empty,
    #[error("'{0}' is not a number followed by y, m, w or d")]
    Malformed(String),
    #[error("units must appear once each, in the order y, m, w, d ('{0}')")]
    Order(String),
    #[error("'{0}' is too large")]
    TooLarge(String),
}

/// Birth dates the consistency checks sweep: two whole years, one of them a leap
/// year, so every day-of-month and February length is tried once.
pub fn reference_births() -> impl Iterator<Item = Date> {
    let start = Date::from_calendar_date(2023, Month::January, 1).expect("valid date");
    (0..731).map(move |i| start + Duration::days(i))
}

impl Span {
    pub const ZERO: Span = Span {
        years: 0,
        months: 0,
        weeks: 0,
        days: 0,
    };

    pub const fn days(n: u16) -> Span {
        Span {
            years: 0,
            months: 0,
            weeks: 0,
            days: n,
        }
    }
    pub const fn weeks(n: u16) -> Span {
        Span {
            years: 0,
            months: 0,
            weeks: n,
            days: 0,
        }
    }
    pub const fn months(n: u16) -> Span {
        Span {
            years: 0,
            months: n,
            weeks: 0,
            days: 0,
        }
    }
    pub const fn years(n: u16) -> Span {
        Span {
            years: n,
            months: 0,
            weeks: 0,
            days: 0,
        }
    }

    pub fn is_zero(self) -> bool {
        self == Span::ZERO
    }

    /// `date + self` by the clamping rule in the module docs; saturates at the
    /// last date `time` can represent rather than panicking on absurd input.
    pub fn add_to(self, date: Date) -> Date {
        let months = u32::from(self.years) * 12 + u32::from(self.months);
        let shifted = add_months(date, months);
        let days = i64::from(self.weeks) * 7 + i64::from(self.days);
        shifted
            .checked_add(Duration::days(days))
            .unwrap_or(Date::MAX)
    }

    /// True when `birth + self <= birth + other` for every birth date. Spans of
    /// mixed units are not totally ordered (1 month vs 30 days), so calendar
    /// validation asks this instead of comparing numbers.
    pub fn never_after(self, other: Span) -> bool {
        reference_births().all(|d| self.add_to(d) <= other.add_to(d))
    }

    /// Rough length in days, only for sanity limits (never for scheduling).
    pub fn approx_days(self) -> f64 {
        f64::from(self.years) * 365.25
            + f64::from(self.months) * 30.4375
            + f64::from(self.weeks) * 7.0
            + f64::from(self.days)
    }

    /// English words for explanations: "4 weeks", "1 year 6 months", "0 days".
    pub fn describe(self) -> String {
        let parts: Vec<String> = self
            .parts()
            .into_iter()
            .map(|(n, unit)| {
                let word = unit_word(unit);
                if n == 1 {
                    format!("1 {word}")
                } else {
                    format!("{n} {word}s")
                }
            })
            .collect();
        if parts.is_empty() {
            "0 days".to_owned()
        } else {
            parts.join(" ")
        }
    }

    fn parts(self) -> Vec<(u16, char)> {
        [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.weeks, 'w'),
            (self.days, 'd'),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }
}

fn unit_word(unit: char) -> &'static str {
    match unit {
        'y' => "year",
        'm' => "month",
        'w' => "week",
        _ => "day",
    }
}

/// Adds calendar months, clamping a missing day to the month's last day.
pub fn add_months(date: Date, months: u32) -> Date {
    let index = i64::from(date.year()) * 12 + i64::from(date.month() as u8) - 1 + i64::from(months);
    let Ok(year) = i32::try_from(index.div_euclid(12)) else {
        return Date::MAX;
    };
    let month_number = u8::try_from(index.rem_euclid(12) + 1).expect("1..=12");
    let month = Month::try_from(month_number).expect("1..=12 is a month");
    if year > Date::MAX.year() {
        return Date::MAX;
    }
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MAX)
}

impl fmt::Display for Span {
    /// The compact form that [`FromStr`] reads back: `1y6m`, `6w`, `0d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = self.parts();
        if parts.is_empty() {
            return f.write_str("0d");
        }
        for (n, unit) in parts {
            write!(f, "{n}{unit}")?;
        }
        Ok(())
    }
}

impl FromStr for Span {
    type Err = SpanError;

    fn from_str(input: &str) -> Result<Span, SpanError> {
        let text: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if text.is_empty() {
            return Err(SpanError::Empty);
        }
        let mut span = Span::ZERO;
        let mut rest = text.as_str();
        let mut last_rank = None;
        while !rest.is_empty() {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            let unit = rest[digits..].chars().next();
            let (Some(unit), true) = (unit, digits > 0) else {
                return Err(SpanError::Malformed(input.to_owned()));
            };
            let n: u16 = rest[..digits]
                .parse()
                .map_err(|_| SpanError::TooLarge(input.to_owned()))?;
            let rank = set_unit(&mut span, unit.to_ascii_lowercase(), n)
                .ok_or_else(|| SpanError::Malformed(input.to_owned()))?;
            if last_rank.is_some_and(|last| rank <= last) {
                return Err(SpanError::Order(input.to_owned()));
            }
            last_rank = Some(rank);
            rest = &rest[digits + unit.len_utf8()..];
        }
        Ok(span)
    }
}

/// Stores `n` in the field for `unit`; returns the unit's rank (y=0 … d=3).
fn set_unit(span: &mut Span, unit: char, n: u16) -> Option<u8> {
    match unit {
        'y' => span.years = n,
        'm' => span.months = n,
        'w' => span.weeks = n,
        'd' => span.days = n,
        _ => return None,
    }
    Some(match unit {
        'y' => 0,
        'm' => 1,
        'w' => 2,
        _ => 3,
    })
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn month_end_is_clamped() {
        assert_eq!(
            Span::months(2).add_to(date!(2023 - 12 - 31)),
            date!(2024 - 02 - 29)
        );
        assert_eq!(
            Span::months(2).add_to(date!(2022 - 12 - 31)),
            date!(2023 - 02 - 28)
        );
        assert_eq!(
            Span::months(1).add_to(date!(2024 - 01 - 31)),
            date!(2024 - 02 - 29)
        );
        assert_eq!(
            Span::years(1).add_to(date!(2024 - 02 - 29)),
            date!(2025 - 02 - 28)
        );
        assert_eq!(
            Span::months(3).add_to(date!(2024 - 11 - 15)),
            date!(2025 - 02 - 15)
        );
    }

    #[test]
    fn weeks_and_days_are_exact_and_come_after_months() {
        assert_eq!(
            Span::weeks(6).add_to(date!(2024 - 01 - 01)),
            date!(2024 - 02 - 12)
        );
        let s: Span = "1m3d".parse().unwrap();
        // 31 Jan + 1 month = 29 Feb (clamped), then + 3 days = 3 Mar.
        assert_eq!(s.add_to(date!(2024 - 01 - 31)), date!(2024 - 03 - 03));
    }

    #[test]
    fn parses_and_prints() {
        let s: Span = "13y 11m".parse().unwrap();
        assert_eq!(
            s,
            Span {
                years: 13,
                months: 11,
                weeks: 0,
                days: 0
            }
        );
        assert_eq!(s.to_string(), "13y11m");
        assert_eq!("0d".parse::<Span>().unwrap(), Span::ZERO);
        assert_eq!(Span::ZERO.to_string(), "0d");
        assert_eq!("6W".parse::<Span>().unwrap(), Span::weeks(6));
        assert_eq!(Span::weeks(4).describe(), "4 weeks");
        assert_eq!(
            "1y6m".parse::<Span>().unwrap().describe(),
            "1 year 6 months"
        );
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!("".parse::<Span>(), Err(SpanError::Empty));
        assert!(matches!("6".parse::<Span>(), Err(SpanError::Malformed(_))));
        assert!(matches!("w".parse::<Span>(), Err(SpanError::Malformed(_))));
        assert!(matches!("6x".parse::<Span>(), Err(SpanError::Malformed(_))));
        assert!(matches!("2m1y".parse::<Span>(), Err(SpanError::Order(_))));
        assert!(matches!("2m2m".parse::<Span>(), Err(SpanError::Order(_))));
        assert!(matches!(
            "99999d".parse::<Span>(),
            Err(SpanError::TooLarge(_))
        ));
    }

    #[test]
    fn mixed_units_are_compared_on_every_birth_date() {
        assert!(Span::weeks(4).never_after(Span::months(1)));
        assert!(
            !Span::days(30).never_after(Span::months(1)),
            "February is shorter"
        );
        assert!(Span::months(2).never_after(Span::months(2)));
    }

    #[test]
    fn saturates_instead_of_panicking() {
        let huge = Span {
            years: u16::MAX,
            months: u16::MAX,
            weeks: u16::MAX,
            days: u16::MAX,
        };
        assert_eq!(huge.add_to(date!(2024 - 01 - 01)), Date::MAX);
    }
}
