//! States, transitions and who may make them.

use super::deadline::{Clock, ResponsePolicy};
use crate::instrument::RiskLevel;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Registered,
    Assessment,
    CasePlan,
    Implementation,
    FollowUp,
    Review,
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 7] = [
        CaseState::Registered,
        CaseState::Assessment,
        CaseState::CasePlan,
        CaseState::Implementation,
        CaseState::FollowUp,
        CaseState::Review,
        CaseState::Closed,
    ];

    pub fn is_open(self) -> bool {
        self != CaseState::Closed
    }
}

/// The actor's relation to the case, decided by the access layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The case manager the case is assigned to.
    AssignedWorker,
    /// The assigned worker's supervisor (may also do anything the worker may).
    Supervisor,
    /// Anyone else with access to the case: may read, not move it.
    OtherStaff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    /// The plan's goals are met and the child is safe; only after a review.
    GoalsAchieved,
    /// Assessment found no protection concern; only before a plan exists.
    NoProtectionConcern,
    /// The family moved and the case went to the guardianship body of the new area.
    TransferredToOtherArea,
    /// The child turned 18.
    ChildReachedAdulthood,
    ChildDied,
    /// Contact with the family was lost despite attempts to trace it.
    LostContact,
    /// Registered in error or a duplicate of another case.
    RegisteredInError,
}

impl ClosureReason {
    pub const ALL: [ClosureReason; 7] = [
        ClosureReason::GoalsAchieved,
        ClosureReason::NoProtectionConcern,
        ClosureReason::TransferredToOtherArea,
        ClosureReason::ChildReachedAdulthood,
        ClosureReason::ChildDied,
        ClosureReason::LostContact,
        ClosureReason::RegisteredInError,
    ];

    /// Whether a case may be closed for this reason from `state`.
    pub fn allowed_from(self, state: CaseState) -> bool {
        use CaseState::*;
        match self {
            ClosureReason::GoalsAchieved => state == Review,
            ClosureReason::NoProtectionConcern => matches!(state, Registered | Assessment),
            _ => state.is_open(),
        }
    }
}

/// The moves between states and who may make each. A supervisor may make every
/// move; the assigned worker every move except approving a plan, sending a
/// reviewed case back to planning, closing and reopening.
pub fn allowed_transitions() -> &'static [(CaseState, CaseState, &'static [Role])] {
    use CaseState::*;
    const BOTH: &[Role] = &[Role::AssignedWorker, Role::Supervisor];
    const SUPERVISOR: &[Role] = &[Role::Supervisor];
    &[
        (Registered, Assessment, BOTH),
        (Assessment, CasePlan, BOTH),
        (CasePlan, Assessment, BOTH),
        (CasePlan, Implementation, SUPERVISOR),
        (Implementation, FollowUp, BOTH),
        (FollowUp, Implementation, BOTH),
        (FollowUp, Review, BOTH),
        (Review, CasePlan, SUPERVISOR),
        (Registered, Closed, SUPERVISOR),
        (Assessment, Closed, SUPERVISOR),
        (CasePlan, Closed, SUPERVISOR),
        (Implementation, Closed, SUPERVISOR),
        (FollowUp, Closed, SUPERVISOR),
        (Review, Closed, SUPERVISOR),
        (Closed, Assessment, SUPERVISOR),
    ]
}

fn roles_for(from: CaseState, to: CaseState) -> Option<&'static [Role]> {
    allowed_transitions()
        .iter()
        .find(|(f, t, _)| *f == from && *t == to)
        .map(|(_, _, r)| *r)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub reason: ClosureReason,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The workflow facts of one case (the rest of the case lives in storage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub state: CaseState,
    pub risk: RiskLevel,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    /// The first-response clock, if the risk level calls for one.
    pub response_clock: Option<Clock>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_response_at: Option<OffsetDateTime>,
    pub closure: Option<Closure>,
    pub times_reopened: u32,
}

/// A request to move a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRequest {
    pub to: CaseState,
    /// Required when closing, forbidden otherwise.
    #[serde(default)]
    pub closure_reason: Option<ClosureReason>,
    /// Required when reopening: why the case is open again.
    #[serde(default)]
    pub note: Option<String>,
}

impl TransitionRequest {
    pub fn to(to: CaseState) -> Self {
        Self {
            to,
            closure_reason: None,
            note: None,
        }
    }

    pub fn close(reason: ClosureReason) -> Self {
        Self {
            to: CaseState::Closed,
            closure_reason: Some(reason),
            note: None,
        }
    }

    pub fn reopen(note: impl Into<String>) -> Self {
        Self {
            to: CaseState::Assessment,
            closure_reason: None,
            note: Some(note.into()),
        }
    }
}

