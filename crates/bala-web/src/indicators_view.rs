//! What the indicator pages, the API, the report and the PDF share: series chosen
//! from the stored values, progress assessments explained in the reader's
//! language, labels of breakdowns and areas.

use crate::i18n::{Lang, Tr};
use bala_indicators::meta::Lang as MLang;
use bala_indicators::model::{Dims, Period};
use bala_indicators::progress::{self, Measure, Method, ProgressReport, Status};
use bala_indicators::reference;
use bala_indicators::registry::{Framework, IndicatorDef, TargetDef, TargetGap, TargetRule};
use bala_indicators::store::values::StoredValue;
use bala_store::Db;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub fn mlang(l: Lang) -> MLang {
    match l {
        Lang::Kk => MLang::Kk,
        Lang::Ru => MLang::Ru,
        Lang::En => MLang::En,
    }
}

/// A number for people: at most `digits` decimals, trailing zeros dropped, in the
/// language's separators.
pub fn num(tr: Tr, x: f64) -> String {
    let digits = if x.abs() >= 100.0 { 1 } else { 2 };
    let s = tr.dec(x, digits);
    let dec = if tr.0 == Lang::En { '.' } else { ',' };
    if s.contains(dec) {
        s.trim_end_matches('0').trim_end_matches(dec).to_string()
    } else {
        s
    }
}

/// An area as indicator pages need it.
#[derive(Debug, Clone, Serialize)]
pub struct AreaInfo {
    pub code: String,
    pub name: String,
    pub level: i64,
    pub map_code: Option<String>,
    pub stat_code: Option<String>,
}

/// Every area by KATO code, named in `lang`.
pub async fn areas(
    db: &Db,
    lang: Lang,
) -> Result<HashMap<String, AreaInfo>, bala_registry::RegistryError> {
    Ok(bala_registry::areas::all(db)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.code.clone(),
                AreaInfo {
                    name: a.name(lang.code()).to_string(),
                    code: a.code,
                    level: a.level,
                    map_code: a.map_code,
                    stat_code: a.stat_code,
                },
            )
        })
        .collect())
}

/// The republic and its regions (level ≤ 1), republic first then by name.
pub fn region_options(areas: &HashMap<String, AreaInfo>) -> Vec<(String, String)> {
    let mut v: Vec<&AreaInfo> = areas.values().filter(|a| a.level <= 1).collect();
    v.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| a.name.cmp(&b.name)));
    v.into_iter()
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect()
}

