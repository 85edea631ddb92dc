//! Browsing: the registry, an indicator's page (series, targets, progress,
//! breakdowns, map), equity, and the pivot table with its exports.

use super::{download, slug, svg_response};
use crate::charts::{self, Bar, Line, LineChart, MapValue, Reference, Stroke, PALETTE};
use crate::error::AppError;
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::i18n::{Lang, Tr};
use crate::indicators_view::{self as iv, num, AreaInfo, ProgressView};
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_indicators::equity;
use bala_indicators::exchange::xlsx;
use bala_indicators::model::{format_dims, parse_dims, AreaRef, Dims, Period};
use bala_indicators::registry::{Framework, IndicatorDef, Polarity, TargetDef, TargetRule};
use bala_indicators::store::registry;
use bala_indicators::store::values::{self, Filter, StoredValue};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ---- list ---------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub framework: Option<String>,
}

pub struct ListRow {
    pub code: String,
    pub name: String,
    pub frameworks: Vec<String>,
    pub unit: String,
    pub values: i64,
    pub latest: String,
    pub computed: bool,
}

#[derive(Template)]
#[template(path = "indicators/list.html")]
struct ListPage {
    c: Chrome,
    q: String,
    framework: String,
    rows: Vec<ListRow>,
}

fn fw_badge(f: &bala_indicators::registry::FrameworkLink) -> String {
    match f.framework {
        Framework::Sdg => format!("SDG {}", f.number),
        Framework::Mdg => format!("MDG {}", f.number),
        Framework::MdgPlus => format!("MDG+ {}", f.number),
    }
}

pub async fn list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&v, "indicators", &uri);
    let defs = registry::all(&app.db).await?;
    let counts = values::counts(&app.db).await?;
    let needle = q.q.clone().unwrap_or_default().trim().to_lowercase();
    let fw = q.framework.clone().unwrap_or_default();
    let units = registry::units(&app.db).await?;
    let mut rows = Vec::new();
    for d in defs {
        if let Some(f) = Framework::parse(&fw) {
            if d.link(f).is_none() {
                continue;
            }
        }
        let name = iv::name(v.lang, &d);
        let hay = format!(
            "{} {} {} {}",
            d.code,
            name.to_lowercase(),
            d.names.en.clone().unwrap_or_default().to_lowercase(),
            d.frameworks
                .iter()
                .map(fw_badge)
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        );
        if !needle.is_empty() && !hay.contains(&needle) {
            continue;
        }
        let (n, latest) = counts.get(&d.code).cloned().unwrap_or((0, None));
        rows.push(ListRow {
            frameworks: d.frameworks.iter().map(fw_badge).collect(),
            unit: units
                .iter()
                .find(|u| u.code == d.unit)
                .and_then(|u| u.names.get(iv::mlang(v.lang)))
                .unwrap_or(&d.unit)
                .to_string(),
            values: n,
            latest: latest.unwrap_or_default(),
            computed: d.computed.is_some(),
            code: d.code,
            name,
        });
    }
    render(&ListPage {
        c,
        q: q.q.unwrap_or_default(),
        framework: fw,
        rows,
    })
}

// ---- one indicator --------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
pub struct SeriesQuery {
    pub area: Option<String>,
    pub series: Option<String>,
    pub source: Option<String>,
}

/// The series shown: area, breakdown and source.
#[derive(Debug, Clone)]
pub struct Selection {
    pub area: String,
    pub dims: Dims,
    pub source: String,
}

impl Selection {
    pub fn query(&self) -> String {
        serde_urlencoded::to_string([
            ("area", self.area.as_str()),
            ("series", format_dims(&self.dims).as_str()),
            ("source", self.source.as_str()),
        ])
        .unwrap_or_default()
    }
}

/// Chooses the series to show: what the query asks for, else the indicator's
/// headline breakdown, else the series with most values; the source with most
/// values for that breakdown.
pub async fn select(
    app: &AppState,
    def: &IndicatorDef,
    q: &SeriesQuery,
) -> Result<Selection, AppError> {
    let area = q
        .area
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| bala_core::kato::REPUBLIC.into());
    if bala_registry::areas::get(&app.db, &area).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let list = values::series_list(&app.db, &def.code, &area).await?;
    let asked = q.series.as_deref().and_then(|s| parse_dims(s).ok());
    let dims = asked
        .or_else(|| {
            list.iter()
                .any(|s| s.0 == def.headline)
                .then(|| def.headline.clone())
        })
        .or_else(|| list.iter().max_by_key(|s| s.2).map(|s| s.0.clone()))
        .unwrap_or_else(|| def.headline.clone());
    let source = q
        .source
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            list.iter()
                .filter(|s| s.0 == dims)
                .max_by_key(|s| (s.2, s.1 == "kazstat"))
                .map(|s| s.1.clone())
                .unwrap_or_else(|| "kazstat".into())
        });
    Ok(Selection { area, dims, source })
}

