//! Equity: gaps between groups of children, and rankings of areas.
//!
//! Gaps follow the conventions of UNICEF's equity profiles and the WHO Health Equity
//! Assessment Toolkit (HEAT): the *difference* is `group − reference` in the
//! indicator's units and the *ratio* is `group / reference`, with the advantaged-by-
//! convention group on top for wealth (richest Q5 / poorest Q1) and residence
//! (urban / rural), and girls over boys for sex (the SDG gender parity convention).
//! Which group is *disadvantaged* depends on the indicator's direction, so it is
//! stated explicitly rather than left to the reader of the ratio.

use crate::model::dims::id;
use crate::model::{AreaRef, Dims, Direction, ObsKey, Observation, Period};
use serde::Serialize;
use std::collections::BTreeMap;

/// The gap between two groups on one dimension, everything else equal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub dimension: String,
    pub group: String,
    pub reference: String,
    pub group_value: f64,
    pub reference_value: f64,
    /// `group_value − reference_value`.
    pub difference: f64,
    /// `group_value / reference_value`; `None` when the reference is 0.
    pub ratio: Option<f64>,
    /// The group doing worse given the direction; `None` when equal.
    pub disadvantaged: Option<String>,
}

/// A gap found in a set of observations, with what it applies to (the key without
/// the compared dimension).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapIn {
    pub context: ObsKey,
    pub gap: Gap,
}

/// The gap between two values.
pub fn gap(
    dimension: &str,
    group: (&str, f64),
    reference: (&str, f64),
    direction: Direction,
) -> Gap {
    let disadvantaged = if direction.better(group.1, reference.1) {
        Some(reference.0)
    } else if direction.better(reference.1, group.1) {
        Some(group.0)
    } else {
        None
    };
    Gap {
        dimension: dimension.to_string(),
        group: group.0.to_string(),
        reference: reference.0.to_string(),
        group_value: group.1,
        reference_value: reference.1,
        difference: group.1 - reference.1,
        ratio: (reference.1 != 0.0).then(|| group.1 / reference.1),
        disadvantaged: disadvantaged.map(str::to_string),
    }
}

/// Every gap between `group` and `reference` on `dimension`: observations are paired
/// when they agree on indicator, area, period and every other dimension. Pairs come
/// out in key order.
pub fn group_gaps(
    observations: &[Observation],
    dimension: &str,
    group: &str,
    reference: &str,
    direction: Direction,
) -> Vec<GapIn> {
    let mut pairs: BTreeMap<ObsKey, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for o in observations {
        let Some(code) = o.dims.get(dimension) else {
            continue;
        };
        let slot = if code == group {
            0
        } else if code == reference {
            1
        } else {
            continue;
        };
        let mut context = o.key();
        context.dims.remove(dimension);
        let entry = pairs.entry(context).or_default();
        if slot == 0 {
            entry.0 = Some(o.value)
        } else {
            entry.1 = Some(o.value)
        }
    }
    pairs
        .into_iter()
        .filter_map(|(context, pair)| match pair {
            (Some(g), Some(r)) => Some(GapIn {
                context,
                gap: gap(dimension, (group, g), (reference, r), direction),
            }),
            _ => None,
        })
        .collect()
}

/// Richest over poorest quintile (Q5/Q1), on kazstat's `INCOME_WEALTH_QUANTILE` or
/// UNICEF's `WEALTH_QUINTILE`, whichever the observations use.
pub fn wealth_gaps(observations: &[Observation], direction: Direction) -> Vec<GapIn> {
    let mut out = group_gaps(
        observations,
        id::INCOME_WEALTH_QUANTILE,
        "Q5",
        "Q1",
        direction,
    );
    out.extend(group_gaps(
        observations,
        id::WEALTH_QUINTILE,
        "Q5",
        "Q1",
        direction,
    ));
    out
}

/// Urban over rural, on kazstat's `URBANISATION` or UNICEF's `RESIDENCE`.
pub fn urban_rural_gaps(observations: &[Observation], direction: Direction) -> Vec<GapIn> {
    let mut out = group_gaps(observations, id::URBANISATION, "U", "R", direction);
    out.extend(group_gaps(observations, id::RESIDENCE, "U", "R", direction));
    out
}

