//! Referrals to services (health, psychological, legal, educational, social).
//!
//! A referral is sent, then accepted or declined (with a reason) by the provider,
//! and an accepted one is completed. A referral nobody answers, or one accepted
//! but never delivered, is what lets a child fall between agencies, so both
//! waits have configurable limits after which the referral is overdue.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReferralState {
    Sent,
    Accepted,
    Declined { reason: String },
    Completed,
}

impl ReferralState {
    pub fn code(&self) -> &'static str {
        match self {
            ReferralState::Sent => "sent",
            ReferralState::Accepted => "accepted",
            ReferralState::Declined { .. } => "declined",
            ReferralState::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The service referred to, as the service catalogue codes it.
    pub service: String,
    pub state: ReferralState,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    /// When it was declined or completed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
}

/// How long a provider has to answer, and to deliver once accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralPolicy {
    pub respond_within_days: u32,
    pub complete_within_days: u32,
}

impl Default for ReferralPolicy {
    /// Proposals, to be set by each programme.
    fn default() -> Self {
        ReferralPolicy {
            respond_within_days: 3,
            complete_within_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStage {
    /// Waiting for the provider to accept or decline.
    Response,
    /// Accepted, waiting for the service to be delivered.
    Completion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralOverdue {
    pub stage: ReferralStage,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    pub overdue_by_days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferralError {
    #[error("a referral cannot go from {from} to {to}")]
    NotAllowed {
        from: &'static str,
        to: &'static str,
    },
    #[error("declining a referral needs a reason")]
    ReasonRequired,
    #[error("the time given is before the referral's previous step")]
    TimeOrder,
}

impl ReferralError {
    pub fn code(&self) -> &'static str {
        match self {
            ReferralError::NotAllowed { .. } => "err-referral-transition",
            ReferralError::ReasonRequired => "err-referral-decline-reason",
            ReferralError::TimeOrder => "err-referral-time",
        }
    }
}

impl Referral {
    pub fn send(service: impl Into<String>, at: OffsetDateTime) -> Referral {
        Referral {
            service: service.into(),
            state: ReferralState::Sent,
            sent_at: at,
            accepted_at: None,
            ended_at: None,
        }
    }

    fn last_step_at(&self) -> OffsetDateTime {
        self.ended_at.or(self.accepted_at).unwrap_or(self.sent_at)
    }

    fn step(
        &self,
        to: &'static str,
        allowed: bool,
        at: OffsetDateTime,
    ) -> Result<Referral, ReferralError> {
        if !allowed {
            return Err(ReferralError::NotAllowed {
                from: self.state.code(),
                to,
            });
        }
        if at < self.last_step_at() {
            return Err(ReferralError::TimeOrder);
        }
        Ok(self.clone())
    }

    pub fn accept(&self, at: OffsetDateTime) -> Result<Referral, ReferralError> {
        let mut next = self.step("accepted", self.state == ReferralState::Sent, at)?;
        next.state = ReferralState::Accepted;
        next.accepted_at = Some(at);
        Ok(next)
    }

    /// The provider declines, before or after accepting (it may find it cannot deliver).
    pub fn decline(&self, reason: &str, at: OffsetDateTime) -> Result<Referral, ReferralError> {
        let open = matches!(self.state, ReferralState::Sent | ReferralState::Accepted);
        let mut next = self.step("declined", open, at)?;
        if reason.trim().is_empty() {
            return Err(ReferralError::ReasonRequired);
        }
        next.state = ReferralState::Declined {
            reason: reason.trim().to_string(),
        };
        next.ended_at = Some(at);
        Ok(next)
    }

    pub fn complete(&self, at: OffsetDateTime) -> Result<Referral, ReferralError> {
        let mut next = self.step("completed", self.state == ReferralState::Accepted, at)?;
        next.state = ReferralState::Completed;
        next.ended_at = Some(at);
        Ok(next)
    }

    /// The wait that is overdue at `now`, if any. Declined and completed referrals never are.
    pub fn overdue(&self, policy: &ReferralPolicy, now: OffsetDateTime) -> Option<ReferralOverdue> {
        let (stage, due_at) = match (&self.state, self.accepted_at) {
            (ReferralState::Sent, _) => (
                ReferralStage::Response,
                self.sent_at + Duration::days(policy.respond_within_days.into()),
            ),
            (ReferralState::Accepted, Some(acc)) => (
                ReferralStage::Completion,
                acc + Duration::days(policy.complete_within_days.into()),
            ),
            _ => return None,
        };
        (now > due_at).then(|| ReferralOverdue {
            stage,
            due_at,
            overdue_by_days: (now - due_at).whole_days(),
        })
    }
}
