//! The register against both databases.

use bala_core::AreaCode;
use bala_registry::people::{self, CreateOutcome, Ctx, Search};
use bala_registry::person::PersonInput;
use bala_registry::{areas, households, RegistryError};
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
        ],
    )
    .await;
    areas::seed_reference(&t.db).await.unwrap();
    t
}

fn child(family: &str, given: &str, birth: &str, area: &str) -> PersonInput {
    PersonInput {
        family_name: family.into(),
        given_name: given.into(),
        birth_date: birth.into(),
        sex: "M".into(),
        area_code: area.into(),
        ..Default::default()
    }
}

fn created(o: CreateOutcome) -> i64 {
    match o {
        CreateOutcome::Created(id) => id,
        CreateOutcome::PossibleDuplicates(d) => panic!("unexpected duplicates {d:?}"),
    }
}

async fn register_search_merge(backend: Backend) {
    let t = fresh(backend).await;
    let db = &t.db;
    let actor = Actor {
        id: None,
        name: "test".into(),
        ip: None,
    };
    let almaty = [AreaCode::parse("750000000").unwrap()];
    let ctx = Ctx {
        actor: &actor,
        scope: &almaty,
    };

    // Containment at any depth: Almaty city contains its districts, the republic contains all.
    assert!(areas::is_within(db, "751110000", &almaty).await.unwrap());
    assert!(!areas::is_within(db, "431010000", &almaty).await.unwrap());
    assert!(areas::is_within(db, "431010000", &[AreaCode::republic()])
        .await
        .unwrap());
    assert_eq!(areas::ancestors(db, "751110000").await.unwrap().len(), 3);

    let id = created(
        people::create(
            db,
            ctx,
            &child("Нұрланов", "Нұрлан", "2024-05-01", "751110000"),
            false,
        )
        .await
        .unwrap(),
    );

    // A likely duplicate in Latin script is shown before saving.
    match people::create(
        db,
        ctx,
        &child("Nurlanov", "Nurlan", "2024-05-01", "751110000"),
        false,
    )
    .await
    .unwrap()
    {
        CreateOutcome::PossibleDuplicates(d) => {
            assert_eq!(d.iter().map(|p| p.id).collect::<Vec<_>>(), vec![id])
        }
        other => panic!("expected duplicates, got {other:?}"),
    }
    let dup = created(
        people::create(
            db,
            ctx,
            &child("Nurlanov", "Nurlan", "2024-05-01", "751110000"),
            true,
        )
        .await
        .unwrap(),
    );

    // Search by a Russian spelling finds both; merged records disappear from search.
    let found = people::search(
        db,
        ctx,
        &Search {
            q: Some("Нурлан".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.total, 2);

    // IIN: an existing one is refused.
    let iin = bala_core::Iin::compose(
        bala_core::parse_date("2024-05-01").unwrap(),
        bala_core::Sex::Male,
        17,
    )
    .unwrap();
    let mut with_iin = child("Әлиев", "Әли", "2024-05-01", "751210000");
    with_iin.iin = Some(iin.to_string());
    created(people::create(db, ctx, &with_iin, false).await.unwrap());
    with_iin.family_name = "Other".into();
    match people::create(db, ctx, &with_iin, true).await {
        Err(RegistryError::Validation(e)) => {
            assert_eq!(e.for_field("iin").unwrap().code, "err-iin-taken")
        }
        other => panic!("{other:?}"),
    }

    // Outside the scope: invisible, and an area outside scope is refused.
    let kyzylorda = [AreaCode::parse("430000000").unwrap()];
    let other = Ctx {
        actor: &actor,
        scope: &kyzylorda,
    };
    assert!(matches!(
        people::get(db, other, id).await,
        Err(RegistryError::NotFound)
    ));
    match people::create(db, ctx, &child("А", "Б", "2020-01-01", "431010000"), true).await {
        Err(RegistryError::Validation(e)) => {
            assert_eq!(e.for_field("area_code").unwrap().code, "err-area-scope")
        }
        other => panic!("{other:?}"),
    }

    // Relationships follow a merge.
    let mother = created(
        people::create(
            db,
            ctx,
            &PersonInput {
                sex: "F".into(),
                ..child("Нұрланова", "Айгүл", "1995-02-02", "751110000")
            },
            false,
        )
        .await
        .unwrap(),
    );
    households::link(db, ctx, dup, mother, "mother")
        .await
        .unwrap();
    people::merge(db, ctx, id, dup, &[]).await.unwrap();
    let rel = households::relations(db, &almaty, id).await.unwrap();
    assert_eq!(rel.len(), 1);
    assert_eq!(rel[0].kind, "mother");
    assert_eq!(rel[0].related.id, mother);
    // Prefix search: "nurlan" also finds the mother, Nurlanova; the birth date narrows it.
    let s = Search {
        q: Some("nurlan".into()),
        birth_date: Some("2024-05-01".into()),
        ..Default::default()
    };
    let found = people::search(db, ctx, &s).await.unwrap();
    assert_eq!(
        found.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![id]
    );
    let merged = people::fetch_in_scope(db, &almaty, dup).await.unwrap();
    assert_eq!(merged.merged_into, Some(id));
    let history = people::history(db, ctx, id).await.unwrap();
    assert!(
        history.iter().any(|(pid, _)| *pid == dup),
        "history keeps the duplicate's versions"
    );

    // Optimistic concurrency.
    let p = people::fetch_in_scope(db, &almaty, id).await.unwrap();
    let mut input = p.to_input();
    input.phone = Some("+7 701 000 00 00".into());
    people::update(db, ctx, id, p.version, &input)
        .await
        .unwrap();
    assert!(matches!(
        people::update(db, ctx, id, p.version, &input).await,
        Err(RegistryError::Conflict)
    ));

    let report = bala_store::audit::verify(db).await.unwrap();
    assert!(report.problems.is_empty());
    assert!(report.entries > 8);
}

#[tokio::test]
async fn register_sqlite() {
    register_search_merge(Backend::Sqlite).await;
}

#[tokio::test]
async fn register_postgres() {
    register_search_merge(Backend::Postgres).await;
}
