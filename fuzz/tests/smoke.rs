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
    ("fhir_import", bala_fuzz::fhir_import),
    ("imm_table", bala_fuzz::imm_table),
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
    // FHIR: the HL7 example, and a Bundle of Bala's own export (a dose and a refusal).
    out.push(include_bytes!("../../crates/bala-fhir/data/immunization-example.r4.json").to_vec());
    out.push(br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"1","identifier":[{"system":"https://bala.kz/fhir/sid/iin","value":"240501600120"}],"name":[{"family":"A","given":["B","C"]}],"gender":"female","birthDate":"2024-05-01","address":[{"extension":[{"url":"https://bala.kz/fhir/StructureDefinition/kato","valueCode":"751110000"}]}]}},{"resource":{"resourceType":"Immunization","id":"7","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/1"},"occurrenceDateTime":"2024-07-01","lotNumber":"L1","site":{"coding":[{"code":"LT"}]},"protocolApplied":[{"doseNumberPositiveInt":1}]}},{"resource":{"resourceType":"Immunization","id":"refusal-1-MMR-2025-05-03","status":"not-done","statusReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"PATOBJ"}],"text":"beliefs"},"vaccineCode":{"coding":[{"system":"https://bala.kz/fhir/CodeSystem/antigen","code":"MMR"}]},"patient":{"reference":"Patient/1"},"occurrenceDateTime":"2025-05-03"}}]}"#.to_vec());
    // A register table: CSV (semicolons, as Excel writes in Russian) and a workbook.
    out.push("\u{feff}IIN;Product;Given_on\n240501600120;HEXA;2024-07-01\n;;\n".as_bytes().to_vec());
    let mut t = bala_immunization::table::Table::new(&["iin", "product"]);
    t.push(["240501600120", "HEXA"]);
    out.push(bala_immunization::table::to_xlsx(&t, "doses").expect("a workbook"));
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
    fn mutated_real_inputs(seed in 0usize..14, ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..8)) {
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

/// The FHIR and table seeds are read as data, so the round-trip and shape checks
/// of their targets run on them rather than stopping at a rejection.
#[test]
fn fhir_and_table_seeds_are_accepted() {
    let seeds = seeds();
    let table = bala_fhir::CodeTable::defaults();
    let bundle = seeds
        .iter()
        .find(|s| s.starts_with(br#"{"resourceType":"Bundle""#))
        .expect("the Bundle seed");
    let p = bala_fhir::parse(std::str::from_utf8(bundle).unwrap(), &table);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!((p.patients.len(), p.doses.len(), p.refusals.len()), (1, 1, 1));
    let csv = seeds.iter().find(|s| s.starts_with("\u{feff}IIN".as_bytes())).expect("the CSV seed");
    let t = bala_immunization::table::from_csv(std::str::from_utf8(csv).unwrap()).unwrap();
    assert_eq!(t.headers, ["iin", "product", "given_on"]);
    assert_eq!(t.len(), 1, "the blank row is skipped");
    let xlsx = seeds.last().unwrap();
    assert_eq!(bala_immunization::table::from_xlsx(xlsx).unwrap().len(), 1);
}