pub struct ValueRow {
    pub period: String,
    pub value: String,
    pub bounds: String,
    pub status: String,
    pub source: String,
    pub footnote: String,
    pub version: i64,
}

pub struct Breakdown {
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, String)>,
}

pub struct FrameworkRow {
    pub badge: String,
    pub title: String,
    pub target: String,
    pub relation: String,
    pub citation: String,
}

#[derive(Template)]
#[template(path = "indicators/show.html")]
struct ShowPage {
    c: Chrome,
    def_code: String,
    name: String,
    definition: String,
    unit: String,
    direction_key: &'static str,
    numerator: String,
    denominator: String,
    source: String,
    custodian: String,
    computed: bool,
    frameworks: Vec<FrameworkRow>,
    area_options: Vec<(String, String)>,
    series_options: Vec<(String, String)>,
    source_options: Vec<(String, String)>,
    sel_area: String,
    sel_series: String,
    sel_source: String,
    query: String,
    area_name: String,
    chart: String,
    progress: Vec<ProgressView>,
    values: Vec<ValueRow>,
    breakdowns: Vec<Breakdown>,
    map: String,
    map_period: String,
    map_rows: Vec<(String, String)>,
    dashboard: Option<(i64, String)>,
    panel_kinds: Vec<(&'static str, String)>,
}

fn direction_key(p: Polarity) -> &'static str {
    match p {
        Polarity::Lower => "ind-direction-lower",
        Polarity::Higher => "ind-direction-higher",
        Polarity::Neutral => "ind-direction-neutral",
    }
}

/// Everything the chart of a selection needs.
pub async fn series_chart(
    app: &AppState,
    tr: Tr,
    def: &IndicatorDef,
    sel: &Selection,
    area_name: &str,
) -> Result<(String, Vec<StoredValue>, Vec<ProgressView>), AppError> {
    let all = values::published(
        &app.db,
        &Filter {
            indicators: vec![def.code.clone()],
            areas: vec![sel.area.clone()],
            dims: Some(sel.dims.clone()),
            ..Filter::default()
        },
    )
    .await?;
    let main: Vec<StoredValue> = all
        .iter()
        .filter(|v| v.key.source == sel.source)
        .cloned()
        .collect();
    let pts = iv::points(&main);
    let progress = iv::assess_all(tr, def, &sel.dims, &pts);
    let unit = iv::unit_name(&app.db, tr.0, &def.unit).await;
    let mut lines = vec![Line {
        label: iv::source_label(tr, &sel.source),
        points: main
            .iter()
            .map(|v| {
                (
                    v.key.period.midpoint(),
                    v.fields.value,
                    v.fields.lower.zip(v.fields.upper),
                )
            })
            .collect(),
        stroke: Stroke::Solid,
        colour: PALETTE[0],
    }];
    let others: BTreeSet<String> = all
        .iter()
        .map(|v| v.key.source.clone())
        .filter(|s| *s != sel.source)
        .collect();
    for (i, s) in others.iter().enumerate() {
        lines.push(Line {
            label: iv::source_label(tr, s),
            points: all
                .iter()
                .filter(|v| &v.key.source == s)
                .map(|v| {
                    (
                        v.key.period.midpoint(),
                        v.fields.value,
                        v.fields.lower.zip(v.fields.upper),
                    )
                })
                .collect(),
            stroke: Stroke::Points,
            colour: PALETTE[(i + 1) % PALETTE.len()],
        });
    }
    let mut references = Vec::new();
    for p in &progress {
        if let (Some(value), Some(r)) = (p.target_value, &p.report) {
            references.push(Reference {
                label: format!("{}: {}", p.framework, p.target_label),
                value,
                until: r.target.by.midpoint(),
            });
        }
    }
    // The projection of the first assessed target that is still ahead.
    if let Some(r) = progress
        .iter()
        .filter_map(|p| p.report.as_ref())
        .find(|r| r.projected.is_some() && r.target.by > r.latest.0)
    {
        lines.push(Line {
            label: tr.t("ind-chart-projection"),
            points: vec![
                (r.latest.0.midpoint(), r.latest.1, None),
                (
                    r.target.by.midpoint(),
                    r.projected.unwrap_or(r.latest.1),
                    None,
                ),
            ],
            stroke: Stroke::Dashed,
            colour: PALETTE[1],
        });
    }
    let title = format!("{} — {}", iv::name(tr.0, def), area_name);
    let desc = tr.t2(
        "ind-chart-desc",
        "series",
        iv::dims_label(tr.0, &sel.dims, &Dims::new()),
        "count",
        main.len() as i64,
    );
    let chart = LineChart {
        title,
        desc,
        unit,
        lines,
        references,
        decimals: 1,
    }
    .svg(&|x| num(tr, x));
    Ok((chart, main, progress))
}

