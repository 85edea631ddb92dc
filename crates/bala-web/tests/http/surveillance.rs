//! Surveillance: case records through the pages, WHO indicators against hand-computed figures.

use crate::both_backends;
use crate::harness::TestApp;
use bala_core::AreaCode;
use bala_store::audit::Actor;
use bala_store::Backend;
use bala_surveillance::store::{
    self, AfpInput, AfpSpecimenInput, MeaslesInput, MeaslesSpecimenInput, PatientInput,
};
use reqwest::StatusCode;

fn patient(epid: &str, area: &str, notified: &str, investigated: &str) -> PatientInput {
    PatientInput {
        epid: epid.into(),
        patient_name: "Test".into(),
        sex: "M".into(),
        birth_date: "2020-01-01".into(),
        area_code: area.into(),
        notified: notified.into(),
        investigated: investigated.into(),
        ..Default::default()
    }
}

/// An AFP case with adequate specimens, investigated in time, discarded as non-polio.
pub async fn afp_case(app: &TestApp, epid: &str, area: &str) -> i64 {
    let scope = [AreaCode::republic()];
    let actor = Actor::system("test");
    let ctx = bala_registry::people::Ctx {
        actor: &actor,
        scope: &scope,
    };
    let spec = |c: &str| AfpSpecimenInput {
        collected: c.into(),
        lab_arrival: "2026-03-08".into(),
        condition: "good".into(),
        result: "negative".into(),
    };
    let input = AfpInput {
        patient: patient(epid, area, "2026-03-03", "2026-03-04"),
        onset: "2026-03-01".into(),
        specimens: vec![spec("2026-03-04"), spec("2026-03-05")],
        classification: "non_polio".into(),
        ..Default::default()
    };
    store::create_afp(&app.t.db, ctx, &input).await.unwrap()
}

pub async fn measles_case(app: &TestApp, epid: &str, area: &str) -> i64 {
    let scope = [AreaCode::republic()];
    let actor = Actor::system("test");
    let ctx = bala_registry::people::Ctx {
        actor: &actor,
        scope: &scope,
    };
    let input = MeaslesInput {
        patient: patient(epid, area, "2026-04-02", "2026-04-03"),
        rash_onset: "2026-04-01".into(),
        specimens: vec![MeaslesSpecimenInput {
            kind: "serum".into(),
            collected: "2026-04-03".into(),
            lab_arrival: "2026-04-04".into(),
            result_date: "2026-04-06".into(),
            measles_igm: "negative".into(),
            rubella_igm: "negative".into(),
            proficient_lab: "yes".into(),
        }],
        classification: "discarded".into(),
        ..Default::default()
    };
    store::create_measles(&app.t.db, ctx, &input).await.unwrap()
}

