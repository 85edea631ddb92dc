use super::*;
use crate::instrument::RiskLevel;
use proptest::prelude::*;
use time::macros::date;

/// Parsed once: proptests evaluate the shipped rules thousands of times.
static RULES: std::sync::LazyLock<RuleSet> = std::sync::LazyLock::new(RuleSet::default_kz);

fn rules() -> RuleSet {
    RULES.clone()
}

fn fired(facts: &Facts) -> Vec<String> {
    evaluate_rules(&RULES, facts)
        .into_iter()
        .map(|a| a.rule)
        .collect()
}

fn int(n: i64) -> Literal {
    Literal::Int(n)
}

#[test]
fn shipped_rules_load_and_round_trip() {
    let set = rules();
    assert_eq!(set.rules.len(), 5);
    assert_eq!(RuleSet::from_toml(&set.to_toml()).unwrap(), set);
    let json = serde_json::to_string(&set).unwrap();
    assert_eq!(serde_json::from_str::<RuleSet>(&json).unwrap(), set);
}

#[test]
fn zero_dose_in_a_risky_household_fires_with_values_explained() {
    let f = Facts {
        age_months: Some(14),
        zero_dose: Some(true),
        household_risk: Some(RiskLevel::Medium),
        ..Facts::default()
    };
    let alerts = evaluate_rules(&rules(), &f);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(
        (a.rule.as_str(), a.severity),
        ("unvaccinated_child_at_risk_household", Severity::High)
    );
    assert_eq!(
        a.explanation.en,
        "No DTP1 by 12 months: yes; most overdue dose: unknown days; household risk from the latest screening: medium. Arrange a joint home visit by the nurse and the social worker."
    );
    assert!(
        a.explanation
            .ru
            .contains("Нет первой дозы АКДС к 12 месяцам: да")
            && a.explanation.ru.contains("средний")
    );
    assert!(a.explanation.kk.contains("АКДС-1 алмаған: иә") && a.explanation.kk.contains("орташа"));
    let why: Vec<String> = a.matched.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        why,
        [
            "zero_dose == true (is true)",
            "household_risk >= medium (is medium)"
        ]
    );
}

#[test]
fn overdue_child_fires_only_when_long_overdue_and_household_at_risk() {
    let base = Facts {
        max_days_overdue: Some(60),
        household_risk: Some(RiskLevel::High),
        ..Facts::default()
    };
    assert_eq!(fired(&base), ["unvaccinated_child_at_risk_household"]);
    assert!(fired(&Facts {
        max_days_overdue: Some(59),
        zero_dose: Some(false),
        ..base.clone()
    })
    .is_empty());
    assert!(fired(&Facts {
        household_risk: Some(RiskLevel::Low),
        ..base.clone()
    })
    .is_empty());
    assert!(
        fired(&Facts {
            household_risk: None,
            ..base
        })
        .is_empty(),
        "no screening: unknown, no alert"
    );
}

#[test]
fn injuries() {
    let two = Facts {
        age_months: Some(30),
        injury_visits_12m: Some(2),
        ..Facts::default()
    };
    assert_eq!(fired(&two), ["repeated_injuries"]);
    assert!(fired(&Facts {
        injury_visits_12m: Some(1),
        ..two.clone()
    })
    .is_empty());
    let infant = Facts {
        age_months: Some(4),
        injury_visits_12m: Some(1),
        ..Facts::default()
    };
    assert_eq!(fired(&infant), ["injury_in_young_infant"]);
    let a = &evaluate_rules(&rules(), &infant)[0];
    assert!(a
        .explanation
        .en
        .starts_with("An infant aged 4 months had 1 injury-related visits"));
}

#[test]
fn newborn_not_registered() {
    let f = Facts {
        registered_for_immunization: Some(false),
        ..Facts::for_child(date!(2025 - 03 - 01), date!(2025 - 04 - 30))
    };
    assert_eq!(f.age_days, Some(60));
    assert_eq!(f.age_months, Some(1));
    assert_eq!(fired(&f), ["newborn_not_registered"]);
    assert!(fired(&Facts {
        age_days: Some(61),
        ..f.clone()
    })
    .is_empty());
    assert!(fired(&Facts {
        registered_for_immunization: Some(true),
        ..f.clone()
    })
    .is_empty());
    assert!(fired(&Facts {
        registered_for_immunization: None,
        ..f
    })
    .is_empty());
    assert_eq!(
        Facts::for_child(date!(2025 - 03 - 01), date!(2025 - 02 - 01)).age_days,
        None,
        "born after 'on'"
    );
}

