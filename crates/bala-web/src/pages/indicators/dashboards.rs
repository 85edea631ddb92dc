//! Dashboards: panels of charts, maps, rankings and progress, composed by a user
//! and shared with everyone or with named colleagues.

use super::browse::{self, Selection};
use crate::charts::{self, Bar};
use crate::error::AppError;
use crate::extract::{WebForm as Form, WebPath as Path};
use crate::indicators_view::{self as iv, num, ProgressView};
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_indicators::equity;
use bala_indicators::model::{parse_dims, AreaRef};
use bala_indicators::store::dashboards::{self, PanelKind};
use bala_indicators::store::registry;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "indicators/dashboards.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<(i64, String, String, bool, bool, String)>,
}

pub async fn list(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let p = v.principal()?;
    let c = Chrome::new(&v, "indicators", &uri);
    let rows = dashboards::visible_to(&app.db, p.user_id)
        .await?
        .into_iter()
        .map(|d| {
            (
                d.id,
                d.title,
                d.owner,
                d.owner_id == p.user_id,
                d.shared_all,
                c.stamp(&d.updated_at),
            )
        })
        .collect();
    render(&ListPage { c, rows })
}

#[derive(Deserialize)]
pub struct TitleForm {
    #[serde(default)]
    pub title: String,
}

pub async fn create(
    State(app): State<AppState>,
    v: Visitor,
    Form(f): Form<TitleForm>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let id = dashboards::create(&app.db, &v.actor(), p.user_id, &f.title).await?;
    Ok(redirect_with_flash(
        &format!("/indicators/dashboards/{id}"),
        "ind-dashboard-created",
        app.config.secure_cookies,
    ))
}

pub struct PanelView {
    pub id: i64,
    pub title: String,
    pub link: String,
    pub svg: String,
    pub progress: Vec<ProgressView>,
    pub empty: bool,
}

#[derive(Template)]
#[template(path = "indicators/dashboard.html")]
struct ShowPage {
    c: Chrome,
    id: i64,
    title: String,
    owner: String,
    mine: bool,
    shared_all: bool,
    shared_with: String,
    panels: Vec<PanelView>,
}

pub async fn show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let c = Chrome::new(&v, "indicators", &uri);
    let tr = c.tr;
    let d = dashboards::get(&app.db, p.user_id, id).await?;
    let areas = iv::areas(&app.db, v.lang).await?;
    let mut panels = Vec::new();
    for panel in &d.panels {
        let Ok(def) = registry::get(&app.db, &panel.indicator).await else {
            continue;
        };
        let q = browse::SeriesQuery {
            area: Some(panel.area.clone()),
            series: Some(bala_indicators::model::format_dims(&panel.dims)),
            source: panel.source.clone(),
        };
        let sel: Selection = browse::select(&app, &def, &q).await?;
        let area_name = areas
            .get(&sel.area)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let title = format!(
            "{} — {} ({})",
            iv::name(v.lang, &def),
            area_name,
            tr.t(&format!("ind-panel-{}", panel.kind.code()))
        );
        let link = format!("/indicators/{}?{}", def.code, sel.query());
        let mut view = PanelView {
            id: panel.id,
            title,
            link,
            svg: String::new(),
            progress: vec![],
            empty: false,
        };
        match panel.kind {
            PanelKind::Series | PanelKind::Progress => {
                let (svg, _, progress) =
                    browse::series_chart(&app, tr, &def, &sel, &area_name).await?;
                if panel.kind == PanelKind::Series {
                    view.svg = svg;
                } else {
                    view.progress = progress;
                }
            }
            PanelKind::Map | PanelKind::Ranking => {
                match browse::regional(&app, &def, &sel.dims, &sel.source, &areas).await? {
                    Some((period, vals)) if panel.kind == PanelKind::Map => {
                        view.svg = browse::map_svg_for(tr, &def, period, &vals, &areas)
                    }
                    Some((period, vals)) => {
                        let cross: Vec<(AreaRef, f64)> = vals
                            .iter()
                            .map(|x| (AreaRef::parse(&x.key.area), x.fields.value))
                            .collect();
                        let dir = def
                            .polarity
                            .direction()
                            .unwrap_or(bala_indicators::model::Direction::HigherIsBetter);
                        let bars: Vec<Bar> = equity::rank_by_value(&cross, dir)
                            .into_iter()
                            .map(|r| Bar {
                                label: format!(
                                    "{}. {}",
                                    r.rank,
                                    areas
                                        .get(r.area.as_str())
                                        .map(|a| a.name.clone())
                                        .unwrap_or_default()
                                ),
                                value: r.value,
                                bounds: None,
                            })
                            .collect();
                        let t = format!("{} — {period}", iv::name(v.lang, &def));
                        view.svg = charts::bar_chart(&t, &t, &bars, &|x| num(tr, x));
                    }
                    None => view.empty = true,
                }
            }
        }
        view.empty = view.empty || (view.svg.is_empty() && view.progress.is_empty());
        panels.push(view);
    }
    render(&ShowPage {
        id: d.id,
        title: d.title,
        owner: d.owner,
        mine: d.owner_id == p.user_id,
        shared_all: d.shared_all,
        shared_with: d.shared_with.join(", "),
        panels,
        c,
    })
}

#[derive(Deserialize)]
pub struct PanelForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub indicator: String,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub series: String,
    #[serde(default)]
    pub source: String,
}

pub async fn add_panel(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<PanelForm>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let mut e = bala_core::ValidationErrors::new();
    let kind = PanelKind::parse(&f.kind);
    if kind.is_none() {
        e.push(
            "kind",
            "indicators-bad-code",
            "series, map, ranking or progress",
        );
    }
    let dims = parse_dims(&f.series).unwrap_or_else(|msg| {
        e.push("series", "indicators-bad-code", msg);
        Default::default()
    });
    e.into_result()?;
    let area = if f.area.trim().is_empty() {
        bala_core::kato::REPUBLIC.to_string()
    } else {
        f.area.trim().to_string()
    };
    let source = Some(f.source.trim()).filter(|s| !s.is_empty());
    let panel = dashboards::NewPanel {
        kind: kind.unwrap_or(PanelKind::Series),
        indicator: f.indicator.trim(),
        area: &area,
        dims: &dims,
        source,
    };
    dashboards::add_panel(&app.db, &v.actor(), p.user_id, id, &panel).await?;
    Ok(redirect_with_flash(
        &format!("/indicators/dashboards/{id}"),
        "ind-panel-added",
        app.config.secure_cookies,
    ))
}

pub async fn remove_panel(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, panel)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    dashboards::remove_panel(&app.db, &v.actor(), p.user_id, id, panel).await?;
    Ok(redirect_with_flash(
        &format!("/indicators/dashboards/{id}"),
        "ind-panel-removed",
        app.config.secure_cookies,
    ))
}

#[derive(Deserialize)]
pub struct ShareForm {
    pub all: Option<String>,
    #[serde(default)]
    pub users: String,
}

pub async fn share(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<ShareForm>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let users: Vec<String> = f
        .users
        .split([',', ' ', ';'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    dashboards::share(&app.db, &v.actor(), p.user_id, id, f.all.is_some(), &users).await?;
    Ok(redirect_with_flash(
        &format!("/indicators/dashboards/{id}"),
        "ind-dashboard-shared",
        app.config.secure_cookies,
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    dashboards::delete(&app.db, &v.actor(), p.user_id, id).await?;
    Ok(redirect_with_flash(
        "/indicators/dashboards",
        "ind-dashboard-deleted",
        app.config.secure_cookies,
    ))
}