async fn cases_and_indicators(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let nurse = app.login("nurse").await;

    // A case through the form; errors name the field.
    let bad = nurse
        .post_form(
            "/surveillance/afp",
            &[
                ("epid", "bad"),
                ("area_code", "751110000"),
                ("onset", "2026-03-01"),
                ("notified", "2026-02-01"),
                ("sex", "M"),
                ("birth_date", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"epid-error\"") && html.contains("id=\"notified-error\""));
    let form = [
        ("epid", "KAZ-ALA-2026-002"),
        ("area_code", "751110000"),
        ("sex", "F"),
        ("birth_date", "2019-06-01"),
        ("onset", "2026-03-10"),
        ("notified", "2026-03-11"),
        ("investigated", "2026-03-16"),
        ("s1_collected", "2026-03-16"),
        ("s1_lab_arrival", "2026-03-18"),
        ("s1_condition", "good"),
        ("s1_result", "negative"),
        ("classification", "pending"),
    ];
    let r = nurse.post_form("/surveillance/afp", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = nurse
        .get_text(r.headers()["location"].to_str().unwrap())
        .await;
    assert!(page.contains("KAZ-ALA-2026-002"));
    // The same EPID again is refused by field.
    let again = nurse.post_form("/surveillance/afp", &form).await;
    assert!(again.text().await.unwrap().contains("id=\"epid-error\""));
    afp_case(&app, "KAZ-ALA-2026-001", "751110000").await;
    measles_case(&app, "KAZ-ALA-2026-101", "751110000").await;

    // Population: Almaty city 60 000 children under 15, 250 000 people.
    let manager = app.login("manager").await;
    let r = manager
        .post_form(
            "/surveillance/population",
            &[
                ("area_code", "750000000"),
                ("year", "2026"),
                ("under_15", "60000"),
                ("total", "250000"),
                ("source", "test estimate"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = manager
        .post_form(
            "/surveillance/population",
            &[
                ("area_code", "750000000"),
                ("year", "2026"),
                ("under_15", "300000"),
                ("total", "250000"),
                ("source", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Hand-computed for Almaty city in 2026, as of 31 Dec (year complete):
    // non-polio AFP: 2 cases (one pending) / 60 000 × 100 000 = 3.33;
    // adequate stool: 1 of 2 = 50 %; investigated in 48 h: 1 of 2 (the other took 5 days) = 50 %;
    // discarded NMNR: 1 / 250 000 × 100 000 = 0.40.
    let scope = [AreaCode::parse("750000000").unwrap()];
    let as_of = bala_core::parse_date("2026-12-31").unwrap();
    let perf = store::performance(&app.t.db, &scope, "750000000", 2026, as_of)
        .await
        .unwrap();
    let get = |code: &str| {
        perf.area
            .indicators
            .iter()
            .find(|i| i.code == code)
            .unwrap()
            .clone()
    };
    assert!((get("npafp-rate").value.unwrap() - 2.0 * 100_000.0 / 60_000.0).abs() < 1e-9);
    assert_eq!(get("npafp-rate").meets, Some(true));
    assert_eq!(
        (
            get("stool-adequacy").numerator,
            get("stool-adequacy").denominator as i64
        ),
        (1, 2)
    );
    assert_eq!(get("stool-adequacy").meets, Some(false));
    assert_eq!(get("afp-investigated-48h").numerator, 1);
    assert!((get("nmnr-rate").value.unwrap() - 0.4).abs() < 1e-9);
    assert_eq!(get("nmnr-rate").meets, Some(false));
    let almaly = perf
        .children
        .iter()
        .find(|c| c.area_code == "751110000")
        .unwrap();
    assert_eq!(almaly.afp_cases, 2);

    // The dashboard shows it; an analyst sees aggregates but not the cases.
    let (status, html) = manager
        .get_text("/surveillance?area=750000000&year=2026")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("class=\"num below\""),
        "below-target cells are highlighted"
    );
    let analyst = app.login("analyst").await;
    assert_eq!(
        analyst
            .get("/surveillance?area=750000000&year=2026")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        analyst.get("/surveillance/afp").await.status(),
        StatusCode::FORBIDDEN
    );
    // A nurse elsewhere cannot see the case or the dashboard of another area.
    let shieli = app.login("nurse.shieli").await;
    assert_eq!(
        shieli.get("/surveillance/afp/1").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        shieli.get("/surveillance?area=750000000").await.status(),
        StatusCode::NOT_FOUND
    );

    // Weekly reports: a site, a zero report on time.
    let r = nurse
        .post_form(
            "/surveillance/sites",
            &[("name", "Polyclinic No. 5"), ("area_code", "751110000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sites = store::sites(&app.t.db, &[AreaCode::republic()], "751110000")
        .await
        .unwrap();
    let site = sites[0].id.to_string();
    let r = nurse
        .post_form(
            "/surveillance/reports",
            &[
                ("week", "2026-W10"),
                ("area", "751110000"),
                ("site", &site),
                (&format!("received_{site}"), "2026-03-09"),
                (&format!("afp_{site}"), "0"),
                (&format!("measles_{site}"), "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let reports = store::reports(&app.t.db, &[AreaCode::republic()], "751110000", 2026)
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    let r = nurse
        .post_form(
            "/surveillance/reports",
            &[
                ("week", "2026-W10"),
                ("area", "751110000"),
                ("site", &site),
                (&format!("received_{site}"), "2026-02-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bala_store::audit::verify(&app.t.db)
        .await
        .unwrap()
        .problems
        .is_empty());
}

both_backends!(cases_and_indicators);
