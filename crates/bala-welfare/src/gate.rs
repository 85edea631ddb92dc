//! Who may do what to one case: the welfare pillar's record-level gate.
//!
//! Authorization happens in two steps, each in one place:
//! 1. the route's rule (`bala_access::gate::can`: may this *role* manage cases at all);
//! 2. this module, for *this case*: the viewer's [`Relation`] to the case is
//!    computed in SQL by `store::access` (assigned worker, supervisor of the
//!    case's area, explicit share, unexpired emergency access) and [`permits`]
//!    decides each action from it. Lists use the same SQL condition
//!    (`store::access::push_visible`), so a case a user may not read is never
//!    loaded and answers 404 like an absent one.
//!
//! Sensitive cases (sexual violence, trafficking, or marked so by their worker)
//! are restricted further: explicit shares do not open them; only the assigned
//! worker, the area's supervisors and time-limited, audited emergency access do.

use crate::case::Role;
use serde::{Deserialize, Serialize};

/// How the viewer stands to one case (several may hold at once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// The case is assigned to the viewer.
    pub assigned: bool,
    /// The viewer supervises the case's area.
    pub supervisor: bool,
    /// The case was shared with the viewer (and not revoked).
    pub shared: bool,
    /// The viewer holds unexpired emergency access to the case.
    pub break_glass: bool,
}

/// What a viewer wants to do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// See the case, its timeline, plan, documents.
    Read,
    /// Add notes, visits, plan items, referrals, documents, consents; record the first response.
    Work,
    /// Share with or unshare from another user.
    Share,
    /// Hand the case to another worker or district.
    Transfer,
    /// Mark or unmark the case as sensitive.
    SetSensitivity,
}

impl CaseAction {
    pub const ALL: [CaseAction; 5] = [
        CaseAction::Read,
        CaseAction::Work,
        CaseAction::Share,
        CaseAction::Transfer,
        CaseAction::SetSensitivity,
    ];
}

impl Relation {
    pub fn none(&self) -> bool {
        !(self.assigned || self.supervisor || self.shared || self.break_glass)
    }

    /// The role the workflow state machine sees (who may move the case).
    pub fn workflow_role(&self) -> Role {
        if self.supervisor {
            Role::Supervisor
        } else if self.assigned {
            Role::AssignedWorker
        } else {
            Role::OtherStaff
        }
    }

    /// How access was obtained, for the audit trail (strongest first).
    pub fn basis(&self) -> &'static str {
        if self.assigned {
            "assigned"
        } else if self.supervisor {
            "supervisor"
        } else if self.break_glass {
            "break_glass"
        } else if self.shared {
            "shared"
        } else {
            "none"
        }
    }
}

/// The policy for one case.
pub fn permits(rel: Relation, sensitive: bool, action: CaseAction) -> bool {
    let shared = rel.shared && !sensitive;
    match action {
        CaseAction::Read => rel.assigned || rel.supervisor || rel.break_glass || shared,
        CaseAction::Work => rel.assigned || rel.supervisor || rel.break_glass,
        CaseAction::Share | CaseAction::SetSensitivity => rel.assigned || rel.supervisor,
        CaseAction::Transfer => rel.supervisor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_relations() -> Vec<Relation> {
        (0..16)
            .map(|b| Relation {
                assigned: b & 1 != 0,
                supervisor: b & 2 != 0,
                shared: b & 4 != 0,
                break_glass: b & 8 != 0,
            })
            .collect()
    }

    #[test]
    fn no_relation_no_access() {
        for a in CaseAction::ALL {
            assert!(!permits(Relation::default(), false, a));
            assert!(!permits(Relation::default(), true, a));
        }
    }

    #[test]
    fn every_action_implies_read() {
        for rel in all_relations() {
            for sensitive in [false, true] {
                for a in CaseAction::ALL {
                    if permits(rel, sensitive, a) {
                        assert!(permits(rel, sensitive, CaseAction::Read), "{rel:?} {a:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn sensitivity_only_ever_removes_access() {
        for rel in all_relations() {
            for a in CaseAction::ALL {
                if permits(rel, true, a) {
                    assert!(permits(rel, false, a));
                }
            }
        }
        let shared = Relation {
            shared: true,
            ..Default::default()
        };
        assert!(permits(shared, false, CaseAction::Read));
        assert!(!permits(shared, true, CaseAction::Read));
        assert!(!permits(shared, false, CaseAction::Work));
    }

    #[test]
    fn emergency_access_reads_and_works_but_never_shares_or_transfers() {
        let bg = Relation {
            break_glass: true,
            ..Default::default()
        };
        for s in [false, true] {
            assert!(permits(bg, s, CaseAction::Read));
            assert!(permits(bg, s, CaseAction::Work));
            assert!(!permits(bg, s, CaseAction::Share));
            assert!(!permits(bg, s, CaseAction::Transfer));
        }
        assert_eq!(bg.workflow_role(), Role::OtherStaff);
    }

    #[test]
    fn only_supervisors_transfer() {
        for rel in all_relations() {
            assert_eq!(permits(rel, false, CaseAction::Transfer), rel.supervisor);
        }
    }
}
