//! Progress and equity on real rows of the reference data, against hand arithmetic.

mod common;

use bala_indicators::equity::{rank_by_distance_to_target, rank_by_value, sex_gaps, wealth_gaps};
use bala_indicators::exchange::{sdmx_csv, tidy_csv};
use bala_indicators::model::{AreaRef, Dims, Direction, Observation, Period};
use bala_indicators::progress::{
    aarr, assess, assess_with, Measure, Method, Options, Status, Target,
};
use common::{close, read};

fn year(y: i32) -> Period {
    Period::annual(y).unwrap()
}

/// Values of one area with exactly these breakdowns, by period.
fn series(obs: &[Observation], area: &str, dims: &[(&str, &str)]) -> Vec<(Period, f64)> {
    let want: Dims = dims
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut s: Vec<(Period, f64)> = obs
        .iter()
        .filter(|o| o.area.as_str() == area && o.dims == want)
        .map(|o| (o.period, o.value))
        .collect();
    s.sort_by_key(|p| p.0);
    s
}

fn kazstat_u5mr() -> Vec<Observation> {
    tidy_csv::parse("3.2.1", None, &read("kazstat-sdg/data/indicator_3-2-1.csv"))
        .unwrap()
        .observations
}

fn unicef(file: &str) -> Vec<Observation> {
    sdmx_csv::parse(&read(&format!("unicef-sdmx/{file}")), None)
        .unwrap()
        .observations
}

#[test]
fn mdg4_required_rate_is_4_4_percent() {
    // Two thirds off in 25 years: 100·ln(3)/25 = 100·1.0986123/25 = 4.394449 % a year.
    let r = aarr::required(3.0, 1990.0, 1.0, 2015.0).unwrap();
    assert!(close(r, 4.394_449, 1e-6), "{r}");
    assert_eq!(format!("{r:.1}"), "4.4");
}

#[test]
fn kazakhstan_under_five_mortality_from_kazstat() {
    // indicator_3-2-1.csv, national, both sexes (SEX=_T, no REF_AREA), 2010–2019:
    // 19.55 17.99 16.36 14.19 12.35 12.04 10.79 10.24 10.11 10.69
    let s = series(
        &kazstat_u5mr(),
        "",
        &[("UNIT_MEASURE", "PER_1000_LIVE_BIRTHS")],
    );
    assert_eq!(s.len(), 10);
    assert_eq!((s[0].1, s[9].1), (19.55, 10.69));

    // Two-point 2010 → 2019: 100·ln(19.55/10.69)/9 = 100·0.6036666/9 = 6.7074 % a year.
    let two = aarr::two_point(19.55, 2010.0, 10.69, 2019.0).unwrap();
    assert!(close(two, 6.707_406, 1e-6), "{two}");

    // Log-linear: t̄ = 2014.5, Σ(t−t̄)² = 82.5, mean ln U = 2.5699814,
    // Σ(t−t̄)(ln U − mean) = −6.3284497, so b = −6.3284497/82.5 = −0.0767085
    // and AARR = 100·(1 − e^−0.0767085) = 7.3840 % a year (7.6708 % continuous).
    let pts: Vec<(f64, f64)> = s.iter().map(|(p, v)| (f64::from(p.year()), *v)).collect();
    let fit = aarr::log_linear(&pts).unwrap();
    assert!(close(fit.slope, -0.076_708_48, 1e-6), "{}", fit.slope);
    assert!(close(fit.aarr(), 7.384_019, 1e-6), "{}", fit.aarr());

    // SDG 3.2: at most 25 per 1,000 by 2030 — already met.
    let sdg = assess(
        &s,
        Measure::Reduce,
        Target {
            value: 25.0,
            by: year(2030),
        },
    )
    .unwrap();
    assert_eq!(sdg.status, Status::Achieved);
    assert_eq!(sdg.method, Method::LogLinear);
    assert!(close(sdg.current_aarr.unwrap(), 7.384_019, 1e-6));

    // A stricter illustrative target, 8 by 2030: required 100·ln(10.69/8)/11
    // = 100·0.2898672/11 = 2.6352 %; the trend (7.67 % continuous) exceeds it, and
    // the projection is 10.69·e^(−0.0767085·11) = 4.5975.
    let strict = assess(
        &s,
        Measure::Reduce,
        Target {
            value: 8.0,
            by: year(2030),
        },
    )
    .unwrap();
    assert!(close(strict.required_aarr.unwrap(), 2.635_156, 1e-6));
    assert_eq!(strict.status, Status::OnTrack);
    assert!(close(strict.projected.unwrap(), 4.597_513, 1e-6));
    assert!(
        strict
            .explanation
            .contains("over 10 points from 2010 (19.55) to 2019 (10.69)"),
        "{}",
        strict.explanation
    );
}

