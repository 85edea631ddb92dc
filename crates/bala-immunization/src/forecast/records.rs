//! What is recorded about a child: doses given, contraindications, refusals.
//!
//! Plain data in the shape storage and the API will hold it; dates are ISO text
//! when serialised.

use bala_core::Sex;
use serde::{Deserialize, Serialize};
use time::Date;

/// Something a nurse or an importer noted about an administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdminFlag {
    /// Less than the full dose was given (spilled, child moved): WHO and ACIP say it does not count.
    PartialDose,
    /// The vial was outside the cold chain: potency cannot be assumed.
    ColdChainBreach,
    /// The lot was later recalled by the regulator.
    RecalledLot,
    /// Taken from a vaccination card or another system rather than seen given;
    /// informational, the dose still counts.
    Reported,
}

impl AdminFlag {
    /// Whether the flag makes the dose invalid.
    pub fn invalidates(self) -> bool {
        !matches!(self, AdminFlag::Reported)
    }

    pub(crate) fn invalid_code(self) -> &'static str {
        match self {
            AdminFlag::PartialDose => "partial-dose",
            AdminFlag::ColdChainBreach => "cold-chain-breach",
            AdminFlag::RecalledLot => "recalled-lot",
            AdminFlag::Reported => "reported",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            AdminFlag::PartialDose => "only a partial dose was given",
            AdminFlag::ColdChainBreach => "the vaccine was outside the cold chain",
            AdminFlag::RecalledLot => "the lot was recalled",
            AdminFlag::Reported => "the dose was reported, not observed",
        }
    }
}

/// One injection (or oral dose) of one product on one day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Administration {
    /// The storage id, carried through so verdicts can be linked back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(with = "crate::serde_date")]
    pub date: Date,
    /// A product code of the calendar (`HEXA`, `MMR` …).
    pub product: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_date::option"
    )]
    pub lot_expiry: Option<Date>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<AdminFlag>,
}

impl Administration {
    /// A dose of `product` on `date` with nothing else recorded.
    pub fn new(date: Date, product: impl Into<String>) -> Administration {
        Administration {
            id: None,
            date,
            product: product.into(),
            lot_expiry: None,
            flags: Vec::new(),
        }
    }

    /// The canonical processing order: by date, then by every other field, so
    /// two same-day records are always taken in the same order whatever order
    /// storage returned them in.
    pub(crate) fn sort_key(&self) -> (Date, &str, Option<Date>, &[AdminFlag], Option<&str>) {
        (
            self.date,
            &self.product,
            self.lot_expiry,
            &self.flags,
            self.id.as_deref(),
        )
    }
}

/// A reason not to give an antigen, for a time or for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contraindication {
    pub antigen: String,
    /// First day it applies; `None` = applies to any evaluation date (e.g. entered
    /// without a date). Lets an "as of" evaluation ignore later findings.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_date::option"
    )]
    pub since: Option<Date>,
    /// Last day it applies (inclusive); `None` = permanent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_date::option"
    )]
    pub until: Option<Date>,
    pub reason: String,
}

impl Contraindication {
    pub fn is_permanent(&self) -> bool {
        self.until.is_none()
    }

    /// Whether it stops the antigen being given on `on`.
    pub fn active_on(&self, on: Date) -> bool {
        self.since.is_none_or(|s| s <= on) && self.until.is_none_or(|u| on <= u)
    }
}

/// A caregiver's recorded refusal of an antigen on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub antigen: String,
    #[serde(with = "crate::serde_date")]
    pub date: Date,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Everything the forecast needs about one child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRecord {
    #[serde(with = "crate::serde_date")]
    pub birth: Date,
    /// Needed for sex-specific series (HPV for girls); unknown = eligible for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub administrations: Vec<Administration>,
    #[serde(default)]
    pub contraindications: Vec<Contraindication>,
    #[serde(default)]
    pub refusals: Vec<Refusal>,
}

impl ChildRecord {
    /// A child with nothing recorded yet.
    pub fn new(birth: Date, sex: Option<Sex>) -> ChildRecord {
        ChildRecord {
            birth,
            sex,
            administrations: Vec::new(),
            contraindications: Vec::new(),
            refusals: Vec::new(),
        }
    }
}
