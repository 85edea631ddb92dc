use super::*;
use crate::instrument::RiskLevel;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use CaseState::*;

const T0: OffsetDateTime = datetime!(2025-09-01 09:00 +05:00);

fn case_in(state: CaseState) -> Case {
    let mut c = Case::register(RiskLevel::High, T0, &ResponsePolicy::default());
    c.state = state;
    if state == Closed {
        c.closure = Some(Closure {
            reason: ClosureReason::LostContact,
            at: T0,
        });
    }
    c
}

/// The workflow written out independently of the implementation's table.
fn expected_roles(from: CaseState, to: CaseState) -> &'static [Role] {
    const W: &[Role] = &[Role::AssignedWorker, Role::Supervisor];
    const S: &[Role] = &[Role::Supervisor];
    match (from, to) {
        (Registered, Assessment) | (Assessment, CasePlan) | (CasePlan, Assessment) => W,
        (Implementation, FollowUp) | (FollowUp, Implementation) | (FollowUp, Review) => W,
        (CasePlan, Implementation) | (Review, CasePlan) => S,
        (f, Closed) if f != Closed => S,
        (Closed, Assessment) => S,
        _ => &[],
    }
}

/// A well-formed request for the move (reason or note where one is needed).
fn request(from: CaseState, to: CaseState) -> TransitionRequest {
    match (from, to) {
        (Review, Closed) => TransitionRequest::close(ClosureReason::GoalsAchieved),
        (_, Closed) => TransitionRequest::close(ClosureReason::TransferredToOtherArea),
        (Closed, _) => TransitionRequest {
            note: Some("new report from the school".into()),
            ..TransitionRequest::to(to)
        },
        _ => TransitionRequest::to(to),
    }
}

#[test]
fn every_transition_and_role_is_allowed_or_refused_as_specified() {
    let roles = [Role::AssignedWorker, Role::Supervisor, Role::OtherStaff];
    let mut allowed = 0;
    for from in CaseState::ALL {
        for to in CaseState::ALL {
            for role in roles {
                let result =
                    case_in(from).transition(&request(from, to), role, T0 + Duration::hours(1));
                let expected = expected_roles(from, to);
                match result {
                    Ok((next, event)) => {
                        assert!(
                            expected.contains(&role),
                            "{from:?} -> {to:?} by {role:?} should be refused"
                        );
                        assert_eq!(next.state, to);
                        assert_eq!((event.from, event.to, event.role), (from, to, role));
                        allowed += 1;
                    }
                    Err(TransitionError::NotAllowed { .. }) => {
                        assert!(expected.is_empty(), "{from:?} -> {to:?} should exist")
                    }
                    Err(TransitionError::NotPermitted { .. }) => {
                        assert!(
                            !expected.is_empty() && !expected.contains(&role),
                            "{from:?} -> {to:?} by {role:?} should be allowed"
                        )
                    }
                    Err(e) => panic!("{from:?} -> {to:?} by {role:?}: {e}"),
                }
            }
        }
    }
    assert_eq!(
        allowed,
        6 * 2 + 2 + 6 + 1,
        "worker moves count twice (worker and supervisor)"
    );
    assert_eq!(allowed_transitions().len(), 15);
}

#[test]
fn the_happy_path_closes_and_reopens() {
    let p = ResponsePolicy::default();
    let mut c = Case::register(RiskLevel::Medium, T0, &p);
    let steps = [
        (Assessment, Role::AssignedWorker),
        (CasePlan, Role::AssignedWorker),
        (Implementation, Role::Supervisor),
        (FollowUp, Role::AssignedWorker),
        (Review, Role::AssignedWorker),
    ];
    for (i, (to, role)) in steps.into_iter().enumerate() {
        c = c
            .transition(
                &TransitionRequest::to(to),
                role,
                T0 + Duration::days(i as i64 + 1),
            )
            .unwrap()
            .0;
    }
    assert_eq!(
        c.first_response_at,
        Some(T0 + Duration::days(1)),
        "starting the assessment is the first response"
    );
    let (closed, event) = c
        .transition(
            &TransitionRequest::close(ClosureReason::GoalsAchieved),
            Role::Supervisor,
            T0 + Duration::days(9),
        )
        .unwrap();
    assert_eq!(
        closed.closure,
        Some(Closure {
            reason: ClosureReason::GoalsAchieved,
            at: T0 + Duration::days(9)
        })
    );
    assert_eq!(event.closure_reason, Some(ClosureReason::GoalsAchieved));
    let (reopened, event) = closed
        .transition(
            &TransitionRequest::reopen("police report"),
            Role::Supervisor,
            T0 + Duration::days(40),
        )
        .unwrap();
    assert_eq!(
        (
            reopened.state,
            reopened.closure.clone(),
            reopened.times_reopened
        ),
        (Assessment, None, 1)
    );
    assert_eq!(event.note.as_deref(), Some("police report"));
}

