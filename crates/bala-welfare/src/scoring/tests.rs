use super::*;
use crate::instrument::{AnswerSpec, Score};
use crate::text::Lang;
use proptest::prelude::*;

fn kz() -> Instrument {
    Instrument::default_kz()
}

fn age(months: u32) -> ScreeningContext {
    ScreeningContext {
        child_age_months: Some(months),
    }
}

/// The quietest complete answer set: every applicable scored question answered
/// with its first (lowest) value.
fn baseline(inst: &Instrument, ctx: &ScreeningContext) -> Vec<Answer> {
    inst.questions()
        .filter(|(_, q)| q.applies.applies_to(ctx.child_age_months))
        .filter_map(|(_, q)| {
            let v = match &q.answer {
                AnswerSpec::YesNo { .. } => AnswerValue::YesNo(false),
                AnswerSpec::SingleChoice { options } => {
                    AnswerValue::Choice(options[0].code.clone())
                }
                AnswerSpec::Number { min, .. } => AnswerValue::Number(*min),
                AnswerSpec::Text { .. } => return None,
            };
            Some(Answer::new(q.code.clone(), v))
        })
        .collect()
}

fn set(answers: &mut [Answer], code: &str, v: AnswerValue) {
    answers
        .iter_mut()
        .find(|a| a.question == code)
        .unwrap_or_else(|| panic!("{code}"))
        .value = v;
}

fn with_yes(inst: &Instrument, ctx: &ScreeningContext, yes: &[&str]) -> ScreeningResult {
    let mut a = baseline(inst, ctx);
    for code in yes {
        set(&mut a, code, AnswerValue::YesNo(true));
    }
    score(inst, ctx, &a).unwrap()
}

#[test]
fn quiet_answers_score_low_and_say_why() {
    let inst = kz();
    let r = with_yes(&inst, &age(60), &[]);
    assert_eq!((r.total, r.level), (0, RiskLevel::Low));
    assert_eq!(
        r.explanation,
        vec![Reason::BelowThresholds {
            total: 0,
            medium: 3
        }]
    );
    assert_eq!(r.domains.len(), 8);
    assert_eq!(r.instrument_version, 1);
}

#[test]
fn economic_hardship_alone_stays_low() {
    let inst = kz();
    let ctx = age(60);
    let mut a = baseline(&inst, &ctx);
    for q in [
        "targeted_social_assistance",
        "caregivers_unemployed",
        "single_parent",
    ] {
        set(&mut a, q, AnswerValue::YesNo(true));
    }
    set(&mut a, "housing", AnswerValue::Choice("none".into()));
    set(&mut a, "children_in_household", AnswerValue::Number(6));
    let r = score(&inst, &ctx, &a).unwrap();
    let d = r
        .domains
        .iter()
        .find(|d| d.domain == "economic_housing")
        .unwrap();
    assert_eq!((d.raw, d.score, d.cap), (6, 2, 2), "capped");
    assert_eq!(d.contributing.len(), 5);
    assert_eq!(r.level, RiskLevel::Low);
}

#[test]
fn a_full_domain_is_medium_and_several_are_high() {
    let inst = kz();
    let r = with_yes(&inst, &age(120), &["runs_away", "police_register"]);
    assert_eq!((r.total, r.level), (3, RiskLevel::Medium));
    assert_eq!(
        r.explanation[0],
        Reason::Total {
            total: 3,
            threshold: 3,
            level: RiskLevel::Medium
        }
    );
    let r = with_yes(
        &inst,
        &age(120),
        &[
            "basic_needs_unmet",
            "malnutrition",
            "no_birth_certificate",
            "targeted_social_assistance",
            "family_isolated",
        ],
    );
    assert_eq!((r.total, r.level), (8, RiskLevel::High));
}

