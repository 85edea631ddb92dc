use crate::config::Config;
use crate::routes::Rules;
use bala_registry::people::PersonRef;
use bala_store::Db;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    pub rules: Arc<Rules>,
    /// Columns in pillar tables that hold person ids, re-pointed when records merge.
    pub person_refs: Arc<Vec<PersonRef>>,
}