#[test]
fn closing_needs_a_reason_that_fits_the_state() {
    let s = Role::Supervisor;
    let at = T0 + Duration::hours(2);
    assert_eq!(
        case_in(Assessment)
            .transition(&TransitionRequest::to(Closed), s, at)
            .unwrap_err(),
        TransitionError::ClosureReasonRequired
    );
    let goals = TransitionRequest::close(ClosureReason::GoalsAchieved);
    assert!(matches!(
        case_in(Implementation).transition(&goals, s, at),
        Err(TransitionError::ClosureReasonNotAllowed { .. })
    ));
    let no_concern = TransitionRequest::close(ClosureReason::NoProtectionConcern);
    assert!(case_in(Assessment).transition(&no_concern, s, at).is_ok());
    assert!(matches!(
        case_in(Implementation).transition(&no_concern, s, at),
        Err(TransitionError::ClosureReasonNotAllowed { .. })
    ));
    let mut odd = TransitionRequest::to(CasePlan);
    odd.closure_reason = Some(ClosureReason::ChildDied);
    assert_eq!(
        case_in(Assessment).transition(&odd, s, at).unwrap_err(),
        TransitionError::UnexpectedClosureReason
    );
    for reason in ClosureReason::ALL {
        for state in CaseState::ALL {
            let ok = case_in(state)
                .transition(&TransitionRequest::close(reason), s, at)
                .is_ok();
            assert_eq!(
                ok,
                state != Closed && reason.allowed_from(state),
                "{reason:?} from {state:?}"
            );
        }
    }
}

#[test]
fn reopening_needs_a_note_and_times_must_follow_registration() {
    let closed = case_in(Closed);
    let blank = TransitionRequest::reopen("  ");
    assert_eq!(
        closed.transition(&blank, Role::Supervisor, T0).unwrap_err(),
        TransitionError::ReopenNoteRequired
    );
    let mut none = TransitionRequest::to(Assessment);
    none.note = None;
    assert_eq!(
        closed.transition(&none, Role::Supervisor, T0).unwrap_err(),
        TransitionError::ReopenNoteRequired
    );
    let early = T0 - Duration::minutes(1);
    assert_eq!(
        case_in(Registered)
            .transition(
                &TransitionRequest::to(Assessment),
                Role::AssignedWorker,
                early
            )
            .unwrap_err(),
        TransitionError::BeforeRegistration
    );
    assert_eq!(
        case_in(Registered)
            .record_first_response(early)
            .unwrap_err(),
        TransitionError::BeforeRegistration
    );
}

#[test]
fn transition_errors_have_message_codes() {
    let e = case_in(Registered)
        .transition(&TransitionRequest::to(Review), Role::Supervisor, T0)
        .unwrap_err();
    assert_eq!(e.code(), "err-case-transition");
    assert!(e.to_string().contains("Registered"));
}

// ---- first response ----------------------------------------------------------

#[test]
fn immediate_danger_must_be_answered_within_24_hours() {
    let c = Case::register(RiskLevel::ImmediateDanger, T0, &ResponsePolicy::default());
    let clock = c.response_clock.unwrap();
    assert_eq!(clock.due_at, T0 + Duration::hours(24));
    assert_eq!(clock.escalate_at, T0 + Duration::hours(18));
    let at = |h: i64| c.first_response(T0 + Duration::hours(h));
    assert_eq!(
        (at(1).status, at(1).escalation),
        (ResponseStatus::Pending, Escalation::None)
    );
    assert_eq!(
        (at(18).status, at(18).escalation),
        (ResponseStatus::DueSoon, Escalation::Supervisor)
    );
    assert_eq!(
        at(24).status,
        ResponseStatus::DueSoon,
        "due at, not yet over"
    );
    let late = at(30);
    assert_eq!(
        late.status,
        ResponseStatus::Overdue {
            overdue_by_minutes: 360
        }
    );
    assert_eq!(late.escalation, Escalation::Head);
    assert!(late.is_overdue());
}

