//! Judging recorded doses and forecasting what a child needs next.
//!
//! Two steps, both pure:
//!
//! 1. [`evaluate`] walks the child's administrations in date order and decides,
//!    for every antigen a product counts for, whether the dose is **valid**
//!    (counts towards the series) or **invalid** and why. Invalid doses never
//!    count: they do not advance the series and are not the "previous dose" an
//!    interval is measured from.
//! 2. [`forecast`] then gives each series a [`SeriesStatus`] and, when a dose is
//!    still needed, its earliest, recommended and overdue dates together with the
//!    rule that produced each one ([`DateRule`]).
//!
//! **Due and overdue.** The *earliest* date is the latest of: birth + minimum
//! age, previous valid dose + minimum interval, and the day after a temporary
//! contraindication ends. The *recommended* date is birth + recommended age, but
//! never before the earliest date (so a late starter is scheduled "as soon as
//! allowed", i.e. catch-up). With `T` = the calendar's `overdue_after`
//! (default 28 days) a dose is
//! * **not yet due** before the recommended date (even if the earliest date has
//!   passed: it *may* be given, it is not yet *expected*);
//! * **due** from the recommended date for `T` — the window `[recommended,
//!   recommended + T)`;
//! * **overdue** from `recommended + T` ([`NextDose::overdue_from`]); on that
//!   day it is 1 day overdue.
//!
//! The grace period (4 days) is used only to *accept* doses already given a
//! little early; it is never used to schedule, so no date this module proposes
//! is ever before the true minimum age or interval.
//!
//! Administrations dated after the evaluation date are reported invalid
//! ([`InvalidReason::AfterEvaluationDate`]): a future date is a data-entry slip
//! today, and it lets the same records be evaluated "as of" any past date.

mod coverage;
mod evaluate;
mod explain;
mod records;
mod status;

pub use coverage::{
    dose_date, hepb_birth_dose_within_24h, is_under_immunized, is_zero_dose, valid_dose_count, DTP,
};
pub use evaluate::{evaluate, evaluate_with};
pub use explain::DateRule;
pub use records::{AdminFlag, Administration, ChildRecord, Contraindication, Refusal};
pub use status::{
    first_due, series_forecast, series_forecast_with, NextDose, SeriesForecast, SeriesStatus,
};

use crate::calendar::Calendar;
use serde::{Deserialize, Serialize};
use time::Date;

/// Why a recorded dose does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason", content = "flag")]
pub enum InvalidReason {
    /// Given before the minimum age, even allowing the grace period.
    TooEarlyAge,
    /// Given too soon after the previous valid dose, even allowing the grace period.
    TooShortInterval,
    /// Given after the lot's expiry date.
    ExpiredLot,
    /// The product code is not in the calendar, so what it protects against is unknown.
    UnknownProduct,
    /// Given on or after the dose's maximum age.
    AfterMaxAge,
    /// The series was already complete.
    ExtraDose,
    /// Dated before the child's birth: a data-entry error.
    BeforeBirth,
    /// Dated after the evaluation date.
    AfterEvaluationDate,
    /// The product counts for an antigen the calendar has no series for
    /// (only possible with an unvalidated calendar).
    NoSeries,
    /// A recorded flag says the dose cannot count (partial dose, cold-chain breach, recalled lot).
    Flagged(AdminFlag),
}

impl InvalidReason {
    /// Stable code for storage and the API; also the Fluent message id suffix.
    pub fn code(self) -> &'static str {
        match self {
            InvalidReason::TooEarlyAge => "too-early-age",
            InvalidReason::TooShortInterval => "too-short-interval",
            InvalidReason::ExpiredLot => "expired-lot",
            InvalidReason::UnknownProduct => "unknown-product",
            InvalidReason::AfterMaxAge => "after-max-age",
            InvalidReason::ExtraDose => "extra-dose",
            InvalidReason::BeforeBirth => "before-birth",
            InvalidReason::AfterEvaluationDate => "after-evaluation-date",
            InvalidReason::NoSeries => "no-series",
            InvalidReason::Flagged(flag) => flag.invalid_code(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    Valid,
    Invalid(InvalidReason),
}

/// The verdict on one administration for one antigen (a hexavalent injection
/// yields four of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseEvaluation {
    pub administration: Administration,
    /// `None` only when the product is unknown or the record could not be placed
    /// in any series (before birth, after the evaluation date).
    pub antigen: Option<String>,
    pub outcome: Outcome,
    /// The dose of the series this was judged as: for a valid dose, the dose it
    /// counts as; `None` when no dose was in question (extra dose, unknown product).
    pub dose_number: Option<u32>,
    pub label: Option<String>,
    /// Valid only thanks to the grace period, worth showing to the nurse.
    pub grace_applied: bool,
    /// One English sentence naming the rule that decided the outcome.
    pub explanation: String,
}

impl DoseEvaluation {
    pub fn is_valid(&self) -> bool {
        self.outcome == Outcome::Valid
    }

    /// Whether this verdict is about `antigen`.
    pub fn is_for(&self, antigen: &str) -> bool {
        self.antigen.as_deref() == Some(antigen)
    }
}

/// Everything known about a child's immunization on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    pub calendar_id: String,
    #[serde(with = "crate::serde_date")]
    pub on: Date,
    pub evaluations: Vec<DoseEvaluation>,
    /// One entry per series, in the calendar's order.
    pub series: Vec<SeriesForecast>,
}

/// How much the engine writes down besides its verdicts.
///
/// A card shows an English sentence for every verdict and status; a due list
/// or the coverage counters judge thousands of children and show none, and
/// writing the sentences was most of their cost. Verdicts, statuses and dates
/// are the same either way (a property test holds them to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Verdicts with their explanations.
    Full,
    /// Verdicts only: every `explanation` is empty.
    Lean,
}

impl Detail {
    /// The explanation `write` gives, written only when it will be read.
    pub(crate) fn text(self, write: impl FnOnce() -> String) -> String {
        match self {
            Detail::Full => write(),
            Detail::Lean => String::new(),
        }
    }
}

/// Evaluates the child's doses and forecasts every series of `calendar` on `on`.
/// The result does not depend on the order of the records in `child`.
pub fn forecast(calendar: &Calendar, child: &ChildRecord, on: Date) -> Forecast {
    forecast_with(calendar, child, on, Detail::Full)
}

/// [`forecast`], writing explanations only at `detail`.
pub fn forecast_with(
    calendar: &Calendar,
    child: &ChildRecord,
    on: Date,
    detail: Detail,
) -> Forecast {
    let evaluations = evaluate_with(calendar, child.birth, &child.administrations, on, detail);
    let series = calendar
        .series
        .iter()
        .map(|s| series_forecast_with(calendar, s, child, &evaluations, on, detail))
        .collect();
    Forecast {
        calendar_id: calendar.id.clone(),
        on,
        evaluations,
        series,
    }
}

impl Forecast {
    pub fn series(&self, antigen: &str) -> Option<&SeriesForecast> {
        self.series.iter().find(|s| s.antigen == antigen)
    }
}
