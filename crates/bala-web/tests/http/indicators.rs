//! The indicators pillar over HTTP, on both databases: importing every reference
//! file, round trips per format, approval visibility, progress figures against
//! the published series, pages and exports, entry validation, dashboards.

use crate::both_backends;
use crate::harness::{TestApp, USERS};
use bala_access::TokenScope;
use bala_indicators::exchange::{CodeKind, CodeMapping};
use bala_indicators::store::import::{import, Format, Request};
use bala_indicators::store::{codelists, Channel};
use bala_store::audit::Actor;
use bala_store::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn reference(path: &str) -> Vec<u8> {
    let p = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/"
    ))
    .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn reference_files(dir: &str) -> Vec<String> {
    let p = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/"
    ))
    .join(dir);
    let mut v: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Loads kazstat's 3.2.1 as the system does (published, as the CLI would).
async fn load_u5mr(app: &TestApp) {
    let bytes = reference("kazstat-sdg/data/indicator_3-2-1.csv");
    let r = import(
        &app.t.db,
        &Actor::system("test"),
        &Channel::System,
        &Request {
            format: Format::Csv,
            bytes: &bytes,
            file_name: Some("indicator_3-2-1.csv".into()),
            indicator: None,
            source: None,
            codelist: None,
            dry_run: false,
        },
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(r.added, 1482);
}

async fn post_file(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/indicators/import?{query}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn every_reference_file_imports_with_clear_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("analyst", TokenScope::ReadWrite).await;
    for file in reference_files("kazstat-sdg/data") {
        let (s, r) = post_file(
            &app,
            &token,
            &format!("format=csv&file_name={file}"),
            reference(&format!("kazstat-sdg/data/{file}")),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{file}: {r}");
        let n = |k: &str| r[k].as_u64().unwrap();
        assert_eq!(
            n("read"),
            n("added") + n("submitted") + n("rejected"),
            "{file}: {r}"
        );
        for row in r["rows"].as_array().unwrap() {
            if row["status"] == "rejected" {
                assert!(
                    !row["errors"].as_array().unwrap().is_empty(),
                    "{file}: {row}"
                );
                assert!(
                    row["location"].as_str().unwrap().starts_with("line "),
                    "{row}"
                );
            }
        }
    }
    // UNICEF: Kazakhstan maps through the shipped code list; other countries are named.
    let (s, r) = post_file(
        &app,
        &token,
        "format=sdmx-csv",
        reference("unicef-sdmx/CME_MRY0T4_all_2020.csv"),
    )
    .await;
    assert_eq!(r["added"], 3, "{s} {}", r);
    let bra = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["status"] == "rejected")
        .unwrap();
    assert_eq!(bra["errors"][0]["field"], "REF_AREA");
    for f in reference_files("unicef-sdmx")
        .iter()
        .filter(|f| f.ends_with(".csv"))
    {
        let (s, r) = post_file(
            &app,
            &token,
            "format=sdmx-csv&dry_run=true",
            reference(&format!("unicef-sdmx/{f}")),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(r["dry_run"], true);
        assert!(r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["status"] != "rejected" || !x["errors"].as_array().unwrap().is_empty()));
    }
    // DHIS2 and ADX demo files use another instance's codes: every row says which.
    let (_, r) = post_file(
        &app,
        &token,
        "format=dhis2-json",
        reference("dhis2/dataValueSetJ.json"),
    )
    .await;
    assert_eq!(r["rejected"], 1);
    let fields: Vec<&str> = r["rows"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"dataElement") && fields.contains(&"orgUnit"),
        "{fields:?}"
    );
    let (_, r) = post_file(
        &app,
        &token,
        "format=adx",
        reference("dhis2/importA.adx.xml"),
    )
    .await;
    assert_eq!(r["added"], 0);
    assert!(r["rejected"].as_u64().unwrap() >= 5, "{r}");
    // Not the format at all: one clear problem, nothing stored.
    let (s, r) = post_file(
        &app,
        &token,
        "format=sdmx-json",
        b"REF_AREA,TIME_PERIOD\n".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["errors"][0]["field"], "body");
}

