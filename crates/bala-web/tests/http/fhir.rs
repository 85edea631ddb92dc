//! FHIR exchange over HTTP: a child's record out as a Bundle and NDJSON, the same
//! Bundle back in as a new child (same doses), re-import changing nothing, dry
//! runs writing nothing, reports naming resource and field, scope as 404, and the
//! administrator's code table.

use crate::both_backends;
use crate::harness::TestApp;
use bala_access::TokenScope;
use bala_core::{date::iso, AreaCode, Iin, Sex};
use bala_immunization::store::{card, doses};
use bala_registry::people::{self, CreateOutcome, Ctx};
use bala_registry::person::PersonInput;
use bala_store::audit::Actor;
use bala_store::sqlx;
use bala_store::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

const DISTRICT: &str = "751110000";

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

async fn child(app: &TestApp, given: &str, birth: time::Date, serial: u16) -> i64 {
    let scope = [AreaCode::republic()];
    let actor = Actor::system("test");
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let input = PersonInput {
        iin: Iin::compose(birth, Sex::Female, serial).map(|i| i.to_string()),
        family_name: "Жұмабаева".into(),
        given_name: given.into(),
        birth_date: iso(birth),
        sex: "F".into(),
        area_code: DISTRICT.into(),
        ..Default::default()
    };
    match people::create(&app.t.db, ctx, &input, true).await.unwrap() {
        CreateOutcome::Created(id) => id,
        CreateOutcome::PossibleDuplicates(_) => unreachable!("confirmed"),
    }
}

async fn give(app: &TestApp, person: i64, product: &str, on: time::Date) -> i64 {
    let scope = [AreaCode::republic()];
    let actor = Actor::system("test");
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let input = doses::DoseInput {
        product: product.into(),
        given_on: iso(on),
        lot: format!("L-{product}"),
        lot_expiry: iso(today() + Duration::days(365)),
        site: "left-thigh".into(),
        route: "IM".into(),
        facility: "Polyclinic 5".into(),
        ..Default::default()
    };
    match doses::record(&app.t.db, ctx, person, &input, &doses::Provenance::of("ui"))
        .await
        .unwrap()
    {
        doses::Recorded::New(id) => id,
        doses::Recorded::AlreadyPresent(_) => unreachable!(),
    }
}

/// (product, date, lot, site, route, status) of each stored dose, in order.
async fn dose_summary(
    app: &TestApp,
    person: i64,
) -> Vec<(
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
)> {
    card::dose_rows(&app.t.db, person)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.product, d.given_on, d.lot, d.site, d.route, d.status))
        .collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(app.t.db.reader())
        .await
        .unwrap()
}

fn outcomes<'a>(report: &'a Value, outcome: &str) -> Vec<&'a Value> {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == outcome)
        .collect()
}

