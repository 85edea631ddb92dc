//! Charts and maps drawn on the server as SVG: no script, no CDN, nothing the
//! content security policy would block (colours are presentation attributes, not
//! styles), readable by screen readers (`role="img"`, a title and a description;
//! every page also shows the numbers in a table), printable, and downloadable as
//! an image file as they are.

use std::fmt::Write;

/// Colour-blind-safe categorical palette (Okabe & Ito, 2008).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

/// Sequential blues for maps (ColorBrewer "Blues", 5 classes).
pub const BLUES: [&str; 5] = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];

/// Escapes text for SVG/XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    Solid,
    /// Projections.
    Dashed,
    /// Points only (another source's estimates).
    Points,
}

/// A point: time in decimal years, value, optional (lower, upper) bounds.
pub type Point = (f64, f64, Option<(f64, f64)>);

/// A ring of projected map coordinates.
type Ring = Vec<(f64, f64)>;

#[derive(Debug, Clone)]
pub struct Line {
    pub label: String,
    /// (time in decimal years, value, optional lower/upper bounds).
    pub points: Vec<Point>,
    pub stroke: Stroke,
    pub colour: &'static str,
}

/// A horizontal reference line (a target), drawn up to its year.
#[derive(Debug, Clone)]
pub struct Reference {
    pub label: String,
    pub value: f64,
    pub until: f64,
}

#[derive(Debug, Clone, Default)]
pub struct LineChart {
    pub title: String,
    pub desc: String,
    pub unit: String,
    pub lines: Vec<Line>,
    pub references: Vec<Reference>,
    /// Formats a number for axis labels in the page's language.
    pub decimals: usize,
}

const W: f64 = 760.0;
const H: f64 = 360.0;
const ML: f64 = 64.0;
const MR: f64 = 24.0;
const MT: f64 = 28.0;
const MB: f64 = 64.0;

/// "Nice" axis ticks covering [lo, hi].
pub fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    // From the step at or below `lo` to the first step at or above `hi`, so the
    // axis covers every value.
    let mut out = vec![(start * 1e9).round() / 1e9];
    let mut v = start;
    while v < hi - step * 1e-9 && out.len() < 1000 {
        v += step;
        out.push((v * 1e9).round() / 1e9);
    }
    out
}

