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
//! No I/O, no database, no async: parsers take `&[u8]`/`&str`, so each rule is tested
//! directly and parsers can be fuzzed.

pub mod equity;
pub mod exchange;
pub mod meta;
pub mod model;
pub mod progress;

/// Database migrations of this pillar (versions in its own thousand; see bala_store::migrate).
pub const MIGRATIONS: &[bala_store::migrate::Migration] = &[];

/// Columns of this pillar's tables that hold a person id, re-pointed when records merge.
pub const PERSON_REFS: &[bala_registry::people::PersonRef] = &[];