/// The latest period with regional values for the selection, and the values.
pub async fn regional(
    app: &AppState,
    def: &IndicatorDef,
    dims: &Dims,
    source: &str,
    areas: &HashMap<String, AreaInfo>,
) -> Result<Option<(Period, Vec<StoredValue>)>, AppError> {
    let vals = values::published(
        &app.db,
        &Filter {
            indicators: vec![def.code.clone()],
            dims: Some(dims.clone()),
            source: Some(source.into()),
            ..Filter::default()
        },
    )
    .await?;
    let regional: Vec<StoredValue> = vals
        .into_iter()
        .filter(|v| areas.get(&v.key.area).is_some_and(|a| a.level == 1))
        .collect();
    let Some(latest) = regional.iter().map(|v| v.key.period).max() else {
        return Ok(None);
    };
    Ok(Some((
        latest,
        regional
            .into_iter()
            .filter(|v| v.key.period == latest)
            .collect(),
    )))
}

pub fn map_svg_for(
    tr: Tr,
    def: &IndicatorDef,
    period: Period,
    vals: &[StoredValue],
    areas: &HashMap<String, AreaInfo>,
) -> String {
    let mv: Vec<MapValue> = vals
        .iter()
        .filter_map(|v| {
            let a = areas.get(&v.key.area)?;
            Some(MapValue {
                map_code: a.map_code.clone()?,
                label: a.name.clone(),
                value: v.fields.value,
            })
        })
        .collect();
    charts::choropleth(
        &format!("{} — {}", iv::name(tr.0, def), period),
        &tr.t("ind-map-desc"),
        &mv,
        def.polarity != Polarity::Higher,
        &tr.t("ind-map-no-data"),
        &|x| num(tr, x),
    )
}

/// Breakdowns of the selection by one more dimension, latest period with any.
fn breakdowns(tr: Tr, sel: &Selection, vals: &[StoredValue]) -> Vec<Breakdown> {
    let mut by_dim: BTreeMap<String, Vec<&StoredValue>> = BTreeMap::new();
    for v in vals.iter().filter(|v| v.key.source == sel.source) {
        if !sel.dims.iter().all(|(k, x)| v.key.dims.get(k) == Some(x))
            || v.key.dims.len() != sel.dims.len() + 1
        {
            continue;
        }
        if let Some((k, _)) = v.key.dims.iter().find(|(k, _)| !sel.dims.contains_key(*k)) {
            by_dim.entry(k.clone()).or_default().push(v);
        }
    }
    by_dim
        .into_iter()
        .filter_map(|(dim, vs)| {
            let latest = vs.iter().map(|v| v.key.period).max()?;
            let mut bars: Vec<Bar> = vs
                .iter()
                .filter(|v| v.key.period == latest)
                .map(|v| Bar {
                    label: iv::code_label(tr.0, &dim, &v.key.dims[&dim]),
                    value: v.fields.value,
                    bounds: v.fields.lower.zip(v.fields.upper),
                })
                .collect();
            bars.sort_by(|a, b| a.label.cmp(&b.label));
            let title = tr.t2(
                "ind-breakdown-title",
                "dimension",
                iv::dim_label(tr.0, &dim),
                "period",
                latest.to_string(),
            );
            let svg = charts::bar_chart(&title, &title, &bars, &|x| num(tr, x));
            Some(Breakdown {
                rows: bars
                    .iter()
                    .map(|b| (b.label.clone(), num(tr, b.value)))
                    .collect(),
                title,
                svg,
            })
        })
        .collect()
}