/// The name of a breakdown code, from kazstat's term base, else the code.
pub fn code_label(lang: Lang, dim: &str, code: &str) -> String {
    reference::code_name(mlang(lang), dim, code)
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

pub fn dim_label(lang: Lang, dim: &str) -> String {
    reference::dimension_name(mlang(lang), dim)
        .map(str::to_string)
        .unwrap_or_else(|| dim.to_string())
}

/// "Sex: Female · Area: urban" for the breakdowns not in `base`; empty for none.
pub fn dims_label(lang: Lang, dims: &Dims, base: &Dims) -> String {
    dims.iter()
        .filter(|(k, v)| base.get(*k) != Some(*v))
        .map(|(k, v)| format!("{}: {}", dim_label(lang, k), code_label(lang, k, v)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A source code as shown: Bala's computed sources are named.
pub fn source_label(tr: Tr, source: &str) -> String {
    match source {
        "kazstat" => tr.t("ind-source-kazstat"),
        "UN_IGME" => tr.t("ind-source-un-igme"),
        s if s.starts_with("bala:") => {
            tr.t1("ind-source-bala", "name", s.trim_start_matches("bala:"))
        }
        s => s.to_string(),
    }
}

/// `(period, value)` of a series.
pub fn points(vals: &[StoredValue]) -> Vec<(Period, f64)> {
    vals.iter()
        .map(|v| (v.key.period, v.fields.value))
        .collect()
}

/// One target's assessment, ready to show.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressView {
    pub framework: String,
    /// "≤ 25 by 2030" / "−66.7 % from 1990 by 2015".
    pub target_label: String,
    pub target_text: String,
    pub citation: String,
    pub target_value: Option<f64>,
    pub target_year: String,
    /// `ind-status-…` message id and CSS class; empty when not assessed.
    pub status_key: String,
    pub status_class: String,
    pub status_code: String,
    pub current_aarr: Option<f64>,
    pub required_aarr: Option<f64>,
    pub projected: Option<f64>,
    /// The three figures above, formatted (empty when absent).
    pub current_text: String,
    pub required_text: String,
    pub projected_text: String,
    pub method: String,
    /// The method, inputs and arithmetic in the reader's language.
    pub explanation: Vec<String>,
    #[serde(skip)]
    pub report: Option<ProgressReport>,
}

pub fn status_code(s: Status) -> &'static str {
    match s {
        Status::Achieved => "achieved",
        Status::OnTrack => "on-track",
        Status::InsufficientProgress => "insufficient",
        Status::NoProgress => "no-progress",
        Status::GettingWorse => "worse",
    }
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Achieved | Status::OnTrack => "ok",
        Status::InsufficientProgress => "warn",
        Status::NoProgress | Status::GettingWorse => "bad",
    }
}

pub fn target_label(tr: Tr, def: &IndicatorDef, t: &TargetDef) -> String {
    let by = t.by.to_string();
    match t.rule {
        TargetRule::Absolute { value } => {
            let op = match def.polarity {
                bala_indicators::registry::Polarity::Lower => "≤",
                bala_indicators::registry::Polarity::Higher => "≥",
                bala_indicators::registry::Polarity::Neutral => "=",
            };
            tr.t2(
                "ind-target-absolute",
                "value",
                format!("{op} {}", num(tr, value)),
                "year",
                by,
            )
        }
        TargetRule::Reduction { fraction, baseline } => tr.t2(
            "ind-target-reduction",
            "share",
            num(tr, fraction * 100.0),
            "years",
            format!("{baseline}–{by}"),
        ),
    }
}

/// Assesses a series against every target that applies to it.
pub fn assess_all(
    tr: Tr,
    def: &IndicatorDef,
    dims: &Dims,
    series: &[(Period, f64)],
) -> Vec<ProgressView> {
    def.targets_for(dims)
        .map(|t| assess(tr, def, t, series))
        .collect()
}

pub fn assess(tr: Tr, def: &IndicatorDef, t: &TargetDef, series: &[(Period, f64)]) -> ProgressView {
    let lang = mlang(tr.0);
    let mut view = ProgressView {
        framework: match t.framework {
            Framework::Sdg => tr.t("ind-fw-sdg"),
            Framework::Mdg => tr.t("ind-fw-mdg"),
            Framework::MdgPlus => tr.t("ind-fw-mdg-plus"),
        },
        target_label: target_label(tr, def, t),
        target_text: t
            .text
            .get(lang)
            .or(t.text.en.as_deref())
            .unwrap_or_default()
            .to_string(),
        citation: t.citation.clone(),
        target_value: None,
        target_year: t.by.to_string(),
        status_key: String::new(),
        status_class: String::new(),
        status_code: String::new(),
        current_aarr: None,
        required_aarr: None,
        projected: None,
        current_text: String::new(),
        required_text: String::new(),
        projected_text: String::new(),
        method: String::new(),
        explanation: vec![],
        report: None,
    };
    let Some(measure) = def.measure() else {
        view.explanation.push(tr.t("ind-not-assessed-neutral"));
        return view;
    };
    let target = match t.target_for(series) {
        Ok(target) => target,
        Err(TargetGap::NoBaseline(p)) => {
            view.explanation
                .push(tr.t1("ind-no-baseline", "year", p.to_string()));
            return view;
        }
    };
    view.target_value = Some(target.value);
    if series.len() < 2 {
        view.explanation.push(tr.t("ind-too-few-points"));
        return view;
    }
    match progress::assess(series, measure, target) {
        Ok(r) => {
            view.status_key = format!("ind-status-{}", status_code(r.status));
            view.status_class = status_class(r.status).into();
            view.status_code = status_code(r.status).into();
            view.current_aarr = r.current_aarr;
            view.required_aarr = r.required_aarr;
            view.projected = r.projected;
            view.current_text = r.current_aarr.map(|x| num(tr, x)).unwrap_or_default();
            view.required_text = r.required_aarr.map(|x| num(tr, x)).unwrap_or_default();
            view.projected_text = r.projected.map(|x| num(tr, x)).unwrap_or_default();
            view.method = match r.method {
                Method::TwoPoint => tr.t("ind-method-two-point-name"),
                Method::LogLinear => tr.t("ind-method-log-linear-name"),
            };
            view.explanation = explain(tr, &r);
            view.report = Some(r);
        }
        Err(e) => view
            .explanation
            .push(tr.t1("ind-not-assessed-error", "error", e.to_string())),
    }
    view
}

/// The assessment in words, step by step, with the numbers used.
pub fn explain(tr: Tr, r: &ProgressReport) -> Vec<String> {
    let n = |x: f64| num(tr, x);
    let mut out = vec![match r.measure {
        Measure::Reduce => tr.t("ind-measure-reduce"),
        Measure::RaiseToCeiling { .. } => tr.t("ind-measure-ceiling"),
        Measure::Raise => tr.t("ind-measure-raise"),
    }];
    let (b, l) = (r.baseline, r.latest);
    match (r.method, r.current_aarr) {
        (_, None) => out.push(tr.t("ind-no-rate")),
        (Method::TwoPoint, Some(a)) => out.push(format!(
            "{} {}",
            tr.t2(
                "ind-method-two-point",
                "from",
                format!("{} ({})", b.0, n(b.1)),
                "to",
                format!("{} ({})", l.0, n(l.1))
            ),
            tr.t1("ind-current-aarr", "rate", n(a))
        )),
        (Method::LogLinear, Some(a)) => out.push(format!(
            "{} {}",
            tr.t2(
                "ind-method-log-linear",
                "count",
                r.points as i64,
                "span",
                format!("{}–{}", b.0, l.0)
            ),
            tr.t1("ind-current-aarr", "rate", n(a))
        )),
    }
    match r.required_aarr {
        Some(req) => out.push(tr.t2(
            "ind-required",
            "rate",
            n(req),
            "what",
            format!(
                "{} → {} ({} → {})",
                n(l.1),
                n(r.target.value),
                l.0,
                r.target.by
            ),
        )),
        None if r.status == Status::Achieved => out.push(tr.t("ind-required-achieved")),
        None if r.measure.burden(r.target.value) <= 0.0 => out.push(tr.t("ind-required-zero")),
        None => out.push(tr.t("ind-required-past")),
    }
    if let Some(p) = r.projected {
        out.push(tr.t2(
            "ind-projection",
            "year",
            r.target.by.to_string(),
            "value",
            n(p),
        ));
    }
    out.push(tr.t(&format!("ind-status-explain-{}", status_code(r.status))));
    out
}

/// Values of one indicator grouped into series: (breakdown, source) → values by period.
pub fn group_series(vals: Vec<StoredValue>) -> BTreeMap<(Dims, String), Vec<StoredValue>> {
    let mut m: BTreeMap<(Dims, String), Vec<StoredValue>> = BTreeMap::new();
    for v in vals {
        m.entry((v.key.dims.clone(), v.key.source.clone()))
            .or_default()
            .push(v);
    }
    m
}

/// The unit's name in the reader's language.
pub async fn unit_name(db: &Db, lang: Lang, code: &str) -> String {
    bala_indicators::store::registry::units(db)
        .await
        .ok()
        .and_then(|us| us.into_iter().find(|u| u.code == code))
        .and_then(|u| u.names.get(mlang(lang)).map(str::to_string))
        .unwrap_or_else(|| code.to_string())
}

/// An indicator's name in the reader's language.
pub fn name(lang: Lang, def: &IndicatorDef) -> String {
    def.name(mlang(lang)).to_string()
}

pub fn text(lang: Lang, n: &bala_indicators::meta::Names) -> String {
    n.get(mlang(lang)).unwrap_or_default().to_string()
}
