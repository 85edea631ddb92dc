//! Health, metrics, security headers, static assets.

use crate::both_backends;
use crate::harness::TestApp;
use bala_store::Backend;
use reqwest::StatusCode;

async fn operations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("\"database\":\"ok\""));

    let r = reqwest::get(app.url("/login")).await.unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
            && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style=\""), "no inline style");

    let css = reqwest::get(app.url("/static/bala.css")).await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        reqwest::get(app.url("/static/nope.js"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let b = app.login("nurse").await;
    b.get("/people?q=secret-name").await;
    let m = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("bala_http_requests_total"));
    assert!(m.contains("route=\"/people\""));
    assert!(m.contains("bala_http_request_duration_seconds"));
    assert!(m.contains("bala_db_pool_connections"));
    assert!(!m.contains("secret-name"), "no query strings in metrics");
}

both_backends!(operations);