#[test]
fn a_response_stops_the_clock() {
    let c = Case::register(RiskLevel::ImmediateDanger, T0, &ResponsePolicy::default());
    let visited = c.record_first_response(T0 + Duration::hours(20)).unwrap();
    let r = visited.first_response(T0 + Duration::days(3));
    assert_eq!(
        (r.status, r.escalation),
        (
            ResponseStatus::Responded { on_time: true },
            Escalation::None
        )
    );
    let late = c.record_first_response(T0 + Duration::hours(25)).unwrap();
    assert_eq!(
        late.first_response(T0 + Duration::days(3)).status,
        ResponseStatus::Responded { on_time: false }
    );
    let earlier = late.record_first_response(T0 + Duration::hours(2)).unwrap();
    assert_eq!(
        earlier.first_response_at,
        Some(T0 + Duration::hours(2)),
        "the first contact counts"
    );
    let (assessed, _) = c
        .transition(
            &TransitionRequest::to(Assessment),
            Role::AssignedWorker,
            T0 + Duration::hours(5),
        )
        .unwrap();
    assert_eq!(
        assessed.first_response(T0 + Duration::days(2)).status,
        ResponseStatus::Responded { on_time: true }
    );
}

#[test]
fn closing_without_a_response_ends_escalation() {
    let c = Case::register(RiskLevel::ImmediateDanger, T0, &ResponsePolicy::default());
    let (closed, _) = c
        .transition(
            &TransitionRequest::close(ClosureReason::RegisteredInError),
            Role::Supervisor,
            T0 + Duration::hours(1),
        )
        .unwrap();
    let r = closed.first_response(T0 + Duration::days(5));
    assert_eq!(
        (r.status, r.escalation),
        (ResponseStatus::ClosedWithoutResponse, Escalation::None)
    );
}

#[test]
fn policy_levels_and_no_deadline() {
    let p = ResponsePolicy::default();
    let low = Case::register(RiskLevel::Low, T0, &p);
    assert_eq!(low.response_clock, None);
    assert_eq!(
        low.first_response(T0 + Duration::days(400)).status,
        ResponseStatus::NoDeadline
    );
    assert_eq!(
        Case::register(RiskLevel::High, T0, &p)
            .response_clock
            .unwrap()
            .due_at,
        T0 + Duration::hours(72)
    );
    assert_eq!(
        Case::register(RiskLevel::Medium, T0, &p)
            .response_clock
            .unwrap()
            .due_at,
        T0 + Duration::days(7)
    );
    let strict = ResponsePolicy {
        low_hours: Some(240),
        escalate_at_percent: 50,
        ..p
    };
    let c = Case::register(RiskLevel::Low, T0, &strict)
        .response_clock
        .unwrap();
    assert_eq!(
        (c.escalate_at, c.due_at),
        (T0 + Duration::hours(120), T0 + Duration::hours(240))
    );
}

#[test]
fn raising_the_risk_can_shorten_the_deadline_but_lowering_never_extends_it() {
    let p = ResponsePolicy::default();
    let c = Case::register(RiskLevel::Medium, T0, &p);
    let raised = c.change_risk(RiskLevel::ImmediateDanger, T0 + Duration::hours(10), &p);
    assert_eq!(
        raised.response_clock.unwrap().due_at,
        T0 + Duration::hours(34)
    );
    let lowered = raised.change_risk(RiskLevel::Medium, T0 + Duration::hours(11), &p);
    assert_eq!(
        lowered.response_clock.unwrap().due_at,
        T0 + Duration::hours(34)
    );
    assert_eq!(lowered.risk, RiskLevel::Medium);
    let from_low = Case::register(RiskLevel::Low, T0, &p).change_risk(
        RiskLevel::High,
        T0 + Duration::hours(1),
        &p,
    );
    assert_eq!(
        from_low.response_clock.unwrap().due_at,
        T0 + Duration::hours(73)
    );
    let responded = c.record_first_response(T0 + Duration::hours(1)).unwrap();
    assert_eq!(
        responded
            .change_risk(RiskLevel::ImmediateDanger, T0 + Duration::hours(2), &p)
            .response_clock,
        c.response_clock
    );
}

#[test]
fn cases_serialize_with_iso_timestamps() {
    let c = Case::register(RiskLevel::ImmediateDanger, T0, &ResponsePolicy::default());
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        json.contains("\"registered_at\":\"2025-09-01T09:00:00+05:00\""),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Case>(&json).unwrap(), c);
}

// ---- referrals -----------------------------------------------------------------

fn referral_in(state: &str) -> Referral {
    let r = Referral::send("psychologist", T0);
    match state {
        "sent" => r,
        "accepted" => r.accept(T0 + Duration::days(1)).unwrap(),
        "declined" => r.decline("no places", T0 + Duration::days(1)).unwrap(),
        "completed" => r
            .accept(T0 + Duration::days(1))
            .unwrap()
            .complete(T0 + Duration::days(2))
            .unwrap(),
        _ => unreachable!(),
    }
}

