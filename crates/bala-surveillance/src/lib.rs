//! Disease surveillance for the immunization programme.
//!
//! Kazakhstan was certified polio-free with the WHO European Region in 2002 and
//! must keep showing it: every child under 15 with acute flaccid paralysis (AFP)
//! is investigated and two stool specimens tested. Measles and rubella
//! elimination is verified the same way, through case-based surveillance of
//! every suspected case. This crate holds those case records and computes the
//! WHO performance indicators that certification commissions look at.
//!
//! * [`afp`], [`measles`] — the cases and the pure rules (specimen adequacy,
//!   timely investigation, suggested classification).
//! * [`reporting`] — weekly reports from reporting sites, zero reports included.
//! * [`performance`] — the WHO indicators by area and year, with thresholds.
//! * [`store`] — storage (scoped by area, audited).
//!
//! Sources for thresholds: WHO, *Polio eradication: surveillance standards*
//! (AFP rate ≥ 2/100 000 under 15, ≥ 1 the certification minimum; ≥ 80 % adequate
//! stool specimens; ≥ 80 % investigated within 48 h; ≥ 80 % of reports on time);
//! WHO, *Surveillance standards for vaccine-preventable diseases: measles* (2018)
//! and the European Regional Verification Commission's criteria (discarded
//! non-measles non-rubella rate ≥ 2/100 000 nationally and in ≥ 80 % of
//! subnational units; ≥ 80 % adequately investigated within 48 h; ≥ 80 % with an
//! adequate specimen tested in a proficient laboratory; ≥ 80 % timeliness).

pub mod afp;
pub mod measles;
pub mod performance;
pub mod reporting;
pub mod store;

use bala_store::migrate::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 6001,
    name: "surveillance",
    sql: include_str!("../migrations/6001_surveillance.sql"),
}];

/// Columns that hold a person id (cases may be linked to the register).
pub const PERSON_REFS: &[bala_registry::people::PersonRef] = &[
    bala_registry::people::PersonRef {
        table: "afp_cases",
        column: "person_id",
        area: None,
    },
    bala_registry::people::PersonRef {
        table: "measles_cases",
        column: "person_id",
        area: None,
    },
];

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub(crate) fn days(a: time::Date, b: time::Date) -> i64 {
    (b - a).whole_days()
}
