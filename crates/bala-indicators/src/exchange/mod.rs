//! Reading and writing indicator data in the formats Bala exchanges.
//!
//! Every reader returns an [`Import`]: the observations it could read, and a
//! [`Rejection`] for each row it could not, naming the row, the field and the
//! problem, so a data manager can fix the file and load it again. A reader fails as
//! a whole ([`FormatError`]) only when the input is not that format at all (not CSV,
//! no header, not JSON, not XML). Readers never panic, whatever the bytes; a property
//! test feeds them arbitrary input.
//!
//! Every writer validates what it is given and refuses ([`WriteError`]) what the
//! format cannot carry, so that what it writes reads back as the same observations
//! (each round trip is a property test).

mod collect;
mod columns;
mod csv_table;
mod draft;

pub mod adx;
pub mod codemap;
pub mod dhis2;
pub mod sdmx_csv;
pub mod sdmx_json;
pub mod tidy_csv;
pub mod xlsx;

pub use codemap::{CodeKind, CodeMap, CodeMapping, DHIS2_DEFAULT_COMBO};
pub use columns::KNOWN_ATTRIBUTES;

use crate::model::Observation;
use bala_core::ValidationErrors;
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// Fluent message ids for the [`bala_core::FieldError`]s in rejections.
pub mod codes {
    pub const MISSING: &str = "indicators-missing";
    pub const NOT_NUMBER: &str = "indicators-not-number";
    pub const BAD_PERIOD: &str = "indicators-bad-period";
    pub const BAD_CODE: &str = "indicators-bad-code";
    pub const UNMAPPED: &str = "indicators-unmapped";
    pub const DUPLICATE: &str = "indicators-duplicate";
    pub const CONFLICT: &str = "indicators-conflict";
    pub const BAD_TEXT: &str = "indicators-bad-text";
    pub const UNEXPECTED: &str = "indicators-unexpected";
}

/// What a reader got out of one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    pub observations: Vec<Observation>,
    /// In row order.
    pub rejected: Vec<Rejection>,
    /// Where each accepted observation came from: (row, location), parallel to
    /// `observations`, so later checks can name the row too.
    pub positions: Vec<(usize, String)>,
}

impl Import {
    /// One line for logs and the CLI.
    pub fn summary(&self) -> String {
        format!(
            "{} observations read, {} rows rejected",
            self.observations.len(),
            self.rejected.len()
        )
    }
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// 1-based. CSV: the line number (the header is line 1). DHIS2 JSON: position in
    /// `dataValues`. ADX: position of the `dataValue` element in the document.
    /// SDMX-JSON: position of the observation in the message.
    pub row: usize,
    /// Where to look, in the format's own terms (`line 12`, `dataValues[3]`,
    /// `series 0:1:0, observation 4`).
    pub location: String,
    pub errors: ValidationErrors,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .errors
            .0
            .iter()
            .map(|e| {
                format!(
                    "{} in row {} ({}, field {})",
                    e.detail, self.row, self.location, e.field
                )
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// The input as a whole is not the expected format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    #[error("the input is empty or has no header line")]
    Empty,
    #[error("the header is not UTF-8 text")]
    Encoding,
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("the header has no {column} column")]
    MissingColumn { column: String },
    #[error("column {0} appears twice in the header")]
    DuplicateColumn(String),
    #[error("there is no INDICATOR column or dimension and no indicator was given for the file")]
    NoIndicator,
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not {expected}: {message}")]
    Structure {
        expected: &'static str,
        message: String,
    },
    #[error("XML error at byte {position}: {message}")]
    Xml { position: u64, message: String },
}

/// A writer cannot represent the observations it was given.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum WriteError {
    #[error("observation {index} is invalid: {errors}")]
    Invalid {
        index: usize,
        errors: ValidationErrors,
    },
    #[error("this format holds one indicator per file; found {first} and {second}")]
    MixedIndicators { first: String, second: String },
    #[error("no {kind} mapping in code map '{system}' for Bala code '{code}'")]
    Unmapped {
        system: String,
        kind: CodeKind,
        code: String,
    },
    #[error("two observations have the same key: {0}")]
    Duplicate(String),
    #[error("{0}")]
    NotRepresentable(String),
}

/// Validates every observation and rejects duplicate keys, as every writer must.
fn check_for_writing(observations: &[Observation]) -> Result<(), WriteError> {
    let mut seen = std::collections::HashSet::new();
    for (index, o) in observations.iter().enumerate() {
        o.validate()
            .map_err(|errors| WriteError::Invalid { index, errors })?;
        if !seen.insert(o.key()) {
            return Err(WriteError::Duplicate(o.key().to_string()));
        }
    }
    Ok(())
}

/// Number text as Bala writes it: Rust's shortest representation that reads back
/// to the same `f64`, never in exponent form (`19.55`, `100`, `0.0000001`).
fn number_text(x: f64) -> String {
    format!("{x}")
}
