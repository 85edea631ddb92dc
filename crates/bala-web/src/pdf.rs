//! A small PDF writer for reports (ADR 10): A4 pages with headings, wrapped
//! paragraphs, tables and line charts, in DejaVu Sans (regular and bold, embedded
//! as subsets, so Kazakh and Russian letters print anywhere), with a ToUnicode map
//! so text can be searched and copied.
//!
//! Layout happens first, in points, with glyph advances from the font; the fonts
//! are then subset to the glyphs used and the content streams written with the
//! subsets' glyph ids.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeMap;

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

pub const PAGE_W: f32 = 595.0;
pub const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Face {
    Regular,
    Bold,
}

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        text: String,
        rgb: (f32, f32, f32),
    },
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        rgb: (f32, f32, f32),
        dash: bool,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        rgb: (f32, f32, f32),
    },
}

struct Font {
    face: ttf_parser::Face<'static>,
}

impl Font {
    fn load(data: &'static [u8]) -> Option<Font> {
        ttf_parser::Face::parse(data, 0)
            .ok()
            .map(|face| Font { face })
    }
    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map(|g| g.0).unwrap_or(0)
    }
    fn advance(&self, g: u16) -> f32 {
        let adv = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(g))
            .unwrap_or(0);
        adv as f32 * 1000.0 / self.face.units_per_em() as f32
    }
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

/// A chart series: label, (time, value) points, dashed.
pub type ChartSeries = (String, Vec<(f64, f64)>, bool);

/// A document being laid out.
pub struct Doc {
    pages: Vec<Vec<Op>>,
    y: f32,
    regular: Font,
    bold: Font,
    title: String,
    lang: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("font subsetting failed: {0}")]
    Subset(String),
}

impl Doc {
    pub fn new(title: &str, lang: &str) -> Result<Doc, PdfError> {
        Ok(Doc {
            pages: vec![vec![]],
            y: PAGE_H - MARGIN,
            regular: Font::load(REGULAR).ok_or(PdfError::Font)?,
            bold: Font::load(BOLD).ok_or(PdfError::Font)?,
            title: title.to_string(),
            lang: lang.to_string(),
        })
    }

    fn font(&self, f: Face) -> &Font {
        match f {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    /// Starts a new page when less than `need` points are left.
    pub fn need(&mut self, need: f32) {
        if self.y - need < MARGIN {
            self.new_page();
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(vec![]);
        self.y = PAGE_H - MARGIN;
    }

    /// Words wrapped to `width` points.
    fn wrap(&self, text: &str, size: f32, face: Face, width: f32) -> Vec<String> {
        let f = self.font(face);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if f.width(&candidate, size) > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_string();
                } else {
                    line = candidate;
                }
            }
            lines.push(line);
        }
        lines
    }

    fn text_block(&mut self, text: &str, size: f32, face: Face, rgb: (f32, f32, f32), indent: f32) {
        let lines = self.wrap(text, size, face, PAGE_W - 2.0 * MARGIN - indent);
        for l in lines {
            self.need(size * 1.4);
            self.y -= size * 1.3;
            let y = self.y;
            self.ops().push(Op::Text {
                x: MARGIN + indent,
                y,
                size,
                face,
                text: l,
                rgb,
            });
        }
    }

    pub fn heading(&mut self, text: &str, size: f32) {
        self.need(size * 3.0);
        self.y -= size * 0.6;
        self.text_block(text, size, Face::Bold, (0.0, 0.27, 0.35), 0.0);
        self.y -= size * 0.3;
    }

    pub fn paragraph(&mut self, text: &str) {
        self.text_block(text, 9.5, Face::Regular, (0.1, 0.1, 0.1), 0.0);
        self.y -= 4.0;
    }

    pub fn note(&mut self, text: &str) {
        self.text_block(text, 8.0, Face::Regular, (0.35, 0.35, 0.35), 0.0);
        self.y -= 2.0;
    }

    pub fn bullet(&mut self, text: &str) {
        self.need(12.0);
        let y = self.y - 9.0 * 1.3;
        self.ops().push(Op::Text {
            x: MARGIN + 4.0,
            y,
            size: 9.0,
            face: Face::Regular,
            text: "•".into(),
            rgb: (0.1, 0.1, 0.1),
        });
        self.text_block(text, 9.0, Face::Regular, (0.1, 0.1, 0.1), 14.0);
    }