pub async fn show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(code): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&v, "indicators", &uri);
    let tr = c.tr;
    let lang = v.lang;
    let def = registry::get(&app.db, &code).await?;
    let sel = select(&app, &def, &q).await?;
    let areas = iv::areas(&app.db, lang).await?;
    let area_name = areas
        .get(&sel.area)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let (chart, main, progress) = series_chart(&app, tr, &def, &sel, &area_name).await?;
    let in_area = values::published(
        &app.db,
        &Filter {
            indicators: vec![def.code.clone()],
            areas: vec![sel.area.clone()],
            ..Filter::default()
        },
    )
    .await?;
    let list = values::series_list(&app.db, &def.code, &sel.area).await?;
    let mut series_options: Vec<(String, String)> = list
        .iter()
        .map(|s| format_dims(&s.0))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|d| {
            let dims = parse_dims(&d).unwrap_or_default();
            let label = iv::dims_label(lang, &dims, &Dims::new());
            (
                d,
                if label.is_empty() {
                    tr.t("ind-total")
                } else {
                    label
                },
            )
        })
        .collect();
    if !series_options.iter().any(|o| o.0 == format_dims(&sel.dims)) {
        series_options.insert(
            0,
            (
                format_dims(&sel.dims),
                iv::dims_label(lang, &sel.dims, &Dims::new()),
            ),
        );
    }
    let source_options: Vec<(String, String)> = list
        .iter()
        .filter(|s| s.0 == sel.dims)
        .map(|s| (s.1.clone(), iv::source_label(tr, &s.1)))
        .collect();
    let (map, map_period, map_rows) =
        match regional(&app, &def, &sel.dims, &sel.source, &areas).await? {
            Some((p, vals)) => {
                let mut rows: Vec<(String, String)> = vals
                    .iter()
                    .map(|x| {
                        (
                            areas
                                .get(&x.key.area)
                                .map(|a| a.name.clone())
                                .unwrap_or_default(),
                            num(tr, x.fields.value),
                        )
                    })
                    .collect();
                rows.sort();
                (map_svg_for(tr, &def, p, &vals, &areas), p.to_string(), rows)
            }
            None => (String::new(), String::new(), vec![]),
        };
    let frameworks = def
        .frameworks
        .iter()
        .map(|f| FrameworkRow {
            badge: fw_badge(f),
            title: iv::text(lang, &f.title),
            target: format!("{} {}", f.target, iv::text(lang, &f.target_text)),
            relation: tr.t(&format!("ind-relation-{}", f.relation.code())),
            citation: f.citation.clone(),
        })
        .collect();
    let p = v.principal()?;
    let dashboard = bala_indicators::store::dashboards::visible_to(&app.db, p.user_id)
        .await?
        .into_iter()
        .find(|d| d.owner_id == p.user_id)
        .map(|d| (d.id, d.title));
    let values = main
        .iter()
        .rev()
        .map(|x| ValueRow {
            period: x.key.period.to_string(),
            value: num(tr, x.fields.value),
            bounds: match (x.fields.lower, x.fields.upper) {
                (Some(l), Some(u)) => format!("{} – {}", num(tr, l), num(tr, u)),
                _ => String::new(),
            },
            status: x
                .fields
                .status
                .as_deref()
                .map(|s| tr.t(&format!("ind-obs-status-{}", status_slug(s))))
                .unwrap_or_default(),
            source: iv::source_label(tr, &x.key.source),
            footnote: x.fields.footnote.clone().unwrap_or_default(),
            version: x.version,
        })
        .collect();
    render(&ShowPage {
        def_code: def.code.clone(),
        name: iv::name(lang, &def),
        definition: iv::text(lang, &def.definitions),
        unit: iv::unit_name(&app.db, lang, &def.unit).await,
        direction_key: direction_key(def.polarity),
        numerator: iv::text(lang, &def.numerator),
        denominator: iv::text(lang, &def.denominator),
        source: iv::text(lang, &def.source),
        custodian: def.custodian.clone().unwrap_or_default(),
        computed: def.computed.is_some(),
        frameworks,
        area_options: iv::region_options(&areas),
        series_options,
        source_options,
        sel_series: format_dims(&sel.dims),
        sel_area: sel.area.clone(),
        sel_source: sel.source.clone(),
        query: sel.query(),
        area_name,
        chart,
        progress,
        values,
        breakdowns: breakdowns(tr, &sel, &in_area),
        map,
        map_period,
        map_rows,
        dashboard,
        panel_kinds: bala_indicators::store::dashboards::PanelKind::ALL
            .iter()
            .map(|k| (k.code(), tr.t(&format!("ind-panel-{}", k.code()))))
            .collect(),
        c,
    })
}

/// SDMX status codes the pages name; others show as "other".
pub fn status_slug(code: &str) -> &'static str {
    match code {
        "A" => "a",
        "P" => "p",
        "E" => "e",
        "F" => "f",
        "I" => "i",
        _ => "other",
    }
}

pub async fn chart_svg(
    State(app): State<AppState>,
    v: Visitor,
    Path(code): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let def = registry::get(&app.db, &code).await?;
    let sel = select(&app, &def, &q).await?;
    let areas = iv::areas(&app.db, v.lang).await?;
    let area_name = areas
        .get(&sel.area)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let (svg, _, _) = series_chart(&app, tr, &def, &sel, &area_name).await?;
    Ok(svg_response(
        svg,
        &format!("bala-{}-{}.svg", slug(&def.code), sel.area),
    ))
}

pub async fn map_svg(
    State(app): State<AppState>,
    v: Visitor,
    Path(code): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let def = registry::get(&app.db, &code).await?;
    let sel = select(&app, &def, &q).await?;
    let areas = iv::areas(&app.db, v.lang).await?;
    let Some((p, vals)) = regional(&app, &def, &sel.dims, &sel.source, &areas).await? else {
        return Err(AppError::NotFound);
    };
    Ok(svg_response(
        map_svg_for(tr, &def, p, &vals, &areas),
        &format!("bala-{}-map-{p}.svg", slug(&def.code)),
    ))
}

#[derive(Deserialize)]
pub struct TargetForm {
    pub framework: String,
    pub kind: String,
    pub value: String,
    pub baseline: Option<String>,
    pub year: String,
    pub series: Option<String>,
    pub citation: String,
}

