//! Bala's knowledge-management pillar: indicators, as pure logic over plain data.
//!
//! - [`model`]: the [`Observation`](model::Observation) every format is read into.
//! - [`progress`]: average annual rate of reduction (AARR) and progress to a target,
//!   as UNICEF and UN IGME compute them.
//! - [`equity`]: gaps between groups and rankings of areas.
//! - [`exchange`]: readers and writers for kazstat's tidy CSV, SDMX-CSV, SDMX-JSON,
//!   DHIS2 dataValueSets JSON and ADX XML, each reporting rejected rows by number.
//! - [`meta`]: indicator names, units and definitions from kazstat's Open SDG files,
//!   and the list of regions to resolve area codes to KATO.
//!
//! - [`registry`]: what an indicator is (kind, direction, frameworks, targets);
//!   [`reference`]: the registry, series and code lists Bala ships.
//! - [`quality`]: checks on entered values (ranges, numerator ≤ denominator,
//!   outliers against history).
//! - [`store`]: the stored side — registry, values with versions and approval,
//!   imports, computed series, code lists, dashboards.
//!
//! Everything but [`store`] is pure: parsers take `&[u8]`/`&str`, so each rule is
//! tested directly and parsers can be fuzzed.

pub mod equity;
pub mod exchange;
pub mod meta;
pub mod model;
pub mod progress;
pub mod quality;
pub mod reference;
pub mod registry;
pub mod store;

/// Database migrations of this pillar (versions in its own thousand; see bala_store::migrate).
pub const MIGRATIONS: &[bala_store::migrate::Migration] = &[bala_store::migrate::Migration {
    version: 5001,
    name: "indicators",
    sql: store::MIGRATION_SQL,
}];

/// Columns of this pillar's tables that hold a person id, re-pointed when records merge.
pub const PERSON_REFS: &[bala_registry::people::PersonRef] = &[];
