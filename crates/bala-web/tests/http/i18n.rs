//! Language: negotiated from the browser, switchable, remembered.

use crate::both_backends;
use crate::harness::TestApp;
use bala_store::Backend;
use reqwest::StatusCode;

async fn language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = reqwest::Client::new();
    for (accept, expect, lang) in [
        ("ru-RU,ru;q=0.9", "Вход в Bala", "ru"),
        ("en-US,en;q=0.9", "Sign in to Bala", "en"),
        ("kk", "Bala жүйесіне кіру", "kk"),
    ] {
        let html = c
            .get(app.url("/login"))
            .header("accept-language", accept)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(expect), "{accept}");
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
    }
    // Problems speak the language too.
    let p: serde_json::Value = c
        .get(app.url("/api/v1/people"))
        .header("accept-language", "ru")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["title"], "Войдите в систему");

    // A signed-in user switches to Kazakh; it is remembered on the account.
    let b = app.login("nurse").await;
    let r = b
        .post_form("/lang", &[("lang", "kk"), ("next", "/people")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/people");
    let (_, html) = b.get_text("/people").await;
    assert!(html.contains("Халық тіркелімі"));
    let other = app.login("nurse").await;
    let html = other
        .client
        .get(format!("{}/people", other.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Халық тіркелімі"),
        "the account's choice wins over the browser's"
    );
    // No open redirect through the language switch.
    let r = b
        .post_form("/lang", &[("lang", "ru"), ("next", "//evil.example/")])
        .await;
    assert_eq!(r.headers()["location"], "/");
    // Dates and numbers in the locale's format.
    let (_, html) = b.get_text("/").await;
    assert!(html.contains("class=\"big\""));
}

both_backends!(language);