/// Girls over boys (`SEX` F/M).
pub fn sex_gaps(observations: &[Observation], direction: Direction) -> Vec<GapIn> {
    group_gaps(observations, id::SEX, "F", "M", direction)
}

/// One area's place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// 1-based; tied values share a rank and the next rank is skipped (1, 2, 2, 4).
    pub rank: usize,
    pub area: AreaRef,
    pub value: f64,
    /// How far the value is from meeting the target, in the indicator's units;
    /// 0 when met. Only for [`rank_by_distance_to_target`].
    pub distance_to_target: Option<f64>,
}

/// The sub-national values of one indicator in one period for one disaggregation
/// (national values left out), ready to rank.
pub fn cross_section(
    observations: &[Observation],
    indicator: &str,
    period: Period,
    dims: &Dims,
) -> Vec<(AreaRef, f64)> {
    observations
        .iter()
        .filter(|o| {
            o.indicator == indicator
                && o.period == period
                && &o.dims == dims
                && !o.area.is_national()
        })
        .map(|o| (o.area.clone(), o.value))
        .collect()
}

/// League table: best value first. Non-finite values are left out; ties are
/// ordered by area code so the table is stable.
pub fn rank_by_value(values: &[(AreaRef, f64)], direction: Direction) -> Vec<Ranked> {
    let mut v: Vec<&(AreaRef, f64)> = values.iter().filter(|(_, x)| x.is_finite()).collect();
    v.sort_by(|a, b| {
        let by_value = match direction {
            Direction::LowerIsBetter => a.1.total_cmp(&b.1),
            Direction::HigherIsBetter => b.1.total_cmp(&a.1),
        };
        by_value.then_with(|| a.0.cmp(&b.0))
    });
    let keyed: Vec<(f64, Ranked)> = v
        .into_iter()
        .map(|(area, value)| {
            (
                *value,
                Ranked {
                    rank: 0,
                    area: area.clone(),
                    value: *value,
                    distance_to_target: None,
                },
            )
        })
        .collect();
    assign_ranks(keyed)
}

/// Priority list: the area furthest from meeting `target` first, areas that meet
/// it last (distance 0, tied). Why furthest first: this ranking answers "where is
/// help needed most", the opposite question to the league table.
pub fn rank_by_distance_to_target(
    values: &[(AreaRef, f64)],
    target: f64,
    direction: Direction,
) -> Vec<Ranked> {
    let mut keyed: Vec<(f64, Ranked)> = values
        .iter()
        .filter(|(_, x)| x.is_finite())
        .map(|(area, value)| {
            let d = distance(*value, target, direction);
            (
                d,
                Ranked {
                    rank: 0,
                    area: area.clone(),
                    value: *value,
                    distance_to_target: Some(d),
                },
            )
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.area.cmp(&b.1.area)));
    assign_ranks(keyed)
}

fn distance(value: f64, target: f64, direction: Direction) -> f64 {
    let d = match direction {
        Direction::LowerIsBetter => value - target,
        Direction::HigherIsBetter => target - value,
    };
    d.max(0.0)
}

