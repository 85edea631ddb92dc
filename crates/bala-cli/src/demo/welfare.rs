//! Demo data of the welfare pillar, in Almaly district (Almaty): screenings by
//! the district nurse, a concern report, alerts, referrals, and cases at
//! different stages for `social.almaly`, supervised by `supervisor.almaty`.
//! Everything goes through the same store functions as the pages, so it is
//! audited and its narratives are sealed with the server's keys.

use anyhow::Context;
use bala_access::{users, Principal};
use bala_registry::people::{self, Search};
use bala_store::audit::Actor;
use bala_store::{sqlx, Db};
use bala_web::integration::RegisterImmunization;
use bala_welfare::crypt::KeyRing;
use bala_welfare::instrument::AnswerSpec;
use bala_welfare::store::cases::{self, NewCase};
use bala_welfare::store::screenings::{self, ConcernInput, ScreeningInput};
use bala_welfare::store::{referrals, Ctx};
use bala_welfare::{Answer, AnswerValue, Instrument, ScreeningContext};
use time::{Duration, OffsetDateTime};

const ALMALY: &str = "751110000";

async fn principal(db: &Db, username: &str) -> anyhow::Result<(Principal, Actor)> {
    let (u, _) = users::find_by_username(db, username)
        .await?
        .with_context(|| format!("demo account {username} is missing"))?;
    let p = users::principal(&u);
    let a = Actor {
        id: Some(p.user_id),
        name: p.username.clone(),
        ip: None,
    };
    Ok((p, a))
}

/// Answers for a child of `age_months`: "no" except `yes`, first option, smallest number.
fn answers(age_months: Option<u32>, yes: &[&str], note: Option<&str>) -> Vec<Answer> {
    let inst = Instrument::default_kz();
    let ctx = ScreeningContext {
        child_age_months: age_months,
    };
    inst.questions()
        .filter(|(_, q)| q.applies.applies_to(ctx.child_age_months))
        .filter_map(|(_, q)| {
            let v = match &q.answer {
                AnswerSpec::YesNo { .. } => AnswerValue::YesNo(yes.contains(&q.code.as_str())),
                AnswerSpec::SingleChoice { options } => {
                    AnswerValue::Choice(options[0].code.clone())
                }
                AnswerSpec::Number { min, .. } => AnswerValue::Number(*min),
                AnswerSpec::Text { .. } => AnswerValue::Text(note?.to_string()),
            };
            Some(Answer::new(q.code.clone(), v))
        })
        .collect()
}

fn age_months(birth: &str) -> Option<u32> {
    let b = bala_core::parse_date(birth).ok()?;
    u32::try_from(bala_core::date::age_months(
        b,
        OffsetDateTime::now_utc().date(),
    ))
    .ok()
}

