//! Immunization through the pages and the API: a nurse records a dose on the
//! card and coverage changes at once; errors name the field; lists export as
//! CSV and Excel; roles and scope hold; campaigns, calendar, population.

use crate::both_backends;
use crate::harness::{person, TestApp};
use bala_access::TokenScope;
use bala_core::date::iso;
use bala_store::Backend;
use reqwest::StatusCode;
use serde_json::json;
use time::{Duration, OffsetDateTime};

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

async fn card_dose_coverage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth = today() - Duration::days(75);
    let child = person(&app, "Ахметов", "Дәулет", &iso(birth), "M", "751110000").await;
    let year = birth.year();
    let nurse = app.login("nurse").await;

    // The card: HEXA is due (first dose at 2 months), BCG overdue.
    let (s, html) = nurse
        .get_text(&format!("/immunization/children/{child}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"dose-form\""));
    assert!(html.contains("Дәулет"));

    let cov = |basis: &'static str| {
        let analyst_api = app.api_for("analyst");
        async move {
            let api = analyst_api.await;
            let r = api
                .get(&format!(
                    "/api/v1/immunization/coverage?area=751110000&year={year}&basis={basis}"
                ))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let dtp1 = |v: &serde_json::Value| {
        v["area"]["doses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["label"] == "DTP1")
            .unwrap()["vaccinated"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(dtp1(&cov("cohort").await), 0);

    // A bad dose names every field at fault and stores nothing.
    let r = nurse
        .post_form(
            &format!("/immunization/children/{child}/doses"),
            &[("product", "NOPE"), ("given_on", "2999-01-01"), ("lot", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    for id in ["product-error", "given_on-error", "lot-error", "site-error"] {
        assert!(body.contains(id), "{id} missing");
    }
    // A good one is recorded and counted at once.
    let expiry = iso(today() + Duration::days(200));
    let today_s = iso(today());
    let r = nurse
        .post_form(
            &format!("/immunization/children/{child}/doses"),
            &[
                ("product", "HEXA"),
                ("given_on", &today_s),
                ("lot", "HX-1"),
                ("lot_expiry", &expiry),
                ("site", "left-thigh"),
                ("route", "IM"),
                ("facility", "Polyclinic 5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = cov("cohort").await;
    assert_eq!(dtp1(&after), 1);
    assert!(after["area"]["registered"].as_i64().unwrap() >= 1);

    // The card now shows the dose as valid, and a refusal can be recorded.
    let (_, html) = nurse
        .get_text(&format!("/immunization/children/{child}"))
        .await;
    assert!(html.contains("HX-1"));
    let r = nurse
        .post_form(
            &format!("/immunization/children/{child}/exceptions"),
            &[
                ("kind", "refusal"),
                ("antigen", "BCG"),
                ("since", &today_s),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("reason-x-error"));
    let r = nurse
        .post_form(
            &format!("/immunization/children/{child}/exceptions"),
            &[
                ("kind", "refusal"),
                ("antigen", "BCG"),
                ("since", &today_s),
                ("reason", "parents' belief"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The API card carries the forecast; BCG is refused.
    let api = app.api_for("nurse").await;
    let card: serde_json::Value = api
        .get(&format!("/api/v1/immunization/children/{child}/card"))
        .await
        .json()
        .await
        .unwrap();
    let bcg = card["forecast"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["antigen"] == "BCG")
        .unwrap();
    assert_eq!(bcg["status"], "refused");
    // Recording over the API is idempotent by external id.
    let body = json!({"product": "BCG", "given_on": iso(birth + Duration::days(2)), "historical": true, "external_id": "his-1"});
    let r = api
        .post(
            &format!("/api/v1/immunization/children/{child}/doses"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = api
        .post(
            &format!("/api/v1/immunization/children/{child}/doses"),
            body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = api
        .post(
            &format!("/api/v1/immunization/children/{child}/doses"),
            json!({"product": "BCG", "colour": "red"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Lists: the due list names the child; CSV and Excel exports.
    let (s, html) = nurse
        .get_text("/immunization/lists?area=751110000&kind=due")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("/immunization/children/{child}"))
            || html.contains("id=\"due-list\"")
    );
    let csv = nurse
        .get("/immunization/lists?area=751110000&kind=due&format=csv")
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.contains("person_id,name,iin"));
    let xlsx = nurse
        .get("/immunization/lists?area=751110000&kind=zero-dose&format=xlsx")
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let (s, _) = nurse
        .get_text("/immunization/lists?area=751110000&kind=nonsense")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Coverage pages, with exports; the republic shows the map.
    let analyst = app.login("analyst").await;
    let (s, html) = analyst
        .get_text(&format!(
            "/immunization/coverage?area=751110000&year={year}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("coverage-table"));
    let (s, html) = analyst
        .get_text(&format!("/immunization?area=000000000&year={year}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("<svg"),
        "the republic's dashboard has the map"
    );
    let csv = analyst
        .get(&format!(
            "/immunization/coverage?area=750000000&year={year}&format=csv"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("751110000") && csv.contains("DTP1"));

    // Roles and scope: the analyst sees no card or list; the Shieli nurse gets 404.
    assert_eq!(
        analyst
            .get(&format!("/immunization/children/{child}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        analyst.get("/immunization/lists").await.status(),
        StatusCode::FORBIDDEN
    );
    let shieli = app.login("nurse.shieli").await;
    assert_eq!(
        shieli
            .get(&format!("/immunization/children/{child}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let social = app.login("social").await;
    let r = social
        .post_form(
            &format!("/immunization/children/{child}/doses"),
            &[("product", "HEXA")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A read-only token cannot record.
    let ro = app.token("nurse", TokenScope::Read).await;
    let r = app
        .api(&ro)
        .post(
            &format!("/api/v1/immunization/children/{child}/doses"),
            json!({"product": "BCG"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn campaigns_calendar_population(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth = today() - Duration::days(400);
    let child = person(&app, "Омарова", "Аружан", &iso(birth), "F", "751110000").await;
    let nurse = app.login("nurse").await;
    let start = iso(today() - Duration::days(1));
    let end = iso(today() + Duration::days(6));
    let r = nurse
        .post_form(
            "/immunization/campaigns",
            &[
                ("name", ""),
                ("product", "MMR"),
                ("start_date", &start),
                ("end_date", &end),
                ("min_age_months", "9"),
                ("max_age_months", "60"),
                ("areas", "751110000 two"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("name-error") && body.contains("areas[1]"));
    let r = nurse
        .post_form(
            "/immunization/campaigns",
            &[
                ("name", "Measles 2026"),
                ("product", "MMR"),
                ("start_date", &start),
                ("end_date", &end),
                ("min_age_months", "9"),
                ("max_age_months", "60"),
                ("areas", "751110000 2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id = loc.rsplit('/').next().unwrap().to_string();
    let expiry = iso(today() + Duration::days(200));
    let today_s = iso(today());
    let r = nurse
        .post_form(
            &format!("/immunization/children/{child}/doses"),
            &[
                ("product", "MMR"),
                ("given_on", &today_s),
                ("lot", "M-7"),
                ("lot_expiry", &expiry),
                ("site", "left-arm"),
                ("route", "SC"),
                ("campaign_id", &id),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, html) = nurse.get_text(&loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"campaign-coverage\">50"),
        "1 of 2 targeted: {html}"
    );

    // Calendar: visible to all with aggregates; only the administrator saves, with validation.
    let (s, html) = nurse.get_text("/immunization/calendar").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("kz-2020") && !html.contains("name=\"toml\""));
    assert_eq!(
        nurse
            .post_form("/immunization/calendar", &[("toml", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let admin = app.login("admin").await;
    let (_, html) = admin.get_text("/immunization/calendar?edit=kz-2020").await;
    assert!(html.contains("name=\"toml\""));
    let r = admin
        .post_form(
            "/immunization/calendar",
            &[
                ("toml", "id = \"kz-2030\"\nvalid_from = 2030-01-01\n"),
                ("id", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("toml: "));

    // Target population: entered by an analyst, used by period coverage.
    let analyst = app.login("analyst").await;
    let year = today().year().to_string();
    let r = analyst
        .post_form(
            "/immunization/population",
            &[
                ("area_code", "751110000"),
                ("year", &year),
                ("surviving_infants", "-3"),
                ("source", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = analyst
        .post_form(
            "/immunization/population",
            &[
                ("area_code", "751110000"),
                ("year", &year),
                ("surviving_infants", "4"),
                ("source", "KazStat"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let api = app.api_for("analyst").await;
    let v: serde_json::Value = api
        .get(&format!(
            "/api/v1/immunization/coverage?area=751110000&year={year}&basis=period"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["area"]["denominator"], 4);
    let mcv1 = v["area"]["doses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["label"] == "MCV1")
        .unwrap();
    assert_eq!(mcv1["coverage"], 25.0);
}

both_backends!(card_dose_coverage, campaigns_calendar_population);
