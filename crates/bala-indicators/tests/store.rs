//! The stored side against both databases: seeding, importing every reference
//! file, idempotent re-import, approval, history, computed series.

mod common;

use bala_core::AreaCode;
use bala_indicators::exchange::{CodeKind, CodeMapping};
use bala_indicators::model::{parse_dims, Period};
use bala_indicators::store::import::{import, Format, Request};
use bala_indicators::store::values::{self, Decision, Filter};
use bala_indicators::store::{codelists, computed, registry, Channel};
use bala_store::audit::Actor;
use bala_store::testing::TestDb;
use bala_store::Backend;

async fn fresh(backend: Backend) -> TestDb {
    let t = TestDb::new(
        backend,
        &[
            bala_store::migrate::MIGRATIONS,
            bala_access::MIGRATIONS,
            bala_registry::MIGRATIONS,
            bala_indicators::MIGRATIONS,
        ],
    )
    .await;
    bala_registry::areas::seed_reference(&t.db).await.unwrap();
    assert!(registry::seed_reference(&t.db).await.unwrap() > 19);
    assert_eq!(
        registry::seed_reference(&t.db).await.unwrap(),
        0,
        "seeding twice does nothing"
    );
    t
}

fn req<'a>(format: Format, bytes: &'a [u8], file: &str) -> Request<'a> {
    Request {
        format,
        bytes,
        file_name: Some(file.to_string()),
        indicator: None,
        source: None,
        codelist: None,
        dry_run: false,
    }
}

