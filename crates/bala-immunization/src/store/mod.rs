//! Storage of the immunization pillar: calendars as editable data, doses,
//! refusals and contraindications on a child's card, campaigns, official
//! target populations, and the queries the pages and the command line use
//! (due lists, coverage, zero-dose children).
//!
//! Coverage is counted from the valid-dose facts (`imm_facts`, one row per
//! child) and their counters, which [`facts::refresh_child`] rewrites in the
//! same transaction as any change to a child's doses; so a dose recorded now
//! shows in coverage at once and no nightly job exists to forget.

pub mod calendars;
pub mod campaigns;
pub mod card;
pub mod coverage;
pub mod doses;
pub mod duelist;
pub mod facts;
pub mod import;
pub mod population;
pub mod summary;
pub mod synth;

use bala_core::{parse_date, Date, ValidationErrors};

pub use bala_registry::RegistryError as Error;

pub(crate) fn iso(d: Date) -> String {
    bala_core::date::iso(d)
}

pub(crate) fn opt_iso(d: Option<Date>) -> Option<String> {
    d.map(iso)
}

pub(crate) fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Reads a date field, naming it when malformed or (if `past_only`) in the future.
pub(crate) fn date_field(
    e: &mut ValidationErrors,
    field: &str,
    raw: &str,
    required: bool,
    past_only: bool,
) -> Option<Date> {
    let t = raw.trim();
    if t.is_empty() {
        if required {
            e.push(field, "err-required", "this date is required");
        }
        return None;
    }
    match parse_date(t) {
        Ok(d) if past_only && d > today() => {
            e.push(field, "err-date-future", "the date is in the future");
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            e.push(field, "err-date", "not a date in the form YYYY-MM-DD");
            None
        }
    }
}

/// A trimmed optional text field, capped so one form cannot fill the disk.
pub(crate) fn text_field(e: &mut ValidationErrors, field: &str, raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.chars().count() > 200 {
        e.push(field, "err-too-long", "at most 200 characters");
        return None;
    }
    (!t.is_empty()).then(|| t.to_string())
}