fn fmt_num(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

impl LineChart {
    /// The chart as an SVG document.
    pub fn svg(&self, number: &dyn Fn(f64) -> String) -> String {
        let mut ts: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .collect();
        ts.extend(self.references.iter().map(|r| r.until));
        let mut vs: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|l| {
                l.points.iter().flat_map(|p| {
                    let mut v = vec![p.1];
                    if let Some((a, b)) = p.2 {
                        v.extend([a, b]);
                    }
                    v
                })
            })
            .collect();
        vs.extend(self.references.iter().map(|r| r.value));
        let mut out = String::new();
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="chart-title chart-desc" font-family="DejaVu Sans, Arial, sans-serif" font-size="12"><title id="chart-title">{}</title><desc id="chart-desc">{}</desc><rect width="{W}" height="{H}" fill="#ffffff"/>"##,
            esc(&self.title),
            esc(&self.desc)
        );
        if ts.is_empty() || vs.is_empty() {
            out.push_str("</svg>");
            return out;
        }
        let (t0, t1) = (
            ts.iter().cloned().fold(f64::MAX, f64::min).floor(),
            ts.iter().cloned().fold(f64::MIN, f64::max).ceil(),
        );
        let (t0, t1) = if t1 - t0 < 1.0 {
            (t0 - 1.0, t1 + 1.0)
        } else {
            (t0, t1)
        };
        let vmax = vs.iter().cloned().fold(f64::MIN, f64::max);
        let vmin = vs.iter().cloned().fold(f64::MAX, f64::min).min(0.0);
        let yt = ticks(vmin, if vmax > vmin { vmax } else { vmin + 1.0 }, 5);
        let (y0, y1) = (yt[0], *yt.last().unwrap_or(&1.0));
        let y1 = if y1 <= y0 { y0 + 1.0 } else { y1 };
        let x = |t: f64| ML + (t - t0) / (t1 - t0) * (W - ML - MR);
        let y = |v: f64| MT + (1.0 - (v - y0) / (y1 - y0)) * (H - MT - MB);
        // Axes and grid.
        for v in &yt {
            let _ = write!(
                out,
                r##"<line x1="{ML}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#e3e7ec"/><text x="{}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                W - MR,
                y(*v),
                y(*v),
                ML - 6.0,
                y(*v) + 4.0,
                esc(&number(*v))
            );
        }
        let years = ticks(t0, t1, 10);
        for t in years.iter().filter(|t| **t >= t0 && **t <= t1) {
            let _ = write!(
                out,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{}" y2="{}" stroke="#888"/><text x="{:.1}" y="{}" text-anchor="middle" fill="#444">{}</text>"##,
                x(*t),
                x(*t),
                H - MB,
                H - MB + 4.0,
                x(*t),
                H - MB + 18.0,
                fmt_num(*t, 0)
            );
        }
        let _ = write!(
            out,
            r##"<line x1="{ML}" x2="{}" y1="{}" y2="{}" stroke="#444"/><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle" fill="#444">{}</text>"##,
            W - MR,
            H - MB,
            H - MB,
            (MT + H - MB) / 2.0,
            (MT + H - MB) / 2.0,
            esc(&self.unit)
        );
        // Targets.
        for (i, r) in self.references.iter().enumerate() {
            let colour = "#b3261e";
            let _ = write!(
                out,
                r#"<line x1="{ML}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="2 3"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{colour}">{}</text>"#,
                x(r.until),
                y(r.value),
                y(r.value),
                x(r.until) - 4.0,
                y(r.value) - 4.0 - 12.0 * (i as f64),
                esc(&r.label)
            );
        }
        // Series.
        for l in &self.lines {
            let c = l.colour;
            for p in &l.points {
                if let Some((a, b)) = p.2 {
                    let _ = write!(
                        out,
                        r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{c}" stroke-width="1"/>"#,
                        x(p.0),
                        x(p.0),
                        y(a),
                        y(b)
                    );
                }
            }
            if l.stroke != Stroke::Points && l.points.len() > 1 {
                let d: Vec<String> = l
                    .points
                    .iter()
                    .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
                    .collect();
                let dash = if l.stroke == Stroke::Dashed {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="2.5"{dash}/>"#,
                    d.join(" ")
                );
            }
            if l.stroke != Stroke::Dashed {
                for p in &l.points {
                    let _ = write!(
                        out,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{c}"><title>{}: {}</title></circle>"#,
                        x(p.0),
                        y(p.1),
                        esc(&l.label),
                        esc(&number(p.1))
                    );
                }
            }
        }
        // Legend.
        let mut lx = ML;
        let ly = H - 22.0;
        for l in &self.lines {
            let dash = if l.stroke == Stroke::Dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r##"<line x1="{lx:.1}" x2="{:.1}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="3"{dash}/><text x="{:.1}" y="{}" fill="#222">{}</text>"##,
                lx + 22.0,
                l.colour,
                lx + 26.0,
                ly + 4.0,
                esc(&l.label)
            );
            lx += 34.0 + 6.5 * l.label.chars().count() as f64;
        }
        out.push_str("</svg>");
        out
    }
}

/// One bar of a bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub bounds: Option<(f64, f64)>,
}