#[test]
fn immediate_danger_without_a_case_is_critical() {
    let f = Facts {
        household_risk: Some(RiskLevel::ImmediateDanger),
        open_case: Some(false),
        days_since_screening: Some(2),
        ..Facts::default()
    };
    let alerts = evaluate_rules(&rules(), &f);
    let codes: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(codes, ["immediate_danger_without_case"]);
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert!(alerts[0]
        .explanation
        .ru
        .contains("2 дн. назад выявил уровень «непосредственная опасность»"));
    assert!(fired(&Facts {
        open_case: Some(true),
        ..f.clone()
    })
    .is_empty());
    assert!(fired(&Facts {
        open_case: None,
        ..f
    })
    .is_empty());
}

#[test]
fn the_rule_set_in_force_is_the_highest_already_valid() {
    let v1 = rules();
    let mut v2 = rules();
    v2.version = 2;
    v2.valid_from = date!(2026 - 03 - 01);
    let all = [v1.clone(), v2.clone()];
    assert_eq!(
        RuleSet::in_force(&all, "alerts-kz", date!(2026 - 02 - 28)),
        Some(&v1)
    );
    assert_eq!(
        RuleSet::in_force(&all, "alerts-kz", date!(2026 - 03 - 01)),
        Some(&v2)
    );
    assert_eq!(
        RuleSet::in_force(&all, "alerts-xx", date!(2026 - 03 - 01)),
        None
    );
}

#[test]
fn hit_rates_count_fired_and_unknown() {
    let snapshots = vec![
        Facts {
            injury_visits_12m: Some(3),
            ..Facts::default()
        },
        Facts {
            injury_visits_12m: Some(0),
            ..Facts::default()
        },
        Facts::default(),
        Facts {
            injury_visits_12m: Some(2),
            household_risk: Some(RiskLevel::ImmediateDanger),
            open_case: Some(false),
            ..Facts::default()
        },
    ];
    let rates = hit_rates(&rules(), &snapshots);
    let r = rates
        .iter()
        .find(|r| r.rule == "repeated_injuries")
        .unwrap();
    assert_eq!((r.fired, r.unknown, r.total), (2, 1, 4));
    assert!((r.rate - 0.5).abs() < 1e-12);
    let r = rates
        .iter()
        .find(|r| r.rule == "immediate_danger_without_case")
        .unwrap();
    assert_eq!(r.fired, 1);
    assert!(hit_rates(&rules(), &[])
        .iter()
        .all(|r| r.rate == 0.0 && r.total == 0));
}

#[test]
fn validation_names_the_field() {
    let mut set = rules();
    set.rules[0].when = Condition::all(vec![
        Condition::any(vec![Condition::compare(
            FactName::ZeroDose,
            Op::Ge,
            Literal::Bool(true),
        )]),
        Condition::Compare(Comparison {
            fact: "houshold_risk".into(),
            op: Op::Eq,
            value: Literal::Text("high".into()),
        }),
        Condition::compare(
            FactName::HouseholdRisk,
            Op::Eq,
            Literal::Text("severe".into()),
        ),
        Condition::compare(FactName::AgeDays, Op::Lt, Literal::Bool(true)),
        Condition::compare(FactName::AgeDays, Op::Gt, int(-1)),
        Condition::any(vec![]),
    ]);
    set.rules[1].code = set.rules[2].code.clone();
    set.rules[3].explanation.kk = "{age_days".into();
    set.rules[3].explanation.en = "{age_years} old".into();
    set.rules[4].title.ru.clear();
    let e = set.validate().unwrap_err();
    let code = |f: &str| e.for_field(f).map(|x| x.code);
    assert_eq!(
        code("rules[0].when.all[0].any[0].op"),
        Some("err-op-for-bool")
    );
    assert_eq!(code("rules[0].when.all[1].fact"), Some("err-unknown-fact"));
    assert_eq!(code("rules[0].when.all[2].value"), Some("err-value-kind"));
    assert_eq!(code("rules[0].when.all[3].value"), Some("err-value-kind"));
    assert_eq!(
        code("rules[0].when.all[4].value"),
        Some("err-value-negative")
    );
    assert_eq!(
        code("rules[0].when.all[5].any"),
        Some("err-condition-empty")
    );
    assert_eq!(code("rules[2].code"), Some("err-code-duplicate"));
    assert_eq!(code("rules[3].explanation.kk"), Some("err-template-syntax"));
    assert_eq!(
        code("rules[3].explanation.en"),
        Some("err-template-unknown-fact")
    );
    assert_eq!(code("rules[4].title.ru"), Some("err-translation-missing"));
    assert_eq!(e.0.len(), 10, "{e}");
}

