//! The indicators pillar's pages: the registry, an indicator's series, progress,
//! breakdowns and map; equity; entry and approval; pivot tables and exports;
//! imports and code lists; dashboards; the national progress report.

mod browse;
mod dashboards;
mod entry;
mod exchange;
mod report;

use crate::error::AppError;
use crate::routes::{RouteTable, Rule};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bala_access::Action;
use bala_indicators::store::IndError;

pub fn routes() -> RouteTable {
    let view = Rule::Can(Action::ViewAggregates);
    let edit = Rule::Can(Action::EditIndicators);
    let approve = Rule::Can(Action::ApproveIndicators);
    let reference = Rule::Can(Action::ManageReference);
    RouteTable::new()
        .get("/indicators", view, browse::list)
        .get("/indicators/equity", view, browse::equity)
        .get("/indicators/pivot", view, browse::pivot)
        .get("/indicators/pivot.csv", view, browse::pivot_csv)
        .get("/indicators/pivot.xlsx", view, browse::pivot_xlsx)
        .get("/indicators/pivot.svg", view, browse::pivot_svg)
        .get("/indicators/entry", edit, entry::form)
        .post("/indicators/entry", edit, entry::submit)
        .get("/indicators/approvals", approve, entry::queue)
        .post("/indicators/approvals", approve, entry::review)
        .get("/indicators/import", edit, exchange::import_form)
        .post("/indicators/import", edit, exchange::import)
        .get("/indicators/export", view, exchange::export)
        .get("/indicators/template.xlsx", view, exchange::template)
        .get("/indicators/codelists", view, exchange::codelists)
        .post("/indicators/codelists", reference, exchange::codelist_put)
        .post(
            "/indicators/codelists/delete",
            reference,
            exchange::codelist_delete,
        )
        .get("/indicators/dashboards", view, dashboards::list)
        .post("/indicators/dashboards", view, dashboards::create)
        .get("/indicators/dashboards/{id}", view, dashboards::show)
        .post(
            "/indicators/dashboards/{id}/panels",
            view,
            dashboards::add_panel,
        )
        .post(
            "/indicators/dashboards/{id}/panels/{panel}/delete",
            view,
            dashboards::remove_panel,
        )
        .post("/indicators/dashboards/{id}/share", view, dashboards::share)
        .post(
            "/indicators/dashboards/{id}/delete",
            view,
            dashboards::delete,
        )
        .get("/indicators/report", view, report::html)
        .get("/indicators/report.pdf", view, report::pdf)
        .get("/indicators/{indicator}", view, browse::show)
        .get("/indicators/{indicator}/chart.svg", view, browse::chart_svg)
        .get("/indicators/{indicator}/map.svg", view, browse::map_svg)
        .post(
            "/indicators/{indicator}/targets",
            reference,
            browse::add_target,
        )
}

impl From<IndError> for AppError {
    fn from(e: IndError) -> Self {
        match e {
            IndError::NotFound => AppError::NotFound,
            IndError::Validation(v) => AppError::Validation(v),
            IndError::Store(s) => AppError::Internal(s.into()),
        }
    }
}

/// A file to download.
pub(crate) fn download(content_type: &str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// An SVG image shown inline or downloaded.
pub(crate) fn svg_response(svg: String, file_name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "image/svg+xml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
        ],
        svg,
    )
        .into_response()
}

/// A file name made safe from an indicator code.
pub(crate) fn slug(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