async fn post_fhir(app: &TestApp, token: &str, path: &str, body: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn exchange(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth = today() - Duration::days(300);
    let id = child(&app, "Аружан", birth, 11).await;
    give(&app, id, "BCG", birth + Duration::days(1)).await;
    give(&app, id, "HEXA", birth + Duration::days(61)).await;
    let wrong = give(&app, id, "PCV13", birth + Duration::days(62)).await;
    {
        let scope = [AreaCode::republic()];
        let actor = Actor::system("test");
        let ctx = Ctx {
            actor: &actor,
            scope: &scope,
        };
        doses::mark_in_error(&app.t.db, ctx, id, wrong, "wrong child")
            .await
            .unwrap();
    }

    // Export: a Bundle with the Patient, each dose (the voided one too) and the forecast.
    let nurse = app.api(&app.token("nurse", TokenScope::Read).await);
    let r = nurse
        .get(&format!("/api/v1/fhir/Patient/{id}/$everything"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    let bundle: Value = r.json().await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let entries = bundle["entry"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Patient",
            "Immunization",
            "Immunization",
            "Immunization",
            "ImmunizationRecommendation"
        ]
    );
    let statuses: Vec<&str> = entries[1..4]
        .iter()
        .map(|e| e["resource"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed", "completed", "entered-in-error"]);
    assert!(entries[2]["resource"]["vaccineCode"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["system"] == "http://hl7.org/fhir/sid/cvx" && c["code"] == "146"));
    assert_eq!(entries[2]["resource"]["site"]["coding"][0]["code"], "LT");
    assert!(!entries[4]["resource"]["recommendation"]
        .as_array()
        .unwrap()
        .is_empty());
    let audited = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'immunization.fhir.export'",
    )
    .await;
    assert_eq!(audited, 1);

    let r = nurse
        .get(&format!(
            "/api/v1/fhir/Patient/{id}/$everything?_format=ndjson"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/fhir+ndjson");
    assert_eq!(r.text().await.unwrap().lines().count(), 5);
    let r = nurse
        .get(&format!(
            "/api/v1/fhir/Patient/{id}/$everything?_format=xml"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("_format"));

    // Another district's nurse: the child does not exist for her.
    let other = app.api(&app.token("nurse.shieli", TokenScope::Read).await);
    let r = other
        .get(&format!("/api/v1/fhir/Patient/{id}/$everything"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The same Bundle as another child (new record number, IIN and name).
    let new_iin = Iin::compose(birth, Sex::Female, 12).unwrap().to_string();
    let mut copy = bundle.clone();
    let patient = &mut copy["entry"][0]["resource"];
    patient["id"] = json!("twin");
    patient["name"][0]["given"] = json!(["Әсел"]);
    patient["name"].as_array_mut().unwrap().truncate(1);
    patient["identifier"] = json!([{"system": bala_fhir::IIN_SYSTEM, "value": new_iin}]);
    for e in copy["entry"].as_array_mut().unwrap()[1..].iter_mut() {
        e["resource"]["patient"]["reference"] = json!("Patient/twin");
        let old = e["resource"]["id"].as_str().unwrap().to_string();
        e["resource"]["id"] = json!(format!("twin-{old}"));
    }
    let body = copy.to_string();
    let manager = app.token("manager", TokenScope::ReadWrite).await;
    let people_before = count(&app, "SELECT COUNT(*) FROM people").await;
    let doses_before = count(&app, "SELECT COUNT(*) FROM imm_doses").await;

    let r = post_fhir(
        &app,
        &manager,
        "/api/v1/fhir/import?dry_run=true",
        body.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let dry: Value = r.json().await.unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["imported"], 4, "{dry:#}");
    assert_eq!(dry["rejected"], 0, "{dry:#}");
    assert_eq!(
        dry["unchanged"], 1,
        "the recommendation is left alone: {dry:#}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM people").await,
        people_before
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM imm_doses").await,
        doses_before
    );

    let r = post_fhir(&app, &manager, "/api/v1/fhir/import", body.clone()).await;
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["imported"], 4, "{report:#}");
    assert_eq!(report["rejected"], 0, "{report:#}");
    let twin: i64 = sqlx::query_scalar("SELECT id FROM people WHERE iin = $1")
        .bind(&new_iin)
        .fetch_one(app.t.db.reader())
        .await
        .unwrap();
    assert_ne!(twin, id);
    assert_eq!(dose_summary(&app, twin).await, dose_summary(&app, id).await);
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT external_id FROM imm_doses WHERE person_id = $1 ORDER BY id")
            .bind(twin)
            .fetch_all(app.t.db.reader())
            .await
            .unwrap();
    assert!(
        sources.iter().all(|s| s.starts_with("fhir:twin-")),
        "{sources:?}"
    );

    // Again: nothing changes.
    let r = post_fhir(&app, &manager, "/api/v1/fhir/import", body).await;
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["imported"], 0, "{again:#}");
    assert_eq!(again["unchanged"], 5, "{again:#}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM people").await,
        people_before + 1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM imm_doses").await,
        doses_before + 3
    );

    // Bala's own NDJSON export of the first child read back: matched by IIN,
    // doses by vaccine and day — nothing changes.
    let ndjson = nurse
        .get(&format!(
            "/api/v1/fhir/Patient/{id}/$everything?_format=ndjson"
        ))
        .await
        .text()
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/fhir/import"))
        .bearer_auth(&manager)
        .header("content-type", "application/fhir+ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    let own: Value = r.json().await.unwrap();
    assert_eq!(
        (&own["imported"], &own["unchanged"], &own["rejected"]),
        (&json!(0), &json!(5), &json!(0)),
        "{own:#}"
    );
    assert_eq!(
        own["outcomes"][0]["location"], "line 5",
        "the recommendation, left alone"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM imm_doses").await,
        doses_before + 3
    );

    // One batch entry per import that may write (the two real ones and the NDJSON), none for the dry run.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'immunization.fhir.import'"
        )
        .await,
        3
    );

    // A bad resource is named with its field; the good ones of the input still go in.
    let bad = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": copy["entry"][0]["resource"].clone()},
        {"resource": {"resourceType": "Immunization", "id": "x1", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "999"}]},
            "patient": {"reference": "Patient/twin"}, "occurrenceDateTime": iso(birth + Duration::days(100))}},
        {"resource": {"resourceType": "Immunization", "id": "x2", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
            "patient": {"reference": "Patient/twin"}, "occurrenceDateTime": iso(today() + Duration::days(3))}},
        {"resource": {"resourceType": "Immunization", "id": "x3", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
            "patient": {"reference": "Patient/nobody"}, "occurrenceDateTime": iso(birth + Duration::days(100))}}
    ]});
    let r = post_fhir(&app, &manager, "/api/v1/fhir/import", bad.to_string()).await;
    let report: Value = r.json().await.unwrap();
    let rejected = outcomes(&report, "rejected");
    assert_eq!(rejected.len(), 3, "{report:#}");
    assert_eq!(rejected[0]["location"], "resource.entry[1].resource");
    assert_eq!(rejected[0]["field"], "vaccineCode");
    assert!(rejected[0]["message"]
        .as_str()
        .unwrap()
        .contains("http://hl7.org/fhir/sid/cvx|999 is not mapped"));
    assert_eq!(rejected[1]["resource"], "Immunization/x2");
    assert_eq!(rejected[1]["field"], "occurrenceDateTime");
    assert_eq!(rejected[2]["resource"], "Immunization/x3");
    assert_eq!(rejected[2]["field"], "patient.reference");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM imm_doses").await,
        doses_before + 3
    );

    // Not JSON at all: one rejection naming the input.
    let r = post_fhir(&app, &manager, "/api/v1/fhir/import", "{oops".into()).await;
    let report: Value = r.json().await.unwrap();
    assert_eq!(outcomes(&report, "rejected")[0]["location"], "input");

    // A child of another region, by IIN: not in the manager's areas, nothing written.
    let elsewhere = app.token("nurse.shieli", TokenScope::ReadWrite).await;
    let r = post_fhir(&app, &elsewhere, "/api/v1/fhir/import", copy.to_string()).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "health workers do not bulk-import"
    );
    let admin_scoped = app.token("manager", TokenScope::ReadWrite).await;
    let mut foreign = copy.clone();
    foreign["entry"][0]["resource"]["identifier"] = json!([{"system": bala_fhir::IIN_SYSTEM,
        "value": Iin::compose(birth, Sex::Female, 13).unwrap().to_string()}]);
    foreign["entry"][0]["resource"]["name"][0]["given"] = json!(["Дана"]);
    foreign["entry"][0]["resource"]["address"][0]["extension"][0]["valueCode"] = json!("434600000");
    let r = post_fhir(
        &app,
        &admin_scoped,
        "/api/v1/fhir/import",
        foreign.to_string(),
    )
    .await;
    let report: Value = r.json().await.unwrap();
    let rejected = outcomes(&report, "rejected");
    assert_eq!(rejected[0]["resource"], "Patient/twin");
    assert_eq!(rejected[0]["field"], "address.extension", "{report:#}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM people").await,
        people_before + 1
    );
}