#[test]
fn deep_nesting_and_empty_sets_are_refused() {
    let mut c = Condition::compare(FactName::OpenCase, Op::Eq, Literal::Bool(true));
    for _ in 0..MAX_DEPTH {
        c = Condition::not(c);
    }
    let mut set = rules();
    set.rules[0].when = c;
    assert_eq!(set.validate().unwrap_err().0[0].code, "err-condition-depth");
    set.rules.clear();
    set.version = 0;
    let e = set.validate().unwrap_err();
    assert!(e.for_field("rules").is_some() && e.for_field("version").is_some());
}

#[test]
fn malformed_rule_files_are_parse_errors() {
    let bad_op = DEFAULT_KZ_TOML.replacen("op = \">=\"", "op = \"=>\"", 1);
    assert!(matches!(
        RuleSet::from_toml(&bad_op),
        Err(RuleSetError::Parse(_))
    ));
    let typo = DEFAULT_KZ_TOML.replacen("severity = \"high\"", "severity = \"hihg\"", 1);
    assert!(matches!(
        RuleSet::from_toml(&typo),
        Err(RuleSetError::Parse(_))
    ));
    let unknown_fact = DEFAULT_KZ_TOML.replacen("\"zero_dose\"", "\"zero_doses\"", 1);
    match RuleSet::from_toml(&unknown_fact) {
        Err(RuleSetError::Invalid(e)) => assert!(
            e.for_field("rules[0].when.all[0].any[0].fact").is_some(),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn not_is_unknown_on_missing_facts_and_traces_false_parts() {
    let not_open = Condition::not(Condition::compare(
        FactName::OpenCase,
        Op::Eq,
        Literal::Bool(true),
    ));
    assert_eq!(not_open.eval(&Facts::default()), Truth::Unknown);
    let f = Facts {
        open_case: Some(false),
        ..Facts::default()
    };
    assert_eq!(not_open.eval(&f), Truth::True);
    let t = not_open.trace(&f, Truth::True);
    assert_eq!(t.len(), 1);
    assert!(t[0].negated);
    assert_eq!(t[0].to_string(), "not open_case == true (is false)");
}

#[test]
fn any_traces_only_the_parts_that_held() {
    let c = Condition::any(vec![
        Condition::all(vec![
            Condition::compare(FactName::AgeMonths, Op::Lt, int(12)),
            Condition::compare(FactName::ZeroDose, Op::Eq, Literal::Bool(true)),
        ]),
        Condition::compare(FactName::InjuryVisits12m, Op::Ge, int(2)),
    ]);
    let f = Facts {
        age_months: Some(3),
        zero_dose: Some(false),
        injury_visits_12m: Some(4),
        ..Facts::default()
    };
    let t = c.trace(&f, Truth::True);
    assert_eq!(t.len(), 1, "age < 12 held but its `all` did not: {t:?}");
    assert_eq!(t[0].fact, FactName::InjuryVisits12m);
}

// ---- properties ------------------------------------------------------------

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    proptest::option::weighted(0.8, s).boxed()
}

fn level() -> impl Strategy<Value = RiskLevel> {
    proptest::sample::select(RiskLevel::ALL.to_vec())
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        (
            opt(0u32..800),
            opt(0u32..30),
            opt(any::<bool>()),
            opt(0u32..200),
            opt(any::<bool>()),
        ),
        (
            opt(level()),
            opt(0u32..400),
            opt(0u32..6),
            opt(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (age_days, age_months, zero_dose, max_days_overdue, registered),
                (household_risk, days_since_screening, injury_visits_12m, open_case),
            )| Facts {
                age_days,
                age_months,
                zero_dose,
                max_days_overdue,
                registered_for_immunization: registered,
                household_risk,
                days_since_screening,
                injury_visits_12m,
                open_case,
            },
        )
}

/// `base` with every missing fact taken from `extra`: strictly more information.
fn with_more_facts(base: &Facts, extra: &Facts) -> Facts {
    Facts {
        age_days: base.age_days.or(extra.age_days),
        age_months: base.age_months.or(extra.age_months),
        zero_dose: base.zero_dose.or(extra.zero_dose),
        max_days_overdue: base.max_days_overdue.or(extra.max_days_overdue),
        registered_for_immunization: base
            .registered_for_immunization
            .or(extra.registered_for_immunization),
        household_risk: base.household_risk.or(extra.household_risk),
        days_since_screening: base.days_since_screening.or(extra.days_since_screening),
        injury_visits_12m: base.injury_visits_12m.or(extra.injury_visits_12m),
        open_case: base.open_case.or(extra.open_case),
    }
}

fn comparison() -> impl Strategy<Value = Condition> {
    (
        proptest::sample::select(FactName::ALL.to_vec()),
        proptest::sample::select(Op::ALL.to_vec()),
        0i64..100,
        level(),
        any::<bool>(),
    )
        .prop_map(|(fact, op, n, l, b)| {
            let (op, value) = match fact.kind() {
                FactKind::Bool => (if n % 2 == 0 { Op::Eq } else { Op::Ne }, Literal::Bool(b)),
                FactKind::Number => (op, Literal::Int(n)),
                FactKind::Level => (op, Literal::Text(l.code().into())),
            };
            Condition::compare(fact, op, value)
        })
}

fn condition() -> impl Strategy<Value = Condition> {
    comparison().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Condition::all),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Condition::any),
            inner.prop_map(Condition::not),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn all_fires_only_if_each_part_fires(parts in proptest::collection::vec(condition(), 1..5), f in facts()) {
        let fires = Condition::all(parts.clone()).eval(&f) == Truth::True;
        prop_assert_eq!(fires, parts.iter().all(|p| p.eval(&f) == Truth::True));
    }

    #[test]
    fn any_fires_if_and_only_if_some_part_fires(parts in proptest::collection::vec(condition(), 1..5), f in facts()) {
        let fires = Condition::any(parts.clone()).eval(&f) == Truth::True;
        prop_assert_eq!(fires, parts.iter().any(|p| p.eval(&f) == Truth::True));
    }

    #[test]
    fn adding_a_satisfied_condition_keeps_any_firing(parts in proptest::collection::vec(condition(), 1..5), extra in condition(), f in facts()) {
        prop_assume!(extra.eval(&f) == Truth::True || Condition::any(parts.clone()).eval(&f) == Truth::True);
        let mut more = parts.clone();
        more.push(extra);
        prop_assert_eq!(Condition::any(more).eval(&f), Truth::True);
    }

    #[test]
    fn learning_more_facts_never_stops_a_condition_firing(c in condition(), f in facts(), extra in facts()) {
        prop_assume!(c.eval(&f) == Truth::True);
        prop_assert_eq!(c.eval(&with_more_facts(&f, &extra)), Truth::True);
    }

    #[test]
    fn learning_more_facts_never_stops_a_shipped_rule_firing(f in facts(), extra in facts()) {
        let before = fired(&f);
        let after = fired(&with_more_facts(&f, &extra));
        prop_assert!(before.iter().all(|r| after.contains(r)), "{:?} -> {:?}", before, after);
    }

    #[test]
    fn double_negation_is_identity(c in condition(), f in facts()) {
        prop_assert_eq!(Condition::not(Condition::not(c.clone())).eval(&f), c.eval(&f));
    }

    #[test]
    fn fired_alerts_have_filled_explanations_and_traces(f in facts()) {
        for a in evaluate_rules(&rules(), &f) {
            for lang in crate::text::Lang::ALL {
                let text = a.explanation.get(lang);
                prop_assert!(!text.contains('{') && !text.contains('}'), "{}", text);
            }
            prop_assert!(!a.matched.is_empty());
        }
    }

    #[test]
    fn traces_only_name_comparisons_that_hold(c in condition(), f in facts()) {
        let truth = c.eval(&f);
        prop_assume!(truth != Truth::Unknown);
        for m in c.trace(&f, truth) {
            let single = Condition::compare(m.fact, m.op, m.value.clone());
            let expected = if m.negated { Truth::False } else { Truth::True };
            prop_assert_eq!(single.eval(&f), expected);
        }
    }

    #[test]
    fn hit_rates_agree_with_evaluation(snapshots in proptest::collection::vec(facts(), 0..20)) {
        let rates = hit_rates(&rules(), &snapshots);
        for r in &rates {
            let fired_on = snapshots.iter().filter(|f| fired(f).contains(&r.rule)).count();
            prop_assert_eq!(r.fired, fired_on);
            prop_assert!(r.fired + r.unknown <= r.total);
        }
    }

    #[test]
    fn conditions_round_trip_through_toml(c in condition()) {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct W { when: Condition }
        let text = toml::to_string(&W { when: c.clone() }).unwrap();
        prop_assert_eq!(toml::from_str::<W>(&text).unwrap(), W { when: c });
    }
}
