use super::*;
use crate::text::Lang;

fn valid() -> Instrument {
    Instrument::default_kz()
}

/// Validates after `edit` and returns the fields named, for compact assertions.
fn fields_after(edit: impl FnOnce(&mut Instrument)) -> Vec<(String, &'static str)> {
    let mut inst = valid();
    edit(&mut inst);
    match inst.validate() {
        Ok(()) => vec![],
        Err(e) => e.0.into_iter().map(|f| (f.field, f.code)).collect(),
    }
}

fn has(errors: &[(String, &'static str)], field: &str, code: &str) -> bool {
    errors.iter().any(|(f, c)| f == field && *c == code)
}

fn yes_no(weight: i32) -> AnswerSpec {
    AnswerSpec::YesNo {
        yes: Score {
            weight,
            ..Score::default()
        },
        no: Score::default(),
    }
}

#[test]
fn shipped_instrument_is_valid_and_has_the_eight_domains() {
    let inst = valid();
    let codes: Vec<&str> = inst.domains.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "safety",
            "parental_care",
            "supervision",
            "parenting",
            "health_development",
            "economic_housing",
            "education_social",
            "legal_status"
        ]
    );
    assert!(inst
        .sources
        .iter()
        .any(|s| s.contains("345-II") && s.contains("Art. 1")));
    assert!(inst
        .sources
        .iter()
        .any(|s| s.contains("224-VII") && s.contains("Art. 133")));
    assert!(inst.sources.iter().any(|s| s.contains("No. 267")));
    assert_eq!(inst.max_total(), 22);
}

#[test]
fn shipped_instrument_texts_are_in_the_right_scripts() {
    // Kazakh and Russian are Cyrillic; a Latin letter there is a copy-paste slip.
    for (_, q) in valid().questions() {
        for lang in [Lang::Kk, Lang::Ru] {
            let t = q.text.get(lang);
            assert!(
                !t.chars().any(|c| c.is_ascii_alphabetic()),
                "{}.{lang}: {t}",
                q.code
            );
        }
        assert!(q.text.en.is_ascii(), "{}", q.code);
    }
    // Kazakh-specific letters show the Kazakh text is not Russian copied over.
    let kk: String = valid()
        .questions()
        .map(|(_, q)| q.text.kk.clone())
        .collect();
    assert!(kk.chars().any(|c| "әғқңөұүһі".contains(c)));
}

#[test]
fn toml_round_trip_is_lossless() {
    let inst = valid();
    let text = inst.to_toml();
    assert_eq!(Instrument::from_toml(&text).unwrap(), inst);
}

#[test]
fn json_round_trip_is_lossless() {
    let inst = valid();
    let json = serde_json::to_string(&inst).unwrap();
    assert!(json.contains("\"valid_from\":\"2025-07-01\""));
    assert_eq!(serde_json::from_str::<Instrument>(&json).unwrap(), inst);
}

#[test]
fn unknown_keys_and_bad_dates_are_parse_errors() {
    let typo = DEFAULT_KZ_TOML.replacen("red_flag_level", "red_flag_levle", 1);
    assert!(matches!(
        Instrument::from_toml(&typo),
        Err(InstrumentError::Parse(_))
    ));
    let date = DEFAULT_KZ_TOML.replacen("2025-07-01", "01.07.2025", 1);
    let err = Instrument::from_toml(&date).unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
}