/// Moves a case's clock back by `hours` (demo cases look as if opened earlier).
async fn backdate(db: &Db, case_id: i64, hours: i64) -> anyhow::Result<()> {
    let row = sqlx::query("SELECT risk FROM welfare_cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(db.reader())
        .await?;
    let risk: String = bala_store::Row::try_get(&row, 0)?;
    let at = OffsetDateTime::now_utc() - Duration::hours(hours);
    let clock = bala_welfare::ResponsePolicy::default()
        .clock(risk.parse().unwrap_or(bala_welfare::RiskLevel::Low), at);
    let fmt = bala_store::time_fmt::format;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE welfare_cases SET registered_at = $1, response_escalate_at = $2, response_due_at = $3 WHERE id = $4",
    )
    .bind(fmt(at))
    .bind(clock.map(|c| fmt(c.escalate_at)))
    .bind(clock.map(|c| fmt(c.due_at)))
    .bind(case_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE welfare_case_events SET at = $1 WHERE case_id = $2 AND kind = 'registered'",
    )
    .bind(fmt(at))
    .bind(case_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Dates a case's first response `hours` after its registration (demo cases were
/// answered in time, not at the moment the demo was loaded).
async fn responded_after(db: &Db, case_id: i64, hours: i64) -> anyhow::Result<()> {
    let row = sqlx::query("SELECT registered_at FROM welfare_cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(db.reader())
        .await?;
    let registered: String = bala_store::Row::try_get(&row, 0)?;
    let at = bala_store::time_fmt::parse(&registered).context("stored timestamp")?
        + Duration::hours(hours);
    let at = bala_store::time_fmt::format(at);
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE welfare_cases SET first_response_at = $1 WHERE id = $2")
        .bind(&at)
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE welfare_case_events SET at = $1 WHERE case_id = $2 AND kind = 'first_response'",
    )
    .bind(&at)
    .bind(case_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Loads this pillar's demo data (called once, after the register's).
pub async fn load(db: &Db, keys: &KeyRing) -> anyhow::Result<()> {
    let (nurse, nurse_a) = principal(db, "nurse.almaly").await?;
    let (social, social_a) = principal(db, "social.almaly").await?;
    let (sup, sup_a) = principal(db, "supervisor.almaty").await?;
    let n = Ctx {
        principal: &nurse,
        actor: &nurse_a,
        keys,
    };
    let s = Ctx {
        principal: &social,
        actor: &social_a,
        keys,
    };
    let v = Ctx {
        principal: &sup,
        actor: &sup_a,
        keys,
    };
    let imm = RegisterImmunization;

    let search = Search {
        area: Some(ALMALY.into()),
        age: Some("child".into()),
        per_page: Some(60),
        ..Default::default()
    };
    let children: Vec<_> = people::search(
        db,
        people::Ctx {
            actor: &social_a,
            scope: &social.scope,
        },
        &search,
    )
    .await?
    .items
    .into_iter()
    .filter(|p| p.merged_into.is_none() && p.household_id.is_some())
    .collect();
    anyhow::ensure!(
        children.len() >= 10,
        "the demo register has too few children in Almaly"
    );
    // Each scenario gets a different child of a fitting age.
    let mut used = std::collections::HashSet::new();
    let mut pick =
        |min_years: i32, max_years: i32| -> anyhow::Result<bala_registry::people::Person> {
            let today = OffsetDateTime::now_utc().date();
            let found = children
                .iter()
                .find(|p| {
                    let age = bala_core::parse_date(&p.birth_date)
                        .map(|b| bala_core::date::age_years(b, today))
                        .unwrap_or(-1);
                    !used.contains(&p.id) && (min_years..=max_years).contains(&age)
                })
                .or_else(|| children.iter().find(|p| !used.contains(&p.id)))
                .cloned()
                .context("not enough demo children in Almaly")?;
            used.insert(found.id);
            Ok(found)
        };

    // Screenings by the nurse: immediate danger, medium, low.
    let danger = pick(0, 4)?;
    screenings::create(
        db,
        n,
        &imm,
        &ScreeningInput {
            person_id: danger.id,
            agency: "health".into(),
            answers: answers(
                age_months(&danger.birth_date),
                &["afraid_to_go_home", "witnesses_domestic_violence"],
                Some("Во время патронажа ребёнок плакал и не хотел оставаться с отчимом."),
            ),
        },
    )
    .await?;
    let medium = pick(6, 14)?;
    screenings::create(
        db,
        n,
        &imm,
        &ScreeningInput {
            person_id: medium.id,
            agency: "health".into(),
            answers: answers(
                age_months(&medium.birth_date),
                &["often_unsupervised", "runs_away"],
                None,
            ),
        },
    )
    .await?;
    let low = pick(0, 17)?;
    screenings::create(
        db,
        n,
        &imm,
        &ScreeningInput {
            person_id: low.id,
            agency: "health".into(),
            answers: answers(age_months(&low.birth_date), &[], None),
        },
    )
    .await?;
    // A teacher's concern, entered by the nurse's colleague at school through the same form.
    screenings::report_concern(
        db,
        n,
        &ConcernInput {
            person_id: pick(7, 15)?.id,
            concerns: vec!["neglect".into(), "no_documents".into()],
            level: "high".into(),
            agency: "education".into(),
            narrative: "Ребёнок приходит в школу голодным, третью неделю без тёплой одежды.".into(),
        },
    )
    .await?;

    let case = |child: bala_registry::people::Person,
                concerns: &[&str],
                risk: &str,
                summary: &str| NewCase {
        person_id: child.id,
        subject: "child".into(),
        concerns: concerns.iter().map(|c| c.to_string()).collect(),
        risk: risk.into(),
        summary: summary.into(),
        assign_to: Some("social.almaly".into()),
        source: "direct".into(),
        source_id: None,
    };
    let today = OffsetDateTime::now_utc().date();
    let iso = bala_core::date::iso;

    // 1. In assessment: responded, consent for health, referral accepted, visits planned.
    let c1 = cases::create(
        db,
        s,
        &case(
            pick(0, 6)?,
            &["neglect"],
            "high",
            "Мать одна воспитывает троих детей, задолженность за жильё, дети часто болеют.",
        ),
    )
    .await?;
    backdate(db, c1, 72).await?;
    cases::record_first_response(
        db,
        s,
        c1,
        "Домашний визит: дети дома, мать на работе до вечера.",
    )
    .await?;
    responded_after(db, c1, 6).await?;
    cases::transition(
        db,
        s,
        c1,
        "assessment",
        None,
        Some("Начата оценка потребностей семьи."),
    )
    .await?;
    cases::add_consent(
        db,
        s,
        c1,
        "Мать ребёнка",
        "mother",
        &["health".into(), "social_protection".into()],
        &iso(today),
    )
    .await?;
    referrals::send_from_case(
        db,
        s,
        c1,
        "health",
        "medical",
        "Осмотр педиатра, вакцинация по графику.",
    )
    .await?;
    cases::plan_visit(db, s, c1, &iso(today)).await?;
    cases::plan_visit(db, s, c1, &iso(today - Duration::days(3))).await?;
    cases::add_note(
        db,
        s,
        c1,
        "assessment",
        "Нужна адресная социальная помощь и место в детском саду.",
    )
    .await?;

    // 2. Implementing an approved plan; a referral to education overdue.
    let c2 = cases::create(
        db,
        s,
        &case(
            pick(11, 16)?,
            &["child_labour", "neglect"],
            "medium",
            "Подросток работает на рынке вместо школы.",
        ),
    )
    .await?;
    backdate(db, c2, 24 * 20).await?;
    cases::record_first_response(db, s, c2, "Встреча с семьёй в школе.").await?;
    responded_after(db, c2, 30).await?;
    cases::transition(db, s, c2, "assessment", None, None).await?;
    cases::transition(db, s, c2, "case_plan", None, None).await?;
    cases::add_plan_item(
        db,
        s,
        c2,
        "Вернуть ребёнка в школу",
        "pedagogical",
        "education",
        &iso(today + Duration::days(14)),
    )
    .await?;
    cases::add_plan_item(
        db,
        s,
        c2,
        "Оформить пособие семье",
        "economic",
        "social_protection",
        &iso(today - Duration::days(2)),
    )
    .await?;
    cases::transition(db, v, c2, "implementation", None, Some("План утверждён.")).await?;
    cases::add_consent(
        db,
        s,
        c2,
        "Отец ребёнка",
        "father",
        &["education".into()],
        &iso(today - Duration::days(10)),
    )
    .await?;
    let r = referrals::send_from_case(
        db,
        s,
        c2,
        "education",
        "pedagogical",
        "Индивидуальный учебный план.",
    )
    .await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE welfare_referrals SET sent_at = $1 WHERE id = $2")
        .bind(bala_store::time_fmt::format(
            OffsetDateTime::now_utc() - Duration::days(6),
        ))
        .bind(r)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    // 3. Closed with the goals achieved, after review by the supervisor.
    let c3 = cases::create(
        db,
        s,
        &case(
            pick(3, 12)?,
            &["without_parental_care"],
            "high",
            "Ребёнок остался с бабушкой после ареста отца.",
        ),
    )
    .await?;
    backdate(db, c3, 24 * 60).await?;
    cases::record_first_response(db, s, c3, "Визит к бабушке.").await?;
    responded_after(db, c3, 20).await?;
    for (to, who) in [
        ("assessment", s),
        ("case_plan", s),
        ("implementation", v),
        ("follow_up", s),
        ("review", s),
    ] {
        cases::transition(db, who, c3, to, None, None).await?;
    }
    cases::add_note(
        db,
        v,
        c3,
        "review",
        "Оформлена опека бабушки, ребёнок посещает школу.",
    )
    .await?;
    cases::transition(
        db,
        v,
        c3,
        "closed",
        Some("goals_achieved"),
        Some("Цели плана достигнуты."),
    )
    .await?;

    // 4. Immediate danger registered 20 hours ago, no first response yet: due soon.
    let c4 = cases::create(
        db,
        s,
        &case(
            pick(1, 10)?,
            &["physical_abuse", "domestic_violence"],
            "immediate_danger",
            "Соседи сообщают о криках и ударах ночью.",
        ),
    )
    .await?;
    backdate(db, c4, 20).await?;

    // 5. A sensitive case (sexual abuse): only the worker and the supervisors see it.
    let c5 = cases::create(
        db,
        s,
        &case(
            pick(8, 15)?,
            &["sexual_abuse"],
            "high",
            "Раскрытие ребёнком в беседе с психологом.",
        ),
    )
    .await?;
    backdate(db, c5, 30).await?;
    cases::record_first_response(db, s, c5, "Ребёнок в безопасности у тёти.").await?;
    responded_after(db, c5, 3).await?;

    // Escalations for the clocks above, and the alert rules over the district.
    cases::escalate(db).await?;
    bala_welfare::store::alerts::evaluate_area(db, &imm, &social.scope).await?;
    tracing::info!("demo welfare data loaded");
    Ok(())
}