async fn every_kazstat_file_imports_and_reimports_unchanged(backend: Backend) {
    let t = fresh(backend).await;
    let actor = Actor::system("test");
    let mut total = 0;
    for file in common::files("kazstat-sdg/data", ".csv") {
        let bytes = common::read(&format!("kazstat-sdg/data/{file}"));
        let r = import(
            &t.db,
            &actor,
            &Channel::System,
            &req(Format::Csv, &bytes, &file),
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(r.read, r.added + r.rejected, "{file}: {}", r.summary());
        for row in r.rows.iter().filter(|r| r.status == "rejected") {
            assert!(
                !row.errors.is_empty(),
                "{file} row {} rejected without a reason",
                row.row
            );
        }
        if file == "indicator_8-7-1.csv" {
            // Line 861: `2020,PT,KZMAN,,R,0.1` — rural written in the sex column.
            let bad = r.rows.iter().find(|r| r.row == 861).unwrap();
            assert_eq!(bad.status, "rejected");
            assert_eq!(bad.errors[0].field, "SEX");
            assert!(bad.errors[0].detail.contains("'R'"), "{:?}", bad.errors);
        }
        total += r.added;
        let again = import(
            &t.db,
            &actor,
            &Channel::System,
            &req(Format::Csv, &bytes, &file),
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(
            again.added + again.updated + again.submitted,
            0,
            "{file}: {}",
            again.summary()
        );
        assert_eq!(again.unchanged, r.added, "{file}");
    }
    assert!(total > 6000, "{total}");
    // A value as published by kazstat: 3.2.1, national, 2010 = 19.55.
    let u5 = values::series(
        &t.db,
        "3.2.1",
        "000000000",
        &parse_dims("UNIT_MEASURE=PER_1000_LIVE_BIRTHS").unwrap(),
        "kazstat",
    )
    .await
    .unwrap();
    assert_eq!(
        u5.first().unwrap().key.period,
        Period::annual(2010).unwrap()
    );
    assert_eq!(u5.first().unwrap().fields.value, 19.55);
    // KZONT rows land on South Kazakhstan (510000000), which existed until 2018.
    let south = values::published(
        &t.db,
        &Filter {
            indicators: vec!["3.2.1".into()],
            areas: vec!["510000000".into()],
            ..Filter::default()
        },
    )
    .await
    .unwrap();
    assert!(!south.is_empty());
}

async fn unicef_and_dhis2_files_map_or_say_why_not(backend: Backend) {
    let t = fresh(backend).await;
    let actor = Actor::system("test");
    let bytes = common::read("unicef-sdmx/CME_MRY0T4_all_2020.csv");
    let r = import(
        &t.db,
        &actor,
        &Channel::System,
        &req(Format::SdmxCsv, &bytes, "CME.csv"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(r.added, 3, "Kazakhstan's three rows: {}", r.summary());
    let bra = r.rows.iter().find(|x| x.status == "rejected").unwrap();
    assert_eq!(bra.errors[0].field, "REF_AREA");
    assert!(
        bra.errors[0].detail.contains("map it in the code list"),
        "{:?}",
        bra.errors
    );
    let kz = values::series(
        &t.db,
        "3.2.1",
        "000000000",
        &parse_dims("UNIT_MEASURE=PER_1000_LIVE_BIRTHS").unwrap(),
        "UN_IGME",
    )
    .await
    .unwrap();
    assert_eq!(kz.len(), 1);
    assert!((kz[0].fields.value - 10.1191857746263).abs() < 1e-12);
    assert!(kz[0].fields.lower.unwrap() < kz[0].fields.value);

    let mcv = common::read("unicef-sdmx/IM_MCV1_USA_BRA_2015_2023.csv");
    let r = import(
        &t.db,
        &actor,
        &Channel::System,
        &req(Format::SdmxCsv, &mcv, "mcv.csv"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(r.added, 0);
    assert!(r
        .rows
        .iter()
        .all(|x| x.errors.iter().any(|e| e.field == "INDICATOR")));

    let dhis = common::read("dhis2/dataValueSetJ.json");
    let r = import(
        &t.db,
        &actor,
        &Channel::System,
        &req(Format::Dhis2Json, &dhis, "dvs.json"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!((r.added, r.rejected), (0, 1));
    let fields: Vec<&str> = r.rows[0].errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"dataElement") && fields.contains(&"orgUnit"),
        "{fields:?}"
    );
    for (kind, ext, bala) in [
        (CodeKind::Indicator, "f7n9E0hX8qk", "BALA_CHILDREN_U5"),
        (CodeKind::Area, "DiszpKrYNg8", "751110000"),
    ] {
        codelists::put(
            &t.db,
            &actor,
            &CodeMapping {
                system: "dhis2".into(),
                kind,
                external: ext.into(),
                bala: bala.into(),
            },
        )
        .await
        .unwrap();
    }
    let r = import(
        &t.db,
        &actor,
        &Channel::System,
        &req(Format::Dhis2Json, &dhis, "dvs.json"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(r.added, 1, "{:?}", r.rows);
}

async fn regional_values_wait_for_approval(backend: Backend) {
    let t = fresh(backend).await;
    let analyst = Channel::User {
        user_id: 7,
        scope: vec![AreaCode::republic()],
    };
    let actor = Actor {
        id: Some(7),
        name: "analyst".into(),
        ip: None,
    };
    let csv = "Year,UNIT_MEASURE,REF_AREA,Value\n2020,PER_1000_LIVE_BIRTHS,,9.5\n2020,PER_1000_LIVE_BIRTHS,KZALA,7.25\n";
    let r = import(
        &t.db,
        &actor,
        &analyst,
        &req(Format::Csv, csv.as_bytes(), "indicator_3-2-1.csv"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!((r.added, r.submitted), (1, 1), "{}", r.summary());
    let almaty = Filter {
        indicators: vec!["3.2.1".into()],
        areas: vec!["750000000".into()],
        ..Filter::default()
    };
    assert!(
        values::published(&t.db, &almaty).await.unwrap().is_empty(),
        "not visible before approval"
    );
    // The regional manager of Shieli's region cannot see or approve Almaty's values.
    let kyzylorda = [AreaCode::parse("430000000").unwrap()];
    assert!(values::pending(&t.db, &kyzylorda).await.unwrap().is_empty());
    let almaty_scope = [AreaCode::parse("750000000").unwrap()];
    let queue = values::pending(&t.db, &almaty_scope).await.unwrap();
    assert_eq!(queue.len(), 1);
    let manager = Actor {
        id: Some(9),
        name: "manager".into(),
        ip: None,
    };
    assert!(values::review(
        &t.db,
        &manager,
        &kyzylorda,
        &[queue[0].id],
        Decision::Approve,
        None
    )
    .await
    .is_err());
    assert!(
        values::review(
            &t.db,
            &manager,
            &almaty_scope,
            &[queue[0].id],
            Decision::Reject,
            None
        )
        .await
        .is_err(),
        "a rejection needs a reason"
    );
    values::review(
        &t.db,
        &manager,
        &almaty_scope,
        &[queue[0].id],
        Decision::Approve,
        None,
    )
    .await
    .unwrap();
    let published = values::published(&t.db, &almaty).await.unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].fields.value, 7.25);
    assert_eq!(published[0].approved_by.as_deref(), Some("manager"));
    // A correction is a new submission; the approved value stays visible until then.
    let fix = "Year,UNIT_MEASURE,REF_AREA,Value\n2020,PER_1000_LIVE_BIRTHS,KZALA,7.5\n";
    import(
        &t.db,
        &actor,
        &analyst,
        &req(Format::Csv, fix.as_bytes(), "indicator_3-2-1.csv"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(
        values::published(&t.db, &almaty).await.unwrap()[0]
            .fields
            .value,
        7.25
    );
    let q = values::pending(&t.db, &almaty_scope).await.unwrap();
    assert_eq!(q[0].published, Some(7.25));
    values::review(
        &t.db,
        &manager,
        &almaty_scope,
        &[q[0].id],
        Decision::Approve,
        None,
    )
    .await
    .unwrap();
    let v = &values::published(&t.db, &almaty).await.unwrap()[0];
    assert_eq!((v.fields.value, v.version), (7.5, 2));
    let events: Vec<String> = values::history_of(&t.db, &v.key)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(events, ["submitted", "approved", "submitted", "approved"]);
}

async fn registry_series_are_computed_from_people(backend: Backend) {
    let t = fresh(backend).await;
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let ctx = bala_registry::people::Ctx {
        actor: &actor,
        scope: &scope,
    };
    let today = time::macros::date!(2026 - 06 - 30);
    for (birth, sex, area) in [
        ("2024-01-01", "F", "751110000"),
        ("2023-05-05", "M", "751110000"),
        ("2021-07-01", "F", "434600000"),
        ("2019-01-01", "M", "434600000"),
    ] {
        let p = bala_registry::person::PersonInput {
            family_name: "Тест".into(),
            given_name: "Бала".into(),
            birth_date: birth.into(),
            sex: sex.into(),
            area_code: area.into(),
            ..Default::default()
        };
        bala_registry::people::create(&t.db, ctx, &p, true)
            .await
            .unwrap();
    }
    let rows = computed::registered_children_under_5(&t.db, 2026, Some(today))
        .await
        .unwrap();
    let get = |area: &str, dims: &str| {
        rows.iter()
            .find(|r| r.area.as_str() == area && r.dims == parse_dims(dims).unwrap())
            .map(|r| r.value)
    };
    assert_eq!(
        get("000000000", "UNIT_MEASURE=PERSONS"),
        Some(3.0),
        "born 2019 is over five"
    );
    assert_eq!(get("750000000", "SEX=F;UNIT_MEASURE=PERSONS"), Some(1.0));
    assert_eq!(get("430000000", "SEX=M;UNIT_MEASURE=PERSONS"), None);
    let p = computed::refresh_registry_series(&t.db, today, 2)
        .await
        .unwrap();
    assert!(p.added > 0);
    let again = computed::refresh_registry_series(&t.db, today, 2)
        .await
        .unwrap();
    assert_eq!((again.added, again.updated), (0, 0));
    let v = values::series(
        &t.db,
        computed::CHILDREN_U5,
        "000000000",
        &parse_dims("UNIT_MEASURE=PERSONS").unwrap(),
        "bala:registry",
    )
    .await
    .unwrap();
    assert_eq!(v.last().unwrap().fields.value, 3.0);
    assert!(
        computed::publish(&t.db, "registry", &[]).await.is_err(),
        "source must be bala:…"
    );
}

macro_rules! both {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(bala_store::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(bala_store::Backend::Postgres).await }
        }
    )*};
}

both!(
    every_kazstat_file_imports_and_reimports_unchanged,
    unicef_and_dhis2_files_map_or_say_why_not,
    regional_values_wait_for_approval,
    registry_series_are_computed_from_people
);
