//! Case management as a pure state machine.
//!
//! The steps follow the Inter-Agency Guidelines for Case Management and Child
//! Protection (2014) as Primero models them: register → assess → case plan →
//! implement → follow up → review → close, with a closed case reopenable. Who
//! may move a case is part of the rules (the plan is approved and the case closed
//! by a supervisor), and every move yields an event for the audit log. Deadlines
//! are computed from timestamps passed in, never from a clock read here, so
//! every rule is testable.

mod deadline;
mod referral;
mod workflow;

pub use deadline::{Clock, Escalation, FirstResponse, ResponsePolicy, ResponseStatus};
pub use referral::{
    Referral, ReferralError, ReferralOverdue, ReferralPolicy, ReferralStage, ReferralState,
};
pub use workflow::{
    allowed_transitions, Case, CaseEvent, CaseState, Closure, ClosureReason, Role, TransitionError,
    TransitionRequest,
};

#[cfg(test)]
mod tests;