#[test]
fn red_flags_override_the_total() {
    let inst = kz();
    let r = with_yes(&inst, &age(60), &["physical_abuse_signs"]);
    assert_eq!(r.total, 3);
    assert_eq!(r.level, RiskLevel::High);
    assert_eq!(
        r.red_flags,
        vec![RedFlagHit {
            question: "physical_abuse_signs".into(),
            domain: "safety".into(),
            level: RiskLevel::High
        }]
    );
    assert_eq!(
        r.explanation[0],
        Reason::RedFlag {
            question: "physical_abuse_signs".into(),
            level: RiskLevel::High
        }
    );
    let r = with_yes(
        &inst,
        &age(60),
        &["physical_abuse_signs", "afraid_to_go_home"],
    );
    assert_eq!(r.level, RiskLevel::ImmediateDanger);
    assert_eq!(r.red_flags.len(), 2);
    assert_eq!(
        r.explanation[0],
        Reason::RedFlag {
            question: "afraid_to_go_home".into(),
            level: RiskLevel::ImmediateDanger
        }
    );
    assert!(
        !r.explanation.iter().any(|e| matches!(
            e,
            Reason::RedFlag {
                level: RiskLevel::High,
                ..
            }
        )),
        "only drivers of the final level lead"
    );
}

#[test]
fn substance_use_is_high_only_with_a_child_under_three() {
    let inst = kz();
    let r = with_yes(
        &inst,
        &age(24),
        &["caregiver_substance_use", "caregiver_substance_use_under3"],
    );
    assert_eq!(r.level, RiskLevel::High);
    let r = with_yes(&inst, &age(48), &["caregiver_substance_use"]);
    assert_eq!(r.level, RiskLevel::Low);
}

#[test]
fn supervision_with_loss_of_care_is_high() {
    let inst = kz();
    let r = with_yes(&inst, &age(120), &["runs_away", "parent_imprisoned"]);
    assert_eq!(r.total, 4);
    assert_eq!(r.threshold_level, RiskLevel::Medium);
    assert_eq!(r.level, RiskLevel::High);
    assert_eq!(
        r.combinations,
        vec![CombinationHit {
            code: "supervision_with_care_loss".into(),
            level: RiskLevel::High
        }]
    );
    assert_eq!(
        r.explanation[0],
        Reason::Combination {
            code: "supervision_with_care_loss".into(),
            level: RiskLevel::High
        }
    );
}

#[test]
fn number_bands_score() {
    let inst = kz();
    let ctx = age(120);
    let days = |n| {
        let mut a = baseline(&inst, &ctx);
        set(&mut a, "school_days_missed", AnswerValue::Number(n));
        score(&inst, &ctx, &a).unwrap().domains[6].score
    };
    assert_eq!(
        [days(0), days(2), days(3), days(9), days(10), days(31)],
        [0, 0, 1, 1, 2, 2]
    );
}

#[test]
fn answer_errors_name_the_question() {
    let inst = kz();
    let ctx = age(24);
    let mut a = baseline(&inst, &ctx);
    a.retain(|x| x.question != "runs_away");
    set(&mut a, "physical_abuse_signs", AnswerValue::Number(1));
    set(&mut a, "housing", AnswerValue::Choice("palace".into()));
    set(&mut a, "children_in_household", AnswerValue::Number(0));
    a.push(Answer::new("no_such_question", AnswerValue::YesNo(true)));
    a.push(Answer::new("not_enrolled", AnswerValue::YesNo(true)));
    a.push(Answer::new(
        "safety_notes",
        AnswerValue::Text("я".repeat(2001)),
    ));
    a.push(Answer::new("disability", AnswerValue::YesNo(true)));
    let e = score(&inst, &ctx, &a).unwrap_err();
    let code = |f: &str| e.for_field(f).map(|x| x.code);
    assert_eq!(code("answers.runs_away"), Some("err-answer-required"));
    assert_eq!(
        code("answers.physical_abuse_signs"),
        Some("err-answer-type")
    );
    assert_eq!(code("answers.housing"), Some("err-answer-unknown-option"));
    assert_eq!(
        code("answers.children_in_household"),
        Some("err-answer-out-of-range")
    );
    assert_eq!(
        code("answers.no_such_question"),
        Some("err-answer-unknown-question")
    );
    assert_eq!(
        code("answers.not_enrolled"),
        Some("err-answer-not-applicable")
    );
    assert_eq!(code("answers.safety_notes"), Some("err-answer-too-long"));
    assert_eq!(code("answers.disability"), Some("err-answer-duplicate"));
    assert_eq!(e.0.len(), 8, "{e}");
}