    /// A status label on a coloured band.
    pub fn badge(&mut self, text: &str, rgb: (f32, f32, f32)) {
        self.need(18.0);
        self.y -= 16.0;
        let w = self.bold.width(text, 9.0) + 10.0;
        let y = self.y;
        self.ops().push(Op::Rect {
            x: MARGIN,
            y: y - 3.0,
            w,
            h: 14.0,
            rgb,
        });
        self.ops().push(Op::Text {
            x: MARGIN + 5.0,
            y,
            size: 9.0,
            face: Face::Bold,
            text: text.to_string(),
            rgb: (1.0, 1.0, 1.0),
        });
        self.y -= 2.0;
    }

    /// A table with a bold header; columns share the width in proportion to `weights`.
    pub fn table(&mut self, header: &[String], rows: &[Vec<String>], weights: &[f32]) {
        let total: f32 = weights.iter().sum();
        let width = PAGE_W - 2.0 * MARGIN;
        let xs: Vec<f32> = weights
            .iter()
            .scan(MARGIN, |x, w| {
                let here = *x;
                *x += w / total * width;
                Some(here)
            })
            .collect();
        let draw_row = |doc: &mut Doc, cells: &[String], face: Face| {
            doc.need(14.0);
            doc.y -= 12.0;
            let y = doc.y;
            for (i, cell) in cells.iter().enumerate() {
                let max = weights.get(i).copied().unwrap_or(1.0) / total * width - 4.0;
                let mut text = cell.clone();
                while doc.font(face).width(&text, 8.5) > max && text.chars().count() > 1 {
                    text.pop();
                }
                doc.ops().push(Op::Text {
                    x: xs[i.min(xs.len() - 1)],
                    y,
                    size: 8.5,
                    face,
                    text,
                    rgb: (0.1, 0.1, 0.1),
                });
            }
            let y = doc.y - 3.0;
            doc.ops().push(Op::Line {
                points: vec![(MARGIN, y), (MARGIN + width, y)],
                width: 0.3,
                rgb: (0.8, 0.8, 0.8),
                dash: false,
            });
        };
        draw_row(self, header, Face::Bold);
        for r in rows {
            draw_row(self, r, Face::Regular);
        }
        self.y -= 6.0;
    }

