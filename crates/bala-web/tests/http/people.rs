//! The register through the pages: register, duplicates, search across scripts, scope.

use crate::both_backends;
use crate::harness::{person, TestApp};
use bala_store::Backend;
use reqwest::StatusCode;

async fn register_find_and_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = app.login("nurse").await;
    let child = [
        ("family_name", "Сейітқали"),
        ("given_name", "Нұрлан"),
        ("birth_date", "2025-06-01"),
        ("sex", "M"),
        ("area_code", "751110000"),
    ];
    let r = b.post_form("/people", &child).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let (status, html) = b.get_text(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Сейітқали Нұрлан"));
    assert!(
        html.contains(&bala_core::to_latin("Сейітқали Нұрлан")),
        "the Latin spelling is shown"
    );

    // The same child in Latin letters: the likely duplicate is shown and nothing saved.
    let latin = [
        ("family_name", "Seitkali"),
        ("given_name", "Nurlan"),
        ("birth_date", "2025-06-01"),
        ("sex", "M"),
        ("area_code", "751110000"),
    ];
    let r = b.post_form("/people", &latin).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"duplicates\""));
    assert!(html.contains(&location));

    // Found by the Russian spelling and by the Latin one.
    for q in ["Нурлан Сейткали", "nurlan seitkali", "SEITKALI"] {
        let (_, html) = b.get_text(&format!("/people?q={}", urlencode(q))).await;
        assert!(
            html.contains(&location),
            "search '{q}' did not find the child"
        );
    }

    // Outside the nurse's district: 404, and registration there is refused by field.
    let elsewhere = person(&app, "Тоқтаров", "Асқар", "2024-01-01", "M", "434600000").await;
    assert_eq!(
        b.get(&format!("/people/{elsewhere}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let mut outside = child.to_vec();
    outside[4] = ("area_code", "434600000");
    outside[1] = ("given_name", "Ерлан");
    let r = b.post_form("/people", &outside).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"area_code-error\""));

    // Bad input: every field named, nothing written.
    let before: i64 = bala_store::sqlx::query_scalar("SELECT COUNT(*) FROM people")
        .fetch_one(app.t.db.reader())
        .await
        .unwrap();
    let r = b
        .post_form(
            "/people",
            &[
                ("family_name", ""),
                ("given_name", "X"),
                ("birth_date", "2031-01-01"),
                ("sex", "?"),
                ("area_code", "751110000"),
                ("iin", "123"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for f in ["family_name", "birth_date", "sex", "iin"] {
        assert!(
            html.contains(&format!("id=\"{f}-error\"")),
            "{f} not reported"
        );
    }
    let after: i64 = bala_store::sqlx::query_scalar("SELECT COUNT(*) FROM people")
        .fetch_one(app.t.db.reader())
        .await
        .unwrap();
    assert_eq!(before, after);

    // Reading the child was audited with who and from where.
    let id = location.rsplit('/').next().unwrap();
    let f = bala_store::audit::Filter {
        action: Some("person.read".into()),
        record_id: Some(id.into()),
        ..Default::default()
    };
    let reads = bala_store::audit::list(&app.t.db, &f, None, 10)
        .await
        .unwrap();
    assert!(!reads.is_empty());
    assert_eq!(reads[0].actor, "nurse");
    assert_eq!(reads[0].ip.as_deref(), Some("127.0.0.1"));
}

async fn edit_merge_and_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = app.login("manager").await;
    let a = person(&app, "Ахметова", "Айгерім", "2024-03-03", "F", "751110000").await;
    let d = person(&app, "Akhmetova", "Aigerim", "2024-03-03", "F", "751110000").await;
    let mother = person(&app, "Ахметова", "Сәуле", "1995-03-03", "F", "751110000").await;
    let r = b
        .post_form(
            &format!("/people/{d}/relations"),
            &[("related", &mother.to_string()), ("kind", "mother")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The merge page proposes the duplicate; merging moves the relation.
    let (_, html) = b.get_text(&format!("/people/{a}/merge")).await;
    assert!(html.contains(&format!("href=\"/people/{d}\"")));
    let r = b
        .post_form(
            &format!("/people/{a}/merge"),
            &[("duplicate_id", &d.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get_text(&format!("/people/{a}")).await;
    assert!(html.contains(&format!("href=\"/people/{mother}\"")));
    let (_, html) = b.get_text(&format!("/people/{d}")).await;
    assert!(
        html.contains(&format!("href=\"/people/{a}\"")),
        "the merged record points to the survivor"
    );
    let (_, html) = b.get_text(&format!("/people/{a}/history")).await;
    assert!(
        html.contains(&format!("#{d}")),
        "history keeps the duplicate's versions"
    );

    // Editing with a stale version is refused with 409.
    let (_, html) = b.get_text(&format!("/people/{a}/edit")).await;
    let version = html
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = [
        ("version", version.as_str()),
        ("family_name", "Ахметова"),
        ("given_name", "Айгерім"),
        ("birth_date", "2024-03-03"),
        ("sex", "F"),
        ("area_code", "751110000"),
        ("phone", "8 701 111 22 33"),
    ];
    assert_eq!(
        b.post_form(&format!("/people/{a}"), &form).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        b.post_form(&format!("/people/{a}"), &form).await.status(),
        StatusCode::CONFLICT
    );
    let (_, html) = b.get_text(&format!("/people/{a}")).await;
    assert!(html.contains("+77011112233"));
    let entries = bala_store::audit::list(
        &app.t.db,
        &bala_store::audit::Filter {
            action: Some("person.merge".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 1);
    assert!(bala_store::audit::verify(&app.t.db)
        .await
        .unwrap()
        .problems
        .is_empty());
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

both_backends!(register_find_and_scope, edit_merge_and_history);