#[test]
fn optional_and_inapplicable_questions_may_be_skipped() {
    let inst = kz();
    // Age 24 months: school questions do not apply; notes are optional.
    let ctx = age(24);
    assert!(score(&inst, &ctx, &baseline(&inst, &ctx)).is_ok());
    let mut a = baseline(&inst, &ctx);
    a.push(Answer::new(
        "safety_notes",
        AnswerValue::Text("Бала сергек.".into()),
    ));
    assert!(score(&inst, &ctx, &a).is_ok());
    // Unknown age: every question applies, so school questions are required.
    let unknown = ScreeningContext::default();
    let e = score(&inst, &unknown, &baseline(&inst, &ctx)).unwrap_err();
    assert!(e.for_field("answers.not_enrolled").is_some());
}

#[test]
fn explanations_render_in_each_language() {
    let inst = kz();
    let r = with_yes(
        &inst,
        &age(120),
        &["sexual_abuse_signs", "runs_away", "parent_imprisoned"],
    );
    let kk = r.explain(&inst, Lang::Kk);
    assert!(
        kk[0].starts_with("Қауіп белгісі") && kk[0].contains("тікелей қауіп"),
        "{kk:?}"
    );
    let ru = r.explain(&inst, Lang::Ru);
    assert!(ru[0].contains("сексуального насилия") && ru[0].contains("непосредственная опасность"));
    let en = r.explain(&inst, Lang::En);
    assert!(
        en.iter().any(|s| s == "Immediate safety and violence: 3/3"),
        "{en:?}"
    );
    let low = with_yes(&inst, &age(120), &[]);
    assert!(low.explain(&inst, Lang::Ru)[0].contains("ниже порога"));
    let medium = with_yes(&inst, &age(120), &["runs_away", "often_unsupervised"]);
    assert_eq!(
        medium.explain(&inst, Lang::En)[0],
        "The total score 3 reaches the medium threshold (3)."
    );
}

#[test]
fn answers_serialize_with_an_explicit_type() {
    let a = Answer::new("housing", AnswerValue::Choice("none".into()));
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(
        json,
        r#"{"question":"housing","value":{"type":"choice","value":"none"}}"#
    );
    assert_eq!(serde_json::from_str::<Answer>(&json).unwrap(), a);
}

// ---- properties ------------------------------------------------------------

/// A random but valid answer set for `inst` and a child of `months`.
fn answers_for(inst: &Instrument, months: u32) -> BoxedStrategy<Vec<Answer>> {
    let per_question: Vec<BoxedStrategy<Option<Answer>>> = inst
        .questions()
        .filter(|(_, q)| q.applies.applies_to(Some(months)))
        .map(|(_, q)| {
            let code = q.code.clone();
            let value: BoxedStrategy<AnswerValue> = match &q.answer {
                AnswerSpec::YesNo { .. } => any::<bool>().prop_map(AnswerValue::YesNo).boxed(),
                AnswerSpec::SingleChoice { options } => {
                    let codes: Vec<String> = options.iter().map(|o| o.code.clone()).collect();
                    proptest::sample::select(codes)
                        .prop_map(AnswerValue::Choice)
                        .boxed()
                }
                AnswerSpec::Number { min, max, .. } => {
                    (*min..=*max).prop_map(AnswerValue::Number).boxed()
                }
                AnswerSpec::Text { .. } => "[a-zа-я ]{0,20}".prop_map(AnswerValue::Text).boxed(),
            };
            let required = q.required;
            (value, any::<bool>())
                .prop_map(move |(v, skip)| {
                    (!skip || required).then(|| Answer::new(code.clone(), v))
                })
                .boxed()
        })
        .collect();
    per_question
        .prop_map(|v| v.into_iter().flatten().collect())
        .boxed()
}

