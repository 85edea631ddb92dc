//! Suspected measles and rubella cases (case-based surveillance).
//!
//! A suspected case is fever with maculopapular rash (or a clinician's
//! suspicion). Each is investigated within 48 hours of notification and an
//! adequate specimen taken — serum within 28 days of rash onset — and tested for
//! measles and rubella IgM in a WHO-proficient laboratory. Final classification
//! (WHO 2018): laboratory-confirmed, epidemiologically linked to a confirmed
//! case, clinically compatible (no adequate specimen, no link), or discarded
//! (non-measles non-rubella: adequate specimen negative, or linked to another
//! confirmed disease, or a vaccine reaction).

use bala_core::{Date, ValidationErrors};
use serde::{Deserialize, Serialize};

use crate::afp::valid_epid;
use crate::days;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Igm {
    Pending,
    Positive,
    Negative,
    Equivocal,
    NotTested,
}

impl Igm {
    pub const ALL: [Igm; 5] = [
        Igm::Pending,
        Igm::Positive,
        Igm::Negative,
        Igm::Equivocal,
        Igm::NotTested,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Igm::Pending => "pending",
            Igm::Positive => "positive",
            Igm::Negative => "negative",
            Igm::Equivocal => "equivocal",
            Igm::NotTested => "not_tested",
        }
    }
    pub fn parse(s: &str) -> Option<Igm> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecimenKind {
    Serum,
    DriedBloodSpot,
    OralFluid,
    ThroatSwab,
    Urine,
}