/// An administrator adds a target (e.g. a national MDG-plus target).
pub async fn add_target(
    State(app): State<AppState>,
    v: Visitor,
    Path(code): Path<String>,
    Form(f): Form<TargetForm>,
) -> Result<Response, AppError> {
    let mut errors = bala_core::ValidationErrors::new();
    let framework = Framework::parse(&f.framework);
    if framework.is_none() {
        errors.push(
            "framework",
            "indicators-bad-code",
            "choose SDG, MDG or MDG-plus",
        );
    }
    let value = f
        .value
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite());
    if value.is_none() {
        errors.push(
            "value",
            "indicators-not-number",
            "the value is not a number",
        );
    }
    let by = Period::parse(&f.year);
    if by.is_err() {
        errors.push("year", "indicators-bad-period", "a year like 2030");
    }
    let dims = parse_dims(f.series.as_deref().unwrap_or(""));
    if dims.is_err() {
        errors.push("series", "indicators-bad-code", "not a breakdown");
    }
    let rule = match (f.kind.as_str(), value) {
        ("absolute", Some(value)) => Some(TargetRule::Absolute { value }),
        ("reduction", Some(value)) => match f.baseline.as_deref().map(Period::parse) {
            Some(Ok(baseline)) => Some(TargetRule::Reduction {
                fraction: value / 100.0,
                baseline,
            }),
            _ => {
                errors.push(
                    "baseline",
                    "indicators-bad-period",
                    "a reduction needs its baseline year",
                );
                None
            }
        },
        _ => {
            errors.push("kind", "indicators-bad-code", "absolute or reduction");
            None
        }
    };
    errors.into_result()?;
    let (Some(framework), Some(rule), Ok(by), Ok(dims)) = (framework, rule, by, dims) else {
        return Err(AppError::BadRequest("target".into()));
    };
    let target = TargetDef {
        id: None,
        framework,
        dims,
        rule,
        by,
        citation: f.citation.trim().to_string(),
        quote: None,
        text: Default::default(),
    };
    registry::add_target(&app.db, &v.actor(), &code, &target).await?;
    Ok(redirect_with_flash(
        &format!("/indicators/{code}"),
        "ind-target-added",
        app.config.secure_cookies,
    ))
}

// ---- equity -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct EquityQuery {
    pub indicator: Option<String>,
    pub source: Option<String>,
}

pub struct GapRow {
    pub kind: String,
    pub area: String,
    pub period: String,
    pub series: String,
    pub group: String,
    pub reference: String,
    pub difference: String,
    pub ratio: String,
    pub disadvantaged: String,
}

pub struct RankRow {
    pub rank: usize,
    pub area: String,
    pub value: String,
    pub distance: String,
}

#[derive(Template)]
#[template(path = "indicators/equity.html")]
struct EquityPage {
    c: Chrome,
    indicators: Vec<(String, String)>,
    indicator: String,
    name: String,
    assessed: bool,
    gaps: Vec<GapRow>,
    period: String,
    ranking: Vec<RankRow>,
    furthest: Vec<RankRow>,
    target_label: String,
}

