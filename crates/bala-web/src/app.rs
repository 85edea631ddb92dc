//! Putting the application together, and serving it.

use crate::config::Config;
use crate::routes::{rules_of, RouteSpec, RouteTable};
use crate::state::AppState;
use crate::{api, error, ops, pages, routes, visitor};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use bala_registry::people::PersonRef;
use bala_store::Db;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Every route of the application with its access rule.
pub fn route_table() -> RouteTable {
    pages::routes().merge(api::routes())
}

/// The access rule of every route (for the authorization test and docs).
pub fn route_specs() -> Vec<RouteSpec> {
    route_table().into_parts().1
}

/// Builds the application over an open, migrated database.
pub fn build(db: Db, config: Config, person_refs: Vec<PersonRef>) -> Router {
    let (router, specs) = route_table().into_parts();
    let state = AppState {
        db,
        config: Arc::new(config),
        metrics: ops::metrics_handle(),
        rules: Arc::new(rules_of(&specs)),
        person_refs: Arc::new(person_refs),
    };
    // Layers run outside-in in the reverse order of `.layer` calls.
    router
        .route_layer(from_fn_with_state(state.clone(), routes::enforce))
        .route_layer(from_fn(ops::observe))
        .fallback(pages::not_found)
        .layer(from_fn(error::render_errors))
        .layer(from_fn_with_state(state.clone(), visitor::resolve))
        .layer(from_fn_with_state(state.clone(), ops::security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            64 * 1024 * 1024,
        ))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
