//! The indicator registry: what each indicator is, which frameworks it belongs to
//! (SDG, MDG, Kazakhstan's MDG-plus targets), and the targets it is judged against.
//!
//! Pure data and rules; storage is in [`crate::store`], the shipped definitions in
//! [`crate::reference`].

use crate::meta::{Lang, Names};
use crate::model::{Dims, Direction, Period};
use crate::progress::{Measure, Target};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of number an indicator is; decides validation and the progress method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A percentage, 0–100 (coverage, prevalence).
    Percent,
    /// A rate per 1 000 or 100 000 (mortality, births); never negative.
    Rate,
    /// A count of people or events; never negative.
    Count,
    /// An index or ratio (parity indices); never negative.
    Index,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Percent, Kind::Rate, Kind::Count, Kind::Index];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Percent => "percent",
            Kind::Rate => "rate",
            Kind::Count => "count",
            Kind::Index => "index",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

/// Which way is progress. `Neutral` indicators (a parity index, a number of
/// beneficiaries) have no good direction, so no progress status is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Lower,
    Higher,
    Neutral,
}

impl Polarity {
    pub fn code(self) -> &'static str {
        match self {
            Polarity::Lower => "lower",
            Polarity::Higher => "higher",
            Polarity::Neutral => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<Polarity> {
        [Polarity::Lower, Polarity::Higher, Polarity::Neutral]
            .into_iter()
            .find(|p| p.code() == s.trim())
    }

    pub fn direction(self) -> Option<Direction> {
        match self {
            Polarity::Lower => Some(Direction::LowerIsBetter),
            Polarity::Higher => Some(Direction::HigherIsBetter),
            Polarity::Neutral => None,
        }
    }
}

/// The frameworks an indicator can be reported under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Framework {
    /// Sustainable Development Goals (2015–2030).
    #[serde(rename = "SDG")]
    Sdg,
    /// Millennium Development Goals (1990–2015).
    #[serde(rename = "MDG")]
    Mdg,
    /// Kazakhstan's national "MDG-plus" targets, set beyond the global MDGs.
    #[serde(rename = "MDG_PLUS")]
    MdgPlus,
}

impl Framework {
    pub const ALL: [Framework; 3] = [Framework::Sdg, Framework::Mdg, Framework::MdgPlus];

    pub fn code(self) -> &'static str {
        match self {
            Framework::Sdg => "SDG",
            Framework::Mdg => "MDG",
            Framework::MdgPlus => "MDG_PLUS",
        }
    }

    pub fn parse(s: &str) -> Option<Framework> {
        Framework::ALL.into_iter().find(|f| f.code() == s.trim())
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How closely the framework's indicator matches the Bala indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The same measure (MDG 4.1 and SDG 3.2.1 are both the under-five mortality rate).
    Same,
    /// A related measure (MDG 1.8 underweight and SDG 2.2.1 stunting).
    Related,
}

impl Relation {
    pub fn code(self) -> &'static str {
        match self {
            Relation::Same => "same",
            Relation::Related => "related",
        }
    }
    pub fn parse(s: &str) -> Option<Relation> {
        match s.trim() {
            "same" => Some(Relation::Same),
            "related" => Some(Relation::Related),
            _ => None,
        }
    }
}

/// An indicator's place in a framework: goal, target and indicator number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkLink {
    pub framework: Framework,
    pub goal: String,
    pub target: String,
    pub number: String,
    pub relation: Relation,
    /// The framework's baseline period (MDG: 1990; SDG: 2015).
    pub baseline: Option<Period>,
    /// The framework's own name of the indicator.
    pub title: Names,
    /// The wording of the target the indicator measures.
    pub target_text: Names,
    /// Where the numbering and wording come from.
    pub citation: String,
}

/// What a target asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TargetRule {
    /// Reach `value` (e.g. under-five mortality ≤ 25 per 1 000).
    Absolute { value: f64 },
    /// Cut the value at `baseline` by `fraction` (MDG 4: two thirds from 1990).
    Reduction { fraction: f64, baseline: Period },
}

/// A target of one indicator in one framework, for the series whose breakdowns
/// include `dims` (empty: every series) in any area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetDef {
    /// Storage id; `None` before it is stored.
    pub id: Option<i64>,
    pub framework: Framework,
    pub dims: Dims,
    pub rule: TargetRule,
    /// The target period (`2030`).
    pub by: Period,
    /// Where the target is stated (`global_targets.3-2-title` in kazstat's
    /// translations, or the MDG target number).
    pub citation: String,
    /// The words of the source that state the value, checked by a test against it.
    pub quote: Option<String>,
    /// The target's wording in each language.
    pub text: Names,
}

/// Why a target has no value for a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TargetGap {
    /// A reduction target whose baseline period has no value in the series.
    NoBaseline(Period),
}

impl TargetDef {
    /// Whether the target applies to a series with these breakdowns.
    pub fn applies_to(&self, dims: &Dims) -> bool {
        self.dims.iter().all(|(k, v)| dims.get(k) == Some(v))
    }

    /// The target value for a series: the stated value, or the baseline value cut
    /// by the stated fraction.
    pub fn value_for(&self, series: &[(Period, f64)]) -> Result<f64, TargetGap> {
        match self.rule {
            TargetRule::Absolute { value } => Ok(value),
            TargetRule::Reduction { fraction, baseline } => series
                .iter()
                .find(|(p, _)| *p == baseline)
                .map(|(_, v)| v * (1.0 - fraction))
                .ok_or(TargetGap::NoBaseline(baseline)),
        }
    }