pub async fn equity(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<EquityQuery>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&v, "indicators", &uri);
    let tr = c.tr;
    let lang = v.lang;
    let defs = registry::all(&app.db).await?;
    let code = q.indicator.clone().unwrap_or_else(|| "3.2.1".into());
    let def = defs
        .iter()
        .find(|d| d.code == code)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let areas = iv::areas(&app.db, lang).await?;
    let sel = select(
        &app,
        &def,
        &SeriesQuery {
            source: q.source.clone(),
            ..SeriesQuery::default()
        },
    )
    .await?;
    let vals = values::published(
        &app.db,
        &Filter {
            indicators: vec![def.code.clone()],
            source: Some(sel.source.clone()),
            ..Filter::default()
        },
    )
    .await?;
    let direction = def.polarity.direction();
    let obs: Vec<_> = vals.iter().map(|x| x.observation()).collect();
    let mut gaps = Vec::new();
    if let Some(dir) = direction {
        let area_of = |a: &AreaRef| match a {
            AreaRef::National => bala_core::kato::REPUBLIC.to_string(),
            other => other.as_str().to_string(),
        };
        for (kind, found) in [
            (tr.t("ind-gap-wealth"), equity::wealth_gaps(&obs, dir)),
            (
                tr.t("ind-gap-residence"),
                equity::urban_rural_gaps(&obs, dir),
            ),
            (tr.t("ind-gap-sex"), equity::sex_gaps(&obs, dir)),
        ] {
            // The latest period of each area and series.
            let mut latest: BTreeMap<(String, String), equity::GapIn> = BTreeMap::new();
            for g in found {
                let k = (area_of(&g.context.area), format_dims(&g.context.dims));
                if latest
                    .get(&k)
                    .is_none_or(|x| x.context.period < g.context.period)
                {
                    latest.insert(k, g);
                }
            }
            for ((area, _), g) in latest {
                let dim = g.gap.dimension.clone();
                gaps.push(GapRow {
                    kind: kind.clone(),
                    area: areas.get(&area).map(|a| a.name.clone()).unwrap_or(area),
                    period: g.context.period.to_string(),
                    series: iv::dims_label(lang, &g.context.dims, &def.headline),
                    group: format!(
                        "{} ({})",
                        iv::code_label(lang, &dim, &g.gap.group),
                        num(tr, g.gap.group_value)
                    ),
                    reference: format!(
                        "{} ({})",
                        iv::code_label(lang, &dim, &g.gap.reference),
                        num(tr, g.gap.reference_value)
                    ),
                    difference: num(tr, g.gap.difference),
                    ratio: g.gap.ratio.map(|r| num(tr, r)).unwrap_or_default(),
                    disadvantaged: g
                        .gap
                        .disadvantaged
                        .as_deref()
                        .map(|d| iv::code_label(lang, &dim, d))
                        .unwrap_or_else(|| tr.t("ind-gap-equal")),
                });
            }
        }
    }
    // National rows first, then regions by name.
    gaps.sort_by(|a, b| a.kind.cmp(&b.kind));
    let (mut ranking, mut furthest, mut period, mut target_label) =
        (vec![], vec![], String::new(), String::new());
    if let (Some(dir), Some((p, regional))) = (
        direction,
        regional(&app, &def, &sel.dims, &sel.source, &areas).await?,
    ) {
        period = p.to_string();
        let cross: Vec<(AreaRef, f64)> = regional
            .iter()
            .map(|x| (AreaRef::parse(&x.key.area), x.fields.value))
            .collect();
        let name = |a: &AreaRef| {
            areas
                .get(a.as_str())
                .map(|x| x.name.clone())
                .unwrap_or_else(|| a.to_string())
        };
        ranking = equity::rank_by_value(&cross, dir)
            .into_iter()
            .map(|r| RankRow {
                rank: r.rank,
                area: name(&r.area),
                value: num(tr, r.value),
                distance: String::new(),
            })
            .collect();
        if let Some(t) = def
            .targets_for(&sel.dims)
            .find(|t| matches!(t.rule, TargetRule::Absolute { .. }))
        {
            if let Ok(tv) = t.value_for(&[]) {
                target_label = iv::target_label(tr, &def, t);
                furthest = equity::rank_by_distance_to_target(&cross, tv, dir)
                    .into_iter()
                    .map(|r| RankRow {
                        rank: r.rank,
                        area: name(&r.area),
                        value: num(tr, r.value),
                        distance: r.distance_to_target.map(|d| num(tr, d)).unwrap_or_default(),
                    })
                    .collect();
            }
        }
    }
    render(&EquityPage {
        indicators: defs
            .iter()
            .map(|d| (d.code.clone(), format!("{} {}", d.code, iv::name(lang, d))))
            .collect(),
        indicator: def.code.clone(),
        name: iv::name(lang, &def),
        assessed: direction.is_some(),
        gaps,
        period,
        ranking,
        furthest,
        target_label,
        c,
    })
}

// ---- pivot -----------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
pub struct PivotQuery {
    /// Indicator codes, comma-separated.
    pub indicator: Option<String>,
    /// `regions`, `republic`, `all` or a KATO code.
    pub areas: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The field across the columns: period, area, series, source, indicator.
    pub cols: Option<String>,
    /// Breakdown filter (`SEX=F`), exact.
    pub series: Option<String>,
}

const FIELDS: [&str; 5] = ["indicator", "area", "series", "source", "period"];

/// A pivot table: header labels, row labels, cells.
pub struct Pivot {
    pub cols_field: String,
    pub row_fields: Vec<String>,
    pub columns: Vec<String>,
    pub rows: Vec<(Vec<String>, Vec<Option<f64>>)>,
}

