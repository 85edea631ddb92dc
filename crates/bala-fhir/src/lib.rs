//! FHIR R4 for Bala's immunization data.
//!
//! Bala exchanges three resources: `Patient` (a child or caregiver of the
//! register), `Immunization` (a dose given, refused or entered in error) and
//! `ImmunizationRecommendation` (the forecast: what is due when, and why), as
//! single resources, `Bundle`s (type `collection` or `transaction`) or NDJSON
//! (one resource per line, as FHIR Bulk Data writes it).
//!
//! This crate only maps between FHIR JSON and plain records ([`PatientRecord`],
//! [`DoseRecord`], [`Forecast`]); storage calls it from both sides. Vaccine
//! codes go through a [`codes::CodeTable`] (CVX, ATC, SNOMED CT, local codes →
//! Bala's product codes) that administrators can extend.
//!
//! Identifiers (see `docs/adr/0008-fhir.md`): the IIN is written with
//! [`IIN_SYSTEM`] and identifier type `NNKAZ` (HL7 v2 table 0203: national
//! person identifier of Kazakhstan); on import any identifier of type `NNKAZ`
//! or whose system mentions "iin" is read as an IIN. The area is a KATO code in
//! the [`KATO_EXTENSION`] extension of the address.

pub mod codes;
pub mod export;
pub mod import;
#[cfg(feature = "store")]
pub mod store;

pub use codes::{CodeTable, Coding};
pub use export::{bundle, immunization, ndjson, patient, recommendation, refusal};
pub use import::{parse, Parsed, Problem, RefusalImport};

use bala_core::{Date, Sex};
use serde::{Deserialize, Serialize};

pub const IIN_SYSTEM: &str = "https://bala.kz/fhir/sid/iin";
pub const RECORD_SYSTEM: &str = "https://bala.kz/fhir/sid/person";
pub const DOSE_SYSTEM: &str = "https://bala.kz/fhir/sid/dose";
pub const KATO_EXTENSION: &str = "https://bala.kz/fhir/StructureDefinition/kato";
pub const PRODUCT_SYSTEM: &str = "https://bala.kz/fhir/CodeSystem/product";
pub const ANTIGEN_SYSTEM: &str = "https://bala.kz/fhir/CodeSystem/antigen";
pub const IDENTIFIER_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub const SITE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActSite";
pub const ROUTE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration";
pub const REASON_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
pub const RECOMMENDATION_STATUS_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status";
pub const LOINC: &str = "http://loinc.org";

/// A person as Bala exports and imports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientRecord {
    /// Bala's record number (export); the resource's own id (import).
    pub id: String,
    pub iin: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub family_name_lat: Option<String>,
    pub given_name_lat: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    pub phone: Option<String>,
    pub area_code: Option<String>,
    pub address: Option<String>,
}

/// What happened to a dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoseStatus {
    Completed,
    /// Recorded in error (voided in Bala).
    EnteredInError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseRecord {
    /// Bala's dose number (export); the resource's id (import).
    pub id: String,
    /// The patient's id as used in the same exchange (`Patient/<id>`).
    pub patient_id: String,
    pub status: DoseStatus,
    /// Bala product code (HEXA, MMR, …).
    pub product: String,
    pub date: Date,
    pub lot: Option<String>,
    pub lot_expiry: Option<Date>,
    /// v3-ActSite code: LA, RA, LT, RT, LD, RD.
    pub site: Option<String>,
    /// v3-RouteOfAdministration code: IM, SC, IDINJ, PO, NASINHL.
    pub route: Option<String>,
    pub facility: Option<String>,
    /// False for historical or reported doses.
    pub primary_source: bool,
    pub dose_number: Option<u32>,
    pub series: Option<String>,
}

/// One line of a forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastItem {
    /// Bala antigen code (DTP, MMR, …).
    pub antigen: String,
    /// due, overdue, complete, contraindicated, immune (FHIR's codes).
    pub status: String,
    pub dose_number: Option<u32>,
    pub series: Option<String>,
    pub earliest: Option<Date>,
    pub recommended: Option<Date>,
    pub overdue_from: Option<Date>,
    /// Why: the rule that produced the dates, in words.
    pub explanation: Option<String>,
    /// For a contraindicated series: the recorded reason and how long it holds.
    #[serde(default)]
    pub contraindication: Option<String>,
}

/// A caregiver's refusal of an antigen, exported as a `not-done` Immunization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusalRecord {
    pub patient_id: String,
    /// Bala antigen code (MMR, DTP, …): a refusal is of an antigen, not a product.
    pub antigen: String,
    pub date: Date,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub patient_id: String,
    pub date: Date,
    pub items: Vec<ForecastItem>,
}