async fn round_trips_are_lossless(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    load_u5mr(&app).await;
    let token = app.token("admin", TokenScope::ReadWrite).await;
    let api = app.api(&token);
    for (format, query) in [
        ("sdmx-csv", "indicator=3.2.1"),
        ("sdmx-json", "indicator=3.2.1"),
        ("xlsx", "indicator=3.2.1"),
        ("csv", "indicator=3.2.1"),
    ] {
        let r = api
            .get(&format!(
                "/api/v1/indicators/export?format={format}&{query}"
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{format}");
        let bytes = r.bytes().await.unwrap().to_vec();
        let (s, rep) = post_file(
            &app,
            &token,
            &format!("format={format}&dry_run=true&indicator=3.2.1"),
            bytes,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{format}: {rep}");
        assert_eq!(rep["rejected"], 0, "{format}: {}", rep["rows"][0]);
        assert_eq!(
            rep["unchanged"], 1482,
            "{format}: every value reads back identical"
        );
    }
    // DHIS2 and ADX carry codes of the other system: map the national series' breakdowns.
    let national = api
        .get("/api/v1/indicators/values?indicator=3.2.1&area=000000000")
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap();
    let mut combos: Vec<String> = national
        .iter()
        .map(|v| v["series"].as_str().unwrap().to_string())
        .collect();
    combos.sort();
    combos.dedup();
    let actor = Actor::system("test");
    let mut maps = vec![
        (
            CodeKind::Indicator,
            "u5mrDE00001".to_string(),
            "3.2.1".to_string(),
        ),
        (
            CodeKind::Area,
            "KZrepublic1".to_string(),
            "000000000".to_string(),
        ),
    ];
    for (i, c) in combos.iter().enumerate() {
        maps.push((CodeKind::Disaggregation, format!("combo{i:06}"), c.clone()));
    }
    for (kind, external, bala) in maps {
        codelists::put(
            &app.t.db,
            &actor,
            &CodeMapping {
                system: "dhis2".into(),
                kind,
                external,
                bala,
            },
        )
        .await
        .unwrap();
    }
    for format in ["dhis2-json", "adx"] {
        let r = api
            .get(&format!(
                "/api/v1/indicators/export?format={format}&indicator=3.2.1&area=000000000"
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{format}");
        let bytes = r.bytes().await.unwrap().to_vec();
        let (_, rep) = post_file(
            &app,
            &token,
            &format!("format={format}&dry_run=true&source=kazstat"),
            bytes,
        )
        .await;
        assert_eq!(rep["rejected"], 0, "{format}: {}", rep["rows"][0]);
        assert_eq!(
            rep["unchanged"].as_u64().unwrap(),
            national.len() as u64,
            "{format}: {}",
            serde_json::to_string(&rep["rows"][0]).unwrap()
        );
    }
    // Re-importing for real changes nothing either.
    let bytes = api
        .get("/api/v1/indicators/export?format=sdmx-csv&indicator=3.2.1")
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let (_, rep) = post_file(&app, &token, "format=sdmx-csv", bytes).await;
    assert_eq!(
        (
            rep["added"].as_u64(),
            rep["updated"].as_u64(),
            rep["submitted"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
}

async fn visible(api: &crate::harness::Api) -> usize {
    api.get("/api/v1/indicators/values?indicator=16.9.1&area=750000000")
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .len()
}

async fn regional_values_need_approval_before_national_views(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let analyst = app.api(&app.token("analyst", TokenScope::ReadWrite).await);
    let manager = app.api(&app.token("manager", TokenScope::ReadWrite).await);
    let value = |area: &str, v: f64| json!([{ "indicator": "16.9.1", "area": area, "period": "2024", "series": "UNIT_MEASURE=PT", "source": "MICS 2024", "value": v }]);
    let r = analyst
        .post("/api/v1/indicators/values", value("750000000", 99.1))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["outcomes"][0], "submitted");
    let r = analyst
        .post("/api/v1/indicators/values", value("000000000", 98.7))
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["outcomes"][0],
        "added",
        "national values are published at once"
    );
    assert_eq!(
        visible(&analyst).await,
        0,
        "not in national views before approval"
    );
    // The Almaty regional manager cannot enter values for the republic.
    let r = manager
        .post("/api/v1/indicators/values", value("000000000", 50.0))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "0.area"
    );
    // Out-of-range values are refused with the field named.
    let r = analyst
        .post("/api/v1/indicators/values", value("750000000", 120.0))
        .await;
    let body = r.json::<Value>().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "0.value");
    assert_eq!(body["errors"][0]["code"], "indicators-percent-range");
    // The queue: the manager sees it, the analyst (no approval right) may not.
    assert_eq!(
        analyst.get("/api/v1/indicators/approvals").await.status(),
        StatusCode::FORBIDDEN
    );
    let queue: Vec<Value> = manager
        .get("/api/v1/indicators/approvals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue.len(), 1);
    let id = queue[0]["id"].as_i64().unwrap();
    let r = manager
        .post(
            "/api/v1/indicators/approvals",
            json!({"ids": [id], "decision": "reject"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs a note"
    );
    let r = manager
        .post(
            "/api/v1/indicators/approvals",
            json!({"ids": [id], "decision": "approve"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        visible(&analyst).await,
        1,
        "visible nationally after approval"
    );
    // Approving an unknown or already approved submission is not found.
    let r = manager
        .post(
            "/api/v1/indicators/approvals",
            json!({"ids": [id], "decision": "approve"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A new regional value shows in the manager's queue page.
    analyst
        .post("/api/v1/indicators/values", value("750000000", 97.0))
        .await;
    let b = app.login("manager").await;
    let (s, html) = b.get_text("/indicators/approvals").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"queue\"") && html.contains("16.9.1"));
}

async fn progress_matches_the_published_series(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    load_u5mr(&app).await;
    let api = app.api(&app.token("analyst", TokenScope::Read).await);
    let r: Value = api
        .get("/api/v1/indicators/3.2.1/progress?lang=en")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["source"], "kazstat");
    assert_eq!(r["values"], 10);
    // Independent computation from kazstat's published national series 2010–2019.
    let csv = String::from_utf8(reference("kazstat-sdg/data/indicator_3-2-1.csv")).unwrap();
    let pts: Vec<(f64, f64)> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[2] == "_T" && c[3].is_empty() && c[4].is_empty()).then(|| {
                (
                    c[0].parse::<f64>().unwrap() + 0.5,
                    c[5].parse::<f64>().unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(pts.len(), 10);
    assert_eq!(pts[0].1, 19.55);
    let n = pts.len() as f64;
    let (mt, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1.ln()).sum::<f64>() / n,
    );
    let b = pts
        .iter()
        .map(|p| (p.0 - mt) * (p.1.ln() - my))
        .sum::<f64>()
        / pts.iter().map(|p| (p.0 - mt).powi(2)).sum::<f64>();
    let aarr = 100.0 * (1.0 - b.exp());
    let sdg = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["framework"] == "SDG")
        .unwrap();
    assert!(
        (sdg["current_aarr"].as_f64().unwrap() - aarr).abs() < 1e-9,
        "{sdg}"
    );
    assert_eq!(
        sdg["status"], "achieved",
        "10.69 per 1 000 in 2019 is below 25"
    );
    assert_eq!(sdg["target_value"], 25.0);
    // Projection: latest value carried at the continuous rate to mid-2030.
    let projected = 10.69 * (b * (2030.5 - 2019.5)).exp();
    assert!((sdg["projected"].as_f64().unwrap() - projected).abs() < 1e-9);
    let mdg = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["framework"] == "MDG")
        .unwrap();
    assert!(
        mdg["explanation"][0].as_str().unwrap().contains("1990"),
        "no 1990 baseline in the series: {mdg}"
    );
    // The same numbers on the page, in Russian.
    let b = app.login("analyst").await;
    b.post_form("/lang", &[("lang", "ru"), ("next", "/")]).await;
    let (s, html) = b.get_text("/indicators/3.2.1").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Цель достигнута"), "status in Russian");
    assert!(html.contains("<svg"), "the chart is inline SVG");
    assert!(
        html.contains("лог-линейная регрессия"),
        "the method is explained"
    );
}

async fn pages_exports_and_entry_validation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    load_u5mr(&app).await;
    let b = app.login("analyst").await;
    b.post_form("/lang", &[("lang", "en"), ("next", "/")]).await;
    for path in [
        "/indicators",
        "/indicators?framework=MDG&q=mortality",
        "/indicators/equity?indicator=3.2.1",
        "/indicators/pivot?indicator=3.2.1&areas=regions",
        "/indicators/report",
        "/indicators/3.2.1?area=750000000",
        "/indicators/codelists",
        "/indicators/dashboards",
        "/indicators/entry",
        "/indicators/import",
    ] {
        let (s, html) = b.get_text(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(!html.contains("ind-"), "{path}: an untranslated message id");
    }
    let (_, html) = b.get_text("/indicators/equity?indicator=3.2.1").await;
    assert!(
        html.contains("id=\"gaps-table\"")
            && html.contains("id=\"ranking-table\"")
            && html.contains("id=\"furthest-table\"")
    );
    let csv = b.get("/indicators/pivot.csv?indicator=3.2.1&areas=regions&series=UNIT_MEASURE%3DPER_1000_LIVE_BIRTHS").await;
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(
        text.contains("2019") && text.contains("10.69"),
        "{}",
        &text[..200.min(text.len())]
    );
    let xlsx = b
        .get("/indicators/pivot.xlsx?indicator=3.2.1")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(xlsx.starts_with(b"PK"), "an Excel file is a zip");
    let svg = b
        .get("/indicators/pivot.svg?indicator=3.2.1&areas=republic")
        .await
        .text()
        .await
        .unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
    let map = b
        .get("/indicators/3.2.1/map.svg")
        .await
        .text()
        .await
        .unwrap();
    assert!(map.matches("<path").count() >= 17);
    for lang in ["kk", "ru", "en"] {
        let pdf = b.get(&format!("/indicators/report.pdf?lang={lang}")).await;
        assert_eq!(pdf.status(), StatusCode::OK);
        let bytes = pdf.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{lang}");
    }
    let t = b
        .get("/indicators/template.xlsx")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(t.starts_with(b"PK"));
    // Entry: a percentage above 100 and a numerator above its denominator are named.
    let (_, html) = {
        let r = b
            .post_form(
                "/indicators/entry",
                &[
                    ("indicator", "16.9.1"),
                    ("area", "000000000"),
                    ("period", "2024"),
                    ("value", "120"),
                    ("source", "MICS"),
                    ("status", "A"),
                ],
            )
            .await;
        let s = r.status();
        (s, r.text().await.unwrap())
    };
    assert!(
        html.contains("A percentage must be between 0 and 100."),
        "translated range error"
    );
    assert!(html.contains("aria-describedby=\"value-error\""));
    let r = b
        .post_form(
            "/indicators/entry",
            &[
                ("indicator", "16.9.1"),
                ("area", "000000000"),
                ("period", "2024"),
                ("numerator", "60"),
                ("denominator", "50"),
                ("source", "MICS"),
                ("status", "A"),
            ],
        )
        .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("The numerator cannot be above the denominator."));
    // An outlier against the series' history must be confirmed.
    let outlier = [
        ("indicator", "3.2.1"),
        ("area", "000000000"),
        ("period", "2020"),
        ("value", "95"),
        ("source", "kazstat"),
        ("status", "P"),
    ];
    let html = b
        .post_form("/indicators/entry", &outlier)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"outlier\""), "flagged");
    let mut confirmed = outlier.to_vec();
    confirmed.push(("confirm_outlier", "yes"));
    let r = b.post_form("/indicators/entry", &confirmed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn dashboards_are_shared_by_their_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    load_u5mr(&app).await;
    let a = app.login("analyst").await;
    let r = a
        .post_form("/indicators/dashboards", &[("title", "Child mortality")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let r = a
        .post_form(
            &format!("{loc}/panels"),
            &[
                ("kind", "series"),
                ("indicator", "3.2.1"),
                ("area", "000000000"),
                ("series", "UNIT_MEASURE=PER_1000_LIVE_BIRTHS"),
                ("source", "kazstat"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    a.post_form(
        &format!("{loc}/panels"),
        &[
            ("kind", "map"),
            ("indicator", "3.2.1"),
            ("area", "000000000"),
            ("series", "UNIT_MEASURE=PER_1000_LIVE_BIRTHS"),
        ],
    )
    .await;
    let (_, html) = a.get_text(&loc).await;
    assert!(html.matches("<svg").count() >= 2);
    let m = app.login("manager").await;
    assert_eq!(
        m.get(&loc).await.status(),
        StatusCode::NOT_FOUND,
        "not shared yet"
    );
    a.post_form(&format!("{loc}/share"), &[("users", "manager")])
        .await;
    assert_eq!(m.get(&loc).await.status(), StatusCode::OK);
    // Only the owner changes it.
    assert_eq!(
        m.post_form(&format!("{loc}/delete"), &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = a
        .post_form(&format!("{loc}/share"), &[("users", "nobody.here")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(USERS.iter().any(|u| u.0 == "manager"));
}

both_backends!(
    every_reference_file_imports_with_clear_errors,
    round_trips_are_lossless,
    regional_values_need_approval_before_national_views,
    progress_matches_the_published_series,
    pages_exports_and_entry_validation,
    dashboards_are_shared_by_their_owner
);