#[test]
fn from_toml_refuses_an_invalid_instrument() {
    let bad = DEFAULT_KZ_TOML.replacen("version = 1", "version = 0", 1);
    match Instrument::from_toml(&bad) {
        Err(InstrumentError::Invalid(e)) => assert!(e.for_field("version").is_some()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_codes_name_both_places() {
    let e = fields_after(|i| i.domains[2].questions[1].code = "physical_abuse_signs".into());
    assert!(
        has(&e, "domains[2].questions[1].code", "err-code-duplicate"),
        "{e:?}"
    );
    let e = fields_after(|i| i.domains[3].code = "safety".into());
    assert!(has(&e, "domains[3].code", "err-code-duplicate"));
    let e = fields_after(|i| {
        if let AnswerSpec::SingleChoice { options } = &mut i.domains[5].questions[2].answer {
            options[1].code = "adequate".into();
        }
    });
    assert!(
        has(
            &e,
            "domains[5].questions[2].answer.options[1].code",
            "err-code-duplicate"
        ),
        "{e:?}"
    );
    let e = fields_after(|i| i.combinations[1].code = i.combinations[0].code.clone());
    assert!(has(&e, "combinations[1].code", "err-code-duplicate"));
}

#[test]
fn bad_codes_are_reported() {
    let e = fields_after(|i| i.domains[0].questions[0].code = "Physical abuse".into());
    assert!(has(&e, "domains[0].questions[0].code", "err-code-format"));
    let e = fields_after(|i| i.code = String::new());
    assert!(has(&e, "code", "err-code-format"));
}

#[test]
fn missing_translations_are_reported_per_language() {
    let e = fields_after(|i| i.domains[1].questions[0].text.kk.clear());
    assert_eq!(
        e,
        vec![(
            "domains[1].questions[0].text.kk".to_string(),
            "err-translation-missing"
        )]
    );
    let e = fields_after(|i| i.domains[0].name.ru = "  ".into());
    assert!(has(&e, "domains[0].name.ru", "err-translation-missing"));
    let e = fields_after(|i| i.title.en.clear());
    assert!(has(&e, "title.en", "err-translation-missing"));
    let e = fields_after(|i| i.domains[0].questions[6].help.as_mut().unwrap().en.clear());
    assert!(has(
        &e,
        "domains[0].questions[6].help.en",
        "err-translation-missing"
    ));
    let e = fields_after(|i| i.combinations[0].name.kk.clear());
    assert!(has(
        &e,
        "combinations[0].name.kk",
        "err-translation-missing"
    ));
    let e = fields_after(|i| {
        if let AnswerSpec::SingleChoice { options } = &mut i.domains[5].questions[2].answer {
            options[3].label.ru.clear();
        }
    });
    assert!(has(
        &e,
        "domains[5].questions[2].answer.options[3].label.ru",
        "err-translation-missing"
    ));
}

#[test]
fn thresholds_must_ascend_and_be_reachable() {
    let e = fields_after(|i| i.thresholds.high = i.thresholds.medium);
    assert!(has(&e, "thresholds.high", "err-threshold-order"));
    let e = fields_after(|i| i.thresholds.medium = 0);
    assert!(has(&e, "thresholds.medium", "err-threshold-zero"));
    let e = fields_after(|i| i.thresholds.high = 23);
    assert!(has(&e, "thresholds.high", "err-threshold-unreachable"));
    let e = fields_after(|i| i.thresholds.immediate_danger = Some(8));
    assert!(has(
        &e,
        "thresholds.immediate_danger",
        "err-threshold-order"
    ));
    let e = fields_after(|i| i.thresholds.immediate_danger = Some(40));
    assert!(has(
        &e,
        "thresholds.immediate_danger",
        "err-threshold-unreachable"
    ));
    assert!(fields_after(|i| i.thresholds.immediate_danger = Some(20)).is_empty());
}

#[test]
fn red_flags_need_a_high_enough_level() {
    let flag = |s: Score| {
        move |i: &mut Instrument| {
            i.domains[2].questions[0].answer = AnswerSpec::YesNo {
                yes: s,
                no: Score::default(),
            }
        }
    };
    let e = fields_after(flag(Score {
        weight: 1,
        red_flag: true,
        red_flag_level: None,
    }));
    assert!(
        has(
            &e,
            "domains[2].questions[0].answer.yes.red_flag_level",
            "err-red-flag-level-missing"
        ),
        "{e:?}"
    );
    let e = fields_after(flag(Score {
        weight: 1,
        red_flag: true,
        red_flag_level: Some(RiskLevel::Medium),
    }));
    assert!(has(
        &e,
        "domains[2].questions[0].answer.yes.red_flag_level",
        "err-red-flag-level-low"
    ));
    let e = fields_after(flag(Score {
        weight: 1,
        red_flag: false,
        red_flag_level: Some(RiskLevel::High),
    }));
    assert!(has(
        &e,
        "domains[2].questions[0].answer.yes.red_flag_level",
        "err-red-flag-level-without-flag"
    ));
    let e = fields_after(flag(Score {
        weight: 101,
        ..Score::default()
    }));
    assert!(has(
        &e,
        "domains[2].questions[0].answer.yes.weight",
        "err-weight-range"
    ));
}

#[test]
fn choice_and_number_answers_are_checked() {
    let e = fields_after(|i| {
        if let AnswerSpec::SingleChoice { options } = &mut i.domains[5].questions[2].answer {
            options.truncate(1);
        }
    });
    assert!(has(
        &e,
        "domains[5].questions[2].answer.options",
        "err-options-too-few"
    ));
    let e = fields_after(|i| {
        if let AnswerSpec::SingleChoice { options } = &mut i.domains[5].questions[2].answer {
            options[2].red_flag = true;
        }
    });
    assert!(has(
        &e,
        "domains[5].questions[2].answer.options[2].red_flag_level",
        "err-red-flag-level-missing"
    ));
    let number = |min, max, bands: Vec<(i64, i64)>| {
        move |i: &mut Instrument| {
            let bands = bands
                .into_iter()
                .map(|(from, to)| Band {
                    from,
                    to,
                    weight: 1,
                    red_flag: false,
                    red_flag_level: None,
                })
                .collect();
            i.domains[6].questions[1].answer = AnswerSpec::Number {
                min,
                max,
                unit: None,
                bands,
            };
        }
    };
    let path = "domains[6].questions[1].answer";
    assert!(has(
        &fields_after(number(5, 1, vec![])),
        &format!("{path}.max"),
        "err-range-order"
    ));
    assert!(has(
        &fields_after(number(0, 10, vec![(3, 2)])),
        &format!("{path}.bands[0].to"),
        "err-range-order"
    ));
    assert!(has(
        &fields_after(number(0, 10, vec![(3, 11)])),
        &format!("{path}.bands[0]"),
        "err-band-outside"
    ));
    assert!(has(
        &fields_after(number(0, 10, vec![(3, 5), (5, 9)])),
        &format!("{path}.bands[1].from"),
        "err-band-order"
    ));
    assert!(has(
        &fields_after(number(0, 10, vec![(6, 9), (1, 2)])),
        &format!("{path}.bands[1].from"),
        "err-band-order"
    ));
    assert!(fields_after(number(0, 10, vec![(1, 2), (3, 10)])).is_empty());
    let e = fields_after(|i| i.domains[0].questions[7].answer = AnswerSpec::Text { max_len: 0 });
    assert!(has(
        &e,
        "domains[0].questions[7].answer.max_len",
        "err-max-len"
    ));
}

#[test]
fn structure_problems_are_reported() {
    let e = fields_after(|i| i.domains[4].questions.clear());
    assert!(has(&e, "domains[4].questions", "err-questions-missing"));
    let e = fields_after(|i| i.domains[4].cap = 0);
    assert!(has(&e, "domains[4].cap", "err-cap-zero"));
    let e = fields_after(|i| i.domains.clear());
    assert!(has(&e, "domains", "err-domains-missing"));
    let e = fields_after(|i| i.sources.clear());
    assert!(has(&e, "sources", "err-sources-missing"));
    let e = fields_after(|i| i.sources.push(" ".into()));
    assert!(has(&e, "sources[6]", "err-blank"));
    let e = fields_after(|i| {
        i.domains[1].questions[0].applies = Applicability {
            age_months_at_least: Some(36),
            age_months_below: Some(36),
        }
    });
    assert!(has(&e, "domains[1].questions[0].applies", "err-age-range"));
}

#[test]
fn combinations_must_refer_to_real_domains_within_their_caps() {
    let e = fields_after(|i| i.combinations[0].when[1].domain = "nowhere".into());
    assert!(has(
        &e,
        "combinations[0].when[1].domain",
        "err-unknown-domain"
    ));
    let e = fields_after(|i| i.combinations[0].when[1].min_score = 4);
    assert!(has(
        &e,
        "combinations[0].when[1].min_score",
        "err-min-score-range"
    ));
    let e = fields_after(|i| i.combinations[0].when[1].domain = "supervision".into());
    assert!(has(
        &e,
        "combinations[0].when[1].domain",
        "err-code-duplicate"
    ));
    let e = fields_after(|i| i.combinations[0].when.clear());
    assert!(has(&e, "combinations[0].when", "err-combination-empty"));
    let e = fields_after(|i| i.combinations[0].level = RiskLevel::Low);
    assert!(has(&e, "combinations[0].level", "err-combination-level"));
}

#[test]
fn all_errors_are_reported_at_once() {
    let e = fields_after(|i| {
        i.version = 0;
        i.domains[0].questions[0].text.en.clear();
        i.domains[7].questions[0].answer = yes_no(1000);
    });
    assert_eq!(e.len(), 3, "{e:?}");
}

#[test]
fn thresholds_map_totals_to_levels() {
    let t = Thresholds {
        medium: 3,
        high: 8,
        immediate_danger: Some(15),
    };
    assert_eq!(t.level_for(0), (RiskLevel::Low, None));
    assert_eq!(t.level_for(2), (RiskLevel::Low, None));
    assert_eq!(t.level_for(3), (RiskLevel::Medium, Some(3)));
    assert_eq!(t.level_for(8), (RiskLevel::High, Some(8)));
    assert_eq!(t.level_for(15), (RiskLevel::ImmediateDanger, Some(15)));
}

#[test]
fn applicability_by_age() {
    let under3 = Applicability {
        age_months_at_least: None,
        age_months_below: Some(36),
    };
    assert!(under3.applies_to(Some(35)));
    assert!(!under3.applies_to(Some(36)));
    assert!(under3.applies_to(None), "unknown age: ask");
    let school = Applicability {
        age_months_at_least: Some(72),
        age_months_below: Some(216),
    };
    assert!(!school.applies_to(Some(71)));
    assert!(school.applies_to(Some(72)));
    assert!(!school.applies_to(Some(216)));
}

#[test]
fn risk_levels_are_ordered_and_named() {
    assert!(RiskLevel::Low < RiskLevel::Medium);
    assert!(RiskLevel::High < RiskLevel::ImmediateDanger);
    for l in RiskLevel::ALL {
        assert_eq!(l.code().parse::<RiskLevel>(), Ok(l));
        for lang in Lang::ALL {
            assert!(!l.label(lang).is_empty());
        }
    }
}

#[test]
fn the_version_in_force_is_the_highest_already_valid() {
    use time::macros::date;
    let v1 = valid();
    let mut v2 = valid();
    v2.version = 2;
    v2.valid_from = date!(2026 - 01 - 01);
    let mut other = valid();
    other.code = "other".into();
    other.version = 9;
    let all = [v2.clone(), v1.clone(), other];
    assert_eq!(
        Instrument::in_force(&all, "screening-kz", date!(2025 - 12 - 31)),
        Some(&v1)
    );
    assert_eq!(
        Instrument::in_force(&all, "screening-kz", date!(2026 - 01 - 01)),
        Some(&v2)
    );
    assert_eq!(
        Instrument::in_force(&all, "screening-kz", date!(2025 - 06 - 30)),
        None
    );
}
