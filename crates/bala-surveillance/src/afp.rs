//! Acute flaccid paralysis (AFP) cases.
//!
//! Every case of AFP in a child under 15 (or any age when polio is suspected)
//! is notified, investigated within 48 hours, and two stool specimens are
//! collected at least 24 hours apart within 14 days of paralysis onset and
//! must reach the WHO-accredited laboratory in good condition (cold chain,
//! enough volume). A follow-up examination 60 days after onset looks for
//! residual paralysis. Final classification is done by the national expert
//! committee.

use bala_core::{Date, FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};

use crate::days;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoolResult {
    Pending,
    Negative,
    NonPolioEnterovirus,
    SabinLike,
    /// Vaccine-derived poliovirus.
    Vdpv,
    WildPoliovirus,
}

impl StoolResult {
    pub const ALL: [StoolResult; 6] = [
        StoolResult::Pending,
        StoolResult::Negative,
        StoolResult::NonPolioEnterovirus,
        StoolResult::SabinLike,
        StoolResult::Vdpv,
        StoolResult::WildPoliovirus,
    ];
    pub fn code(self) -> &'static str {
        match self {
            StoolResult::Pending => "pending",
            StoolResult::Negative => "negative",
            StoolResult::NonPolioEnterovirus => "npev",
            StoolResult::SabinLike => "sabin_like",
            StoolResult::Vdpv => "vdpv",
            StoolResult::WildPoliovirus => "wpv",
        }
    }
    pub fn parse(s: &str) -> Option<StoolResult> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoolSpecimen {
    pub collected: Date,
    pub lab_arrival: Option<Date>,
    /// Arrived with ice/cold packs, enough volume, no leakage or desiccation.
    pub good_condition: Option<bool>,
    pub result: StoolResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    NotDone,
    NoResidualParalysis,
    ResidualParalysis,
    LostToFollowUp,
    Died,
}

impl FollowUp {
    pub const ALL: [FollowUp; 5] = [
        FollowUp::NotDone,
        FollowUp::NoResidualParalysis,
        FollowUp::ResidualParalysis,
        FollowUp::LostToFollowUp,
        FollowUp::Died,
    ];
    pub fn code(self) -> &'static str {
        match self {
            FollowUp::NotDone => "not_done",
            FollowUp::NoResidualParalysis => "no_residual",
            FollowUp::ResidualParalysis => "residual",
            FollowUp::LostToFollowUp => "lost",
            FollowUp::Died => "died",
        }
    }
    pub fn parse(s: &str) -> Option<FollowUp> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
}

/// Final classification by the expert committee (virological scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfpClass {
    Pending,
    /// Discarded as non-polio AFP.
    NonPolio,
    /// Polio-compatible: inadequate specimens and residual paralysis, death or loss.
    Compatible,
    ConfirmedWild,
    ConfirmedVdpv,
    /// On investigation it was not AFP.
    NotAfp,
}

impl AfpClass {
    pub const ALL: [AfpClass; 6] = [
        AfpClass::Pending,
        AfpClass::NonPolio,
        AfpClass::Compatible,
        AfpClass::ConfirmedWild,
        AfpClass::ConfirmedVdpv,
        AfpClass::NotAfp,
    ];
    pub fn code(self) -> &'static str {
        match self {
            AfpClass::Pending => "pending",
            AfpClass::NonPolio => "non_polio",
            AfpClass::Compatible => "compatible",
            AfpClass::ConfirmedWild => "confirmed_wild",
            AfpClass::ConfirmedVdpv => "confirmed_vdpv",
            AfpClass::NotAfp => "not_afp",
        }
    }
    pub fn parse(s: &str) -> Option<AfpClass> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
}

/// The facts of one AFP case needed by the rules (storage adds ids and names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfpCase {
    pub epid: String,
    pub area_code: String,
    pub birth_date: Option<Date>,
    /// Age in months at onset when the birth date is unknown.
    pub age_months: Option<i64>,
    pub onset: Date,
    pub notified: Date,
    pub investigated: Option<Date>,
    pub polio_doses: Option<i64>,
    pub specimens: Vec<StoolSpecimen>,
    pub follow_up_date: Option<Date>,
    pub follow_up: FollowUp,
    pub classification: AfpClass,
}

impl AfpCase {
    /// Age at onset in whole months, from the birth date or as recorded.
    pub fn age_at_onset_months(&self) -> Option<i64> {
        match self.birth_date {
            Some(b) => Some(bala_core::date::age_months(b, self.onset) as i64),
            None => self.age_months,
        }
    }

    /// Under 15 at onset: the population the AFP rate is computed for.
    pub fn under_15(&self) -> bool {
        self.age_at_onset_months().is_some_and(|m| m < 15 * 12)
    }

