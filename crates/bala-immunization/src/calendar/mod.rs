//! The national immunization calendar as data.
//!
//! The schedule changes by decree (2009, 2020, amendments in 2021 and 2024) and
//! parts of it are known only from secondary sources, so it is never code: a
//! [`Calendar`] is loaded from TOML (see `data/`), edited by an administrator,
//! checked by [`Calendar::validate`], and chosen by date with [`select`].
//! Every dose row carries how sure we are of it ([`Certainty`]) and where its
//! minimum age and interval come from, so the UI can show both.

mod io;
mod select;
mod validate;

pub use io::{bundled, CalendarError, KZ_2009_TOML, KZ_2020_TOML};
pub use select::{select, validate_set};

use crate::span::Span;
use bala_core::Sex;
use serde::{Deserialize, Serialize};
use time::Date;

/// A name in the three languages Bala is used in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

/// How sure we are that a row matches the law in force. Shown next to the row so
/// nobody mistakes a reconstruction for the decree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certainty {
    /// Checked against the decree's own text.
    Decree,
    /// Stated in a peer-reviewed publication.
    PeerReviewed,
    /// Press reports quoting the decree or an official.
    Press,
    /// Secondary sources (guides, clinic sites) that agree with each other.
    Secondary,
    /// Reconstructed or single-source; must be checked before relying on it.
    Unverified,
}

/// A disease (or group) a series protects against: `DTP`, `MMR`, `HepB` …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Antigen {
    pub code: String,
    pub name: Names,
}

/// A vaccine product as recorded at the clinic. One injection of a combination
/// product counts as a dose of every antigen it lists (hexavalent = DTP, Hib,
/// HepB and Polio at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub code: String,
    pub name: Names,
    pub antigens: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One dose of a series: when it is recommended and the limits within which a
/// dose given counts as valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseRule {
    /// Position in the series, from 1.
    pub number: u32,
    /// Short name used in reports and explanations: `DTP1`, `MCV2`, `HepB-birth`.
    pub label: String,
    /// Age at which the national calendar gives this dose.
    pub recommended_age: Span,
    /// Youngest age at which the dose counts (before the grace period).
    pub min_age: Span,
    /// Least time after the previous valid dose of the series; none for dose 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval: Option<Span>,
    /// From this age on the dose is no longer given (and a dose given counts as invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Span>,
    /// How sure we are of the national timing of this row.
    pub status: Certainty,
    /// Why the row has that status, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Where `min_age`, `min_interval` and `max_age` come from (WHO position paper, DAK …).
    pub rule_source: String,
}

/// The ordered doses for one antigen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub antigen: String,
    /// Only children of this sex are eligible (HPV: girls); none = everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// Offered from this date on (a mid-life amendment, e.g. HPV in 2024); before it
    /// the series is reported as not applicable instead of overdue.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_date::option"
    )]
    pub introduced: Option<Date>,
    pub doses: Vec<DoseRule>,
}

/// One version of the national calendar, in force on `[valid_from, valid_to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// Stable identifier, lower case: `kz-2020`.
    pub id: String,
    /// First day this version applies.
    #[serde(with = "crate::serde_date")]
    pub valid_from: Date,
    /// First day it no longer applies (exclusive), so consecutive versions share a date.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_date::option"
    )]
    pub valid_to: Option<Date>,
    /// The legal act(s), cited in full.
    pub source: String,
    /// How sure we are of the calendar as a whole.
    pub status: Certainty,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_note: String,
    /// Days before a minimum age or interval that a dose still counts (WHO/ACIP: 4).
    pub grace_days: u32,
    /// How long after the recommended date a dose is still "due" before it is "overdue".
    pub overdue_after: Span,
    pub name: Names,
    pub antigens: Vec<Antigen>,
    pub products: Vec<Product>,
    pub series: Vec<Series>,
}

impl Calendar {
    pub fn antigen(&self, code: &str) -> Option<&Antigen> {
        self.antigens.iter().find(|a| a.code == code)
    }

    pub fn product(&self, code: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.code == code)
    }

    pub fn series_for(&self, antigen: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.antigen == antigen)
    }

    /// Whether `on` falls in this version's validity period.
    pub fn is_valid_on(&self, on: Date) -> bool {
        self.valid_from <= on && self.valid_to.is_none_or(|to| on < to)
    }
}

impl Series {
    /// Whether a child of this sex is eligible; an unknown sex is eligible, since
    /// wrongly hiding a due dose is worse than showing one that does not apply.
    pub fn applies_to(&self, sex: Option<Sex>) -> bool {
        match (self.sex, sex) {
            (Some(required), Some(actual)) => required == actual,
            _ => true,
        }
    }
}
