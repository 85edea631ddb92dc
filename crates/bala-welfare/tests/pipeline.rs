//! The pillar end to end through its public API only, as storage and HTTP will
//! use it: screen a child, feed the level to the alert rules, open a case and
//! watch its first-response clock, then publish a suppressed count.

use bala_welfare::case::{ClosureReason, Escalation, ResponseStatus};
use bala_welfare::instrument::AnswerSpec;
use bala_welfare::*;
use time::macros::{date, datetime};
use time::Duration;

fn answers(inst: &Instrument, ctx: &ScreeningContext, yes: &[&str]) -> Vec<Answer> {
    inst.questions()
        .filter(|(_, q)| q.applies.applies_to(ctx.child_age_months))
        .filter_map(|(_, q)| {
            let value = match &q.answer {
                AnswerSpec::YesNo { .. } => AnswerValue::YesNo(yes.contains(&q.code.as_str())),
                AnswerSpec::SingleChoice { options } => {
                    AnswerValue::Choice(options[0].code.clone())
                }
                AnswerSpec::Number { min, .. } => AnswerValue::Number(*min),
                AnswerSpec::Text { .. } => return None,
            };
            Some(Answer::new(q.code.clone(), value))
        })
        .collect()
}

#[test]
fn screening_to_alert_to_case() {
    let inst = Instrument::default_kz();
    let birth = date!(2025 - 01 - 10);
    let today = date!(2025 - 09 - 01);
    let ctx = ScreeningContext {
        child_age_months: Some(7),
    };
    let result = score(&inst, &ctx, &answers(&inst, &ctx, &["afraid_to_go_home"])).unwrap();
    assert_eq!(result.level, RiskLevel::ImmediateDanger);
    assert!(result.explain(&inst, Lang::Kk)[0].contains("тікелей қауіп"));

    let facts = Facts {
        household_risk: Some(result.level),
        days_since_screening: Some(0),
        open_case: Some(false),
        zero_dose: Some(false),
        max_days_overdue: Some(75),
        ..Facts::for_child(birth, today)
    };
    let alerts = evaluate_rules(&RuleSet::default_kz(), &facts);
    let codes: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(
        codes,
        [
            "unvaccinated_child_at_risk_household",
            "immediate_danger_without_case"
        ]
    );
    assert_eq!(alerts[1].severity, Severity::Critical);

    let now = datetime!(2025-09-01 22:00 +05:00);
    let policy = ResponsePolicy::default();
    let case = Case::register(result.level, now, &policy);
    let r = case.first_response(now + Duration::hours(19));
    assert_eq!(
        (r.status, r.escalation),
        (ResponseStatus::DueSoon, Escalation::Supervisor)
    );
    let (case, _) = case
        .transition(
            &TransitionRequest::to(CaseState::Assessment),
            Role::AssignedWorker,
            now + Duration::hours(20),
        )
        .unwrap();
    assert_eq!(
        case.first_response(now + Duration::days(2)).status,
        ResponseStatus::Responded { on_time: true }
    );
    let refused = case.transition(
        &TransitionRequest::close(ClosureReason::NoProtectionConcern),
        Role::AssignedWorker,
        now + Duration::days(2),
    );
    assert!(refused.is_err(), "only a supervisor closes a case");

    let table = suppress_1d(&[1, 17, 23], &SuppressionPolicy::default());
    let labels: Vec<String> = table
        .cells
        .iter()
        .map(|c| c.label(&SuppressionPolicy::default()))
        .collect();
    assert_eq!(labels, ["<5", "x", "23"]);
}