/// The HL7 example names a local code: rejected until an administrator maps it
/// (to a product of the calendar — anything else is refused, naming the field).
async fn code_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let example = include_str!("../../../bala-fhir/data/immunization-example.r4.json");
    let manager = app.token("manager", TokenScope::ReadWrite).await;
    let r = post_fhir(
        &app,
        &manager,
        "/api/v1/fhir/import?dry_run=true",
        example.into(),
    )
    .await;
    let report: Value = r.json().await.unwrap();
    let rejected = outcomes(&report, "rejected");
    assert_eq!(rejected.len(), 1, "{report:#}");
    assert_eq!(rejected[0]["field"], "vaccineCode");
    assert!(rejected[0]["message"]
        .as_str()
        .unwrap()
        .contains("urn:oid:1.2.36.1.2001.1005.17|FLUVAX"));

    let admin = app.login("admin").await;
    let (_, home) = admin.get_text("/").await;
    assert!(
        home.contains("href=\"/immunization/fhir-codes\""),
        "linked from the administrator's home"
    );
    let (status, page) = admin.get_text("/immunization/fhir-codes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("J07BD52"), "the defaults are listed");
    let r = admin
        .post_form(
            "/immunization/fhir-codes",
            &[
                ("system", "urn:oid:1.2.36.1.2001.1005.17"),
                ("code", "FLUVAX"),
                ("product", "FLU"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("<code>product</code>"));
    let r = admin
        .post_form(
            "/immunization/fhir-codes",
            &[("system", "not a uri"), ("code", "X"), ("product", "MMR")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("<code>system</code>"));
    let r = admin
        .post_form(
            "/immunization/fhir-codes",
            &[
                ("system", "urn:oid:1.2.36.1.2001.1005.17"),
                ("code", "FLUVAX"),
                ("product", "HepA"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Now the code reads; the example's Patient is not in the file, which the report says.
    let r = post_fhir(
        &app,
        &manager,
        "/api/v1/fhir/import?dry_run=true",
        example.into(),
    )
    .await;
    let report: Value = r.json().await.unwrap();
    let rejected = outcomes(&report, "rejected");
    assert_eq!(rejected.len(), 1, "{report:#}");
    assert_eq!(rejected[0]["resource"], "Immunization/example");
    assert_eq!(rejected[0]["field"], "patient.reference");

    // Export writes the mapped code too.
    let birth = today() - Duration::days(800);
    let id = child(&app, "Мадина", birth, 21).await;
    give(&app, id, "HepA", birth + Duration::days(700)).await;
    let nurse = app.api(&app.token("nurse", TokenScope::Read).await);
    let bundle: Value = nurse
        .get(&format!("/api/v1/fhir/Patient/{id}/$everything"))
        .await
        .json()
        .await
        .unwrap();
    assert!(bundle["entry"][1]["resource"]["vaccineCode"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "FLUVAX"));

    // Only administrators edit the table.
    let nurse_browser = app.login("nurse").await;
    let r = nurse_browser.get("/immunization/fhir-codes").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .post_form(
            "/immunization/fhir-codes/delete",
            &[
                ("system", "urn:oid:1.2.36.1.2001.1005.17"),
                ("code", "FLUVAX"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.get_text("/immunization/fhir-codes").await;
    assert!(!page.contains("FLUVAX"));
}

/// An area's children as NDJSON files: scoped (another region is not found and
/// nothing is written), progress reported, one audit entry for the batch.
async fn bulk_export(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth = today() - Duration::days(400);
    let a = child(&app, "Айым", birth, 31).await;
    let b = child(&app, "Томирис", birth, 32).await;
    give(&app, a, "BCG", birth + Duration::days(2)).await;
    give(&app, b, "BCG", birth + Duration::days(3)).await;
    give(&app, b, "HEXA", birth + Duration::days(61)).await;
    let actor = Actor::system("test");
    let scope = [AreaCode::parse("750000000").unwrap()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let dir =
        std::env::temp_dir().join(format!("bala-fhir-bulk-{}-{backend:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut seen = Vec::new();
    let summary = bala_fhir::store::export_area(
        &app.t.db,
        ctx,
        &AreaCode::parse(DISTRICT).unwrap(),
        &dir,
        today(),
        &mut |done, total| seen.push((done, total)),
    )
    .await
    .unwrap();
    assert_eq!((summary.patients, summary.immunizations), (2, 3));
    assert_eq!(seen, [(1, 2), (2, 2)]);
    let lines = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let patients: Vec<Value> = lines("Patient.ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<String> = patients
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [a.to_string(), b.to_string()]);
    assert_eq!(lines("Immunization.ndjson").lines().count(), 3);
    assert_eq!(
        lines("ImmunizationRecommendation.ndjson").lines().count(),
        2
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'immunization.fhir.bulk_export'"
        )
        .await,
        1
    );

    // Another region: not found, no files, no audit entry.
    let elsewhere =
        std::env::temp_dir().join(format!("bala-fhir-none-{}-{backend:?}", std::process::id()));
    let r = bala_fhir::store::export_area(
        &app.t.db,
        ctx,
        &AreaCode::parse("434600000").unwrap(),
        &elsewhere,
        today(),
        &mut |_, _| {},
    )
    .await;
    assert!(
        matches!(r, Err(bala_registry::RegistryError::NotFound)),
        "{r:?}"
    );
    assert!(!elsewhere.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// POSTs an import and returns its JSON report.
async fn import_json(app: &TestApp, token: &str, path: &str, body: String) -> Value {
    post_fhir(app, token, path, body)
        .await
        .json()
        .await
        .unwrap()
}

/// A caregiver's refusal goes out as a `not-done` Immunization and comes back
/// as a refusal: Bala's own export read back changes nothing; the same export
/// into a register that lacks the refusal records it (audited), a dry run
/// writes nothing, and a `not-done` for another reason is refused by field.
async fn refusal_exchange(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let birth = today() - Duration::days(400);
    let id = child(&app, "Томирис", birth, 12).await;
    give(&app, id, "BCG", birth + Duration::days(1)).await;
    let refused_on = birth + Duration::days(370);
    {
        let scope = [AreaCode::republic()];
        let actor = Actor::system("test");
        let ctx = Ctx {
            actor: &actor,
            scope: &scope,
        };
        let input = doses::ExceptionInput {
            kind: "refusal".into(),
            antigen: "MMR".into(),
            since: iso(refused_on),
            reason: "religious beliefs".into(),
            ..Default::default()
        };
        doses::record_exception(&app.t.db, ctx, id, &input)
            .await
            .unwrap();
    }
    let nurse = app.api(&app.token("nurse", TokenScope::Read).await);
    let bundle: Value = nurse
        .get(&format!("/api/v1/fhir/Patient/{id}/$everything"))
        .await
        .json()
        .await
        .unwrap();
    let not_done: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["status"] == "not-done")
        .collect();
    assert_eq!(not_done.len(), 1, "{bundle:#}");
    let body = bundle.to_string();
    let manager = app.token("manager", TokenScope::ReadWrite).await;
    let refusals = "SELECT COUNT(*) FROM imm_refusals";

    let own: Value = import_json(&app, &manager, "/api/v1/fhir/import", body.clone()).await;
    assert_eq!(
        (&own["imported"], &own["rejected"]),
        (&json!(0), &json!(0)),
        "{own:#}"
    );
    let mine: Vec<&Value> = own["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["resource"] == format!("Immunization/{}", not_done[0]["id"].as_str().unwrap())
        })
        .collect();
    assert_eq!(mine.len(), 1, "{own:#}");
    assert_eq!(mine[0]["outcome"], "unchanged");
    assert_eq!(count(&app, refusals).await, 1);

    // The register loses the refusal; the export brings it back, once.
    sqlx::query("DELETE FROM imm_refusals")
        .execute(app.t.db.reader())
        .await
        .unwrap();
    let dry: Value = import_json(
        &app,
        &manager,
        "/api/v1/fhir/import?dry_run=true",
        body.clone(),
    )
    .await;
    assert_eq!(dry["imported"], 1, "{dry:#}");
    assert_eq!(count(&app, refusals).await, 0, "a dry run writes nothing");
    let back: Value = import_json(&app, &manager, "/api/v1/fhir/import", body.clone()).await;
    assert_eq!(
        (&back["imported"], &back["rejected"]),
        (&json!(1), &json!(0)),
        "{back:#}"
    );
    let (antigen, on, reason): (String, String, String) =
        sqlx::query_as("SELECT antigen, refused_on, reason FROM imm_refusals WHERE person_id = $1")
            .bind(id)
            .fetch_one(app.t.db.reader())
            .await
            .unwrap();
    assert_eq!(
        (antigen.as_str(), on, reason.as_str()),
        ("MMR", iso(refused_on), "religious beliefs")
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'immunization.refusal.record'"
        )
        .await,
        2,
        "the card's and the import's"
    );
    let again: Value = import_json(&app, &manager, "/api/v1/fhir/import", body.clone()).await;
    assert_eq!(again["imported"], 0, "{again:#}");
    assert_eq!(count(&app, refusals).await, 1);

    // Not done for a medical precaution: not a refusal, refused by field.
    let mut other = bundle.clone();
    for e in other["entry"].as_array_mut().unwrap() {
        if e["resource"]["status"] == "not-done" {
            e["resource"]["statusReason"]["coding"][0]["code"] = json!("MEDPREC");
        }
    }
    let report: Value = import_json(&app, &manager, "/api/v1/fhir/import", other.to_string()).await;
    let rejected = outcomes(&report, "rejected");
    assert_eq!(rejected.len(), 1, "{report:#}");
    assert_eq!(rejected[0]["field"], "statusReason");
    assert!(rejected[0]["message"].as_str().unwrap().contains("MEDPREC"));
}

both_backends!(exchange, code_table, bulk_export, refusal_exchange);