    /// The target as the progress module takes it, for a series.
    pub fn target_for(&self, series: &[(Period, f64)]) -> Result<Target, TargetGap> {
        Ok(Target {
            value: self.value_for(series)?,
            by: self.by,
        })
    }
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorDef {
    /// `3.2.1` for SDG indicators; Bala's own indicators use upper-case codes.
    pub code: String,
    pub names: Names,
    pub definitions: Names,
    pub kind: Kind,
    pub polarity: Polarity,
    /// Unit code (see [`Unit`]).
    pub unit: String,
    /// The breakdowns of the series shown first (the headline series).
    pub headline: Dims,
    pub numerator: Names,
    pub denominator: Names,
    /// Who compiles the official figures.
    pub source: Names,
    pub custodian: Option<String>,
    /// For indicators Bala computes from its own registers: the source label
    /// their values carry (`bala:registry`, `bala:immunization`).
    pub computed: Option<String>,
    pub frameworks: Vec<FrameworkLink>,
    pub targets: Vec<TargetDef>,
}

impl IndicatorDef {
    pub fn name(&self, lang: Lang) -> &str {
        self.names
            .get(lang)
            .or(self.names.en.as_deref())
            .or(self.names.ru.as_deref())
            .unwrap_or(&self.code)
    }

    /// How progress is measured (see [`Measure`]); `None` for neutral indicators.
    pub fn measure(&self) -> Option<Measure> {
        match (self.polarity, self.kind) {
            (Polarity::Neutral, _) => None,
            (Polarity::Lower, _) => Some(Measure::Reduce),
            (Polarity::Higher, Kind::Percent) => Some(Measure::RaiseToCeiling { max: 100.0 }),
            (Polarity::Higher, _) => Some(Measure::Raise),
        }
    }

    pub fn link(&self, framework: Framework) -> Option<&FrameworkLink> {
        self.frameworks.iter().find(|f| f.framework == framework)
    }

    /// The targets that apply to a series.
    pub fn targets_for<'a>(&'a self, dims: &'a Dims) -> impl Iterator<Item = &'a TargetDef> + 'a {
        self.targets.iter().filter(move |t| t.applies_to(dims))
    }
}

/// A unit of measure with the factor from a numerator/denominator ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub code: String,
    /// 100 for a percentage, 1000 for a rate per 1 000; `None` when the value is
    /// not a ratio (counts).
    pub multiplier: Option<f64>,
    pub names: Names,
}

/// Orders indicator codes as people read them: `3.2.1` < `3.b.1` < `4.1.1` <
/// `16.2.1` (number parts numerically, letters after numbers), Bala codes last.
pub fn code_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(u8, u32, String)> {
        s.split('.')
            .map(|p| match p.parse::<u32>() {
                Ok(n) => (0, n, String::new()),
                Err(_) => (1, 0, p.to_string()),
            })
            .collect()
    }
    let sdg = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
    sdg(b).cmp(&sdg(a)).then_with(|| parts(a).cmp(&parts(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(year: i32) -> Period {
        Period::annual(year).unwrap()
    }

    fn target(rule: TargetRule, dims: &str) -> TargetDef {
        TargetDef {
            id: None,
            framework: Framework::Mdg,
            dims: crate::model::parse_dims(dims).unwrap(),
            rule,
            by: y(2015),
            citation: "mdg.4.A".into(),
            quote: None,
            text: Names::default(),
        }
    }

    #[test]
    fn reduction_targets_come_from_the_baseline() {
        let t = target(
            TargetRule::Reduction {
                fraction: 2.0 / 3.0,
                baseline: y(1990),
            },
            "",
        );
        let series = [(y(1990), 52.5), (y(2000), 40.0)];
        assert!((t.value_for(&series).unwrap() - 17.5).abs() < 1e-12);
        assert_eq!(
            t.value_for(&series[1..]),
            Err(TargetGap::NoBaseline(y(1990)))
        );
        let abs = target(TargetRule::Absolute { value: 25.0 }, "");
        assert_eq!(abs.value_for(&[]), Ok(25.0));
    }

    #[test]
    fn targets_apply_to_series_with_their_breakdowns() {
        let t = target(
            TargetRule::Absolute { value: 25.0 },
            "UNIT_MEASURE=PER_1000_LIVE_BIRTHS",
        );
        let with_sex = crate::model::parse_dims("SEX=F;UNIT_MEASURE=PER_1000_LIVE_BIRTHS").unwrap();
        assert!(t.applies_to(&with_sex));
        assert!(!t.applies_to(&Dims::new()));
    }

    #[test]
    fn measures_follow_polarity_and_kind() {
        let mut d = IndicatorDef {
            code: "3.b.1".into(),
            names: Names::default(),
            definitions: Names::default(),
            kind: Kind::Percent,
            polarity: Polarity::Higher,
            unit: "PT".into(),
            headline: Dims::new(),
            numerator: Names::default(),
            denominator: Names::default(),
            source: Names::default(),
            custodian: None,
            computed: None,
            frameworks: vec![],
            targets: vec![],
        };
        assert_eq!(d.measure(), Some(Measure::RaiseToCeiling { max: 100.0 }));
        d.kind = Kind::Count;
        assert_eq!(d.measure(), Some(Measure::Raise));
        d.polarity = Polarity::Lower;
        assert_eq!(d.measure(), Some(Measure::Reduce));
        d.polarity = Polarity::Neutral;
        assert_eq!(d.measure(), None);
        assert_eq!(d.name(Lang::Kk), "3.b.1");
    }

    #[test]
    fn codes_sort_as_people_read_them() {
        let mut v = vec!["16.2.1", "BALA_X", "3.b.1", "4.1.1", "3.2.1", "1.2.1"];
        v.sort_by(|a, b| code_order(a, b));
        assert_eq!(v, ["1.2.1", "3.2.1", "3.b.1", "4.1.1", "16.2.1", "BALA_X"]);
    }
}
