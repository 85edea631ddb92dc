//! The route table: every route is registered together with its access rule,
//! and one middleware enforces the rules. A route cannot be added without a
//! rule (the builder requires one), and a request that reaches a route missing
//! from the table is refused — so the authorization test, which walks this
//! table for every role, covers every route.

use crate::error::AppError;
use crate::state::AppState;
use crate::visitor::Visitor;
use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use bala_access::{can, token_permits, Action};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, signed in or not (login page, static files, health).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Signed-in users whose role may do the action (and then only in their scope).
    Can(Action),
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
}

pub type Rules = HashMap<(Method, String), Rule>;

/// Builds the router and the table of rules together.
pub struct RouteTable {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Default for RouteTable {
    fn default() -> Self {
        Self::new()
    }
}

impl RouteTable {
    pub fn new() -> Self {
        RouteTable {
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, rule: Rule, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("supported method");
        self.router = self.router.route(path, on(filter, handler));
        self.specs.push(RouteSpec { method, path, rule });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        rule: Rule,
        h: H,
    ) -> Self {
        self.add(Method::GET, path, rule, h)
    }
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        rule: Rule,
        h: H,
    ) -> Self {
        self.add(Method::POST, path, rule, h)
    }
    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        rule: Rule,
        h: H,
    ) -> Self {
        self.add(Method::PUT, path, rule, h)
    }
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        rule: Rule,
        h: H,
    ) -> Self {
        self.add(Method::DELETE, path, rule, h)
    }

    pub fn merge(mut self, other: RouteTable) -> Self {
        self.router = self.router.merge(other.router);
        self.specs.extend(other.specs);
        self
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.specs)
    }
}

pub fn rules_of(specs: &[RouteSpec]) -> Rules {
    specs
        .iter()
        .map(|s| ((s.method.clone(), s.path.to_string()), s.rule))
        .collect()
}

/// The gate: runs before every routed handler.
pub async fn enforce(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let rule = path
        .as_ref()
        .and_then(|p| app.rules.get(&(method.clone(), p.clone())))
        .copied();
    let visitor = req.extensions().get::<Visitor>();
    let api = req.uri().path().starts_with("/api/");
    let decision = match (rule, visitor.and_then(|v| v.principal.as_ref())) {
        // The path exists for other methods: axum would answer 405, and so do we.
        (None, _)
            if path
                .as_ref()
                .is_some_and(|p| app.rules.keys().any(|(_, rp)| rp == p)) =>
        {
            return axum::http::StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        (None, _) => Err(AppError::Internal(anyhow::anyhow!(
            "route {path:?} has no access rule"
        ))),
        (Some(Rule::Public), _) => Ok(()),
        (Some(_), None) => Err(AppError::Unauthenticated),
        (Some(_), Some(p)) if !token_permits(p, method != Method::GET) => Err(AppError::Forbidden),
        (Some(Rule::SignedIn), Some(_)) => Ok(()),
        (Some(Rule::Can(a)), Some(p)) => {
            if can(p, a) {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
    };
    match decision {
        Ok(()) => next.run(req).await,
        Err(AppError::Unauthenticated) if !api => {
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let q = serde_urlencoded::to_string([("next", next_path)]).unwrap_or_default();
            Redirect::to(&format!("/login?{q}")).into_response()
        }
        Err(e) => e.into_response(),
    }
}
