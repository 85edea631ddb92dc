//! Weekly reporting from surveillance sites, zero reports included.
//!
//! Every site (hospital, polyclinic) reports each epidemiological week (ISO
//! week, Monday–Sunday) how many AFP and suspected measles cases it saw — zero
//! included, so that silence means "no report", never "no cases". A report is
//! on time when it arrives by the deadline: `DEADLINE_DAYS` after the week ends.

use bala_core::Date;
use serde::Serialize;
use time::Weekday;

/// Days after the week's Sunday by which a report counts as on time (Tuesday).
pub const DEADLINE_DAYS: i64 = 2;

/// An ISO week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Week {
    pub year: i32,
    pub week: u8,
}

impl Week {
    pub fn of(d: Date) -> Week {
        let (year, week, _) = d.to_iso_week_date();
        Week { year, week }
    }

    pub fn monday(self) -> Option<Date> {
        Date::from_iso_week_date(self.year, self.week, Weekday::Monday).ok()
    }

    pub fn sunday(self) -> Option<Date> {
        Date::from_iso_week_date(self.year, self.week, Weekday::Sunday).ok()
    }

    pub fn deadline(self) -> Option<Date> {
        self.sunday()
            .map(|s| s + time::Duration::days(DEADLINE_DAYS))
    }

    /// `2026-W09`.
    pub fn parse(s: &str) -> Option<Week> {
        let (y, w) = s.trim().split_once("-W")?;
        let week = Week {
            year: y.parse().ok()?,
            week: w.parse().ok()?,
        };
        week.monday().map(|_| week)
    }

    pub fn label(self) -> String {
        format!("{}-W{:02}", self.year, self.week)
    }

    /// The weeks of `year` that have ended by `as_of` (all 52 or 53 for a past year).
    pub fn ended_in_year(year: i32, as_of: Date) -> Vec<Week> {
        (1..=53u8)
            .map(|w| Week { year, week: w })
            .filter(|w| w.sunday().is_some_and(|s| s < as_of))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub week: Week,
    pub received: Date,
}

/// Completeness and timeliness over sites × weeks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reporting {
    pub expected: i64,
    pub received: i64,
    pub on_time: i64,
}

/// Summarises the reports of `sites` sites over `weeks`; each report is counted
/// once per site and week (the caller passes one per site-week).
pub fn summarise(sites: i64, weeks: &[Week], reports: &[Report]) -> Reporting {
    let in_period: Vec<&Report> = reports.iter().filter(|r| weeks.contains(&r.week)).collect();
    Reporting {
        expected: sites * weeks.len() as i64,
        received: in_period.len() as i64,
        on_time: in_period
            .iter()
            .filter(|r| r.week.deadline().is_some_and(|d| r.received <= d))
            .count() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn weeks_and_deadlines() {
        let w = Week::of(date!(2026 - 03 - 04));
        assert_eq!(w.label(), "2026-W10");
        assert_eq!(w.monday(), Some(date!(2026 - 03 - 02)));
        assert_eq!(w.deadline(), Some(date!(2026 - 03 - 10)));
        assert_eq!(Week::parse("2026-W10"), Some(w));
        assert_eq!(Week::parse("2026-W60"), None);
        assert_eq!(Week::ended_in_year(2025, date!(2026 - 06 - 01)).len(), 52);
        // 2026-W01 is 29 Dec 2025 – 4 Jan 2026, W02 ends 11 Jan: both over by 13 Jan.
        assert_eq!(Week::ended_in_year(2026, date!(2026 - 01 - 13)).len(), 2);
    }

    #[test]
    fn completeness_and_timeliness() {
        let weeks = [
            Week {
                year: 2026,
                week: 1,
            },
            Week {
                year: 2026,
                week: 2,
            },
        ];
        let reports = [
            Report {
                week: weeks[0],
                received: date!(2026 - 01 - 06),
            },
            Report {
                week: weeks[1],
                received: date!(2026 - 01 - 20),
            },
            Report {
                week: Week {
                    year: 2025,
                    week: 52,
                },
                received: date!(2025 - 12 - 29),
            },
        ];
        assert_eq!(
            summarise(2, &weeks, &reports),
            Reporting {
                expected: 4,
                received: 2,
                on_time: 1
            }
        );
    }
}
