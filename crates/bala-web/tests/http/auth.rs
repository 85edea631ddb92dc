//! Signing in and out, throttling, CSRF, no user enumeration.

use crate::both_backends;
use crate::harness::{TestApp, PASSWORD};
use bala_store::Backend;
use reqwest::StatusCode;

async fn login_logout_and_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Anonymous: pages redirect to the login page, keeping where they were going.
    let anon = app.browser();
    let r = anon.get("/people?q=x").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fpeople%3Fq%3Dx");

    let mut b = app.login("nurse").await;
    let (status, html) = b.get_text("/people").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Test nurse"));

    // The session cookie is HttpOnly and SameSite.
    let mut fresh = app.browser();
    fresh.refresh_csrf().await;
    let r = fresh
        .post_form(
            "/login",
            &[
                ("username", "nurse"),
                ("password", PASSWORD),
                ("next", "/people"),
            ],
        )
        .await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("bala_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(r.headers()["location"], "/people");

    // Logout ends the session.
    b.refresh_csrf().await;
    let r = b.post_form("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/people").await.status(), StatusCode::SEE_OTHER);
}

async fn failures_are_generic_and_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut b = app.browser();
    b.refresh_csrf().await;
    let wrong = b
        .post_form(
            "/login",
            &[("username", "nurse"), ("password", "wrong-password")],
        )
        .await;
    let wrong_status = wrong.status();
    let wrong_body = wrong.text().await.unwrap();
    let unknown = b
        .post_form(
            "/login",
            &[("username", "nobody"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong_status);
    let unknown_body = unknown.text().await.unwrap();
    // Same message for an unknown user and a wrong password (only the echoed username differs).
    assert_eq!(
        wrong_body.replace("value=\"nurse\"", ""),
        unknown_body.replace("value=\"nobody\"", "")
    );

    for _ in 0..4 {
        b.post_form(
            "/login",
            &[("username", "nurse"), ("password", "wrong-password")],
        )
        .await;
    }
    // Five failures: even the right password is refused for now.
    let r = b
        .post_form("/login", &[("username", "nurse"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other users are not affected.
    let r = b
        .post_form("/login", &[("username", "social"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Failures are audited, without the attempted password.
    let entries = bala_store::audit::list(
        &app.t.db,
        &bala_store::audit::Filter {
            action: Some("login.failure".into()),
            ..Default::default()
        },
        None,
        100,
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries
        .iter()
        .all(|e| !e.details.contains("wrong-password")));
}

async fn csrf_is_required(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = app.login("nurse").await;
    let fields = [
        ("family_name", "Әлиев"),
        ("given_name", "Әли"),
        ("birth_date", "2025-01-01"),
        ("sex", "M"),
        ("area_code", "751110000"),
    ];
    let r = b.post_form_no_csrf("/people", &fields).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let mut forged = fields.to_vec();
    forged.push(("_csrf", "00ff"));
    let r = b.post_form_no_csrf("/people", &forged).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A cross-site Origin is refused even with a token.
    let mut form = vec![("_csrf", b.csrf.as_str())];
    form.extend_from_slice(&fields);
    let r = b
        .client
        .post(format!("{}/people", b.base))
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was written.
    let n: i64 = bala_store::sqlx::query_scalar("SELECT COUNT(*) FROM people")
        .fetch_one(app.t.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let r = b.post_form("/people", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn disabled_users_lose_access(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let nurse = app.login("nurse").await;
    let token = app.token("nurse", bala_access::TokenScope::Read).await;
    assert_eq!(
        app.api(&token).get("/api/v1/people").await.status(),
        StatusCode::OK
    );
    let admin = app.login("admin").await;
    let (u, _) = bala_access::users::find_by_username(&app.t.db, "nurse")
        .await
        .unwrap()
        .unwrap();
    let r = admin
        .post_form(
            &format!("/admin/users/{}/disable", u.id),
            &[("disabled", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(nurse.get("/people").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.api(&token).get("/api/v1/people").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

both_backends!(
    login_logout_and_sessions,
    failures_are_generic_and_throttled,
    csrf_is_required,
    disabled_users_lose_access
);