#[test]
fn every_referral_transition_is_allowed_or_refused_as_specified() {
    let at = T0 + Duration::days(5);
    for from in ["sent", "accepted", "declined", "completed"] {
        let r = referral_in(from);
        let accept = r.accept(at);
        let decline = r.decline("provider closed", at);
        let complete = r.complete(at);
        assert_eq!(accept.is_ok(), from == "sent", "accept from {from}");
        assert_eq!(
            decline.is_ok(),
            from == "sent" || from == "accepted",
            "decline from {from}"
        );
        assert_eq!(complete.is_ok(), from == "accepted", "complete from {from}");
        for e in [accept.err(), decline.err(), complete.err()]
            .into_iter()
            .flatten()
        {
            assert!(matches!(e, ReferralError::NotAllowed { from: f, .. } if f == from));
        }
    }
}

#[test]
fn declining_needs_a_reason_and_steps_keep_time_order() {
    let r = referral_in("sent");
    assert_eq!(
        r.decline("  ", T0 + Duration::days(1)).unwrap_err(),
        ReferralError::ReasonRequired
    );
    let d = r.decline(" no places ", T0 + Duration::days(1)).unwrap();
    assert_eq!(
        d.state,
        ReferralState::Declined {
            reason: "no places".into()
        }
    );
    assert_eq!(
        r.accept(T0 - Duration::hours(1)).unwrap_err(),
        ReferralError::TimeOrder
    );
    let a = referral_in("accepted");
    assert_eq!(
        a.complete(T0 + Duration::hours(1)).unwrap_err().code(),
        "err-referral-time"
    );
}

#[test]
fn referrals_become_overdue_after_the_configured_days() {
    let p = ReferralPolicy {
        respond_within_days: 3,
        complete_within_days: 10,
    };
    let sent = referral_in("sent");
    assert_eq!(sent.overdue(&p, T0 + Duration::days(3)), None);
    let o = sent.overdue(&p, T0 + Duration::days(5)).unwrap();
    assert_eq!(
        (o.stage, o.due_at, o.overdue_by_days),
        (ReferralStage::Response, T0 + Duration::days(3), 2)
    );
    let accepted = referral_in("accepted");
    assert_eq!(accepted.overdue(&p, T0 + Duration::days(11)), None);
    let o = accepted.overdue(&p, T0 + Duration::days(12)).unwrap();
    assert_eq!((o.stage, o.overdue_by_days), (ReferralStage::Completion, 1));
    for done in ["declined", "completed"] {
        assert_eq!(
            referral_in(done).overdue(&p, T0 + Duration::days(365)),
            None
        );
    }
    assert_eq!(ReferralPolicy::default().respond_within_days, 3);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn step() -> impl Strategy<Value = (CaseState, Role, Option<ClosureReason>, bool, i64)> {
        (
            proptest::sample::select(CaseState::ALL.to_vec()),
            proptest::sample::select(vec![
                Role::AssignedWorker,
                Role::Supervisor,
                Role::OtherStaff,
            ]),
            proptest::option::of(proptest::sample::select(ClosureReason::ALL.to_vec())),
            any::<bool>(),
            0i64..72,
        )
    }

    proptest! {
        #[test]
        fn any_sequence_of_requests_keeps_the_case_consistent(steps in proptest::collection::vec(step(), 0..40)) {
            let mut c = Case::register(RiskLevel::ImmediateDanger, T0, &ResponsePolicy::default());
            let mut now = T0;
            let mut reopened = 0;
            for (to, role, reason, with_note, hours) in steps {
                now += Duration::hours(hours);
                let req = TransitionRequest { to, closure_reason: reason, note: with_note.then(|| "note".to_string()) };
                if let Ok((next, event)) = c.transition(&req, role, now) {
                    prop_assert!(expected_roles(c.state, to).contains(&role));
                    prop_assert_ne!(role, Role::OtherStaff);
                    if c.state == Closed { reopened += 1; }
                    prop_assert_eq!(event.from, c.state);
                    c = next;
                }
                prop_assert_eq!(c.state == Closed, c.closure.is_some());
                prop_assert_eq!(c.times_reopened, reopened);
                prop_assert!(c.first_response_at.is_none_or(|t| t >= c.registered_at));
                let fr = c.first_response(now);
                prop_assert_eq!(fr.is_overdue(), fr.escalation == Escalation::Head);
            }
        }
    }
}
