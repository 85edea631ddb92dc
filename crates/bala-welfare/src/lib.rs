//! The child-welfare pillar: the risk-screening instrument, scoring,
//! cross-pillar alert rules, the case-management workflow, small-cell
//! suppression for published statistics, the case gate ([`gate`]) and
//! encryption of narratives ([`crypt`], which also reads the key file) and their storage
//! ([`store`]). See `docs/welfare.md`.
//!
//! Instruments and alert rules are versioned *data*
//! (TOML files under `data/`) because practitioners, not programmers, must be
//! able to review and change them; this crate validates, stores and applies them.
//! HTTP lives in `bala-web`, which calls [`store`].
//!
//! Shipped data (both weighted as *proposals* for practitioners to review):
//! - `data/screening-kz-v1.toml`: [`Instrument::default_kz`]
//! - `data/alert-rules-v1.toml`: [`RuleSet::default_kz`]

pub mod alerts;
pub mod case;
pub mod crypt;
pub mod gate;
pub mod instrument;
pub mod scoring;
pub mod store;
pub mod suppression;
pub mod text;
pub mod vocab;

pub use alerts::{evaluate_rules, hit_rates, Facts, FiredAlert, HitRate, RuleSet, Severity};
pub use case::{Case, CaseState, ResponsePolicy, Role, TransitionRequest};
pub use instrument::{Instrument, RiskLevel};
pub use scoring::{score, Answer, AnswerValue, ScreeningContext, ScreeningResult};
pub use suppression::{
    suppress_1d, suppress_2d, Cell, Policy as SuppressionPolicy, Table1D, Table2D,
};
pub use text::{Lang, Text};

/// Database migrations of this pillar (versions in its own thousand; see bala_store::migrate).
pub const MIGRATIONS: &[bala_store::migrate::Migration] = &[bala_store::migrate::Migration {
    version: 4001,
    name: "welfare",
    sql: include_str!("../migrations/4001_welfare.sql"),
}];

/// Columns of this pillar's tables that hold a person id, re-pointed when records merge.
pub const PERSON_REFS: &[bala_registry::people::PersonRef] = &[
    bala_registry::people::PersonRef {
        table: "welfare_cases",
        column: "person_id",
        area: None,
    },
    bala_registry::people::PersonRef {
        table: "welfare_screenings",
        column: "person_id",
        area: None,
    },
    bala_registry::people::PersonRef {
        table: "welfare_concerns",
        column: "person_id",
        area: None,
    },
    bala_registry::people::PersonRef {
        table: "welfare_referrals",
        column: "person_id",
        area: None,
    },
    bala_registry::people::PersonRef {
        table: "welfare_alerts",
        column: "person_id",
        area: None,
    },
];
