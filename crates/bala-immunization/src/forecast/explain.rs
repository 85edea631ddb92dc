//! Which rule produced a date, so a nurse (or an auditor) can see why a dose is
//! due when it is. Structured for translation; `Display` gives English.

use crate::span::Span;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "rule")]
pub enum DateRule {
    /// Birth + the dose's minimum age.
    MinimumAge { age: Span },
    /// The previous valid dose + the dose's minimum interval.
    MinimumInterval {
        interval: Span,
        after: String,
        #[serde(with = "crate::serde_date")]
        previous: Date,
    },
    /// The day after a temporary contraindication ends.
    ContraindicationEnds {
        #[serde(with = "crate::serde_date")]
        until: Date,
    },
    /// Birth + the dose's recommended age in the national calendar.
    RecommendedAge { age: Span },
    /// The recommended age was earlier than the earliest allowed date (late
    /// start or delayed previous dose), so the dose is recommended as soon as allowed.
    CatchUp {
        age: Span,
        #[serde(with = "crate::serde_date")]
        scheduled: Date,
    },
    /// The series entered the calendar after the recommended age had passed
    /// (HPV in 2024): the dose is expected from the introduction date.
    Introduced {
        #[serde(with = "crate::serde_date")]
        on: Date,
    },
    /// Recommended date + the calendar's overdue threshold.
    OverdueThreshold { after: Span },
}

impl fmt::Display for DateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateRule::MinimumAge { age } => write!(f, "minimum age of {}", age.describe()),
            DateRule::MinimumInterval { interval, after, previous } => {
                write!(f, "minimum interval of {} after {after} on {previous}", interval.describe())
            }
            DateRule::ContraindicationEnds { until } => {
                write!(f, "temporary contraindication until {until}")
            }
            DateRule::RecommendedAge { age } => write!(f, "recommended age of {}", age.describe()),
            DateRule::CatchUp { age, scheduled } => write!(
                f,
                "catch-up: the recommended age of {} ({scheduled}) is before the earliest allowed date",
                age.describe()
            ),
            DateRule::Introduced { on } => write!(f, "the series was introduced on {on}"),
            DateRule::OverdueThreshold { after } => {
                write!(f, "{} after the recommended date", after.describe())
            }
        }
    }
}

/// A date with the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ruled {
    pub date: Date,
    pub rule: DateRule,
}

impl Ruled {
    pub fn new(date: Date, rule: DateRule) -> Ruled {
        Ruled { date, rule }
    }

    /// The later of two constraints; on a tie the first is kept, so the
    /// explanation is stable.
    pub fn later(self, other: Option<Ruled>) -> Ruled {
        match other {
            Some(o) if o.date > self.date => o,
            _ => self,
        }
    }
}

impl fmt::Display for Ruled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.date, self.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn reads_as_a_sentence() {
        let r = DateRule::MinimumInterval {
            interval: Span::weeks(4),
            after: "DTP1".into(),
            previous: date!(2024 - 03 - 01),
        };
        assert_eq!(
            r.to_string(),
            "minimum interval of 4 weeks after DTP1 on 2024-03-01"
        );
        let ruled = Ruled::new(date!(2024 - 03 - 29), r);
        assert_eq!(
            ruled.to_string(),
            "2024-03-29 (minimum interval of 4 weeks after DTP1 on 2024-03-01)"
        );
    }

    #[test]
    fn later_keeps_the_first_on_ties() {
        let a = Ruled::new(
            date!(2024 - 01 - 01),
            DateRule::MinimumAge {
                age: Span::weeks(6),
            },
        );
        let b = Ruled::new(
            date!(2024 - 01 - 01),
            DateRule::ContraindicationEnds {
                until: date!(2023 - 12 - 31),
            },
        );
        assert!(matches!(
            a.clone().later(Some(b)).rule,
            DateRule::MinimumAge { .. }
        ));
        let c = Ruled::new(
            date!(2024 - 02 - 01),
            DateRule::MinimumAge {
                age: Span::weeks(9),
            },
        );
        assert_eq!(a.later(Some(c)).date, date!(2024 - 02 - 01));
    }

    #[test]
    fn serialises_with_a_rule_tag() {
        let json = serde_json::to_string(&DateRule::RecommendedAge {
            age: Span::months(3),
        })
        .unwrap();
        assert_eq!(json, r#"{"rule":"recommended-age","age":"3m"}"#);
    }
}
