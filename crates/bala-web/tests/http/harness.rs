//! Spawns Bala on a random port over a fresh database (per test, per backend),
//! with one user per role, and drives it over HTTP like a browser or an API client.

use bala_access::{users, Role};
use bala_core::AreaCode;
use bala_store::audit::Actor;
use bala_store::testing::TestDb;
use bala_store::Backend;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

pub const PASSWORD: &str = "Test-Password-2026";

/// (username, role, area) of the users every test app has.
pub const USERS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "000000000"),
    ("analyst", Role::Analyst, "000000000"),
    ("manager", Role::RegionalManager, "750000000"),
    ("nurse", Role::HealthWorker, "751110000"),
    ("social", Role::SocialWorker, "751110000"),
    ("supervisor", Role::Supervisor, "750000000"),
    ("nurse.shieli", Role::HealthWorker, "434600000"),
];

pub struct TestApp {
    pub base: String,
    pub t: TestDb,
    /// The keys the application seals narratives with.
    pub keys: bala_welfare::crypt::KeyRing,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let sets = bala_web::all_migrations();
        let t = TestDb::new(backend, &sets).await;
        bala_registry::areas::seed_reference(&t.db)
            .await
            .expect("areas");
        bala_indicators::store::registry::seed_reference(&t.db)
            .await
            .expect("indicator registry");
        for (username, role, area) in USERS {
            let new = users::NewUser {
                username: username.to_string(),
                display_name: format!("Test {username}"),
                password: PASSWORD.into(),
                role: *role,
                scope: vec![AreaCode::parse(area).unwrap()],
            };
            users::create(&t.db, &Actor::system("test"), &new)
                .await
                .expect("user");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = bala_web::Config::for_tests(&t.url);
        let keys = config.encryption.clone();
        let app = bala_web::build(t.db.clone(), config, bala_web::person_refs());
        tokio::spawn(bala_web::serve(listener, app, std::future::pending()));
        TestApp {
            base: format!("http://{addr}"),
            t,
            keys,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser without a session.
    pub fn browser(&self) -> Browser {
        Browser {
            client: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
            csrf: String::new(),
        }
    }

    /// A browser signed in as `username`.
    pub async fn login(&self, username: &str) -> Browser {
        let mut b = self.browser();
        b.refresh_csrf().await;
        let r = b
            .post_form("/login", &[("username", username), ("password", PASSWORD)])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "login of {username} failed"
        );
        b.refresh_csrf().await;
        b
    }

    /// A read-write (or read-only) API token for `username`.
    pub async fn token(&self, username: &str, scope: bala_access::TokenScope) -> String {
        let (u, _) = users::find_by_username(&self.t.db, username)
            .await
            .unwrap()
            .unwrap();
        bala_access::tokens::create(
            &self.t.db,
            &Actor::system("test"),
            u.id,
            "test",
            scope,
            None,
        )
        .await
        .unwrap()
    }

    /// An API client with a read-write token of `username`.
    pub async fn api_for(&self, username: &str) -> Api {
        let t = self
            .token(username, bala_access::TokenScope::ReadWrite)
            .await;
        self.api(&t)
    }

    pub fn api(&self, token: &str) -> Api {
        Api {
            client: Client::builder().redirect(Policy::none()).build().unwrap(),
            base: self.base.clone(),
            token: token.to_string(),
        }
    }
}

pub struct Browser {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

/// The value of `<input name="_csrf" value="…">` in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[i + 20..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.unwrap())
    }

    /// Loads a page that carries a form and remembers its CSRF token.
    pub async fn refresh_csrf(&mut self) {
        let (_, html) = self.get_text("/login").await;
        let html = if html.contains("_csrf") {
            html
        } else {
            self.get_text("/account").await.1
        };
        self.csrf = csrf_in(&html).expect("a page with a CSRF token");
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}{}", self.base, path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form_no_csrf(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{}", self.base, path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

pub struct Api {
    pub client: Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }
    pub async fn post(&self, path: &str, body: serde_json::Value) -> Response {
        self.client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn put(&self, path: &str, body: serde_json::Value) -> Response {
        self.client
            .put(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// Registers a person directly in the store (for test setup) and returns the id.
pub async fn person(
    app: &TestApp,
    family: &str,
    given: &str,
    birth: &str,
    sex: &str,
    area: &str,
) -> i64 {
    let scope = [AreaCode::republic()];
    let actor = Actor::system("test");
    let ctx = bala_registry::people::Ctx {
        actor: &actor,
        scope: &scope,
    };
    let input = bala_registry::person::PersonInput {
        family_name: family.into(),
        given_name: given.into(),
        birth_date: birth.into(),
        sex: sex.into(),
        area_code: area.into(),
        ..Default::default()
    };
    match bala_registry::people::create(&app.t.db, ctx, &input, true)
        .await
        .unwrap()
    {
        bala_registry::people::CreateOutcome::Created(id) => id,
        _ => unreachable!(),
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(bala_store::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(bala_store::Backend::Postgres).await;
                }
            }
        )*
    };
}