pub async fn build_pivot(app: &AppState, lang: Lang, q: &PivotQuery) -> Result<Pivot, AppError> {
    let tr = Tr(lang);
    let mut errors = bala_core::ValidationErrors::new();
    let indicators: Vec<String> = q
        .indicator
        .as_deref()
        .unwrap_or("3.2.1")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let from = q
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Period::parse)
        .transpose();
    let to =
        q.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(Period::parse)
            .transpose();
    if from.is_err() {
        errors.push("from", "indicators-bad-period", "a year, quarter or month");
    }
    if to.is_err() {
        errors.push("to", "indicators-bad-period", "a year, quarter or month");
    }
    let cols = q.cols.clone().unwrap_or_else(|| "period".into());
    if !FIELDS.contains(&cols.as_str()) {
        errors.push(
            "cols",
            "indicators-bad-code",
            "period, area, series, source or indicator",
        );
    }
    let dims = q
        .series
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_dims)
        .transpose();
    if dims.is_err() {
        errors.push("series", "indicators-bad-code", "a breakdown like SEX=F");
    }
    errors.into_result()?;
    let areas_info = iv::areas(&app.db, lang).await?;
    let areas_sel = q.areas.clone().unwrap_or_else(|| "regions".into());
    let areas: Vec<String> = match areas_sel.as_str() {
        "all" => vec![],
        "republic" => vec![bala_core::kato::REPUBLIC.into()],
        "regions" => areas_info
            .values()
            .filter(|a| a.level <= 1)
            .map(|a| a.code.clone())
            .collect(),
        code if areas_info.contains_key(code) => vec![code.to_string()],
        _ => {
            return Err(AppError::Validation(bala_core::ValidationErrors::single(
                bala_core::FieldError::new("areas", "err-area-unknown", "no such area"),
            )))
        }
    };
    let vals = values::published(
        &app.db,
        &Filter {
            indicators,
            areas,
            from: from.ok().flatten(),
            to: to.ok().flatten(),
            dims: dims.ok().flatten(),
            source: q.source.clone().filter(|s| !s.is_empty()),
        },
    )
    .await?;
    let label = |v: &StoredValue, f: &str| -> String {
        match f {
            "indicator" => v.key.indicator.clone(),
            "area" => areas_info
                .get(&v.key.area)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| v.key.area.clone()),
            "series" => {
                let l = iv::dims_label(lang, &v.key.dims, &Dims::new());
                if l.is_empty() {
                    tr.t("ind-total")
                } else {
                    l
                }
            }
            "source" => iv::source_label(tr, &v.key.source),
            _ => v.key.period.to_string(),
        }
    };
    let row_fields: Vec<String> = FIELDS
        .iter()
        .filter(|f| **f != cols)
        .map(|f| f.to_string())
        .collect();
    // Columns in key order (periods chronologically).
    let mut col_order: Vec<(ValueSortKey, String)> = vals
        .iter()
        .map(|v| (sort_key(v, &cols), label(v, &cols)))
        .collect();
    col_order.sort();
    col_order.dedup_by(|a, b| a.1 == b.1);
    let columns: Vec<String> = col_order.into_iter().map(|c| c.1).collect();
    let mut rows: BTreeMap<Vec<(ValueSortKey, String)>, Vec<Option<f64>>> = BTreeMap::new();
    for v in &vals {
        let key: Vec<(ValueSortKey, String)> = row_fields
            .iter()
            .map(|f| (sort_key(v, f), label(v, f)))
            .collect();
        let ci = columns
            .iter()
            .position(|c| *c == label(v, &cols))
            .unwrap_or(0);
        let row = rows.entry(key).or_insert_with(|| vec![None; columns.len()]);
        row[ci] = Some(v.fields.value);
    }
    Ok(Pivot {
        cols_field: cols,
        row_fields,
        columns,
        rows: rows
            .into_iter()
            .map(|(k, v)| (k.into_iter().map(|x| x.1).collect(), v))
            .collect(),
    })
}

type ValueSortKey = (String, Option<Period>);

fn sort_key(v: &StoredValue, f: &str) -> ValueSortKey {
    match f {
        "period" => (String::new(), Some(v.key.period)),
        "indicator" => (format!("{:>12}", v.key.indicator), None),
        "area" => (v.key.area.clone(), None),
        "series" => (format_dims(&v.key.dims), None),
        _ => (v.key.source.clone(), None),
    }
}

#[derive(Template)]
#[template(path = "indicators/pivot.html")]
struct PivotPage {
    c: Chrome,
    indicators: Vec<(String, String, bool)>,
    col_options: Vec<(String, String)>,
    areas: String,
    area_options: Vec<(String, String)>,
    source: String,
    from: String,
    to: String,
    cols: String,
    series: String,
    query: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    truncated: bool,
}

const PIVOT_PAGE_ROWS: usize = 500;

