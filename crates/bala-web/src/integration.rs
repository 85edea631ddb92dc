//! Wiring between pillars that must not depend on each other.
//!
//! The welfare pillar's alert rules need immunization facts; it asks for them
//! through its own trait (`ImmunizationSource`) so that neither pillar crate
//! depends on the other (each keeps its own tests fast to build, ADR 1). This
//! crate sees both, so the adapter lives here, and the command line (demo,
//! alert runs) uses the same one as the pages.

use bala_store::Db;
use bala_welfare::store::alerts::{FactsFuture, ImmunizationFacts, ImmunizationSource};
use time::Date;

/// Immunization facts read from the immunization register
/// (`bala_immunization::store::summary`).
///
/// "Registered for immunization" means the child's card has been started: a
/// dose, refusal or contraindication is recorded (see `ChildSummary`). Where the
/// child's district does not record doses in Bala at all, every fact is
/// unknown, so rules stay silent instead of calling every child there
/// unvaccinated.
#[derive(Debug, Default, Clone, Copy)]
pub struct RegisterImmunization;

impl ImmunizationSource for RegisterImmunization {
    fn facts<'a>(&'a self, db: &'a Db, person_id: i64, _birth: Date, on: Date) -> FactsFuture<'a> {
        Box::pin(async move {
            Ok(
                match bala_immunization::store::summary::child(db, person_id, on).await? {
                    Some(s) => ImmunizationFacts {
                        zero_dose: Some(s.zero_dose),
                        max_days_overdue: Some(s.max_days_overdue),
                        registered_for_immunization: Some(s.registered),
                    },
                    None => ImmunizationFacts::default(),
                },
            )
        })
    }
}