/// The shipped instrument with its yes/no weights replaced, to test the rules
/// on weights practitioners might choose (including negative, protective ones).
fn reweighted(weights: &[(i8, i8)]) -> Instrument {
    let mut inst = kz();
    let mut w = weights.iter().cycle();
    for d in &mut inst.domains {
        for q in &mut d.questions {
            if let AnswerSpec::YesNo { yes, no } = &mut q.answer {
                let (y, n) = w.next().unwrap();
                yes.weight = i32::from(*y);
                no.weight = i32::from(*n);
            }
        }
    }
    inst
}

fn instrument_and_answers() -> impl Strategy<Value = (Instrument, u32, Vec<Answer>)> {
    (
        proptest::collection::vec((-3i8..=5, -3i8..=5), 1..12),
        0u32..216,
    )
        .prop_flat_map(|(w, months)| {
            let inst = reweighted(&w);
            let answers = answers_for(&inst, months);
            (Just(inst), Just(months), answers)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn yes_on_a_heavier_yes_never_lowers_the_level((inst, months, answers) in instrument_and_answers(), pick in any::<prop::sample::Index>()) {
        let ctx = age(months);
        let candidates: Vec<&Answer> = answers.iter().filter(|a| {
            matches!(inst.question(&a.question), Some((_, q)) if matches!(q.answer, AnswerSpec::YesNo { yes, no } if yes.weight >= no.weight))
        }).collect();
        prop_assume!(!candidates.is_empty());
        let code = candidates[pick.index(candidates.len())].question.clone();
        let mut no = answers.clone();
        set(&mut no, &code, AnswerValue::YesNo(false));
        let mut yes = answers.clone();
        set(&mut yes, &code, AnswerValue::YesNo(true));
        let (r_no, r_yes) = (score(&inst, &ctx, &no).unwrap(), score(&inst, &ctx, &yes).unwrap());
        prop_assert!(r_yes.level >= r_no.level);
        prop_assert!(r_yes.total >= r_no.total);
    }

    #[test]
    fn any_red_flag_gives_at_least_its_level((inst, months, answers) in instrument_and_answers()) {
        let r = score(&inst, &age(months), &answers).unwrap();
        for f in &r.red_flags {
            prop_assert!(r.level >= f.level);
        }
        for (_, q) in inst.questions() {
            if let (Some(a), AnswerSpec::YesNo { yes, .. }) = (answers.iter().find(|a| a.question == q.code), &q.answer) {
                if a.value == AnswerValue::YesNo(true) {
                    if let Some(level) = yes.red_flag() { prop_assert!(r.level >= level); }
                }
            }
        }
        prop_assert!(r.level >= r.threshold_level);
    }

    #[test]
    fn scoring_is_deterministic_and_order_independent(
        (inst, months, answers) in instrument_and_answers().prop_flat_map(|(i, m, a)| (Just(i), Just(m), Just(a).prop_shuffle())),
    ) {
        let ctx = age(months);
        let mut sorted = answers.clone();
        sorted.sort_by(|a, b| a.question.cmp(&b.question));
        let a = score(&inst, &ctx, &answers).unwrap();
        prop_assert_eq!(&a, &score(&inst, &ctx, &answers).unwrap());
        prop_assert_eq!(&a, &score(&inst, &ctx, &sorted).unwrap());
    }

    #[test]
    fn domain_scores_stay_within_caps((inst, months, answers) in instrument_and_answers()) {
        let r = score(&inst, &age(months), &answers).unwrap();
        for d in &r.domains {
            prop_assert!(d.score <= d.cap);
        }
        prop_assert_eq!(r.total, r.domains.iter().map(|d| d.score).sum::<u32>());
        prop_assert!(!r.explanation.is_empty());
    }
}

#[test]
fn red_flag_level_is_the_floor_even_with_negative_weights() {
    let mut inst = kz();
    if let AnswerSpec::YesNo { yes, .. } = &mut inst.domains[0].questions[0].answer {
        *yes = Score {
            weight: -5,
            red_flag: true,
            red_flag_level: Some(RiskLevel::High),
        };
    }
    let r = with_yes(&inst, &age(60), &["physical_abuse_signs"]);
    assert_eq!((r.total, r.level), (0, RiskLevel::High));
}