    /// A line chart: series of (t, value), target lines (value, label), drawn in a
    /// box `height` points high.
    pub fn chart(&mut self, series: &[ChartSeries], targets: &[(f64, String)], height: f32) {
        self.need(height + 30.0);
        let left = MARGIN + 36.0;
        let right = PAGE_W - MARGIN;
        let top = self.y - 8.0;
        let bottom = top - height;
        let ts: Vec<f64> = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .collect();
        let mut vs: Vec<f64> = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.1))
            .collect();
        vs.extend(targets.iter().map(|t| t.0));
        if ts.is_empty() {
            return;
        }
        let (t0, t1) = (
            ts.iter().cloned().fold(f64::MAX, f64::min).floor(),
            ts.iter()
                .cloned()
                .fold(f64::MIN, f64::max)
                .ceil()
                .max(ts[0].floor() + 1.0),
        );
        let ticks = crate::charts::ticks(
            vs.iter().cloned().fold(f64::MAX, f64::min).min(0.0),
            vs.iter().cloned().fold(f64::MIN, f64::max),
            4,
        );
        let (v0, v1) = (ticks[0], *ticks.last().unwrap_or(&1.0));
        let v1 = if v1 <= v0 { v0 + 1.0 } else { v1 };
        let x = |t: f64| left + ((t - t0) / (t1 - t0)) as f32 * (right - left);
        let y = |v: f64| bottom + ((v - v0) / (v1 - v0)) as f32 * (top - bottom);
        for v in &ticks {
            self.ops().push(Op::Line {
                points: vec![(left, y(*v)), (right, y(*v))],
                width: 0.3,
                rgb: (0.85, 0.85, 0.85),
                dash: false,
            });
            self.ops().push(Op::Text {
                x: MARGIN,
                y: y(*v) - 3.0,
                size: 7.0,
                face: Face::Regular,
                text: format!("{v}"),
                rgb: (0.3, 0.3, 0.3),
            });
        }
        let step = if t1 - t0 > 12.0 { 5.0 } else { 1.0 };
        let mut t = (t0 / step).ceil() * step;
        while t <= t1 {
            self.ops().push(Op::Text {
                x: x(t) - 8.0,
                y: bottom - 10.0,
                size: 7.0,
                face: Face::Regular,
                text: format!("{t:.0}"),
                rgb: (0.3, 0.3, 0.3),
            });
            t += step;
        }
        for (v, label) in targets {
            let lw = self.regular.width(label, 7.0);
            self.ops().push(Op::Line {
                points: vec![(left, y(*v)), (right, y(*v))],
                width: 1.0,
                rgb: (0.7, 0.15, 0.12),
                dash: true,
            });
            self.ops().push(Op::Text {
                x: right - lw,
                y: y(*v) + 2.0,
                size: 7.0,
                face: Face::Regular,
                text: label.clone(),
                rgb: (0.7, 0.15, 0.12),
            });
        }
        let colours = [(0.0, 0.45, 0.7), (0.84, 0.37, 0.0), (0.0, 0.62, 0.45)];
        for (i, (label, pts, dashed)) in series.iter().enumerate() {
            let rgb = colours[i % colours.len()];
            let line: Vec<(f32, f32)> = pts.iter().map(|p| (x(p.0), y(p.1))).collect();
            if line.len() > 1 {
                self.ops().push(Op::Line {
                    points: line.clone(),
                    width: 1.6,
                    rgb,
                    dash: *dashed,
                });
            }
            if !dashed {
                for (px, py) in &line {
                    self.ops().push(Op::Rect {
                        x: px - 1.6,
                        y: py - 1.6,
                        w: 3.2,
                        h: 3.2,
                        rgb,
                    });
                }
            }
            let lx = left + 140.0 * i as f32;
            self.ops().push(Op::Line {
                points: vec![(lx, bottom - 22.0), (lx + 16.0, bottom - 22.0)],
                width: 2.0,
                rgb,
                dash: *dashed,
            });
            self.ops().push(Op::Text {
                x: lx + 20.0,
                y: bottom - 25.0,
                size: 7.5,
                face: Face::Regular,
                text: label.clone(),
                rgb: (0.1, 0.1, 0.1),
            });
        }
        self.y = bottom - 34.0;
    }

    /// The finished file.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        // Glyphs used per face, and the characters they stand for.
        let mut used: BTreeMap<Face, BTreeMap<u16, char>> = BTreeMap::new();
        for op in self.pages.iter().flatten() {
            if let Op::Text { face, text, .. } = op {
                let f = self.font(*face);
                let m = used.entry(*face).or_default();
                for c in text.chars() {
                    m.entry(f.glyph(c)).or_insert(c);
                }
            }
        }
        let mut pdf = Pdf::new();
        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let catalog = alloc();
        let tree = alloc();
        let info = alloc();
        let mut fonts: BTreeMap<Face, (Ref, subsetter::GlyphRemapper)> = BTreeMap::new();
        for (face, glyphs) in &used {
            let data = match face {
                Face::Regular => REGULAR,
                Face::Bold => BOLD,
            };
            let mut remapper = subsetter::GlyphRemapper::new();
            for g in glyphs.keys() {
                remapper.remap(*g);
            }
            let subset = subsetter::subset(data, 0, &remapper)
                .map_err(|e| PdfError::Subset(format!("{e:?}")))?;
            let (type0, cid, descriptor, file, cmap) =
                (alloc(), alloc(), alloc(), alloc(), alloc());
            let base = Name(match face {
                Face::Regular => b"BALAAA+DejaVuSans",
                Face::Bold => b"BALABB+DejaVuSans-Bold",
            });
            pdf.type0_font(type0)
                .base_font(base)
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(cid)
                .to_unicode(cmap);
            let system = SystemInfo {
                registry: Str(b"Adobe"),
                ordering: Str(b"Identity"),
                supplement: 0,
            };
            let f = self.font(*face);
            let mut c = pdf.cid_font(cid);
            c.subtype(CidFontType::Type2)
                .base_font(base)
                .system_info(system)
                .font_descriptor(descriptor)
                .default_width(0.0);
            c.cid_to_gid_map_predefined(Name(b"Identity"));
            {
                let mut w = c.widths();
                for g in glyphs.keys() {
                    if let Some(new) = remapper.get(*g) {
                        w.consecutive(new, [f.advance(*g)]);
                    }
                }
            }
            c.finish();
            let bbox = f.face.global_bounding_box();
            let scale = 1000.0 / f.face.units_per_em() as f32;
            pdf.font_descriptor(descriptor)
                .name(base)
                .flags(FontFlags::NON_SYMBOLIC)
                .bbox(Rect::new(
                    bbox.x_min as f32 * scale,
                    bbox.y_min as f32 * scale,
                    bbox.x_max as f32 * scale,
                    bbox.y_max as f32 * scale,
                ))
                .italic_angle(0.0)
                .ascent(f.face.ascender() as f32 * scale)
                .descent(f.face.descender() as f32 * scale)
                .cap_height(f.face.capital_height().unwrap_or(700) as f32 * scale)
                .stem_v(80.0)
                .font_file2(file);
            let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
            pdf.stream(file, &compressed)
                .filter(Filter::FlateDecode)
                .pair(Name(b"Length1"), subset.len() as i32);
            let mut map = UnicodeCmap::new(Name(b"Custom"), system);
            for (g, ch) in glyphs {
                if let Some(new) = remapper.get(*g) {
                    map.pair(new, *ch);
                }
            }
            pdf.cmap(cmap, &map.finish());
            fonts.insert(*face, (type0, remapper));
        }
        let mut page_ids = Vec::new();
        let count = self.pages.len();
        for (n, ops) in self.pages.iter().enumerate() {
            let (page, content) = (alloc(), alloc());
            page_ids.push(page);
            let mut c = Content::new();
            for op in ops {
                match op {
                    Op::Text {
                        x,
                        y,
                        size,
                        face,
                        text,
                        rgb,
                    } => {
                        let Some((_, remap)) = fonts.get(face) else {
                            continue;
                        };
                        let f = self.font(*face);
                        let mut bytes = Vec::with_capacity(text.len() * 2);
                        for ch in text.chars() {
                            let g = remap.get(f.glyph(ch)).unwrap_or(0);
                            bytes.extend(g.to_be_bytes());
                        }
                        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
                        c.begin_text();
                        c.set_font(Name(if *face == Face::Bold { b"F2" } else { b"F1" }), *size);
                        c.next_line(*x, *y);
                        c.show(Str(&bytes));
                        c.end_text();
                    }
                    Op::Line {
                        points,
                        width,
                        rgb,
                        dash,
                    } => {
                        c.save_state();
                        c.set_stroke_rgb(rgb.0, rgb.1, rgb.2);
                        c.set_line_width(*width);
                        if *dash {
                            c.set_dash_pattern([4.0, 3.0], 0.0);
                        }
                        for (i, (px, py)) in points.iter().enumerate() {
                            if i == 0 {
                                c.move_to(*px, *py);
                            } else {
                                c.line_to(*px, *py);
                            }
                        }
                        c.stroke();
                        c.restore_state();
                    }
                    Op::Rect { x, y, w, h, rgb } => {
                        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
                        c.rect(*x, *y, *w, *h);
                        c.fill_nonzero();
                    }
                }
            }
            // Page number.
            if let Some((_, remap)) = fonts.get(&Face::Regular) {
                let label = format!("{} / {}", n + 1, count);
                let bytes: Vec<u8> = label
                    .chars()
                    .flat_map(|ch| remap.get(self.regular.glyph(ch)).unwrap_or(0).to_be_bytes())
                    .collect();
                c.set_fill_rgb(0.4, 0.4, 0.4);
                c.begin_text();
                c.set_font(Name(b"F1"), 7.5);
                c.next_line(PAGE_W / 2.0 - 10.0, 24.0);
                c.show(Str(&bytes));
                c.end_text();
            }
            let data = miniz_oxide::deflate::compress_to_vec_zlib(&c.finish(), 6);
            pdf.stream(content, &data).filter(Filter::FlateDecode);
            let mut p = pdf.page(page);
            p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree)
                .contents(content);
            let mut res = p.resources();
            let mut f = res.fonts();
            for (face, (id, _)) in &fonts {
                f.pair(Name(if *face == Face::Bold { b"F2" } else { b"F1" }), *id);
            }
        }
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(page_ids.len() as i32);
        pdf.catalog(catalog).pages(tree).lang(TextStr(&self.lang));
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("Bala"));
        Ok(pdf.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_pdf_with_cyrillic_text_and_a_chart() {
        let mut d = Doc::new("Есеп", "kk").unwrap();
        d.heading("Балалардың жағдайы туралы ұлттық есеп", 16.0);
        d.paragraph(&"Қазақстан Республикасы — 5 жасқа дейінгі балалар өлімі. ".repeat(40));
        d.table(
            &["Жыл".into(), "Мәні".into()],
            &[vec!["2019".into(), "10,69".into()]],
            &[1.0, 1.0],
        );
        d.chart(
            &[(
                "kazstat".into(),
                vec![(2010.5, 19.55), (2019.5, 10.69)],
                false,
            )],
            &[(25.0, "≤ 25".into())],
            120.0,
        );
        d.badge("Мақсатқа жетті", (0.1, 0.5, 0.2));
        for _ in 0..60 {
            d.bullet("Ұзақ мәтін, бірнеше бетке созылады.");
        }
        let bytes = d.finish().unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Type /Page"), "has pages");
        assert!(text.contains("DejaVuSans"));
        assert!(text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count() >= 1);
        assert!(
            bytes.len() < 400_000,
            "fonts are subset ({} bytes)",
            bytes.len()
        );
    }
}