/// Horizontal bars (labels can be long: region names in three languages).
pub fn bar_chart(title: &str, desc: &str, bars: &[Bar], number: &dyn Fn(f64) -> String) -> String {
    let row = 26.0;
    let label_w = 230.0;
    let w = 760.0;
    let h = 40.0 + row * bars.len() as f64;
    let max = bars
        .iter()
        .map(|b| b.bounds.map(|x| x.1).unwrap_or(b.value).max(b.value))
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let scale = |v: f64| (v.max(0.0) / max) * (w - label_w - 90.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12"><title>{}</title><desc>{}</desc><rect width="{w}" height="{h}" fill="#ffffff"/>"##,
        esc(title),
        esc(title),
        esc(desc)
    );
    for (i, b) in bars.iter().enumerate() {
        let top = 20.0 + row * i as f64;
        let bw = scale(b.value);
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222">{}</text><rect x="{label_w}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" fill="#222">{}</text>"##,
            label_w - 8.0,
            top + row * 0.62,
            esc(&b.label),
            top + 4.0,
            row - 8.0,
            PALETTE[0],
            label_w + bw + 6.0,
            top + row * 0.62,
            esc(&number(b.value))
        );
        if let Some((lo, hi)) = b.bounds {
            let _ = write!(
                out,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#222"/>"##,
                label_w + scale(lo),
                label_w + scale(hi),
                top + row / 2.0,
                top + row / 2.0
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Region shapes from the GeoJSON, projected and simplified once.
pub struct MapShapes {
    /// (map code, SVG path data).
    pub shapes: Vec<(String, String)>,
    pub width: f64,
    pub height: f64,
}

/// Equirectangular projection scaled by the cosine of Kazakhstan's middle
/// latitude (48°N), which keeps shapes recognisable at this scale, then
/// Douglas–Peucker simplification to half a pixel.
pub fn map_shapes() -> &'static MapShapes {
    static S: std::sync::OnceLock<MapShapes> = std::sync::OnceLock::new();
    S.get_or_init(|| build_shapes(bala_indicators::reference::REGIONS_GEOJSON))
}

fn build_shapes(geojson: &[u8]) -> MapShapes {
    let doc: serde_json::Value = serde_json::from_slice(geojson).unwrap_or_default();
    let k = 48f64.to_radians().cos();
    let mut rings: Vec<(String, Vec<Ring>)> = Vec::new();
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for f in doc["features"].as_array().into_iter().flatten() {
        let code = f["properties"]["kzCode"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let polys: Vec<&serde_json::Value> = match f["geometry"]["type"].as_str() {
            Some("MultiPolygon") => f["geometry"]["coordinates"]
                .as_array()
                .into_iter()
                .flatten()
                .collect(),
            Some("Polygon") => vec![&f["geometry"]["coordinates"]],
            _ => vec![],
        };
        let mut rs = Vec::new();
        for p in polys {
            for ring in p.as_array().into_iter().flatten() {
                let pts: Vec<(f64, f64)> = ring
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| Some((c[0].as_f64()? * k, -c[1].as_f64()?)))
                    .collect();
                for (x, y) in &pts {
                    minx = minx.min(*x);
                    maxx = maxx.max(*x);
                    miny = miny.min(*y);
                    maxy = maxy.max(*y);
                }
                rs.push(pts);
            }
        }
        rings.push((code, rs));
    }
    let width = 760.0;
    let s = if maxx > minx {
        width / (maxx - minx)
    } else {
        1.0
    };
    let height = ((maxy - miny) * s).max(1.0);
    let shapes = rings
        .into_iter()
        .map(|(code, rs)| {
            let mut d = String::new();
            for r in rs {
                let pts: Vec<(f64, f64)> = r
                    .iter()
                    .map(|(x, y)| ((x - minx) * s, (y - miny) * s))
                    .collect();
                let simple = simplify(&pts, 0.5);
                if simple.len() < 3 {
                    continue;
                }
                for (i, (x, y)) in simple.iter().enumerate() {
                    let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
            (code, d)
        })
        .collect();
    MapShapes {
        shapes,
        width,
        height,
    }
}

/// Douglas–Peucker line simplification.
pub fn simplify(pts: &[(f64, f64)], tolerance: f64) -> Vec<(f64, f64)> {
    if pts.len() < 3 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len()];
    keep[0] = true;
    keep[pts.len() - 1] = true;
    let mut stack = vec![(0usize, pts.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let (ax, ay) = pts[a];
        let (bx, by) = pts[b];
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt();
        let mut best = (0.0, 0);
        for (i, (px, py)) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = if len == 0.0 {
                ((px - ax).powi(2) + (py - ay).powi(2)).sqrt()
            } else {
                ((dy * px - dx * py + bx * ay - by * ax) / len).abs()
            };
            if d > best.0 {
                best = (d, i);
            }
        }
        if best.0 > tolerance {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
    pts.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

/// A value on the map: (map code, label, value).
pub struct MapValue {
    pub map_code: String,
    pub label: String,
    pub value: f64,
}

/// Class breaks: five equal-interval classes between the smallest and largest
/// value (easy to read in a legend; quantiles would hide how far apart regions are).
pub fn classes(values: &[f64]) -> Vec<f64> {
    let lo = values.iter().cloned().fold(f64::MAX, f64::min);
    let hi = values.iter().cloned().fold(f64::MIN, f64::max);
    if values.is_empty() || hi <= lo {
        return vec![lo];
    }
    (1..5).map(|i| lo + (hi - lo) * i as f64 / 5.0).collect()
}

fn class_of(breaks: &[f64], v: f64) -> usize {
    breaks.iter().filter(|b| v > **b).count().min(4)
}

/// The choropleth map. `darker_is_worse` picks the palette's direction so that the
/// darkest regions are always the ones needing attention.
pub fn choropleth(
    title: &str,
    desc: &str,
    values: &[MapValue],
    darker_is_worse: bool,
    no_data: &str,
    number: &dyn Fn(f64) -> String,
) -> String {
    let shapes = map_shapes();
    let nums: Vec<f64> = values.iter().map(|v| v.value).collect();
    let breaks = classes(&nums);
    let legend_h = 110.0;
    let (w, h) = (shapes.width, shapes.height + legend_h);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12"><title>{}</title><desc>{}</desc><rect width="{w:.0}" height="{h:.0}" fill="#ffffff"/>"##,
        esc(title),
        esc(title),
        esc(desc)
    );
    let colour = |c: usize| {
        if darker_is_worse {
            BLUES[c]
        } else {
            BLUES[4 - c]
        }
    };
    for (code, d) in &shapes.shapes {
        let v = values.iter().find(|v| &v.map_code == code);
        let (fill, tip) = match v {
            Some(v) => (
                colour(class_of(&breaks, v.value)),
                format!("{}: {}", v.label, number(v.value)),
            ),
            None => ("#d9d9d9", no_data.to_string()),
        };
        let _ = write!(
            out,
            r##"<path d="{d}" fill="{fill}" stroke="#ffffff" stroke-width="0.8"><title>{}</title></path>"##,
            esc(&tip)
        );
    }
    // Legend.
    let top = shapes.height + 16.0;
    let lo = nums.iter().cloned().fold(f64::MAX, f64::min);
    let hi = nums.iter().cloned().fold(f64::MIN, f64::max);
    if !nums.is_empty() {
        let mut edges = vec![lo];
        edges.extend(breaks.iter().cloned());
        edges.push(hi);
        for c in 0..edges.len().saturating_sub(1).min(5) {
            let x = 20.0 + 140.0 * c as f64;
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{top}" width="24" height="16" fill="{}" stroke="#888"/><text x="{}" y="{}" fill="#222">{} – {}</text>"##,
                colour(c),
                x + 30.0,
                top + 12.5,
                esc(&number(edges[c])),
                esc(&number(edges[c + 1]))
            );
        }
    }
    let _ = write!(
        out,
        r##"<rect x="20" y="{}" width="24" height="16" fill="#d9d9d9" stroke="#888"/><text x="50" y="{}" fill="#222">{}</text>"##,
        top + 30.0,
        top + 42.5,
        esc(no_data)
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        assert_eq!(ticks(0.0, 20.0, 5), vec![0.0, 5.0, 10.0, 15.0, 20.0]);
        let t = ticks(0.0, 19.55, 5);
        assert!(t.last().unwrap() >= &19.55);
    }

    #[test]
    fn simplification_keeps_ends_and_drops_collinear_points() {
        let line: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 0.0)).collect();
        assert_eq!(simplify(&line, 0.5), vec![(0.0, 0.0), (99.0, 0.0)]);
        let bent = vec![(0.0, 0.0), (5.0, 5.0), (10.0, 0.0)];
        assert_eq!(simplify(&bent, 0.5).len(), 3);
    }

    #[test]
    fn map_has_every_region_and_classes_are_ordered() {
        let s = map_shapes();
        assert_eq!(s.shapes.len(), 17);
        assert!(s.shapes.iter().all(|(_, d)| d.starts_with('M')));
        let total: usize = s.shapes.iter().map(|(_, d)| d.len()).sum();
        assert!(total < 400_000, "simplified to {total} bytes of path data");
        let b = classes(&[1.0, 2.0, 6.0]);
        assert_eq!(b, vec![2.0, 3.0, 4.0, 5.0]);
        assert_eq!(class_of(&b, 1.0), 0);
        assert_eq!(class_of(&b, 6.0), 4);
    }

    #[test]
    fn charts_escape_text_and_are_svg() {
        let c = LineChart {
            title: "A < B".into(),
            desc: "d".into(),
            unit: "%".into(),
            lines: vec![Line {
                label: "x".into(),
                points: vec![(2010.5, 1.0, None), (2011.5, 2.0, Some((1.5, 2.5)))],
                stroke: Stroke::Solid,
                colour: PALETTE[0],
            }],
            references: vec![Reference {
                label: "≤ 1".into(),
                value: 1.0,
                until: 2030.5,
            }],
            decimals: 1,
        };
        let svg = c.svg(&|v| format!("{v}"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("A &lt; B"));
        assert!(!svg.contains("style="), "no inline styles (CSP)");
        let bars = bar_chart(
            "t",
            "d",
            &[Bar {
                label: "F".into(),
                value: 2.0,
                bounds: None,
            }],
            &|v| format!("{v}"),
        );
        assert!(bars.contains("<rect"));
    }
}
