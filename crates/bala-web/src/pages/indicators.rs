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
pub fn download(content_type: &str, file_name: &str, body: Vec<u8>) -> Response {
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

/// What the JSON API shares with the pages.
pub(crate) mod api_shared {
    pub use super::browse::{select, SeriesQuery};
    pub use super::download;
    pub use super::exchange::{export_error, export_filter, ExportQuery};
    use crate::api::indicators::ValueDto;
    use crate::error::AppError;
    use crate::state::AppState;
    use bala_core::{AreaCode, ValidationErrors};
    use bala_indicators::model::{parse_dims, Dims, Period};
    use bala_indicators::quality::{self, Entry};
    use bala_indicators::registry::Unit;
    use bala_indicators::store::registry;
    use bala_indicators::store::values::{Fields, ValueKey};

    /// Checks one value sent to the API like the entry form does; errors name
    /// the field.
    pub async fn check_value(
        app: &AppState,
        scope: &[AreaCode],
        units: &[Unit],
        r: &ValueDto,
    ) -> Result<Result<(ValueKey, Fields), ValidationErrors>, AppError> {
        let mut e = ValidationErrors::new();
        let def = registry::get(&app.db, &r.indicator).await.ok();
        match &def {
            None => e.push(
                "indicator",
                "indicators-unmapped",
                format!("no indicator {}", r.indicator),
            ),
            Some(d) if d.computed.is_some() => e.push(
                "indicator",
                "indicators-computed",
                "computed from Bala's registers",
            ),
            _ => {}
        }
        let period = Period::parse(&r.period);
        if let Err(err) = &period {
            e.push("period", "indicators-bad-period", err.to_string());
        }
        if bala_registry::areas::get(&app.db, &r.area).await?.is_none() {
            e.push("area", "err-area-unknown", format!("no area {}", r.area));
        } else if !bala_registry::areas::is_within(&app.db, &r.area, scope).await? {
            e.push("area", "err-area-scope", "outside your areas");
        }
        let dims: Dims = parse_dims(&r.series).unwrap_or_else(|m| {
            e.push("series", "indicators-bad-code", m);
            Dims::new()
        });
        if let Err(err) = quality::check_dims(&dims) {
            e.0.extend(err.0);
        }
        let source = r.source.trim().to_string();
        if source.is_empty() || source.starts_with("bala:") {
            e.push(
                "source",
                "indicators-source",
                "name who produced the figure (not bala:…)",
            );
        }
        if let Some(s) = &r.status {
            if !["A", "P", "E", "F", "I"].contains(&s.as_str()) {
                e.push("status", "indicators-bad-code", "A, P, E, F or I");
            }
        }
        let mut value = None;
        if let Some(d) = &def {
            let multiplier = units
                .iter()
                .find(|u| u.code == d.unit)
                .and_then(|u| u.multiplier);
            let percent = dims.get("UNIT_MEASURE").map(|u| u == "PT").unwrap_or(false);
            match quality::check_entry(
                d.kind,
                percent,
                multiplier,
                Entry {
                    value: r.value,
                    numerator: r.numerator,
                    denominator: r.denominator,
                },
            ) {
                Ok(x) => value = Some(x),
                Err(err) => e.0.extend(err.0),
            }
        }
        if let (Some(x), Some(l)) = (value, r.lower) {
            if l > x {
                e.push(
                    "lower",
                    "indicators-bad-bounds",
                    "the lower bound is above the value",
                );
            }
        }
        if let (Some(x), Some(u)) = (value, r.upper) {
            if u < x {
                e.push(
                    "upper",
                    "indicators-bad-bounds",
                    "the upper bound is below the value",
                );
            }
        }
        if !e.is_empty() {
            return Ok(Err(e));
        }
        let (Ok(period), Some(value)) = (period, value) else {
            return Ok(Err(e));
        };
        Ok(Ok((
            ValueKey {
                indicator: r.indicator.clone(),
                area: r.area.clone(),
                period,
                dims,
                source,
            },
            Fields {
                value,
                lower: r.lower,
                upper: r.upper,
                status: r.status.clone(),
                footnote: r.footnote.clone().filter(|f| !f.trim().is_empty()),
                attributes: Dims::new(),
                numerator: r.numerator,
                denominator: r.denominator,
            },
        )))
    }
}