    /// Adequate stool specimens (WHO): at least two, collected at least 24 hours
    /// (one day) apart, both within 14 days of onset, both arrived in good condition.
    pub fn adequate_specimens(&self) -> bool {
        let good: Vec<&StoolSpecimen> = self
            .specimens
            .iter()
            .filter(|s| {
                let d = days(self.onset, s.collected);
                (0..=14).contains(&d) && s.good_condition == Some(true) && s.lab_arrival.is_some()
            })
            .collect();
        good.iter().enumerate().any(|(i, a)| {
            good[i + 1..]
                .iter()
                .any(|b| days(a.collected, b.collected).abs() >= 1)
        })
    }

    /// Investigated within 48 hours (two days) of notification.
    pub fn investigated_in_48h(&self) -> bool {
        self.investigated
            .is_some_and(|i| (0..=2).contains(&days(self.notified, i)))
    }

    /// A 60-day follow-up is due (WHO: for cases with inadequate specimens, from
    /// day 60 after onset); `true` when it is done or not needed.
    pub fn follow_up_done_or_not_needed(&self) -> bool {
        self.adequate_specimens() || self.follow_up != FollowUp::NotDone
    }

    /// The classification the virological scheme suggests from the recorded facts.
    /// The committee decides; the UI shows this beside their decision.
    pub fn suggested_class(&self) -> AfpClass {
        let results: Vec<StoolResult> = self.specimens.iter().map(|s| s.result).collect();
        if results.contains(&StoolResult::WildPoliovirus) {
            return AfpClass::ConfirmedWild;
        }
        if results.contains(&StoolResult::Vdpv) {
            return AfpClass::ConfirmedVdpv;
        }
        let all_done = !results.is_empty() && !results.contains(&StoolResult::Pending);
        if self.adequate_specimens() && all_done {
            return AfpClass::NonPolio;
        }
        if !self.adequate_specimens() {
            return match self.follow_up {
                FollowUp::ResidualParalysis | FollowUp::Died | FollowUp::LostToFollowUp => {
                    AfpClass::Compatible
                }
                FollowUp::NoResidualParalysis if all_done || results.is_empty() => {
                    AfpClass::NonPolio
                }
                _ => AfpClass::Pending,
            };
        }
        AfpClass::Pending
    }

    /// Checks dates and codes, naming each field at fault.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !valid_epid(&self.epid) {
            e.push("epid", "err-epid", "an EPID number like KAZ-ALA-2026-001");
        }
        if self.birth_date.is_none() && self.age_months.is_none() {
            e.push(
                "birth_date",
                "err-age-or-birth",
                "give the birth date or the age in months",
            );
        }
        if let Some(b) = self.birth_date {
            if b > self.onset {
                e.push(
                    "birth_date",
                    "err-birth-after-onset",
                    "the birth date is after paralysis onset",
                );
            }
        }
        if self.notified < self.onset {
            e.push(
                "notified",
                "err-before-onset",
                "notification cannot come before onset",
            );
        }
        if let Some(i) = self.investigated {
            if i < self.notified {
                e.push(
                    "investigated",
                    "err-before-notification",
                    "investigation cannot come before notification",
                );
            }
        }
        for (n, s) in self.specimens.iter().enumerate() {
            if s.collected < self.onset {
                e.push(
                    format!("specimens[{}].collected", n + 1),
                    "err-before-onset",
                    "collected before onset",
                );
            }
            if s.lab_arrival.is_some_and(|a| a < s.collected) {
                e.push(
                    format!("specimens[{}].lab_arrival", n + 1),
                    "err-arrival-before-collection",
                    "arrived before it was collected",
                );
            }
        }
        if let Some(f) = self.follow_up_date {
            if f < self.onset {
                e.push(
                    "follow_up_date",
                    "err-before-onset",
                    "follow-up before onset",
                );
            }
        }
        e.into_result()
    }
}

