//! The permission gate: the only place that says which role may do what.
//!
//! Handlers never test roles themselves; they ask `can(principal, action)`.
//! The table below is the whole policy, so a reviewer can read it at once and
//! the authorization test can walk it.

use bala_core::AreaCode;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages accounts, areas, calendars and instruments; reads the audit trail.
    Admin,
    /// Works with aggregates and indicators only — never sees a person.
    Analyst,
    /// Oversees a region: its register, coverage, and approves its indicator values.
    RegionalManager,
    /// District nurse or immunization officer.
    HealthWorker,
    /// District social worker: screenings, cases, referrals.
    SocialWorker,
    /// Supervises social workers: caseloads, escalations.
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Analyst,
        Role::RegionalManager,
        Role::HealthWorker,
        Role::SocialWorker,
        Role::Supervisor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::RegionalManager => "regional_manager",
            Role::HealthWorker => "health_worker",
            Role::SocialWorker => "social_worker",
            Role::Supervisor => "supervisor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role '{s}'; roles are: {}",
                    Role::ALL.map(|r| r.code()).join(", ")
                )
            })
    }
}

/// Everything a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read identifiable data about people (names, IIN, contacts) in scope.
    ViewPeople,
    /// Register and edit people and households in scope.
    EditPeople,
    /// Merge duplicate records.
    MergePeople,
    /// Browse the area tree (not personal).
    ViewAreas,
    /// See aggregate figures (coverage, indicators) — no personal data.
    ViewAggregates,
    /// Manage user accounts.
    ManageUsers,
    /// Read the audit trail.
    ViewAudit,
    /// Edit reference data: calendars, screening instruments, alert rules, code lists.
    ManageReference,
    /// Read vaccination cards, due lists.
    ViewImmunization,
    /// Record doses, refusals, contraindications; campaigns.
    RecordImmunization,
    /// Record and read AFP and measles case investigations.
    Surveillance,
    /// Enter indicator values.
    EditIndicators,
    /// Approve indicator values for publication beyond the region.
    ApproveIndicators,
    /// Fill in a screening or concern report (any front-line worker).
    Screen,
    /// Work on child-welfare cases assigned or shared.
    ManageCases,
    /// Supervisor's view: all cases of their workers, escalations.
    SuperviseCases,
    /// Import and export personal data in bulk.
    BulkExchange,
}

/// The policy.
fn role_permits(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => !matches!(action, ManageCases | SuperviseCases | Screen),
        Role::Analyst => matches!(action, ViewAreas | ViewAggregates | EditIndicators),
        Role::RegionalManager => matches!(
            action,
            ViewPeople
                | EditPeople
                | MergePeople
                | ViewAreas
                | ViewAggregates
                | ViewImmunization
                | Surveillance
                | EditIndicators
                | ApproveIndicators
                | BulkExchange
        ),
        Role::HealthWorker => matches!(
            action,
            ViewPeople
                | EditPeople
                | ViewAreas
                | ViewAggregates
                | ViewImmunization
                | RecordImmunization
                | Surveillance
                | Screen
        ),
        Role::SocialWorker => {
            matches!(
                action,
                ViewPeople | EditPeople | ViewAreas | ViewAggregates | Screen | ManageCases
            )
        }
        Role::Supervisor => matches!(
            action,
            ViewPeople | ViewAreas | ViewAggregates | Screen | ManageCases | SuperviseCases
        ),
    }
}

/// What an API token may do beyond its owner's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Read,
    ReadWrite,
}

impl TokenScope {
    pub fn code(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read_write",
        }
    }
    pub fn parse(s: &str) -> Option<TokenScope> {
        match s {
            "read" => Some(TokenScope::Read),
            "read_write" => Some(TokenScope::ReadWrite),
            _ => None,
        }
    }
}

/// An authenticated user (by session or API token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Areas the user may see, each with everything inside it.
    pub scope: Vec<AreaCode>,
    /// Set when the request came with an API token.
    pub token: Option<TokenScope>,
}

impl Principal {
    /// The scope as plain strings, for query parameters.
    pub fn scope_codes(&self) -> Vec<String> {
        self.scope.iter().map(|a| a.as_str().to_string()).collect()
    }
}

/// The one decision: may this principal's role do this action at all?
/// (Which records, is decided by the scope carried into every query.)
pub fn can(p: &Principal, action: Action) -> bool {
    role_permits(p.role, action)
}

/// Read-only API tokens read and never change anything: they may make any
/// request that reads (`writes == false`) that the role allows, and no other.
pub fn token_permits(p: &Principal, writes: bool) -> bool {
    !(writes && p.token == Some(TokenScope::Read))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            role,
            scope: vec![AreaCode::republic()],
            token: None,
        }
    }

    #[test]
    fn analysts_never_see_people() {
        let p = principal(Role::Analyst);
        for a in [
            Action::ViewPeople,
            Action::EditPeople,
            Action::ViewImmunization,
            Action::ManageCases,
            Action::BulkExchange,
        ] {
            assert!(!can(&p, a), "{a:?}");
        }
        assert!(can(&p, Action::ViewAggregates));
    }

    #[test]
    fn read_tokens_cannot_write() {
        let mut p = principal(Role::HealthWorker);
        assert!(token_permits(&p, true));
        p.token = Some(TokenScope::Read);
        assert!(!token_permits(&p, true));
        assert!(token_permits(&p, false));
        p.token = Some(TokenScope::ReadWrite);
        assert!(token_permits(&p, true));
    }

    #[test]
    fn only_admins_manage_users_and_read_audit() {
        for r in Role::ALL {
            let p = principal(r);
            assert_eq!(can(&p, Action::ManageUsers), r == Role::Admin);
            assert_eq!(can(&p, Action::ViewAudit), r == Role::Admin);
        }
    }

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