#[test]
fn kazakhstan_under_five_mortality_from_unicef() {
    let all = unicef("CME_MRY0T4_all_2020.csv");
    let unit = ("UNIT_MEASURE", "D_PER_1000_B");
    let kaz = series(&all, "KAZ", &[unit]);
    // KAZ, both sexes, 2020: 10.1191857746263 (UN IGME; the file has 2020 only)
    assert_eq!(kaz, vec![(year(2020), 10.1191857746263)]);

    // Against kazstat's 2010 figure: 100·ln(19.55/10.1191858)/10 = 100·0.6585421/10
    // = 6.5854 % a year. (Two sources — registration data and a UN IGME model —
    // so this is an illustration of the formula, not an official rate.)
    let mixed = [(year(2010), 19.55), kaz[0]];
    let r = assess(
        &mixed,
        Measure::Reduce,
        Target {
            value: 8.0,
            by: year(2030),
        },
    )
    .unwrap();
    assert_eq!(r.method, Method::TwoPoint);
    assert!(
        close(r.current_aarr.unwrap(), 6.585_421, 1e-6),
        "{:?}",
        r.current_aarr
    );
    // Required to 8 by 2030 from 2020: 100·ln(10.1191858/8)/10 = 2.3499 % a year.
    assert!(close(r.required_aarr.unwrap(), 2.349_917, 1e-6));
    assert_eq!(r.status, Status::OnTrack);

    // Boys 11.3396713 vs girls 8.8338081 (2020): girls/boys = 0.7790, boys are
    // disadvantaged for a lower-is-better rate; difference −2.5059.
    let gaps = sex_gaps(&all, Direction::LowerIsBetter);
    let kaz_gap = gaps
        .iter()
        .find(|g| g.context.area.as_str() == "KAZ")
        .unwrap();
    assert!(close(
        kaz_gap.gap.ratio.unwrap(),
        8.83380809817391 / 11.3396713478039,
        1e-12
    ));
    assert!(close(kaz_gap.gap.ratio.unwrap(), 0.779_018, 1e-5));
    assert!(close(kaz_gap.gap.difference, -2.505_863, 1e-6));
    assert_eq!(kaz_gap.gap.disadvantaged.as_deref(), Some("M"));
    assert_eq!(gaps.len(), 249, "one pair per area in the file");
}

#[test]
fn brazil_met_mdg4() {
    let s = series(
        &unicef("CME_MRY0T4_BRA_1990_2023.csv"),
        "BRA",
        &[("UNIT_MEASURE", "D_PER_1000_B")],
    );
    let v1990 = s.iter().find(|p| p.0 == year(1990)).unwrap().1;
    let v2015 = s.iter().find(|p| p.0 == year(2015)).unwrap().1;
    // 63.0757 → 15.9638: 100·ln(3.9512)/25 = 5.4961 % a year, above the 4.3944 needed.
    let r = aarr::two_point(v1990, 1990.0, v2015, 2015.0).unwrap();
    assert!(close(r, 5.496_056, 1e-6), "{r}");
    let to_2015: Vec<(Period, f64)> = s.iter().copied().filter(|p| p.0 <= year(2015)).collect();
    let mdg = assess(
        &to_2015,
        Measure::Reduce,
        Target {
            value: v1990 / 3.0,
            by: year(2015),
        },
    )
    .unwrap();
    assert_eq!(mdg.status, Status::Achieved);
}