/// Competition ranking over an already sorted list keyed by the sort value.
fn assign_ranks(sorted: Vec<(f64, Ranked)>) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = Vec::with_capacity(sorted.len());
    let mut previous: Option<f64> = None;
    for (i, (key, mut r)) in sorted.into_iter().enumerate() {
        r.rank = match (previous, out.last()) {
            (Some(p), Some(last)) if p == key => last.rank,
            _ => i + 1,
        };
        previous = Some(key);
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(area: &str, dims: &[(&str, &str)], value: f64) -> Observation {
        let mut x = Observation::new(
            "X",
            AreaRef::parse(area),
            Period::annual(2020).unwrap(),
            value,
        );
        for (k, v) in dims {
            x = x.with_dim(k, v);
        }
        x
    }

    #[test]
    fn gap_direction_decides_who_is_disadvantaged() {
        let g = gap("SEX", ("F", 8.0), ("M", 10.0), Direction::LowerIsBetter);
        assert_eq!(g.disadvantaged.as_deref(), Some("M"));
        assert_eq!(g.difference, -2.0);
        assert_eq!(g.ratio, Some(0.8));
        let g = gap("SEX", ("F", 8.0), ("M", 10.0), Direction::HigherIsBetter);
        assert_eq!(g.disadvantaged.as_deref(), Some("F"));
        assert_eq!(
            gap("SEX", ("F", 1.0), ("M", 1.0), Direction::HigherIsBetter).disadvantaged,
            None
        );
        assert_eq!(
            gap("SEX", ("F", 1.0), ("M", 0.0), Direction::HigherIsBetter).ratio,
            None
        );
    }

    #[test]
    fn pairs_only_matching_contexts() {
        let obs = vec![
            o("", &[("URBANISATION", "U")], 3.7),
            o("", &[("URBANISATION", "R")], 9.5),
            o("", &[("URBANISATION", "U"), ("SEX", "F")], 4.0),
            o("KZAKM", &[("URBANISATION", "R")], 1.0),
            o("", &[], 6.5),
        ];
        let gaps = urban_rural_gaps(&obs, Direction::LowerIsBetter);
        assert_eq!(gaps.len(), 1);
        let g = &gaps[0];
        assert_eq!(g.context.area, AreaRef::National);
        assert!(g.context.dims.is_empty());
        assert!((g.gap.difference - (3.7 - 9.5)).abs() < 1e-12);
        assert_eq!(g.gap.disadvantaged.as_deref(), Some("R"));
    }

    #[test]
    fn wealth_uses_either_dimension_name() {
        let obs = vec![
            o("BRA", &[("WEALTH_QUINTILE", "Q1")], 22.0),
            o("BRA", &[("WEALTH_QUINTILE", "Q5")], 11.0),
            o("KZ", &[("INCOME_WEALTH_QUANTILE", "Q1")], 40.0),
            o("KZ", &[("INCOME_WEALTH_QUANTILE", "Q5")], 80.0),
        ];
        let gaps = wealth_gaps(&obs, Direction::HigherIsBetter);
        assert_eq!(gaps.len(), 2);
        assert_eq!(gaps[0].gap.ratio, Some(2.0));
        assert_eq!(gaps[0].gap.disadvantaged.as_deref(), Some("Q1"));
        assert_eq!(gaps[1].gap.ratio, Some(0.5));
    }

    #[test]
    fn rankings_share_ranks_on_ties() {
        let v = vec![
            (AreaRef::parse("C"), 3.0),
            (AreaRef::parse("A"), 1.0),
            (AreaRef::parse("B"), 3.0),
            (AreaRef::parse("D"), f64::NAN),
            (AreaRef::parse("E"), 5.0),
        ];
        let r = rank_by_value(&v, Direction::LowerIsBetter);
        let got: Vec<(usize, &str)> = r.iter().map(|x| (x.rank, x.area.as_str())).collect();
        assert_eq!(got, [(1, "A"), (2, "B"), (2, "C"), (4, "E")]);
        let r = rank_by_value(&v, Direction::HigherIsBetter);
        assert_eq!(r[0].area.as_str(), "E");
        let d = rank_by_distance_to_target(&v, 2.0, Direction::LowerIsBetter);
        let got: Vec<(usize, &str, f64)> = d
            .iter()
            .map(|x| (x.rank, x.area.as_str(), x.distance_to_target.unwrap()))
            .collect();
        assert_eq!(
            got,
            [(1, "E", 3.0), (2, "B", 1.0), (2, "C", 1.0), (4, "A", 0.0)]
        );
    }

    #[test]
    fn cross_section_leaves_out_national_and_other_slices() {
        let obs = vec![
            o("", &[], 1.0),
            o("KZAKM", &[], 2.0),
            o("KZAKT", &[("SEX", "F")], 3.0),
        ];
        let cs = cross_section(&obs, "X", Period::annual(2020).unwrap(), &Dims::new());
        assert_eq!(cs, vec![(AreaRef::parse("KZAKM"), 2.0)]);
    }
}