fn query_string(q: &PivotQuery) -> String {
    let pairs: Vec<(&str, String)> = [
        ("indicator", q.indicator.clone()),
        ("areas", q.areas.clone()),
        ("source", q.source.clone()),
        ("from", q.from.clone()),
        ("to", q.to.clone()),
        ("cols", q.cols.clone()),
        ("series", q.series.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn header_of(tr: Tr, p: &Pivot) -> Vec<String> {
    let mut h: Vec<String> = p
        .row_fields
        .iter()
        .map(|f| tr.t(&format!("ind-field-{f}")))
        .collect();
    h.extend(p.columns.iter().cloned());
    h
}

pub async fn pivot(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<PivotQuery>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&v, "indicators", &uri);
    let tr = c.tr;
    let p = build_pivot(&app, v.lang, &q).await?;
    let defs = registry::all(&app.db).await?;
    let areas = iv::areas(&app.db, v.lang).await?;
    let header = header_of(tr, &p);
    let truncated = p.rows.len() > PIVOT_PAGE_ROWS;
    let rows = p
        .rows
        .iter()
        .take(PIVOT_PAGE_ROWS)
        .map(|(labels, cells)| {
            let mut r = labels.clone();
            r.extend(
                cells
                    .iter()
                    .map(|x| x.map(|x| num(tr, x)).unwrap_or_default()),
            );
            r
        })
        .collect();
    let selected: Vec<String> = q
        .indicator
        .clone()
        .unwrap_or_else(|| "3.2.1".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    render(&PivotPage {
        indicators: defs
            .iter()
            .map(|d| {
                (
                    d.code.clone(),
                    format!("{} {}", d.code, iv::name(v.lang, d)),
                    selected.contains(&d.code),
                )
            })
            .collect(),
        col_options: FIELDS
            .iter()
            .map(|f| (f.to_string(), tr.t(&format!("ind-field-{f}"))))
            .collect(),
        areas: q.areas.clone().unwrap_or_else(|| "regions".into()),
        area_options: iv::region_options(&areas),
        source: q.source.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        cols: p.cols_field.clone(),
        series: q.series.clone().unwrap_or_default(),
        query: query_string(&q),
        header,
        rows,
        truncated,
        c,
    })
}

/// The pivot as CSV (numbers unformatted, full precision).
pub async fn pivot_csv(
    State(app): State<AppState>,
    v: Visitor,
    Query(q): Query<PivotQuery>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let p = build_pivot(&app, v.lang, &q).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(header_of(tr, &p)).map_err(io)?;
    for (labels, cells) in &p.rows {
        let mut r = labels.clone();
        r.extend(
            cells
                .iter()
                .map(|x| x.map(|x| x.to_string()).unwrap_or_default()),
        );
        w.write_record(&r).map_err(io)?;
    }
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(
        w.into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
    );
    Ok(download("text/csv; charset=utf-8", "bala-pivot.csv", body))
}

pub async fn pivot_xlsx(
    State(app): State<AppState>,
    v: Visitor,
    Query(q): Query<PivotQuery>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let p = build_pivot(&app, v.lang, &q).await?;
    let rows: Vec<Vec<xlsx::Cell>> = p
        .rows
        .iter()
        .map(|(labels, cells)| {
            let mut r: Vec<xlsx::Cell> =
                labels.iter().map(|l| xlsx::Cell::Text(l.clone())).collect();
            r.extend(
                cells
                    .iter()
                    .map(|x| x.map(xlsx::Cell::Number).unwrap_or(xlsx::Cell::Empty)),
            );
            r
        })
        .collect();
    let bytes = xlsx::table("pivot", &header_of(tr, &p), &rows)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(download(
        bala_indicators::store::import::Format::Xlsx.content_type(),
        "bala-pivot.xlsx",
        bytes,
    ))
}

/// The pivot as a chart: one line per row across periods (when the columns are
/// periods), else one bar per row for the first column.
pub async fn pivot_svg(
    State(app): State<AppState>,
    v: Visitor,
    Query(q): Query<PivotQuery>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let p = build_pivot(&app, v.lang, &q).await?;
    let title = tr.t("ind-pivot-title");
    let svg = if p.cols_field == "period" {
        let periods: Vec<Option<Period>> =
            p.columns.iter().map(|c| Period::parse(c).ok()).collect();
        let lines = p
            .rows
            .iter()
            .take(PALETTE.len())
            .enumerate()
            .map(|(i, (labels, cells))| Line {
                label: labels
                    .iter()
                    .filter(|l| !l.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" · "),
                points: cells
                    .iter()
                    .zip(&periods)
                    .filter_map(|(c, p)| Some((p.as_ref()?.midpoint(), (*c)?, None)))
                    .collect(),
                stroke: Stroke::Solid,
                colour: PALETTE[i],
            })
            .collect();
        LineChart {
            title: title.clone(),
            desc: tr.t1(
                "ind-pivot-chart-desc",
                "count",
                p.rows.len().min(PALETTE.len()) as i64,
            ),
            unit: String::new(),
            lines,
            references: vec![],
            decimals: 1,
        }
        .svg(&|x| num(tr, x))
    } else {
        let bars: Vec<Bar> = p
            .rows
            .iter()
            .filter_map(|(labels, cells)| {
                Some(Bar {
                    label: labels.join(" · "),
                    value: cells.first().copied().flatten()?,
                    bounds: None,
                })
            })
            .collect();
        charts::bar_chart(
            &title,
            &p.columns.first().cloned().unwrap_or_default(),
            &bars,
            &|x| num(tr, x),
        )
    };
    Ok(download(
        "image/svg+xml; charset=utf-8",
        "bala-pivot.svg",
        svg.into_bytes(),
    ))
}