/// `CCC-RRR-YYYY-NNN`: country, region (or district) code, year of onset, case number.
pub fn valid_epid(epid: &str) -> bool {
    let parts: Vec<&str> = epid.split('-').collect();
    parts.len() >= 4
        && parts[0].len() == 3
        && parts[0].bytes().all(|b| b.is_ascii_uppercase())
        && parts[1..parts.len() - 2]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && parts[parts.len() - 2].len() == 4
        && parts[parts.len() - 2].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// Rejects a case unless it is the committee's to classify: a date-checked case.
pub fn check_class_against_facts(case: &AfpCase) -> Option<FieldError> {
    let suggested = case.suggested_class();
    let confirmed = matches!(
        case.classification,
        AfpClass::ConfirmedWild | AfpClass::ConfirmedVdpv
    );
    let lab_positive = matches!(suggested, AfpClass::ConfirmedWild | AfpClass::ConfirmedVdpv);
    (lab_positive && case.classification == AfpClass::NonPolio || confirmed && !lab_positive).then(
        || {
            FieldError::new(
                "classification",
                "err-afp-class-conflict",
                "the classification contradicts the laboratory results",
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn case() -> AfpCase {
        AfpCase {
            epid: "KAZ-ALA-2026-001".into(),
            area_code: "751110000".into(),
            birth_date: Some(date!(2022 - 05 - 01)),
            age_months: None,
            onset: date!(2026 - 03 - 01),
            notified: date!(2026 - 03 - 03),
            investigated: Some(date!(2026 - 03 - 04)),
            polio_doses: Some(4),
            specimens: vec![
                StoolSpecimen {
                    collected: date!(2026 - 03 - 04),
                    lab_arrival: Some(date!(2026 - 03 - 06)),
                    good_condition: Some(true),
                    result: StoolResult::Negative,
                },
                StoolSpecimen {
                    collected: date!(2026 - 03 - 05),
                    lab_arrival: Some(date!(2026 - 03 - 06)),
                    good_condition: Some(true),
                    result: StoolResult::NonPolioEnterovirus,
                },
            ],
            follow_up_date: None,
            follow_up: FollowUp::NotDone,
            classification: AfpClass::Pending,
        }
    }

    #[test]
    fn adequate_specimens_follow_the_who_definition() {
        let c = case();
        assert!(c.adequate_specimens());
        // Same day: not 24 h apart.
        let mut same_day = c.clone();
        same_day.specimens[1].collected = same_day.specimens[0].collected;
        assert!(!same_day.adequate_specimens());
        // Second on day 15: too late.
        let mut late = c.clone();
        late.specimens[1].collected = date!(2026 - 03 - 16);
        assert!(!late.adequate_specimens());
        // Day 14 is still in time.
        let mut day14 = c.clone();
        day14.specimens[1].collected = date!(2026 - 03 - 15);
        assert!(day14.adequate_specimens());
        // Bad condition.
        let mut warm = c.clone();
        warm.specimens[0].good_condition = Some(false);
        assert!(!warm.adequate_specimens());
        // Condition not yet known: not counted as adequate.
        let mut unknown = c;
        unknown.specimens[0].good_condition = None;
        assert!(!unknown.adequate_specimens());
    }

    #[test]
    fn investigation_within_48_hours() {
        let mut c = case();
        assert!(c.investigated_in_48h());
        c.investigated = Some(date!(2026 - 03 - 05));
        assert!(c.investigated_in_48h());
        c.investigated = Some(date!(2026 - 03 - 06));
        assert!(!c.investigated_in_48h());
        c.investigated = None;
        assert!(!c.investigated_in_48h());
    }

    #[test]
    fn suggested_classification() {
        let c = case();
        assert_eq!(c.suggested_class(), AfpClass::NonPolio);
        let mut wild = c.clone();
        wild.specimens[0].result = StoolResult::WildPoliovirus;
        assert_eq!(wild.suggested_class(), AfpClass::ConfirmedWild);
        let mut pending = c.clone();
        pending.specimens[1].result = StoolResult::Pending;
        assert_eq!(pending.suggested_class(), AfpClass::Pending);
        let mut inadequate = c.clone();
        inadequate.specimens.truncate(1);
        assert_eq!(inadequate.suggested_class(), AfpClass::Pending);
        inadequate.follow_up = FollowUp::ResidualParalysis;
        assert_eq!(inadequate.suggested_class(), AfpClass::Compatible);
        inadequate.follow_up = FollowUp::NoResidualParalysis;
        assert_eq!(inadequate.suggested_class(), AfpClass::NonPolio);
    }

    #[test]
    fn validation_names_fields() {
        let mut c = case();
        c.epid = "bad".into();
        c.notified = date!(2026 - 02 - 01);
        c.specimens[0].lab_arrival = Some(date!(2026 - 03 - 01));
        let e = c.validate().unwrap_err();
        for f in ["epid", "notified", "specimens[1].lab_arrival"] {
            assert!(e.for_field(f).is_some(), "{f}: {e}");
        }
        assert!(valid_epid("KAZ-ALA-2026-001"));
        assert!(valid_epid("KAZ-43-SHI-2026-12"));
        assert!(!valid_epid("KAZ-ALA-26-001"));
    }

    #[test]
    fn classification_may_not_contradict_the_lab() {
        let mut c = case();
        c.classification = AfpClass::ConfirmedWild;
        assert!(check_class_against_facts(&c).is_some());
        c.specimens[0].result = StoolResult::WildPoliovirus;
        assert!(check_class_against_facts(&c).is_none());
        c.classification = AfpClass::NonPolio;
        assert!(check_class_against_facts(&c).is_some());
    }
}