#[test]
fn measles_coverage_uses_the_shortfall() {
    let mcv = unicef("IM_MCV1_USA_BRA_2015_2023.csv");
    let dims = [
        ("VACCINE", "MCV1"),
        ("AGE", "M12T23"),
        ("UNIT_MEASURE", "PCNT"),
    ];
    let target = Target {
        value: 95.0,
        by: year(2030),
    };
    let coverage = Measure::RaiseToCeiling { max: 100.0 };

    // Brazil 96 95 87 92 91 79 73 81 87 (2015–2023): shortfalls 4 5 13 8 9 21 27 19 13;
    // t̄ = 2019, Σ(t−t̄)² = 60, Σ(t−t̄)(ln s − mean) = 11.1464791, b = 0.1857747,
    // AARR = 100·(1 − e^0.1857747) = −20.415 %: the unvaccinated share grows.
    let bra = assess(&series(&mcv, "BRA", &dims), coverage, target).unwrap();
    assert!(
        close(bra.current_aarr.unwrap(), -20.415_088, 1e-6),
        "{:?}",
        bra.current_aarr
    );
    assert_eq!(bra.status, Status::GettingWorse);
    // required: shortfall 13 → 5 by 2030: 100·ln(13/5)/7 = 13.650 % a year
    assert!(close(bra.required_aarr.unwrap(), 13.650_164, 1e-6));

    // USA 92 92 91 92 90 91 92 92 92: shortfall 8 8 9 8 10 9 8 8 8, b = −0.0019631,
    // AARR 0.196 % a year — within ±1 %: no progress towards 95.
    let usa = assess(&series(&mcv, "USA", &dims), coverage, target).unwrap();
    assert!(
        close(usa.current_aarr.unwrap(), 0.196_113, 1e-5),
        "{:?}",
        usa.current_aarr
    );
    assert_eq!(usa.status, Status::NoProgress);

    // Forcing the two-point method: 2015 → 2023 shortfall 4 → 13, 100·ln(4/13)/8 = 100·(−1.1786550)/8 = −14.733 %.
    let two = assess_with(
        &series(&mcv, "BRA", &dims),
        coverage,
        target,
        Options {
            method: Some(Method::TwoPoint),
            ..Options::default()
        },
    )
    .unwrap();
    assert!(
        close(two.current_aarr.unwrap(), -14.733_187, 1e-6),
        "{:?}",
        two.current_aarr
    );
}

#[test]
fn brazil_wealth_gap() {
    let q = unicef("CME_MRY0T4_BRA_sex_2020.csv");
    // Q5 (richest) vs Q1 (poorest), 2020: Q1 = 22.0975694 per 1,000.
    let gaps = wealth_gaps(&q, Direction::LowerIsBetter);
    assert_eq!(gaps.len(), 1);
    let g = &gaps[0].gap;
    assert_eq!((g.group.as_str(), g.reference.as_str()), ("Q5", "Q1"));
    assert_eq!(g.reference_value, 22.0975693502455);
    assert!(g.ratio.unwrap() < 1.0);
    assert_eq!(g.disadvantaged.as_deref(), Some("Q1"));
}

#[test]
fn regions_ranked_by_under_five_mortality() {
    let obs = kazstat_u5mr();
    let dims: Dims = [(
        "UNIT_MEASURE".to_string(),
        "PER_1000_LIVE_BIRTHS".to_string(),
    )]
    .into();
    let cs = bala_indicators::equity::cross_section(&obs, "3.2.1", year(2010), &dims);
    assert_eq!(cs.len(), 16, "16 regions and cities reported in 2010");
    let ranked = rank_by_value(&cs, Direction::LowerIsBetter);
    assert!(ranked.windows(2).all(|w| w[0].value <= w[1].value));
    assert_eq!(ranked[0].rank, 1);
    let akm = ranked
        .iter()
        .find(|r| r.area == AreaRef::parse("KZAKM"))
        .unwrap();
    assert_eq!(akm.value, 16.99);
    let priority = rank_by_distance_to_target(&cs, 15.0, Direction::LowerIsBetter);
    assert_eq!(priority[0].area, ranked[ranked.len() - 1].area);
    assert!(close(
        akm.value - 15.0,
        priority
            .iter()
            .find(|r| r.area == akm.area)
            .unwrap()
            .distance_to_target
            .unwrap(),
        1e-12
    ));
}
