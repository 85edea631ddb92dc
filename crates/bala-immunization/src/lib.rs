//! Bala's immunization pillar: pure logic (calendar, forecast, tables) and,
//! at the edge, its storage ([`store`]).
//!
//! * [`calendar`] — the national immunization calendar as versioned, validated
//!   data (TOML files in `data/`), and the choice of the version in force.
//! * [`forecast`] — judging each recorded dose valid or invalid against the
//!   calendar, and forecasting each series: complete, due, overdue … with the
//!   rule behind every date, plus the coverage helpers (DTP1, DTP3, zero-dose).
//!
//! Everything is plain functions over plain data so storage, HTTP and coverage
//! code can call it directly and every rule can be tested by example and property.

pub mod calendar;
pub mod forecast;
mod serde_date;
pub mod span;
pub mod store;
pub mod table;

pub use calendar::{Antigen, Calendar, CalendarError, Certainty, DoseRule, Names, Product, Series};
pub use span::Span;

/// Database migrations of this pillar (versions in its own thousand; see bala_store::migrate).
pub const MIGRATIONS: &[bala_store::migrate::Migration] = &[
    bala_store::migrate::Migration {
        version: 3001,
        name: "immunization",
        sql: include_str!("../migrations/3001_immunization.sql"),
    },
    bala_store::migrate::Migration {
        version: 3002,
        name: "fhir_codes",
        sql: include_str!("../migrations/3002_fhir_codes.sql"),
    },
    bala_store::migrate::Migration {
        version: 3003,
        name: "coverage_version",
        sql: include_str!("../migrations/3003_coverage_version.sql"),
    },
    bala_store::migrate::Migration {
        version: 3004,
        name: "doses_by_person",
        sql: include_str!("../migrations/3004_doses_by_person.sql"),
    },
    bala_store::migrate::Migration {
        version: 3005,
        name: "lists_by_area",
        sql: include_str!("../migrations/3005_lists_by_area.sql"),
    },
    bala_store::migrate::Migration {
        version: 3006,
        name: "lean_writes",
        sql: include_str!("../migrations/3006_lean_writes.sql"),
    },
    bala_store::migrate::Migration {
        version: 3007,
        name: "cohort_sizes",
        sql: include_str!("../migrations/3007_cohort_sizes.sql"),
    },
    bala_store::migrate::Migration {
        version: 3008,
        name: "first_due",
        sql: include_str!("../migrations/3008_first_due.sql"),
    },
    bala_store::migrate::Migration {
        version: 3009,
        name: "facts_by_person_only",
        sql: include_str!("../migrations/3009_facts_by_person_only.sql"),
    },
    bala_store::migrate::Migration {
        version: 3010,
        name: "judged_at_one",
        sql: include_str!("../migrations/3010_judged_at_one.sql"),
    },
    bala_store::migrate::Migration {
        version: 3011,
        name: "facts_per_child",
        sql: include_str!("../migrations/3011_facts_per_child.sql"),
    },
    bala_store::migrate::Migration {
        version: 3012,
        name: "external_ids_bytewise",
        sql: include_str!("../migrations/3012_external_ids_bytewise.sql"),
    },
    bala_store::migrate::Migration {
        version: 3013,
        name: "person_index_keys",
        sql: include_str!("../migrations/3013_person_index_keys.sql"),
    },
    bala_store::migrate::Migration {
        version: 3014,
        name: "dose_batches",
        sql: include_str!("../migrations/3014_dose_batches.sql"),
    },
    bala_store::migrate::Migration {
        version: 3015,
        name: "doses_by_area_only",
        sql: include_str!("../migrations/3015_doses_by_area_only.sql"),
    },
];

/// Columns of this pillar's tables that hold a person id, re-pointed when records merge.
/// `imm_facts` is derived, not re-pointed: the survivor's facts are
/// re-derived after a merge ([`store::doses::refresh_person`]).
pub const PERSON_REFS: &[bala_registry::people::PersonRef] = &[
    bala_registry::people::PersonRef {
        table: "imm_doses",
        column: "person_id",
        // A dose is filed under its child's area (migration 3015).
        area: Some("area_code"),
    },
    bala_registry::people::PersonRef {
        table: "imm_contraindications",
        column: "person_id",
        area: None,
    },
    bala_registry::people::PersonRef {
        table: "imm_refusals",
        column: "person_id",
        area: None,
    },
];
