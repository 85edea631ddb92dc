//! First-response deadlines and escalation.
//!
//! A case at immediate danger must get a first response (contact with the child)
//! within 24 hours; other levels have longer, configurable limits. When a set
//! share of the time has passed without a response the supervisor is alerted,
//! so there is still time to act; past the deadline the head of the
//! guardianship body is.

use super::workflow::{Case, CaseState};
use crate::instrument::RiskLevel;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Response limits per risk level in hours (whole hours keep the setting easy to
/// edit and store); `None` means no deadline for that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsePolicy {
    pub immediate_danger_hours: u32,
    pub high_hours: Option<u32>,
    pub medium_hours: Option<u32>,
    pub low_hours: Option<u32>,
    /// Share of the time (percent, clamped to 1–99) after which the supervisor is alerted.
    pub escalate_at_percent: u8,
}

impl Default for ResponsePolicy {
    /// 24 hours for immediate danger as required; the other limits are proposals.
    fn default() -> Self {
        ResponsePolicy {
            immediate_danger_hours: 24,
            high_hours: Some(72),
            medium_hours: Some(7 * 24),
            low_hours: None,
            escalate_at_percent: 75,
        }
    }
}

impl ResponsePolicy {
    pub fn limit(&self, risk: RiskLevel) -> Option<Duration> {
        let hours = match risk {
            RiskLevel::ImmediateDanger => Some(self.immediate_danger_hours),
            RiskLevel::High => self.high_hours,
            RiskLevel::Medium => self.medium_hours,
            RiskLevel::Low => self.low_hours,
        };
        hours.map(|h| Duration::hours(h.into()))
    }

    /// The clock that starts at `at` for a case at `risk`.
    pub fn clock(&self, risk: RiskLevel, at: OffsetDateTime) -> Option<Clock> {
        let limit = self.limit(risk)?;
        let percent = i64::from(self.escalate_at_percent.clamp(1, 99));
        let escalate_after = Duration::seconds(limit.whole_seconds() * percent / 100);
        Some(Clock {
            started_at: at,
            escalate_at: at + escalate_after,
            due_at: at + limit,
        })
    }
}

/// A running deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub escalate_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
}

/// Where a case stands against its first-response deadline at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ResponseStatus {
    /// The risk level sets no deadline.
    NoDeadline,
    /// A response was made; `on_time` compares it with the deadline.
    Responded {
        on_time: bool,
    },
    /// Closed before any response (e.g. registered in error).
    ClosedWithoutResponse,
    Pending,
    /// Past the escalation point, not yet past the deadline.
    DueSoon,
    Overdue {
        overdue_by_minutes: i64,
    },
}

/// Who should be alerted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    None,
    Supervisor,
    /// The head of the guardianship body: the deadline has passed.
    Head,
}

/// The first-response picture of a case at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstResponse {
    pub clock: Option<Clock>,
    pub status: ResponseStatus,
    pub escalation: Escalation,
}

impl FirstResponse {
    pub fn is_overdue(&self) -> bool {
        matches!(self.status, ResponseStatus::Overdue { .. })
    }
}

impl Case {
    /// The first-response status at `now`, and whom to alert.
    pub fn first_response(&self, now: OffsetDateTime) -> FirstResponse {
        let clock = self.response_clock;
        let status = match (clock, self.first_response_at) {
            (None, _) => ResponseStatus::NoDeadline,
            (Some(c), Some(at)) => ResponseStatus::Responded {
                on_time: at <= c.due_at,
            },
            (Some(_), None) if self.state == CaseState::Closed => {
                ResponseStatus::ClosedWithoutResponse
            }
            (Some(c), None) if now > c.due_at => ResponseStatus::Overdue {
                overdue_by_minutes: (now - c.due_at).whole_minutes(),
            },
            (Some(c), None) if now >= c.escalate_at => ResponseStatus::DueSoon,
            (Some(_), None) => ResponseStatus::Pending,
        };
        let escalation = match status {
            ResponseStatus::Overdue { .. } => Escalation::Head,
            ResponseStatus::DueSoon => Escalation::Supervisor,
            _ => Escalation::None,
        };
        FirstResponse {
            clock,
            status,
            escalation,
        }
    }
}
