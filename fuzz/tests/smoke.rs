//! The fuzz targets' bodies on stable Rust: random bytes, inputs shaped like each
//! format, and real reference files with bytes flipped, cut and spliced.

use proptest::prelude::*;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("tidy_csv", bala_fuzz::tidy_csv),
    ("sdmx_csv", bala_fuzz::sdmx_csv),
    ("sdmx_json", bala_fuzz::sdmx_json),
    ("dhis2_json", bala_fuzz::dhis2_json),
    ("adx", bala_fuzz::adx),
    ("xlsx", bala_fuzz::xlsx),
    ("metadata", bala_fuzz::metadata),
];

/// Seeds: the shipped reference files (what the parsers see in real use).
fn seeds() -> Vec<Vec<u8>> {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/bala-indicators/data");
    let mut out: Vec<Vec<u8>> = [
        "kazstat-sdg/data/indicator_3-2-1.csv",
        "kazstat-sdg/data/indicator_8-7-1.csv",
        "kazstat-sdg/data/indicator_3-7-2.csv",
        "unicef-sdmx/CME_MRY0T4_all_2020.csv",
        "kazstat-sdg/meta/3-2-1.yml",
        "kazstat-sdg/translations/kk/SEX.yml",
    ]
    .iter()
    .map(|f| std::fs::read(format!("{data}/{f}")).unwrap_or_else(|e| panic!("{f}: {e}")))
    .map(|b| b[..b.len().min(6000)].to_vec())
    .collect();
    out.push(br#"{"dataValues":[{"dataElement":"x","period":"202001","orgUnit":"1","categoryOptionCombo":"c","value":"5"}]}"#.to_vec());
    out.push(br#"<adx xmlns="urn:ihe:qrph:adx:2015"><group dataSet="d" period="2020-01-01/P1M" orgUnit="1"><dataValue dataElement="x" Sex="F" value="1"/></group></adx>"#.to_vec());
    out.push(br#"{"data":{"structures":[{"dimensions":{"observation":[{"id":"REF_AREA","values":[{"id":"KAZ"}]},{"id":"TIME_PERIOD","values":[{"id":"2020"}]}]}}],"dataSets":[{"structure":0,"observations":{"0:0":[10.1]}}]}}"#.to_vec());
    out.push(bala_indicators::exchange::xlsx::write(&[], None).expect("an empty workbook"));
    out
}

fn mutate(seed: &[u8], ops: &[(u8, usize, u8)]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for (op, at, byte) in ops {
        if b.is_empty() {
            b.push(*byte);
            continue;
        }
        let i = at % b.len();
        match op % 4 {
            0 => b[i] = *byte,
            1 => b.insert(i, *byte),
            2 => {
                b.remove(i);
            }
            _ => b.truncate(i),
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        for (_, t) in TARGETS {
            t(&data);
        }
    }

    #[test]
    fn mutated_real_inputs(seed in 0usize..10, ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..8)) {
        let seeds = seeds();
        let input = mutate(&seeds[seed % seeds.len()], &ops);
        for (_, t) in TARGETS {
            t(&input);
        }
    }
}

#[test]
fn every_target_accepts_its_seed_unchanged() {
    for s in seeds() {
        for (name, t) in TARGETS {
            let _ = name;
            t(&s);
        }
    }
}
