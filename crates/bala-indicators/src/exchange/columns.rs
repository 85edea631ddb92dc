//! What an SDMX component (a CSV column, a JSON dimension or attribute) means for
//! an [`Observation`](crate::model::Observation).
//!
//! CSV files do not say whether a column is a dimension or an attribute (SDMX-CSV
//! leaves that to the data structure definition, which Bala does not fetch), so the
//! attributes that occur in UNICEF's and the SDG data structures are listed here;
//! any other column is a dimension. `UNIT_MEASURE` is treated as a dimension
//! although UNICEF declares it an attribute: kazstat files carry it as a breakdown
//! column, and keeping it in the key means values in different units are never
//! compared or summed.

/// Attribute ids kept in [`Observation::attributes`](crate::model::Observation)
/// when read from CSV (from UNICEF's global DSD and the SDG DSD).
pub const KNOWN_ATTRIBUTES: &[&str] = &[
    "UNIT_MULTIPLIER",
    "REF_PERIOD",
    "SOURCE_LINK",
    "SERIES_FOOTNOTE",
    "COUNTRY_NOTES",
    "OBS_CONF",
    "SOWC_FLAG_A",
    "TIME_PERIOD_METHOD",
    "COVERAGE_TIME",
    "FREQ_COLL",
    "DECIMALS",
    "OBS_PRE_BREAK",
    "NATURE",
    "REPORTING_TYPE",
    "COMMENT_TS",
    "TIME_DETAIL",
    "CUSTODIAN",
];

/// Attributes whose values are free text, never `CODE: label`.
const FREE_TEXT: &[&str] = &[
    "COUNTRY_NOTES",
    "SERIES_FOOTNOTE",
    "SOURCE_LINK",
    "OBS_FOOTNOTE",
    "COMMENT_OBS",
    "DATA_SOURCE",
    "COMMENT_TS",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    Indicator,
    Area,
    Period,
    Value,
    Lower,
    Upper,
    Status,
    Source,
    Footnote,
    /// SDMX-CSV 2.0's `ACTION` column.
    Action,
    /// Structure identification (`DATAFLOW`, `STRUCTURE`, `STRUCTURE_ID`): the same
    /// for every row, not part of an observation.
    Ignore,
    /// A column with an empty header (1-based position): must stay empty.
    Unnamed(usize),
    Attribute(String),
    Dimension(String),
}

impl Role {
    /// Whether values may be written `CODE: label` (SDMX-CSV `labels=both`).
    pub fn is_coded(&self) -> bool {
        match self {
            Role::Indicator | Role::Area | Role::Status | Role::Dimension(_) => true,
            Role::Attribute(id) => !FREE_TEXT.contains(&id.as_str()),
            _ => false,
        }
    }
}

/// The role of an SDMX component id.
pub(crate) fn role_of(id: &str) -> Role {
    match id {
        "INDICATOR" => Role::Indicator,
        "REF_AREA" => Role::Area,
        "TIME_PERIOD" => Role::Period,
        "OBS_VALUE" => Role::Value,
        "LOWER_BOUND" => Role::Lower,
        "UPPER_BOUND" => Role::Upper,
        "OBS_STATUS" => Role::Status,
        "DATA_SOURCE" => Role::Source,
        "OBS_FOOTNOTE" | "COMMENT_OBS" => Role::Footnote,
        "ACTION" => Role::Action,
        "DATAFLOW" | "STRUCTURE" | "STRUCTURE_ID" => Role::Ignore,
        _ if KNOWN_ATTRIBUTES.contains(&id) => Role::Attribute(id.to_string()),
        _ => Role::Dimension(id.to_string()),
    }
}

/// Whether a dimension/attribute id reads back into the same place from CSV.
pub(crate) fn csv_representable(id: &str, as_attribute: bool) -> bool {
    matches!(role_of(id), Role::Attribute(_)) == as_attribute
        && matches!(role_of(id), Role::Attribute(_) | Role::Dimension(_))
}
