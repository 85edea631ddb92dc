//! Calendars to and from TOML, and the calendars shipped with Bala.
//!
//! TOML because administrators and reviewers read and diff these files by hand,
//! and comments can cite the source of each rule next to it.

use super::Calendar;
use bala_core::ValidationErrors;
use thiserror::Error;

/// Kazakhstan's calendar under Government Decree No. 612 (2020, as amended).
pub const KZ_2020_TOML: &str = include_str!("../../data/calendar-kz-2020.toml");
/// The earlier calendar under Decree No. 2295 (2009), a less certain reconstruction.
pub const KZ_2009_TOML: &str = include_str!("../../data/calendar-kz-2009.toml");

#[derive(Debug, Clone, PartialEq, Error)]
pub enum CalendarError {
    /// The text is not TOML or does not have the calendar's shape.
    #[error("the calendar file could not be read: {0}")]
    Parse(String),
    /// The text was read but the calendar is inconsistent.
    #[error("the calendar is inconsistent: {0}")]
    Invalid(ValidationErrors),
    /// Serialising failed (should not happen for a calendar built by this crate).
    #[error("the calendar could not be written as TOML: {0}")]
    Write(String),
}

impl Calendar {
    /// Reads and validates a calendar: a calendar that would give wrong due dates
    /// is refused at the door rather than discovered in a clinic.
    pub fn from_toml_str(text: &str) -> Result<Calendar, CalendarError> {
        let calendar = Calendar::from_toml_str_unchecked(text)?;
        calendar
            .validate()
            .into_result()
            .map_err(CalendarError::Invalid)?;
        Ok(calendar)
    }

    /// Reads without validating, for an editor that wants to show every problem of
    /// a draft at once via [`Calendar::validate`].
    pub fn from_toml_str_unchecked(text: &str) -> Result<Calendar, CalendarError> {
        toml::from_str(text).map_err(|e| CalendarError::Parse(e.to_string()))
    }

    /// Writes the calendar as TOML that [`Calendar::from_toml_str`] reads back
    /// unchanged (comments in a hand-written file are not kept).
    pub fn to_toml_string(&self) -> Result<String, CalendarError> {
        toml::to_string_pretty(self).map_err(|e| CalendarError::Write(e.to_string()))
    }
}

/// The calendars shipped in `data/`, oldest first. They are tested to load and
/// validate, so a failure here is a build defect, not a runtime condition.
pub fn bundled() -> Vec<Calendar> {
    [KZ_2009_TOML, KZ_2020_TOML]
        .into_iter()
        .map(|text| {
            Calendar::from_toml_str(text).expect("bundled calendars are tested to be valid")
        })
        .collect()
}
