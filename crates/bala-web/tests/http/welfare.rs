//! The welfare pillar over HTTP, on both databases: the journey screening →
//! alert → case → referral → closure; the case authorization matrix (every
//! case route × every role × assignment × sensitivity); encryption at rest read
//! from the database itself; an audit entry for every case read.

use crate::both_backends;
use crate::harness::{person, Browser, TestApp, PASSWORD};
use bala_access::{users, Principal, Role, TokenScope};
use bala_core::AreaCode;
use bala_store::audit::Actor;
use bala_store::{Backend, Row};
use bala_welfare::crypt::KeyRing;
use bala_welfare::gate::{permits, CaseAction, Relation};
use bala_welfare::instrument::AnswerSpec;
use bala_welfare::store::cases::{self, NewCase};
use bala_welfare::store::Ctx;
use bala_welfare::{Answer, AnswerValue, Instrument, ScreeningContext};
use reqwest::{Method, StatusCode};

/// Adds a user (besides the harness's one per role) and returns their principal.
async fn add_user(app: &TestApp, username: &str, role: Role, area: &str) -> Principal {
    let new = users::NewUser {
        username: username.into(),
        display_name: format!("Test {username}"),
        password: PASSWORD.into(),
        role,
        scope: vec![AreaCode::parse(area).unwrap()],
    };
    users::create(&app.t.db, &Actor::system("test"), &new)
        .await
        .unwrap();
    principal_of(app, username).await
}

/// Signs in and switches the interface to English (the default is Kazakh).
async fn login_en(app: &TestApp, username: &str) -> Browser {
    let b = app.login(username).await;
    let r = b.post_form("/lang", &[("lang", "en"), ("next", "/")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    b
}

async fn principal_of(app: &TestApp, username: &str) -> Principal {
    let (u, _) = users::find_by_username(&app.t.db, username)
        .await
        .unwrap()
        .unwrap();
    users::principal(&u)
}

/// A store context; tests that write through the store use the app's own keys
/// (`TestApp::keys`) so the pages can open what they wrote.
fn ctx<'a>(p: &'a Principal, actor: &'a Actor, keys: &'a KeyRing) -> Ctx<'a> {
    Ctx {
        principal: p,
        actor,
        keys,
    }
}

fn actor_of(p: &Principal) -> Actor {
    Actor {
        id: Some(p.user_id),
        name: p.username.clone(),
        ip: None,
    }
}

/// Form fields answering every question that applies to a child of `age_months`:
/// "no" everywhere except the `yes` codes, the first option, the minimum number.
fn screening_form(age_months: u32, person_id: i64, yes: &[&str]) -> Vec<(String, String)> {
    let inst = Instrument::default_kz();
    let mut out = vec![
        ("person_id".to_string(), person_id.to_string()),
        ("agency".to_string(), "health".to_string()),
    ];
    for (_, q) in inst.questions() {
        if !q.applies.applies_to(Some(age_months)) {
            continue;
        }
        let v = match &q.answer {
            AnswerSpec::YesNo { .. } => if yes.contains(&q.code.as_str()) {
                "yes"
            } else {
                "no"
            }
            .to_string(),
            AnswerSpec::SingleChoice { options } => options[0].code.clone(),
            AnswerSpec::Number { min, .. } => min.to_string(),
            AnswerSpec::Text { .. } => continue,
        };
        out.push((format!("q.{}", q.code), v));
    }
    out
}

fn api_answers(age_months: u32, yes: &[&str]) -> Vec<Answer> {
    let inst = Instrument::default_kz();
    let ctx = ScreeningContext {
        child_age_months: Some(age_months),
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
                AnswerSpec::Text { .. } => return None,
            };
            Some(Answer::new(q.code.clone(), v))
        })
        .collect()
}