/// What happened, for the audit log and the case history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub from: CaseState,
    pub to: CaseState,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub closure_reason: Option<ClosureReason>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("a case cannot move from {from:?} to {to:?}")]
    NotAllowed { from: CaseState, to: CaseState },
    #[error("{role:?} may not move a case from {from:?} to {to:?}")]
    NotPermitted {
        role: Role,
        from: CaseState,
        to: CaseState,
    },
    #[error("closing a case needs a reason")]
    ClosureReasonRequired,
    #[error("a case cannot be closed as {reason:?} from {from:?}")]
    ClosureReasonNotAllowed {
        reason: ClosureReason,
        from: CaseState,
    },
    #[error("a closure reason is only given when closing")]
    UnexpectedClosureReason,
    #[error("reopening a case needs a note saying why")]
    ReopenNoteRequired,
    #[error("the time given is before the case was registered")]
    BeforeRegistration,
}

impl TransitionError {
    /// The Fluent message id for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::NotAllowed { .. } => "err-case-transition",
            TransitionError::NotPermitted { .. } => "err-case-permission",
            TransitionError::ClosureReasonRequired => "err-case-closure-reason-required",
            TransitionError::ClosureReasonNotAllowed { .. } => "err-case-closure-reason-state",
            TransitionError::UnexpectedClosureReason => "err-case-closure-reason-unexpected",
            TransitionError::ReopenNoteRequired => "err-case-reopen-note",
            TransitionError::BeforeRegistration => "err-case-time",
        }
    }
}

impl Case {
    /// A newly registered case; its response clock starts now if the risk needs one.
    pub fn register(risk: RiskLevel, at: OffsetDateTime, policy: &ResponsePolicy) -> Case {
        Case {
            state: CaseState::Registered,
            risk,
            registered_at: at,
            response_clock: policy.clock(risk, at),
            first_response_at: None,
            closure: None,
            times_reopened: 0,
        }
    }

    /// Moves the case, or says why it may not move. The case is not changed;
    /// the caller stores the returned case and event together.
    pub fn transition(
        &self,
        req: &TransitionRequest,
        role: Role,
        at: OffsetDateTime,
    ) -> Result<(Case, CaseEvent), TransitionError> {
        self.check(req, role, at)?;
        let mut next = self.clone();
        next.state = req.to;
        if (self.state, req.to) == (CaseState::Registered, CaseState::Assessment)
            && self.first_response_at.is_none()
        {
            next.first_response_at = Some(at); // starting the assessment is a response
        }
        match (self.state, req.to) {
            (_, CaseState::Closed) => {
                let reason = req.closure_reason.expect("checked");
                next.closure = Some(Closure { reason, at });
            }
            (CaseState::Closed, _) => {
                next.closure = None;
                next.times_reopened += 1;
            }
            _ => {}
        }
        let event = CaseEvent {
            from: self.state,
            to: req.to,
            role,
            at,
            closure_reason: req.closure_reason,
            note: req.note.clone(),
        };
        Ok((next, event))
    }

    fn check(
        &self,
        req: &TransitionRequest,
        role: Role,
        at: OffsetDateTime,
    ) -> Result<(), TransitionError> {
        let (from, to) = (self.state, req.to);
        let roles = roles_for(from, to).ok_or(TransitionError::NotAllowed { from, to })?;
        if !roles.contains(&role) {
            return Err(TransitionError::NotPermitted { role, from, to });
        }
        if at < self.registered_at {
            return Err(TransitionError::BeforeRegistration);
        }
        match (to, req.closure_reason) {
            (CaseState::Closed, None) => return Err(TransitionError::ClosureReasonRequired),
            (CaseState::Closed, Some(reason)) if !reason.allowed_from(from) => {
                return Err(TransitionError::ClosureReasonNotAllowed { reason, from })
            }
            (CaseState::Closed, Some(_)) => {}
            (_, Some(_)) => return Err(TransitionError::UnexpectedClosureReason),
            (_, None) => {}
        }
        let blank_note = req.note.as_deref().is_none_or(|n| n.trim().is_empty());
        if from == CaseState::Closed && blank_note {
            return Err(TransitionError::ReopenNoteRequired);
        }
        Ok(())
    }

    /// Records contact with the child before the assessment formally starts
    /// (a home visit the same night); only the first contact counts.
    pub fn record_first_response(&self, at: OffsetDateTime) -> Result<Case, TransitionError> {
        if at < self.registered_at {
            return Err(TransitionError::BeforeRegistration);
        }
        let mut next = self.clone();
        next.first_response_at = Some(self.first_response_at.map_or(at, |t| t.min(at)));
        Ok(next)
    }

    /// A new screening changed the risk level. A higher level can shorten the
    /// response deadline; a lower one never extends it.
    pub fn change_risk(
        &self,
        risk: RiskLevel,
        at: OffsetDateTime,
        policy: &ResponsePolicy,
    ) -> Case {
        let mut next = self.clone();
        next.risk = risk;
        if self.first_response_at.is_none() {
            next.response_clock = match (self.response_clock, policy.clock(risk, at)) {
                (Some(old), Some(new)) if new.due_at < old.due_at => Some(new),
                (None, new) => new,
                (old, _) => old,
            };
        }
        next
    }
}