impl SpecimenKind {
    pub const ALL: [SpecimenKind; 5] = [
        SpecimenKind::Serum,
        SpecimenKind::DriedBloodSpot,
        SpecimenKind::OralFluid,
        SpecimenKind::ThroatSwab,
        SpecimenKind::Urine,
    ];
    pub fn code(self) -> &'static str {
        match self {
            SpecimenKind::Serum => "serum",
            SpecimenKind::DriedBloodSpot => "dbs",
            SpecimenKind::OralFluid => "oral_fluid",
            SpecimenKind::ThroatSwab => "throat_swab",
            SpecimenKind::Urine => "urine",
        }
    }
    pub fn parse(s: &str) -> Option<SpecimenKind> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
    /// Specimens that detect IgM (serology); swabs and urine are for virus detection.
    pub fn is_serological(self) -> bool {
        matches!(
            self,
            SpecimenKind::Serum | SpecimenKind::DriedBloodSpot | SpecimenKind::OralFluid
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Specimen {
    pub kind: SpecimenKind,
    pub collected: Date,
    pub lab_arrival: Option<Date>,
    pub result_date: Option<Date>,
    pub measles_igm: Igm,
    pub rubella_igm: Igm,
    /// Tested in a laboratory of the WHO Global Measles and Rubella Laboratory
    /// Network with a passing proficiency test this year.
    pub proficient_lab: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeaslesClass {
    Pending,
    LabConfirmedMeasles,
    EpiLinkedMeasles,
    ClinicalMeasles,
    LabConfirmedRubella,
    EpiLinkedRubella,
    ClinicalRubella,
    /// Non-measles non-rubella (the "discarded" cases of the NMNR rate).
    Discarded,
}

impl MeaslesClass {
    pub const ALL: [MeaslesClass; 8] = [
        MeaslesClass::Pending,
        MeaslesClass::LabConfirmedMeasles,
        MeaslesClass::EpiLinkedMeasles,
        MeaslesClass::ClinicalMeasles,
        MeaslesClass::LabConfirmedRubella,
        MeaslesClass::EpiLinkedRubella,
        MeaslesClass::ClinicalRubella,
        MeaslesClass::Discarded,
    ];
    pub fn code(self) -> &'static str {
        match self {
            MeaslesClass::Pending => "pending",
            MeaslesClass::LabConfirmedMeasles => "lab_measles",
            MeaslesClass::EpiLinkedMeasles => "epi_measles",
            MeaslesClass::ClinicalMeasles => "clinical_measles",
            MeaslesClass::LabConfirmedRubella => "lab_rubella",
            MeaslesClass::EpiLinkedRubella => "epi_rubella",
            MeaslesClass::ClinicalRubella => "clinical_rubella",
            MeaslesClass::Discarded => "discarded",
        }
    }
    pub fn parse(s: &str) -> Option<MeaslesClass> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
    pub fn is_measles(self) -> bool {
        matches!(
            self,
            MeaslesClass::LabConfirmedMeasles
                | MeaslesClass::EpiLinkedMeasles
                | MeaslesClass::ClinicalMeasles
        )
    }
    pub fn is_rubella(self) -> bool {
        matches!(
            self,
            MeaslesClass::LabConfirmedRubella
                | MeaslesClass::EpiLinkedRubella
                | MeaslesClass::ClinicalRubella
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeaslesCase {
    pub epid: String,
    pub area_code: String,
    pub rash_onset: Date,
    pub notified: Date,
    pub investigated: Option<Date>,
    pub mcv_doses: Option<i64>,
    pub specimens: Vec<Specimen>,
    /// EPID of a confirmed case this one is linked to (contact or same chain).
    pub linked_to: Option<String>,
    /// Classification of the linked case, when known.
    pub linked_class: Option<MeaslesClass>,
    pub classification: MeaslesClass,
}

impl MeaslesCase {
    /// Adequate specimen: a serological specimen collected within 28 days of rash onset.
    pub fn adequate_specimen(&self) -> bool {
        self.specimens.iter().any(|s| {
            s.kind.is_serological() && (0..=28).contains(&days(self.rash_onset, s.collected))
        })
    }

    /// An adequate specimen tested in a proficient laboratory (WHO indicator).
    pub fn adequate_specimen_tested(&self) -> bool {
        self.specimens.iter().any(|s| {
            s.kind.is_serological()
                && (0..=28).contains(&days(self.rash_onset, s.collected))
                && s.proficient_lab
                && !matches!(s.measles_igm, Igm::Pending | Igm::NotTested)
        })
    }

    /// Adequate investigation within 48 hours of notification.
    pub fn investigated_in_48h(&self) -> bool {
        self.investigated
            .is_some_and(|i| (0..=2).contains(&days(self.notified, i)))
    }

    /// Laboratory results available within 4 days of the specimen's arrival.
    pub fn results_in_4_days(&self) -> Option<bool> {
        let s = self
            .specimens
            .iter()
            .find(|s| s.kind.is_serological() && s.lab_arrival.is_some())?;
        Some(
            s.result_date
                .is_some_and(|r| (0..=4).contains(&days(s.lab_arrival.expect("filtered"), r))),
        )
    }

    /// The classification the WHO scheme suggests; the UI shows it beside the
    /// epidemiologist's decision.
    pub fn suggested_class(&self) -> MeaslesClass {
        let tested: Vec<&Specimen> = self
            .specimens
            .iter()
            .filter(|s| s.kind.is_serological())
            .collect();
        if tested.iter().any(|s| s.measles_igm == Igm::Positive) {
            return MeaslesClass::LabConfirmedMeasles;
        }
        if tested.iter().any(|s| s.rubella_igm == Igm::Positive) {
            return MeaslesClass::LabConfirmedRubella;
        }
        match self.linked_class {
            Some(c) if c.is_measles() => return MeaslesClass::EpiLinkedMeasles,
            Some(c) if c.is_rubella() => return MeaslesClass::EpiLinkedRubella,
            _ => {}
        }
        let adequate_negative = tested.iter().any(|s| {
            (0..=28).contains(&days(self.rash_onset, s.collected))
                && s.measles_igm == Igm::Negative
                && s.rubella_igm == Igm::Negative
        });
        if adequate_negative {
            return MeaslesClass::Discarded;
        }
        let waiting = tested.iter().any(|s| {
            matches!(s.measles_igm, Igm::Pending) || matches!(s.rubella_igm, Igm::Pending)
        });
        if waiting || self.investigated.is_none() {
            MeaslesClass::Pending
        } else {
            MeaslesClass::ClinicalMeasles
        }
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !valid_epid(&self.epid) {
            e.push("epid", "err-epid", "an EPID number like KAZ-ALA-2026-001");
        }
        if self.notified < self.rash_onset - time::Duration::days(30) {
            e.push(
                "notified",
                "err-before-onset",
                "notification long before rash onset",
            );
        }
        if self.investigated.is_some_and(|i| i < self.notified) {
            e.push(
                "investigated",
                "err-before-notification",
                "investigation cannot come before notification",
            );
        }
        for (n, s) in self.specimens.iter().enumerate() {
            if s.lab_arrival.is_some_and(|a| a < s.collected) {
                e.push(
                    format!("specimens[{}].lab_arrival", n + 1),
                    "err-arrival-before-collection",
                    "arrived before it was collected",
                );
            }
            if s.result_date
                .is_some_and(|r| s.lab_arrival.is_none_or(|a| r < a))
            {
                e.push(
                    format!("specimens[{}].result_date", n + 1),
                    "err-result-before-arrival",
                    "a result needs the specimen's arrival first",
                );
            }
        }
        if self.linked_to.as_deref().is_some_and(|l| !valid_epid(l)) {
            e.push(
                "linked_to",
                "err-epid",
                "an EPID number like KAZ-ALA-2026-001",
            );
        }
        if self.classification == MeaslesClass::LabConfirmedMeasles
            && !self
                .specimens
                .iter()
                .any(|s| s.measles_igm == Igm::Positive)
        {
            e.push(
                "classification",
                "err-class-needs-lab",
                "laboratory confirmation needs a positive result",
            );
        }
        if matches!(
            self.classification,
            MeaslesClass::EpiLinkedMeasles | MeaslesClass::EpiLinkedRubella
        ) && self.linked_to.is_none()
        {
            e.push(
                "linked_to",
                "err-class-needs-link",
                "an epidemiological link needs the linked case",
            );
        }
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn serum(collected: Date, m: Igm, r: Igm) -> Specimen {
        Specimen {
            kind: SpecimenKind::Serum,
            collected,
            lab_arrival: Some(collected + time::Duration::days(1)),
            result_date: Some(collected + time::Duration::days(3)),
            measles_igm: m,
            rubella_igm: r,
            proficient_lab: true,
        }
    }

    fn case() -> MeaslesCase {
        MeaslesCase {
            epid: "KAZ-ALA-2026-010".into(),
            area_code: "751110000".into(),
            rash_onset: date!(2026 - 04 - 01),
            notified: date!(2026 - 04 - 02),
            investigated: Some(date!(2026 - 04 - 03)),
            mcv_doses: Some(1),
            specimens: vec![serum(date!(2026 - 04 - 03), Igm::Negative, Igm::Negative)],
            linked_to: None,
            linked_class: None,
            classification: MeaslesClass::Pending,
        }
    }

    #[test]
    fn adequacy_and_timeliness() {
        let c = case();
        assert!(c.adequate_specimen() && c.adequate_specimen_tested() && c.investigated_in_48h());
        assert_eq!(c.results_in_4_days(), Some(true));
        let mut late = c.clone();
        late.specimens[0].collected = date!(2026 - 04 - 30);
        assert!(!late.adequate_specimen());
        let mut swab = c.clone();
        swab.specimens[0].kind = SpecimenKind::ThroatSwab;
        assert!(!swab.adequate_specimen());
        let mut not_proficient = c;
        not_proficient.specimens[0].proficient_lab = false;
        assert!(not_proficient.adequate_specimen() && !not_proficient.adequate_specimen_tested());
    }

    #[test]
    fn suggested_classification_follows_who() {
        let c = case();
        assert_eq!(c.suggested_class(), MeaslesClass::Discarded);
        let mut pos = c.clone();
        pos.specimens[0].measles_igm = Igm::Positive;
        assert_eq!(pos.suggested_class(), MeaslesClass::LabConfirmedMeasles);
        let mut rub = c.clone();
        rub.specimens[0].rubella_igm = Igm::Positive;
        assert_eq!(rub.suggested_class(), MeaslesClass::LabConfirmedRubella);
        let mut linked = c.clone();
        linked.specimens.clear();
        linked.linked_to = Some("KAZ-ALA-2026-001".into());
        linked.linked_class = Some(MeaslesClass::LabConfirmedMeasles);
        assert_eq!(linked.suggested_class(), MeaslesClass::EpiLinkedMeasles);
        let mut nothing = c.clone();
        nothing.specimens.clear();
        assert_eq!(nothing.suggested_class(), MeaslesClass::ClinicalMeasles);
        let mut waiting = c;
        waiting.specimens[0].measles_igm = Igm::Pending;
        assert_eq!(waiting.suggested_class(), MeaslesClass::Pending);
    }

    #[test]
    fn validation_names_fields() {
        let mut c = case();
        c.classification = MeaslesClass::LabConfirmedMeasles;
        c.specimens[0].result_date = Some(date!(2026 - 04 - 01));
        let e = c.validate().unwrap_err();
        assert!(e.for_field("classification").is_some());
        assert!(e.for_field("specimens[1].result_date").is_some());
    }
}
