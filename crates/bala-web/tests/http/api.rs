//! The JSON API: tokens, problem documents, scope, the OpenAPI document.

use crate::both_backends;
use crate::harness::{person, TestApp};
use bala_access::TokenScope;
use bala_store::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn people_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = app.api(&app.token("nurse", TokenScope::ReadWrite).await);

    // No token, or a made-up one: 401 problem.
    let anon = reqwest::get(app.url("/api/v1/people")).await.unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anon.headers()["content-type"], "application/problem+json");
    let fake = app.api(&format!("bala_{}", "0".repeat(64)));
    assert_eq!(
        fake.get("/api/v1/people").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Create: bad input names each field.
    let r = api.post("/api/v1/people", json!({"family_name": "", "given_name": "Әли", "birth_date": "2024-13-01", "sex": "M", "area_code": "751110000"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["family_name", "birth_date"]);
    // An unknown field is named too.
    let r = api
        .post(
            "/api/v1/people",
            json!({"family_name": "А", "surname": "x"}),
        )
        .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "surname");

    let body = json!({"family_name": "Бекетова", "given_name": "Томирис", "birth_date": "2025-02-02", "sex": "F", "area_code": "751110000", "phone": "87015556677"});
    let r = api.post("/api/v1/people", body.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Again: 409 with the candidate.
    let r = api.post("/api/v1/people", json!({"family_name": "Beketova", "given_name": "Tomiris", "birth_date": "2025-02-02", "sex": "F", "area_code": "751110000"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["duplicates"][0]["id"], id);

    let got: Value = api
        .get(&format!("/api/v1/people/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["phone"], "+77015556677");
    assert_eq!(got["latin_name"], "Beketova Tomiris");
    let page: Value = api
        .get("/api/v1/people?q=tomiris&per_page=10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    let r = api.get("/api/v1/people?per_page=500").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = api.get("/api/v1/people?page=abc").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Update needs the version; a stale one gets 409.
    let mut upd = body.clone();
    upd["address"] = json!("Абай даңғылы, 10");
    let r = api.put(&format!("/api/v1/people/{id}"), upd.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    upd["version"] = got["version"].clone();
    let r = api.put(&format!("/api/v1/people/{id}"), upd.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        api.put(&format!("/api/v1/people/{id}"), upd).await.status(),
        StatusCode::CONFLICT
    );

    // Outside the scope: 404, never 403.
    let far = person(&app, "Исаев", "Ислам", "2023-05-05", "M", "434600000").await;
    assert_eq!(
        api.get(&format!("/api/v1/people/{far}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // A read-only token cannot write; an analyst's token sees no people at all.
    let ro = app.api(&app.token("nurse", TokenScope::Read).await);
    assert_eq!(
        ro.get(&format!("/api/v1/people/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        ro.post("/api/v1/people", body).await.status(),
        StatusCode::FORBIDDEN
    );
    let analyst = app.api(&app.token("analyst", TokenScope::Read).await);
    assert_eq!(
        analyst.get(&format!("/api/v1/people/{id}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        analyst.get("/api/v1/areas/750000000").await.status(),
        StatusCode::OK
    );

    // Households.
    let r = api
        .post(
            "/api/v1/households",
            json!({"area_code": "751110000", "address": "Төле би, 5"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let list: Value = api.get("/api/v1/households").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let r = api
        .post("/api/v1/households", json!({"area_code": "434600000"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn openapi_covers_every_api_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for spec in bala_web::route_specs() {
        if spec.path.starts_with("/api/v1/") && spec.path != "/api/v1/openapi.json" {
            let op = paths
                .get(spec.path)
                .and_then(|p| p.get(spec.method.as_str().to_lowercase()));
            assert!(
                op.is_some(),
                "{} {} is not in the OpenAPI document",
                spec.method,
                spec.path
            );
        }
    }
    let areas: Value = reqwest::Client::new()
        .get(app.url("/api/v1/areas?parent=000000000&on=2026-01-01"))
        .bearer_auth(app.token("analyst", TokenScope::Read).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        areas.as_array().unwrap().len(),
        20,
        "17 regions and 3 cities today"
    );
}

both_backends!(people_api, openapi_covers_every_api_route);