async fn post_pairs(b: &Browser, path: &str, pairs: &[(String, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_form(path, &fields).await
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

fn id_in(location: &str, prefix: &str) -> i64 {
    location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location} does not start with {prefix}"))
        .split(['#', '?'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn scalar(app: &TestApp, sql: &str, id: i64) -> i64 {
    bala_store::sqlx::query(sql)
        .bind(id)
        .fetch_one(app.t.db.reader())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn reads_of(app: &TestApp, case_id: i64) -> i64 {
    bala_store::sqlx::query(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'welfare.case.read' AND record_id = $1",
    )
    .bind(case_id.to_string())
    .fetch_one(app.t.db.reader())
    .await
    .unwrap()
    .try_get::<i64, _>(0)
    .unwrap()
}

/// Screening → alert → case → referral → closure, through the pages, as the
/// nurse, the district social worker and the supervisor.
async fn journey(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth =
        bala_core::date::iso(time::OffsetDateTime::now_utc().date() - time::Duration::days(400));
    let child = person(&app, "Сейітова", "Аружан", &birth, "F", "751110000").await;

    // The nurse screens the child at a home visit: the child is afraid to go home.
    let nurse = login_en(&app, "nurse").await;
    let (status, html) = nurse
        .get_text(&format!("/welfare/screenings/new?person={child}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Is the child afraid to go home"),
        "questions come from the instrument"
    );
    // Nothing answered: every required question is named.
    let r = post_pairs(
        &nurse,
        "/welfare/screenings",
        &[("person_id".into(), child.to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"q-afraid_to_go_home-error\""));
    assert!(html.contains("Please answer this question."));

    let r = post_pairs(
        &nurse,
        "/welfare/screenings",
        &screening_form(13, child, &["afraid_to_go_home"]),
    )
    .await;
    if r.status() != StatusCode::SEE_OTHER {
        let html = r.text().await.unwrap();
        let errors: Vec<&str> = html
            .split("class=\"error-text\"")
            .skip(1)
            .map(|e| &e[..e.len().min(160)])
            .collect();
        panic!("screening refused: {errors:#?}");
    }
    let screening = id_in(&location(&r), "/welfare/screenings/");
    let (_, html) = nurse
        .get_text(&format!("/welfare/screenings/{screening}"))
        .await;
    assert!(html.contains("immediate danger"), "the level is shown");
    assert!(html.contains("Red flag"), "with the reason");
    assert!(
        html.contains("Referred to the district"),
        "and the referral"
    );

    // The district's social worker has the referral and an alert explaining itself.
    let social = login_en(&app, "social").await;
    let (_, html) = social.get_text("/welfare/referrals").await;
    assert!(html.contains("Сейітова Аружан"));
    let alert: i64 = scalar(
        &app,
        "SELECT id FROM welfare_alerts WHERE person_id = $1 AND rule = 'immediate_danger_without_case'",
        child,
    )
    .await;
    let (_, html) = social.get_text("/welfare/alerts").await;
    assert!(html.contains("Immediate danger without an open case"));
    let (status, html) = social.get_text(&format!("/welfare/alerts/{alert}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("found immediate danger, but no case is open"),
        "{html}"
    );
    // The nurse is not a case worker.
    assert_eq!(
        nurse.get("/welfare/alerts").await.status(),
        StatusCode::FORBIDDEN
    );

    // The alert becomes a case; its first-response clock runs (24 hours).
    let case_form = [
        ("subject", "child"),
        ("concerns", "physical_abuse"),
        ("concerns", "domestic_violence"),
        ("risk", "immediate_danger"),
        ("summary", "Ребёнок боится идти домой; синяки на руках."),
    ];
    let r = social
        .post_form(&format!("/welfare/alerts/{alert}/case"), &case_form)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case_id = id_in(&location(&r), "/welfare/cases/");
    let (status, html) = social.get_text(&format!("/welfare/cases/{case_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ребёнок боится идти домой"));
    assert!(html.contains("due by"), "the response deadline is shown");
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM welfare_alerts WHERE id = $1 AND status = 'case_opened'",
            alert
        )
        .await,
        1
    );

    // First response, then assessment.
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/first-response"),
            &[("note", "Визит ночью, ребёнок у бабушки.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/transition"),
            &[("to", "assessment")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A referral to education without consent is refused, naming the field.
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/referrals"),
            &[("to_agency", "education"), ("service", "pedagogical")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"to_agency-error\""));
    assert!(html.contains("consent"));
    // Consent for health and education, then the referral goes.
    let today = bala_core::date::iso(time::OffsetDateTime::now_utc().date());
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/consents"),
            &[
                ("given_by", "Сейітова Гүлнар"),
                ("relation", "mother"),
                ("agencies", "health"),
                ("agencies", "education"),
                ("given_on", &today),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/referrals"),
            &[
                ("to_agency", "education"),
                ("service", "pedagogical"),
                ("note", "Школа №12"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let referral = scalar(
        &app,
        "SELECT MAX(id) FROM welfare_referrals WHERE case_id = $1",
        case_id,
    )
    .await;
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/referrals/{referral}"),
            &[("action", "accept")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/referrals/{referral}"),
            &[("action", "complete")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A plan goal and a visit; a document.
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/plan"),
            &[
                ("goal", "Безопасное жильё"),
                ("service", "shelter"),
                ("agency", "social_services"),
                ("due_on", &today),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/visits"),
            &[("due_on", "not a date")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"visit-due-error\""));

    // The worker may not close the case: closing is the supervisor's.
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/transition"),
            &[
                ("to", "closed"),
                ("closure_reason", "no_protection_concern"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Your role cannot make this change"));
    let supervisor = login_en(&app, "supervisor").await;
    let r = supervisor
        .post_form(
            &format!("/welfare/cases/{case_id}/transition"),
            &[("to", "closed")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = supervisor
        .post_form(
            &format!("/welfare/cases/{case_id}/transition"),
            &[
                ("to", "closed"),
                ("closure_reason", "no_protection_concern"),
                ("note", "Угрозы нет."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = supervisor
        .get_text(&format!("/welfare/cases/{case_id}"))
        .await;
    assert!(html.contains("no protection concern found"));
    assert!(
        html.contains("Case closed"),
        "the timeline records the closure"
    );

    // Each of the page reads above is in the audit trail, attributed.
    let reads = bala_store::sqlx::query(
        "SELECT actor FROM audit_log WHERE action = 'welfare.case.read' AND record_id = $1 ORDER BY seq",
    )
    .bind(case_id.to_string())
    .fetch_all(app.t.db.reader())
    .await
    .unwrap();
    let actors: Vec<String> = reads
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect();
    assert!(
        actors.iter().filter(|a| *a == "social").count() >= 2,
        "{actors:?}"
    );
    assert!(actors.iter().any(|a| a == "supervisor"), "{actors:?}");
    // The audit chain is intact.
    assert!(bala_store::audit::verify(&app.t.db)
        .await
        .unwrap()
        .problems
        .is_empty());
}

/// One case for the matrix, with how each user stands to it.
struct MatrixCase {
    id: i64,
    sensitive: bool,
    relation: fn(&str) -> Relation,
}

fn rel(assigned: bool, supervisor: bool, shared: bool, break_glass: bool) -> Relation {
    Relation {
        assigned,
        supervisor,
        shared,
        break_glass,
    }
}

/// The record-level action a case route needs.
fn action_of(method: &Method, path: &str) -> CaseAction {
    if *method == Method::GET {
        CaseAction::Read
    } else if path.ends_with("/transfer") {
        CaseAction::Transfer
    } else if path.ends_with("/shares") || path.ends_with("/revoke") {
        CaseAction::Share
    } else if path.ends_with("/sensitivity") {
        CaseAction::SetSensitivity
    } else {
        CaseAction::Work
    }
}

/// Every case route, for every role, against cases assigned to the user, to a
/// colleague, shared, sensitive, opened by emergency access, and out of area.
async fn case_authorization_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let keys = app.keys.clone();
    let social = principal_of(&app, "social").await;
    let social2 = add_user(&app, "social2", Role::SocialWorker, "751110000").await;
    add_user(&app, "social.medeu", Role::SocialWorker, "751310000").await;
    add_user(&app, "supervisor.shieli", Role::Supervisor, "434600000").await;
    let a = actor_of(&social);
    let sctx = ctx(&social, &a, &keys);
    let child = person(&app, "Әлиева", "Томирис", "2019-05-05", "F", "751110000").await;
    let new = |summary: &str, concern: &str| NewCase {
        person_id: child,
        subject: "child".into(),
        concerns: vec![concern.into()],
        risk: "high".into(),
        summary: summary.into(),
        assign_to: None,
        source: "direct".into(),
        source_id: None,
    };
    let plain = cases::create(&app.t.db, sctx, &new("plain", "neglect"))
        .await
        .unwrap();
    cases::share(&app.t.db, sctx, plain, "social.medeu")
        .await
        .unwrap();
    let sensitive = cases::create(&app.t.db, sctx, &new("sensitive", "neglect"))
        .await
        .unwrap();
    cases::share(&app.t.db, sctx, sensitive, "social.medeu")
        .await
        .unwrap();
    cases::set_sensitive(&app.t.db, sctx, sensitive, "yes", "disclosure of abuse")
        .await
        .unwrap();
    let emergency = cases::create(&app.t.db, sctx, &new("emergency", "neglect"))
        .await
        .unwrap();
    // social2 opens the child's cases with emergency access: all three open ones.
    let a2 = actor_of(&social2);
    let opened = cases::break_glass(
        &app.t.db,
        ctx(&social2, &a2, &keys),
        &child.to_string(),
        "Ребёнок в больнице ночью, специалист недоступен",
    )
    .await
    .unwrap();
    assert_eq!(opened.len(), 3);
    // A supervisor of the area was alerted.
    let sup = principal_of(&app, "supervisor").await;
    assert!(
        scalar(&app, "SELECT COUNT(*) FROM welfare_notifications WHERE user_id = $1 AND kind = 'break-glass'", sup.user_id).await
            >= 3
    );
    // A colleague's case without emergency access: a case of another child.
    let other_child = person(&app, "Бекетов", "Алдияр", "2018-02-02", "M", "751110000").await;
    let colleague = cases::create(
        &app.t.db,
        ctx(&social2, &a2, &keys),
        &NewCase {
            person_id: other_child,
            ..new("colleague", "neglect")
        },
    )
    .await
    .unwrap();

    let matrix = [
        MatrixCase {
            id: plain,
            sensitive: false,
            relation: |u| match u {
                "social" => rel(true, false, false, false),
                "supervisor" => rel(false, true, false, false),
                "social.medeu" => rel(false, false, true, false),
                "social2" => rel(false, false, false, true),
                _ => rel(false, false, false, false),
            },
        },
        MatrixCase {
            id: sensitive,
            sensitive: true,
            relation: |u| match u {
                "social" => rel(true, false, false, false),
                "supervisor" => rel(false, true, false, false),
                "social.medeu" => rel(false, false, true, false),
                "social2" => rel(false, false, false, true),
                _ => rel(false, false, false, false),
            },
        },
        MatrixCase {
            id: emergency,
            sensitive: false,
            relation: |u| match u {
                "social" => rel(true, false, false, false),
                "supervisor" => rel(false, true, false, false),
                "social2" => rel(false, false, false, true),
                _ => rel(false, false, false, false),
            },
        },
        MatrixCase {
            id: colleague,
            sensitive: false,
            relation: |u| match u {
                "social2" => rel(true, false, false, false),
                "supervisor" => rel(false, true, false, false),
                _ => rel(false, false, false, false),
            },
        },
    ];

    let specs: Vec<_> = bala_web::route_specs()
        .into_iter()
        .filter(|s| s.path.contains("/welfare/cases/{id}"))
        .collect();
    assert!(specs.len() >= 20, "{} case routes", specs.len());
    let usernames = [
        "social",
        "social2",
        "social.medeu",
        "supervisor",
        "supervisor.shieli",
        "nurse",
        "admin",
        "analyst",
        "manager",
    ];
    let mut checked = 0;
    for username in usernames {
        let browser = login_en(&app, username).await;
        let token = app.token(username, TokenScope::ReadWrite).await;
        let role = principal_of(&app, username).await;
        for case in &matrix {
            let relation = (case.relation)(username);
            for spec in &specs {
                let path = spec
                    .path
                    .replace("{id}", &case.id.to_string())
                    .replace("{item}", "999999");
                let status = send(&app, &browser, &token, &spec.method, &path).await;
                let what = format!(
                    "{username} {} {path} (case {}: {relation:?})",
                    spec.method, case.id
                );
                assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
                let rule_ok = match spec.rule {
                    bala_web::routes::Rule::Can(act) => bala_access::can(&role, act),
                    _ => true,
                };
                let action = action_of(&spec.method, spec.path);
                if !rule_ok {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: the role may not");
                } else if !permits(relation, case.sensitive, CaseAction::Read) {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{what}: not visible");
                } else if !permits(relation, case.sensitive, action) {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{what}: visible, action not permitted"
                    );
                } else if spec.path.contains("{item}") {
                    // Permitted, but item 999999 does not exist (or the form is empty).
                    assert!(
                        [StatusCode::NOT_FOUND, StatusCode::UNPROCESSABLE_ENTITY].contains(&status),
                        "{what}: got {status}"
                    );
                } else {
                    assert!(
                        ![
                            StatusCode::UNAUTHORIZED,
                            StatusCode::FORBIDDEN,
                            StatusCode::NOT_FOUND
                        ]
                        .contains(&status),
                        "{what}: permitted, got {status}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, usernames.len() * matrix.len() * specs.len());

    // The lists agree with the pages: a user lists exactly the cases they may read.
    for username in [
        "social",
        "social2",
        "social.medeu",
        "supervisor",
        "supervisor.shieli",
    ] {
        let p = principal_of(&app, username).await;
        let a = actor_of(&p);
        let listed: Vec<i64> =
            cases::list(&app.t.db, ctx(&p, &a, &keys), cases::Listing::Visible, true)
                .await
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect();
        for case in &matrix {
            let readable = permits((case.relation)(username), case.sensitive, CaseAction::Read);
            assert_eq!(
                listed.contains(&case.id),
                readable,
                "{username} lists case {}",
                case.id
            );
        }
    }
}

/// Sends a request as a page (form with CSRF) or an API call (bearer token, `{}`).
async fn send(
    app: &TestApp,
    browser: &Browser,
    token: &str,
    method: &Method,
    path: &str,
) -> StatusCode {
    let url = app.url(path);
    if path.starts_with("/api/") {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = client.request(method.clone(), &url).bearer_auth(token);
        let r = if *method == Method::GET {
            r
        } else {
            r.json(&serde_json::json!({}))
        };
        r.send().await.unwrap().status()
    } else {
        let r = browser.client.request(method.clone(), &url);
        let r = if *method == Method::GET {
            r
        } else {
            r.form(&[("_csrf", browser.csrf.as_str())])
        };
        r.send().await.unwrap().status()
    }
}

/// Narratives are not in the database in clear: the SQLite files (database and
/// write-ahead log) or PostgreSQL's raw column.
async fn encryption_at_rest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let child = person(&app, "Омарова", "Мадина", "2016-03-03", "F", "751110000").await;
    let secret = "ҚҰПИЯ-баяндама-7731: мать угрожает ребёнку";
    let social = login_en(&app, "social").await;
    let r = social
        .post_form(
            "/welfare/cases",
            &[
                ("person_id", &child.to_string()),
                ("subject", "child"),
                ("concerns", "emotional_abuse"),
                ("risk", "high"),
                ("summary", secret),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case_id = id_in(&location(&r), "/welfare/cases/");
    let r = social
        .post_form(
            &format!("/welfare/cases/{case_id}/notes"),
            &[("kind", "assessment"), ("text", secret)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Readable through the application…
    let (_, html) = social.get_text(&format!("/welfare/cases/{case_id}")).await;
    assert_eq!(
        html.matches("ҚҰПИЯ-баяндама-7731").count(),
        2,
        "summary and assessment shown"
    );
    // …sealed in the database.
    let raw: String =
        bala_store::sqlx::query("SELECT summary_enc FROM welfare_cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(app.t.db.reader())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    assert!(raw.starts_with("enc1:"), "{raw}");
    // The ciphertext is hex, so any run of digits may occur in it by chance
    // ("7731" did, once in a few hundred runs); the Cyrillic narrative cannot.
    assert!(!raw.contains("баяндама"), "{raw}");
    let notes: Vec<String> = bala_store::sqlx::query(
        "SELECT note_enc FROM welfare_case_events WHERE case_id = $1 AND note_enc IS NOT NULL",
    )
    .bind(case_id)
    .fetch_all(app.t.db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<String, _>(0).unwrap())
    .collect();
    assert!(
        !notes.is_empty()
            && notes
                .iter()
                .all(|n| n.starts_with("enc1:") && !n.contains("баяндама")),
        "{notes:?}"
    );
    match backend {
        Backend::Sqlite => {
            let path = app
                .t
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            let needle = "ҚҰПИЯ-баяндама-7731".as_bytes();
            assert!(bytes.len() > 10_000, "read the database file");
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "the narrative is in the SQLite file in clear"
            );
            // The person's name is not a narrative and is stored in clear: the check can see text.
            let name = "Омарова".as_bytes();
            assert!(
                bytes.windows(name.len()).any(|w| w == name),
                "the scan reads stored text"
            );
        }
        Backend::Postgres => {
            let row = bala_store::sqlx::query(
                "SELECT CAST(summary_enc AS TEXT), CAST(POSITION('баяндама' IN summary_enc) AS BIGINT) FROM welfare_cases WHERE id = $1",
            )
            .bind(case_id)
            .fetch_one(app.t.db.reader())
            .await
            .unwrap();
            let text: String = row.try_get(0).unwrap();
            let pos: i64 = row.try_get(1).unwrap();
            assert!(
                text.starts_with("enc1:") && pos == 0,
                "the narrative is in PostgreSQL in clear"
            );
        }
    }
}

/// Every read of a case, by page, API or document download, leaves an audit entry.
async fn audit_every_case_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let child = person(&app, "Исаев", "Ерасыл", "2017-07-07", "M", "751110000").await;
    let token = app.token("social", TokenScope::ReadWrite).await;
    let api = app.api(&token);
    let r = api
        .post(
            "/api/v1/welfare/cases",
            serde_json::json!({"person_id": child, "subject": "child", "concerns": ["neglect"], "risk": "medium", "summary": "Часто один дома."}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(reads_of(&app, id).await, 0);
    let social = login_en(&app, "social").await;
    assert_eq!(
        social.get(&format!("/welfare/cases/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(reads_of(&app, id).await, 1);
    let r = api.get(&format!("/api/v1/welfare/cases/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["case"]["summary"], "Часто один дома.");
    assert_eq!(body["relation"]["assigned"], true);
    assert_eq!(reads_of(&app, id).await, 2);
    // A document: type checked against the content, read audited.
    let part = reqwest::multipart::Part::bytes(b"not a pdf".to_vec())
        .file_name("akt.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let r = social
        .client
        .post(app.url(&format!(
            "/welfare/cases/{id}/documents?_csrf={}",
            social.csrf
        )))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("does not match its type"));
    let part = reqwest::multipart::Part::bytes(
        "Акт обследования: условия удовлетворительные."
            .as_bytes()
            .to_vec(),
    )
    .file_name("акт.txt")
    .mime_str("text/plain")
    .unwrap();
    let r = social
        .client
        .post(app.url(&format!(
            "/welfare/cases/{id}/documents?_csrf={}",
            social.csrf
        )))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let doc = scalar(
        &app,
        "SELECT MAX(id) FROM welfare_documents WHERE case_id = $1",
        id,
    )
    .await;
    let r = social
        .get(&format!("/welfare/cases/{id}/documents/{doc}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    assert_eq!(
        r.text().await.unwrap(),
        "Акт обследования: условия удовлетворительные."
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'welfare.case.document_read' AND record_id = CAST($1 AS TEXT)", id).await,
        1
    );
    // Not visible: no read is recorded as one, and the answer is 404.
    add_user(&app, "social2", Role::SocialWorker, "751110000").await;
    let colleague = login_en(&app, "social2").await;
    assert_eq!(
        colleague
            .get(&format!("/welfare/cases/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reads_of(&app, id).await,
        3,
        "only the three successful page/API reads"
    );
}

/// The API: screening with validation naming each answer, the alert list, statistics.
async fn api_screening_and_statistics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth =
        bala_core::date::iso(time::OffsetDateTime::now_utc().date() - time::Duration::days(200));
    let child = person(&app, "Ким", "Алёна", &birth, "F", "751110000").await;
    let api = app.api(&app.token("nurse", TokenScope::ReadWrite).await);
    let r = api
        .post(
            "/api/v1/welfare/screenings",
            serde_json::json!({"person_id": child, "answers": [{"question": "no_such_question", "value": {"type": "yes_no", "value": true}}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = r.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"answers.no_such_question"), "{fields:?}");
    assert!(
        fields.contains(&"answers.afraid_to_go_home"),
        "required answers named: {fields:?}"
    );

    let r = api
        .post(
            "/api/v1/welfare/screenings",
            serde_json::json!({"person_id": child, "answers": api_answers(6, &["often_unsupervised", "runs_away"])}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let saved: serde_json::Value = r.json().await.unwrap();
    assert_eq!(saved["level"], "medium");
    assert!(
        saved["referral_id"].as_i64().is_some(),
        "medium risk refers the child"
    );
    let r = api
        .get(&format!("/api/v1/welfare/screenings/{}", saved["id"]))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        s["explanation"].as_array().unwrap().len(),
        3,
        "kk, ru and en"
    );
    // Another district's nurse cannot read it.
    let shieli = app.api(&app.token("nurse.shieli", TokenScope::ReadWrite).await);
    assert_eq!(
        shieli
            .get(&format!("/api/v1/welfare/screenings/{}", saved["id"]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Statistics: one screening is a small cell, suppressed.
    let analyst = app.api(&app.token("analyst", TokenScope::Read).await);
    let r = analyst.get("/api/v1/welfare/statistics").await;
    assert_eq!(r.status(), StatusCode::OK);
    let tables: serde_json::Value = r.json().await.unwrap();
    let screenings = &tables[0];
    assert_eq!(screenings["title"], "welfare-stat-screenings-by-level");
    let medium = screenings["cells"][1].clone();
    assert_eq!(
        medium["kind"], "primary",
        "a count of 1 is never shown: {screenings}"
    );
    let r = analyst.get("/api/v1/welfare/indicators?year=1989").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = analyst.get("/api/v1/welfare/indicators").await;
    let values: serde_json::Value = r.json().await.unwrap();
    let row = values
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["indicator"] == "WELFARE_SCREENINGS")
        .expect("the screening count is published");
    assert_eq!(row["status"], "suppressed");
    assert!(row["value"].is_null());
    let (_, html) = login_en(&app, "analyst")
        .await
        .get_text("/welfare/statistics")
        .await;
    assert!(html.contains("&lt;5"), "the page marks small cells");
}

/// Administrators publish new instrument versions; every problem is named by its path.
async fn admin_publishes_instrument(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = login_en(&app, "admin").await;
    let (status, html) = admin.get_text("/welfare/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("screening-kz"));
    assert!(html.contains("id=\"hit-rates\""));
    let v1 = bala_welfare::instrument::DEFAULT_KZ_TOML;
    // Same version again: refused.
    let r = admin
        .post_form("/welfare/admin/instruments", &[("body", v1)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("body.version"));
    // A broken weight and threshold: each named.
    let broken = v1
        .replace("version = 1", "version = 2")
        .replace("high = 8", "high = 2");
    let r = admin
        .post_form("/welfare/admin/instruments", &[("body", &broken)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("body.thresholds.high"), "{html}");
    let r = admin
        .post_form(
            "/welfare/admin/instruments",
            &[("body", "not toml at all [")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let good = v1.replace("version = 1", "version = 2");
    let r = admin
        .post_form("/welfare/admin/instruments", &[("body", &good)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let n = scalar(
        &app,
        "SELECT COUNT(*) FROM welfare_instruments WHERE version = $1",
        2,
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'welfare.reference.publish' AND actor_id IS NOT NULL AND seq > $1", 0).await,
        1
    );
    // Social workers cannot.
    let social = login_en(&app, "social").await;
    assert_eq!(
        social.get("/welfare/admin").await.status(),
        StatusCode::FORBIDDEN
    );
}

/// An immediate-danger case without a first response is escalated once past its
/// deadline; the supervisor's dashboard lists it.
async fn escalation_past_24_hours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let keys = app.keys.clone();
    let social = principal_of(&app, "social").await;
    let a = actor_of(&social);
    let child = person(&app, "Жұмабаев", "Санжар", "2015-01-01", "M", "751110000").await;
    let id = cases::create(
        &app.t.db,
        ctx(&social, &a, &keys),
        &NewCase {
            person_id: child,
            subject: "child".into(),
            concerns: vec!["physical_abuse".into()],
            risk: "immediate_danger".into(),
            summary: "—".into(),
            assign_to: None,
            source: "direct".into(),
            source_id: None,
        },
    )
    .await
    .unwrap();
    // Registered 30 hours ago.
    let then = time::OffsetDateTime::now_utc() - time::Duration::hours(30);
    let clock = bala_welfare::ResponsePolicy::default()
        .clock(bala_welfare::RiskLevel::ImmediateDanger, then)
        .unwrap();
    let mut tx = app.t.db.begin().await.unwrap();
    bala_store::sqlx::query(
        "UPDATE welfare_cases SET registered_at = $1, response_escalate_at = $2, response_due_at = $3 WHERE id = $4",
    )
    .bind(bala_store::time_fmt::format(then))
    .bind(bala_store::time_fmt::format(clock.escalate_at))
    .bind(bala_store::time_fmt::format(clock.due_at))
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(cases::escalate(&app.t.db).await.unwrap(), 1);
    assert_eq!(cases::escalate(&app.t.db).await.unwrap(), 0, "once");
    let sup = principal_of(&app, "supervisor").await;
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM welfare_notifications WHERE user_id = $1 AND kind = 'response-overdue' AND channel = 'in_app'", sup.user_id).await,
        1
    );
    // The outbox is delivered by the logging notifier.
    let delivered = bala_welfare::store::notify::deliver_pending(
        &app.t.db,
        &bala_welfare::store::notify::LoggingNotifier,
        100,
    )
    .await
    .unwrap();
    assert!(delivered >= 2);
    let b = login_en(&app, "supervisor").await;
    let (status, html) = b.get_text("/welfare/supervision").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("/welfare/cases/{id}")));
    assert!(html.contains("overdue"));
    let (_, html) = b.get_text(&format!("/welfare/cases/{id}")).await;
    assert!(
        html.contains("escalated"),
        "the case page shows the overdue response"
    );
    let (_, html) = b.get_text("/welfare/notifications").await;
    assert!(html.contains("A first response is overdue."));

    // A referral nobody answered for five days is flagged once, to the case's worker.
    let c = ctx(&social, &a, &app.keys);
    cases::add_consent(
        &app.t.db,
        c,
        id,
        "Отец",
        "father",
        &["health".into()],
        "2026-01-10",
    )
    .await
    .unwrap();
    let referral =
        bala_welfare::store::referrals::send_from_case(&app.t.db, c, id, "health", "medical", "")
            .await
            .unwrap();
    assert_eq!(
        bala_welfare::store::referrals::notify_overdue(&app.t.db)
            .await
            .unwrap(),
        0,
        "not overdue yet"
    );
    let mut tx = app.t.db.begin().await.unwrap();
    bala_store::sqlx::query("UPDATE welfare_referrals SET sent_at = $1 WHERE id = $2")
        .bind(bala_store::time_fmt::format(
            time::OffsetDateTime::now_utc() - time::Duration::days(5),
        ))
        .bind(referral)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        bala_welfare::store::referrals::notify_overdue(&app.t.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        bala_welfare::store::referrals::notify_overdue(&app.t.db)
            .await
            .unwrap(),
        0,
        "once"
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM welfare_notifications WHERE user_id = $1 AND kind = 'referral-overdue' AND channel = 'in_app'", social.user_id).await,
        1
    );
    let (_, html) = login_en(&app, "social")
        .await
        .get_text(&format!("/welfare/cases/{id}"))
        .await;
    assert!(html.contains("Referral overdue"), "the timeline shows it");
    assert!(html.contains("waiting for an answer"));
}

/// `bala keys rotate`: every sealed value, documents included, re-sealed with the
/// new key in one go; afterwards the old key is not needed to read anything.
async fn key_rotation_reseals_every_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let social = principal_of(&app, "social").await;
    let a = actor_of(&social);
    let c = ctx(&social, &a, &app.keys);
    let child = person(&app, "Серікбаева", "Інжу", "2014-04-04", "F", "751110000").await;
    let id = cases::create(
        &app.t.db,
        c,
        &NewCase {
            person_id: child,
            subject: "child".into(),
            concerns: vec!["neglect".into()],
            risk: "medium".into(),
            summary: "Сводка до ротации".into(),
            assign_to: None,
            source: "direct".into(),
            source_id: None,
        },
    )
    .await
    .unwrap();
    cases::add_note(&app.t.db, c, id, "note", "Заметка до ротации")
        .await
        .unwrap();
    cases::add_consent(
        &app.t.db,
        c,
        id,
        "Мать",
        "mother",
        &["health".into()],
        "2026-01-15",
    )
    .await
    .unwrap();
    cases::add_document(
        &app.t.db,
        c,
        id,
        "a.txt",
        "text/plain",
        "документ".as_bytes(),
    )
    .await
    .unwrap();
    let old = app.keys.current().id().to_string();
    let before = bala_welfare::store::keys::usage(&app.t.db).await.unwrap();
    assert_eq!(before.keys().collect::<Vec<_>>(), vec![&old]);
    let sealed = before[&old];
    assert_eq!(
        sealed, 5,
        "summary, note, consent giver, file name, document"
    );

    let new_key = bala_welfare::crypt::SecretKey::generate();
    let ring = app.keys.rotated(new_key.clone());
    let changed = bala_welfare::store::keys::reseal_all(&app.t.db, &ring)
        .await
        .unwrap();
    assert_eq!(changed as i64, sealed);
    let after = bala_welfare::store::keys::usage(&app.t.db).await.unwrap();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        vec![&new_key.id().to_string()]
    );
    assert_eq!(
        bala_welfare::store::keys::reseal_all(&app.t.db, &ring)
            .await
            .unwrap(),
        0,
        "nothing left to re-seal"
    );

    // Only the new key is needed now.
    let retired = ring.retaining(&[]);
    let c2 = ctx(&social, &a, &retired);
    let d = cases::get(&app.t.db, c2, id).await.unwrap();
    assert_eq!(d.case.summary.as_deref(), Some("Сводка до ротации"));
    assert!(d
        .timeline
        .iter()
        .any(|e| e.note.as_deref() == Some("Заметка до ротации")));
    assert_eq!(d.consents[0].given_by, "Мать");
    let doc = d.documents[0].id;
    let (name, _, bytes) = cases::document(&app.t.db, c2, id, doc).await.unwrap();
    assert_eq!(
        (name.as_str(), bytes.as_slice()),
        ("a.txt", "документ".as_bytes())
    );
    // The old ring alone cannot open the re-sealed values.
    assert!(cases::get(&app.t.db, ctx(&social, &a, &app.keys), id)
        .await
        .is_err());
}

/// Records a dose as entered from a paper card (no lot needed), `days` after birth.
async fn card_dose(app: &TestApp, person_id: i64, birth: time::Date, days: i64, product: &str) {
    use bala_immunization::store::doses::{self, DoseInput, Provenance, Recorded};
    let scope = [AreaCode::republic()];
    let actor = Actor::system("test");
    let ctx = bala_registry::people::Ctx {
        actor: &actor,
        scope: &scope,
    };
    let input = DoseInput {
        product: product.into(),
        given_on: bala_core::date::iso(birth + time::Duration::days(days)),
        historical: true,
        ..Default::default()
    };
    let r = doses::record(&app.t.db, ctx, person_id, &input, &Provenance::of("test"))
        .await
        .unwrap();
    assert!(matches!(r, Recorded::New(_)));
}

async fn alerts_of(app: &TestApp, person_id: i64, rule: &str) -> i64 {
    bala_store::sqlx::query(
        "SELECT COUNT(*) FROM welfare_alerts WHERE person_id = $1 AND rule = $2",
    )
    .bind(person_id)
    .bind(rule)
    .fetch_one(app.t.db.reader())
    .await
    .unwrap()
    .try_get::<i64, _>(0)
    .unwrap()
}

/// The alert rules read the immunization register: screening a zero-dose child
/// with a high-risk result raises "unvaccinated child in a household at risk",
/// the same screening of a child vaccinated on time does not; a newborn with no
/// card raises "not registered", one with the birth doses does not.
async fn immunization_facts_raise_alerts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let today = time::OffsetDateTime::now_utc().date();
    let iso = bala_core::date::iso;
    let birth = today - time::Duration::days(430);
    let unvaccinated = person(&app, "Нұрланов", "Ерасыл", &iso(birth), "M", "751110000").await;
    let vaccinated = person(&app, "Ахметова", "Дана", &iso(birth), "F", "751110000").await;
    // On time by the 2020 calendar up to 14 months.
    for (days, product) in [
        (0, "BCG"),
        (0, "HepB"),
        (61, "HEXA"),
        (61, "PCV13"),
        (92, "PENTA"),
        (122, "HEXA"),
        (122, "PCV13"),
        (366, "MMR"),
        (366, "PCV13"),
        (366, "OPV"),
    ] {
        card_dose(&app, vaccinated, birth, days, product).await;
    }
    let newborn_birth = today - time::Duration::days(20);
    let newborn = person(
        &app,
        "Ахметов",
        "Әлихан",
        &iso(newborn_birth),
        "M",
        "751110000",
    )
    .await;
    let seen_newborn = person(
        &app,
        "Омарова",
        "Аружан",
        &iso(newborn_birth),
        "F",
        "751110000",
    )
    .await;
    card_dose(&app, seen_newborn, newborn_birth, 1, "BCG").await;
    card_dose(&app, seen_newborn, newborn_birth, 1, "HepB").await;

    let nurse = login_en(&app, "nurse").await;
    for (child, months, yes) in [
        (unvaccinated, 14, &["witnesses_domestic_violence"][..]),
        (vaccinated, 14, &["witnesses_domestic_violence"][..]),
        (newborn, 0, &[][..]),
        (seen_newborn, 0, &[][..]),
    ] {
        let r = post_pairs(
            &nurse,
            "/welfare/screenings",
            &screening_form(months, child, yes),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "screening of {child}");
    }
    let rule = "unvaccinated_child_at_risk_household";
    assert_eq!(alerts_of(&app, unvaccinated, rule).await, 1);
    assert_eq!(alerts_of(&app, vaccinated, rule).await, 0);
    assert_eq!(alerts_of(&app, newborn, "newborn_not_registered").await, 1);
    assert_eq!(
        alerts_of(&app, seen_newborn, "newborn_not_registered").await,
        0
    );
    let social = login_en(&app, "social").await;
    let (_, html) = social.get_text("/welfare/alerts").await;
    assert!(
        html.contains("Unvaccinated or long-overdue child in a household at risk"),
        "the social worker sees the alert"
    );
}

both_backends!(
    key_rotation_reseals_every_value,
    journey,
    case_authorization_matrix,
    encryption_at_rest,
    audit_every_case_read,
    api_screening_and_statistics,
    admin_publishes_instrument,
    escalation_past_24_hours,
    immunization_facts_raise_alerts
);
