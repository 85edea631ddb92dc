//! The immunization store against both databases: doses count in coverage at
//! once (invalid ones never), due and zero-dose lists, idempotent imports with
//! per-row reports, calendar edits re-deriving facts, campaign tallies.

use bala_core::{date::iso, AreaCode};
use bala_immunization::store::{
    calendars, campaigns, card, coverage, doses, duelist, facts, import, summary,
};
use bala_registry::people::{self, CreateOutcome, Ctx};
use bala_registry::person::PersonInput;
use bala_registry::{areas, households};
use bala_store::audit::Actor;
use bala_store::testing::TestDb;
use bala_store::Backend;
use time::{Duration, OffsetDateTime};

const DISTRICT: &str = "751110000";

/// (kind, area, year, label, n, by 12 months, by 24 months, timely)
type CountRow = (String, String, i64, String, i64, i64, i64, i64);

/// The judged-at-one counters as [`CountRow`]s: ('judged', area, 0, birth
/// date, DTP1 by 12 months, DTP3 by 12 months, 0, 0).
const JUDGED_COUNTERS: &str =
    "SELECT 'judged', area_code, CAST(0 AS BIGINT), birth_date, dtp1, dtp3, CAST(0 AS BIGINT), CAST(0 AS BIGINT)
     FROM imm_judged WHERE dtp1 <> 0 OR dtp3 <> 0";

/// Every counter, sorted here (not by the database's collation): the
/// per-year counts, then the judged-at-one ones.
async fn counters(db: &bala_store::Db) -> Vec<CountRow> {
    let mut rows: Vec<CountRow> = bala_store::sqlx::query_as(&format!(
        "SELECT kind, area_code, year, label, n, by_12m, by_24m, timely FROM imm_counts WHERE n <> 0
         UNION ALL {JUDGED_COUNTERS}"
    ))
    .fetch_all(db.reader())
    .await
    .unwrap();
    rows.sort();
    rows
}

/// One stored valid dose: (person, area, birth year, birth date, dose).
type StoredFact = (i64, String, i64, String, facts::ValidDose);

/// Every child's stored facts, unpacked, by person and label.
async fn stored_facts(db: &bala_store::Db) -> Vec<StoredFact> {
    let rows: Vec<(i64, String, i64, String, String)> = bala_store::sqlx::query_as(
        "SELECT person_id, area_code, birth_year, birth_date, valid FROM imm_facts",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    let mut out: Vec<StoredFact> = rows
        .into_iter()
        .flat_map(|(p, area, year, birth, valid)| {
            facts::unpack(&valid)
                .into_iter()
                .map(move |d| (p, area.clone(), year, birth.clone(), d))
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.4.label).cmp(&(b.0, &b.4.label)));
    out
}

/// The counters recounted from the stored facts, as sorted [`CountRow`]s.
async fn counters_from_facts(db: &bala_store::Db) -> Vec<CountRow> {
    let mut counts: std::collections::BTreeMap<(String, String, i64, String), [i64; 4]> =
        Default::default();
    for (_, area, birth_year, birth, d) in stored_facts(db).await {
        let v = [1, d.by_12m as i64, d.by_24m as i64, d.timely as i64];
        let given_year = d.given_on.year() as i64;
        for (kind, year, label) in [
            ("cohort", birth_year, d.label.clone()),
            ("period", given_year, d.label.clone()),
        ] {
            let e = counts
                .entry((kind.into(), area.clone(), year, label))
                .or_default();
            for i in 0..4 {
                e[i] += v[i];
            }
        }
        if d.by_12m && (d.label == "DTP1" || d.label == "DTP3") {
            let e = counts.entry(("judged".into(), area, 0, birth)).or_default();
            e[if d.label == "DTP1" { 0 } else { 1 }] += 1;
        }
    }
    counts
        .into_iter()
        .map(|((kind, area, year, label), v)| (kind, area, year, label, v[0], v[1], v[2], v[3]))
        .collect()
}

async fn fresh(backend: Backend) -> TestDb {
    let t = TestDb::new(
        backend,
        &[
            bala_store::migrate::MIGRATIONS,
            bala_access::MIGRATIONS,
            bala_registry::MIGRATIONS,
            bala_immunization::MIGRATIONS,
        ],
    )
    .await;
    areas::seed_reference(&t.db).await.unwrap();
    t
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

async fn child(db: &bala_store::Db, ctx: Ctx<'_>, given: &str, birth: time::Date) -> i64 {
    let input = PersonInput {
        family_name: "Сапаров".into(),
        given_name: given.into(),
        birth_date: iso(birth),
        sex: "M".into(),
        area_code: DISTRICT.into(),
        phone: Some("+77011234567".into()),
        ..Default::default()
    };
    register(db, ctx, &input).await
}

/// Every row of `imm_first_due`, in person order.
async fn first_due_rows(
    db: &bala_store::Db,
) -> Vec<(String, i64, String, String, String, String, Option<String>)> {
    bala_store::sqlx::query_as(
        "SELECT area_code, person_id, birth_date, sex, calendar_id, last_dose_on, first_due FROM imm_first_due ORDER BY person_id",
    )
    .fetch_all(db.reader())
    .await
    .unwrap()
}

/// Registers a person, confirmed past the duplicate check.
async fn register(db: &bala_store::Db, ctx: Ctx<'_>, input: &PersonInput) -> i64 {
    match people::create(db, ctx, input, true).await.unwrap() {
        CreateOutcome::Created(id) => id,
        CreateOutcome::PossibleDuplicates(_) => unreachable!("confirmed"),
    }
}

fn dose(product: &str, on: time::Date) -> doses::DoseInput {
    doses::DoseInput {
        product: product.into(),
        given_on: iso(on),
        lot: "A123".into(),
        lot_expiry: iso(today() + Duration::days(365)),
        site: "left-thigh".into(),
        route: "IM".into(),
        facility: "Polyclinic 5".into(),
        ..Default::default()
    }
}

async fn cohort(db: &bala_store::Db, year: i32) -> coverage::AreaCoverage {
    coverage::report(db, DISTRICT, year, coverage::Basis::Cohort, today())
        .await
        .unwrap()
        .area
}

/// The cohort-size counters (migration 3007) against a recount of people.
async fn assert_cohort_sizes_true(db: &bala_store::Db) {
    let read = |sql: &'static str| async move {
        let mut rows: Vec<(String, String, i64)> = bala_store::sqlx::query_as(sql)
            .fetch_all(db.reader())
            .await
            .unwrap();
        rows.sort();
        rows
    };
    let counters =
        read("SELECT area_code, birth_date, CAST(n AS BIGINT) FROM imm_cohort_sizes WHERE n <> 0")
            .await;
    let recount = read(
        "SELECT area_code, birth_date, CAST(COUNT(*) AS BIGINT) FROM people \
         WHERE merged_into IS NULL GROUP BY area_code, birth_date",
    )
    .await;
    assert_eq!(counters, recount);
}

async fn journey(backend: Backend) {
    let t = fresh(backend).await;
    let db = &t.db;
    let actor = Actor {
        id: None,
        name: "nurse".into(),
        ip: None,
    };
    let scope = [AreaCode::parse("750000000").unwrap()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    // A child born 14 months ago, and a sibling born 2 months ago.
    let birth = today() - Duration::days(430);
    let year = birth.year();
    let older = child(db, ctx, "Нұрлан", birth).await;
    let mother = PersonInput {
        family_name: "Сапарова".into(),
        given_name: "Айгүл".into(),
        birth_date: "1994-03-02".into(),
        sex: "F".into(),
        area_code: DISTRICT.into(),
        phone: Some("+77017654321".into()),
        ..Default::default()
    };
    let mother = register(db, ctx, &mother).await;
    households::link(db, ctx, older, mother, "mother")
        .await
        .unwrap();

    let before = cohort(db, year).await;
    assert_eq!(before.dose("DTP1").unwrap().vaccinated, 0);
    assert!(before.registered >= 1);
    let zero_before = before.zero_dose.unwrap();
    assert!(
        zero_before >= 1,
        "an unvaccinated 14-month-old is zero-dose"
    );

    // Zero-dose list names the child with the mother's phone.
    let f = duelist::Filter {
        area: DISTRICT.into(),
        kind: duelist::Kind::ZeroDose,
        on: today(),
        until: None,
        min_days_overdue: 0,
    };
    let zero = duelist::list(db, &actor, &scope, &f).await.unwrap();
    let entry = zero.iter().find(|e| e.person_id == older).expect("listed");
    assert_eq!(entry.caregivers[0].phone.as_deref(), Some("+77017654321"));

    // A father registered in another district of the city: listed for the
    // city's nurse, hidden from a nurse whose scope is the child's district.
    let father = PersonInput {
        family_name: "Сапаров".into(),
        given_name: "Ерлан".into(),
        birth_date: "1988-02-11".into(),
        sex: "M".into(),
        area_code: "751210000".into(),
        phone: Some("+77019990011".into()),
        ..Default::default()
    };
    let father = register(db, ctx, &father).await;
    households::link(db, ctx, older, father, "father")
        .await
        .unwrap();
    let phones = |list: &[duelist::Entry]| -> Vec<String> {
        let e = list.iter().find(|e| e.person_id == older).expect("listed");
        e.caregivers
            .iter()
            .filter_map(|c| c.phone.clone())
            .collect()
    };
    let city = duelist::list(db, &actor, &scope, &f).await.unwrap();
    assert_eq!(phones(&city), ["+77017654321", "+77019990011"]);
    let district = [AreaCode::parse(DISTRICT).unwrap()];
    let local = duelist::list(db, &actor, &district, &f).await.unwrap();
    assert_eq!(phones(&local), ["+77017654321"]);

    // Overdue list: everything since birth is overdue.
    let overdue = duelist::list(
        db,
        &actor,
        &scope,
        &duelist::Filter {
            kind: duelist::Kind::Overdue,
            ..f.clone()
        },
    )
    .await
    .unwrap();
    let e = overdue.iter().find(|e| e.person_id == older).unwrap();
    assert!(e
        .items
        .iter()
        .any(|i| i.label == "DTP1" && i.status == "overdue"));
    assert!(e.max_days_overdue > 100);

    // A historical dose given too early (2 weeks of age) is stored but does not count.
    let early = doses::DoseInput {
        historical: true,
        ..dose("HEXA", birth + Duration::days(14))
    };
    doses::record(db, ctx, older, &early, &doses::Provenance::of("ui"))
        .await
        .unwrap();
    assert_eq!(cohort(db, year).await.dose("DTP1").unwrap().vaccinated, 0);
    // A valid one today counts at once, but not "by 12 months".
    doses::record(
        db,
        ctx,
        older,
        &dose("HEXA", today()),
        &doses::Provenance::of("ui"),
    )
    .await
    .unwrap();
    let now = cohort(db, year).await;
    let dtp1 = now.dose("DTP1").unwrap();
    assert_eq!((dtp1.vaccinated, dtp1.by_12m, dtp1.timely), (1, 0, 0));
    assert_eq!(
        now.zero_dose.unwrap(),
        zero_before,
        "DTP1 after 12 months is still zero-dose"
    );

    // The card shows the verdicts.
    let c = card::card(db, ctx, older, today()).await.unwrap();
    let early_row = &c.doses[0];
    let dtp = early_row
        .verdicts
        .iter()
        .find(|v| v.antigen.as_deref() == Some("DTP"))
        .unwrap();
    assert!(!dtp.valid);
    assert_eq!(dtp.reason.as_deref(), Some("too-early-age"));
    assert!(c.doses[1]
        .verdicts
        .iter()
        .any(|v| v.valid && v.label.as_deref() == Some("DTP1")));

    // Bad input names the field; nothing is stored.
    let bad = doses::DoseInput {
        product: "NOPE".into(),
        lot: String::new(),
        ..dose("HEXA", today() + Duration::days(3))
    };
    let err = doses::record(db, ctx, older, &bad, &doses::Provenance::of("ui"))
        .await
        .unwrap_err();
    let bala_registry::RegistryError::Validation(v) = err else {
        panic!("{err:?}")
    };
    let fields: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"product") && fields.contains(&"given_on") && fields.contains(&"lot"));
    let rows = card::dose_rows(db, older).await.unwrap();
    assert_eq!(rows.len(), 2);
    // Recorded one by one, a dose keeps its own provenance (no batch).
    assert_provenance(&rows, "ui", &ctx.actor.name);

    // Entered in error: stops counting at once.
    let wrong = c.doses[1].id;
    doses::mark_in_error(db, ctx, older, wrong, "wrong child")
        .await
        .unwrap();
    assert_eq!(cohort(db, year).await.dose("DTP1").unwrap().vaccinated, 0);

    // Outside scope: not found.
    let shieli = [AreaCode::parse("434600000").unwrap()];
    let other = Ctx {
        actor: &actor,
        scope: &shieli,
    };
    assert!(matches!(
        doses::record(
            db,
            other,
            older,
            &dose("HEXA", today()),
            &doses::Provenance::of("ui")
        )
        .await,
        Err(bala_registry::RegistryError::NotFound)
    ));

    // Import: a dry run reports every row and writes nothing; the real run writes;
    // a second run changes nothing.
    let younger_birth = today() - Duration::days(70);
    let younger = child(db, ctx, "Ерлан", younger_birth).await;
    let csv = format!(
        "person_id,product,given_on,lot\n{younger},BCG,{}, L1\n{younger},HEXA,{},L2\n{younger},XYZ,2020-01-01,\n999999,BCG,{},\n",
        iso(younger_birth + Duration::days(1)),
        iso(younger_birth + Duration::days(61)),
        iso(younger_birth),
    );
    let table = import::read(csv.as_bytes(), &import::DOSE_COLUMNS).unwrap();
    let mut last = (0, 0);
    let dry = import::doses(db, ctx, &table, "csv", true, &mut |d, t| last = (d, t))
        .await
        .unwrap();
    assert_eq!(last, (4, 4), "progress reaches every row");
    assert_eq!((dry.imported, dry.unchanged, dry.rejected), (2, 0, 3));
    assert!(dry
        .outcomes
        .iter()
        .any(|o| o.row == 4 && o.field == "product" && o.outcome == "rejected"));
    assert!(dry
        .outcomes
        .iter()
        .any(|o| o.row == 5 && o.field == "person_id"));
    assert!(card::dose_rows(db, younger).await.unwrap().is_empty());
    // A nurse of another district cannot import into this child's record,
    // whether the row names the child by id or by IIN.
    let younger_iin = "240101500017";
    bala_store::sqlx::query("UPDATE people SET iin = $1 WHERE id = $2")
        .bind(younger_iin)
        .bind(younger)
        .execute(db.reader())
        .await
        .unwrap();
    let foreign = import::read(
        format!(
            "person_id,iin,product,given_on\n{younger},,BCG,{b}\n,{younger_iin},BCG,{b}\n",
            b = iso(younger_birth + Duration::days(1))
        )
        .as_bytes(),
        &import::DOSE_COLUMNS,
    )
    .unwrap();
    let out = import::doses(db, other, &foreign, "csv", false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((out.imported, out.rejected), (0, 2), "{:?}", out.outcomes);
    assert_eq!(out.outcomes[0].field, "person_id");
    assert_eq!(out.outcomes[1].field, "iin");
    assert!(card::dose_rows(db, younger).await.unwrap().is_empty());
    let real = import::doses(db, ctx, &table, "csv", false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(real.imported, 2);
    assert_doses_refer_to_what_exists(db).await;
    let again = import::doses(db, ctx, &table, "csv", false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.imported, again.unchanged), (0, 2));
    // The same dose twice in one file is written once; the import is audited
    // per child, in the transaction that wrote the doses.
    let twice = format!(
        "person_id,product,given_on,external_id\n{younger},OPV,{d},x1\n{younger},OPV,{d},x1\n",
        d = iso(younger_birth + Duration::days(62)),
    );
    let t2 = import::read(twice.as_bytes(), &import::DOSE_COLUMNS).unwrap();
    let r = import::doses(db, ctx, &t2, "csv", false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((r.imported, r.unchanged), (1, 1), "{:?}", r.outcomes);
    assert!(r.outcomes[1].message.contains("line 2"), "{:?}", r.outcomes);
    let audited: i64 = bala_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'immunization.dose.import' AND record_id = $1",
    )
    .bind(younger.to_string())
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(audited, 2, "one entry per child and import that wrote");
    assert!(bala_store::audit::verify(db)
        .await
        .unwrap()
        .problems
        .is_empty());
    let rows = card::dose_rows(db, younger).await.unwrap();
    assert_eq!(rows.len(), 3);
    // Each import that wrote left its provenance once, as a batch its doses
    // point to (migration 3014), and the card reads it from there.
    assert_provenance(&rows, "csv", &ctx.actor.name);
    assert_eq!(count(db, "SELECT COUNT(*) FROM imm_dose_batches").await, 2);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM imm_doses WHERE batch_id IS NOT NULL AND source = '' AND created_by = '' AND created_at = ''"
        )
        .await,
        3
    );
    let younger_cov = cohort(db, younger_birth.year()).await;
    assert_eq!(younger_cov.dose("BCG").unwrap().vaccinated, 1);
    assert_eq!(younger_cov.dose("DTP1").unwrap().vaccinated, 1);

    // People import: one new, one rejected, and the same file again is unchanged.
    let people_csv = "family_name,given_name,birth_date,sex,area_code\nОмаров,Тимур,2024-05-01,M,751110000\nОмаров,,2024-05-01,X,751110000\n";
    let pt = import::read(people_csv.as_bytes(), &import::PEOPLE_COLUMNS).unwrap();
    let r1 = import::people(db, ctx, &pt, false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((r1.imported, r1.rejected), (1, 2), "{:?}", r1.outcomes);
    let r2 = import::people(db, ctx, &pt, false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((r2.imported, r2.unchanged), (0, 1));
    assert!(import::read(b"iin,colour\n", &import::DOSE_COLUMNS).is_err());

    // Calendar edit: if HEXA no longer counted for DTP, the imported DTP1 would
    // not count; coverage follows in the same transaction.
    let stored = calendars::stored(db).await.unwrap();
    let current = stored.iter().find(|s| s.calendar.id == "kz-2020").unwrap();
    let mut cal = current.calendar.clone();
    let hexa = cal.products.iter_mut().find(|p| p.code == "HEXA").unwrap();
    hexa.antigens.retain(|a| a != "DTP");
    let text = cal.to_toml_string().unwrap();
    let refreshed = calendars::save(db, &actor, &text, Some(current.version))
        .await
        .unwrap();
    assert!(refreshed >= 2);
    assert_eq!(
        cohort(db, younger_birth.year())
            .await
            .dose("DTP1")
            .unwrap()
            .vaccinated,
        0
    );
    // A stale version is refused; an invalid text names the field.
    assert!(matches!(
        calendars::save(db, &actor, &text, Some(current.version)).await,
        Err(bala_registry::RegistryError::Conflict)
    ));
    assert!(matches!(
        calendars::save(db, &actor, "id = ", None).await,
        Err(bala_registry::RegistryError::Validation(_))
    ));

    // Campaign: a measles campaign in the district; doses against it are tallied.
    let camp = campaigns::create(
        db,
        &actor,
        &campaigns::CampaignInput {
            name: "MR catch-up".into(),
            product: "MMR".into(),
            start_date: iso(today() - Duration::days(2)),
            end_date: iso(today() + Duration::days(5)),
            min_age_months: "9".into(),
            max_age_months: "60".into(),
            areas: format!("{DISTRICT} 4\n"),
        },
        &["MMR".to_string()],
    )
    .await
    .unwrap();
    let mut mmr = dose("MMR", today());
    mmr.campaign_id = camp.to_string();
    doses::record(db, ctx, older, &mmr, &doses::Provenance::of("ui"))
        .await
        .unwrap();
    // The baby is too young for the campaign: the field is named.
    let err = doses::record(db, ctx, younger, &mmr, &doses::Provenance::of("ui"))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("campaign_id"));
    let tally = campaigns::tally(db, camp).await.unwrap();
    assert_eq!(tally.total, 1);
    assert_eq!(tally.by_area[0].2, 1);
    assert_eq!(tally.coverage, Some(25.0));
    let bad_campaign = campaigns::create(
        db,
        &actor,
        &campaigns::CampaignInput {
            name: String::new(),
            product: "MMR".into(),
            start_date: "2026-13-01".into(),
            end_date: "2026-01-01".into(),
            min_age_months: "9".into(),
            max_age_months: "5".into(),
            areas: "nope 3\n".into(),
        },
        &["MMR".to_string()],
    )
    .await
    .unwrap_err();
    let msg = format!("{bad_campaign:?}");
    for f in ["name", "start_date", "max_age_months", "areas[1]"] {
        assert!(msg.contains(f), "{f} in {msg}");
    }

    // Period basis uses the official estimate when there is one.
    bala_immunization::store::population::save(
        db,
        &actor,
        DISTRICT,
        &today().year().to_string(),
        "10",
        "KazStat",
    )
    .await
    .unwrap();
    let period = coverage::report(
        db,
        DISTRICT,
        today().year(),
        coverage::Basis::Period,
        today(),
    )
    .await
    .unwrap();
    assert_eq!(period.area.denominator, Some(10));
    assert_eq!(period.area.dose("MCV1").unwrap().coverage, Some(10.0));
    // And the city sums its districts only if all of them have one: not here.
    let city = coverage::report(
        db,
        "750000000",
        today().year(),
        coverage::Basis::Period,
        today(),
    )
    .await
    .unwrap();
    assert_eq!(city.area.official, None);
    assert!(city
        .children
        .iter()
        .any(|c| c.area_code == DISTRICT && c.official == Some(10)));

    // The counters agree with a recount of the facts, before and after a full rebuild.
    let recount = || async { (counters(db).await, counters_from_facts(db).await) };
    let (counters, facts) = recount().await;
    assert!(!counters.is_empty());
    assert_eq!(counters, facts);
    // Each child's first due date, as the card's writes left it: every
    // rebuild below must write the same rows.
    let first_due = first_due_rows(db).await;
    assert!(!first_due.is_empty());
    let cals = calendars::all(db).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    bala_immunization::store::facts::refresh_all(&mut tx, &cals)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        recount().await.0,
        counters,
        "a rebuild gives the same counters"
    );
    assert_eq!(first_due_rows(db).await, first_due);
    // So do the bulk paths (ADR 0013): a full rebuild, and re-deriving every
    // child with doses as an import does.
    let mut bulk = db.bulk().await.unwrap();
    bala_immunization::store::facts::rebuild_bulk(&mut bulk, &cals, &mut |_, _| {})
        .await
        .unwrap();
    bulk.commit().await.unwrap();
    assert_eq!(
        recount().await.0,
        counters,
        "a bulk rebuild gives the same counters"
    );
    assert_eq!(first_due_rows(db).await, first_due);
    let everyone: Vec<i64> =
        bala_store::sqlx::query_scalar("SELECT DISTINCT person_id FROM imm_doses")
            .fetch_all(db.reader())
            .await
            .unwrap();
    let mut bulk = db.bulk().await.unwrap();
    let mut refresh = bala_immunization::store::facts::BulkRefresh::new(&cals);
    for slice in everyone.chunks(2) {
        let recorded = refresh.recorded(&mut bulk, slice).await.unwrap();
        refresh
            .rederive(&mut bulk, slice, slice, &recorded)
            .await
            .unwrap();
    }
    refresh.finish(&mut bulk).await.unwrap();
    bulk.commit().await.unwrap();
    let (after, from_facts) = recount().await;
    assert_eq!(
        after, counters,
        "re-deriving children in bulk moves no counter"
    );
    assert_eq!(after, from_facts);
    assert_eq!(first_due_rows(db).await, first_due);

    // The child moves to another district: after the refresh the counts move with it.
    correct_person(db, older, "area_code", "751210000").await;
    let (counters, facts) = recount().await;
    assert_eq!(counters, facts);
    assert!(counters.iter().any(|c| c.1 == "751210000"));
    // Its birth date is corrected: the counters follow (the judged-at-one
    // ones are keyed by the day of birth).
    let born: String =
        bala_store::sqlx::query_scalar("SELECT birth_date FROM people WHERE id = $1")
            .bind(older)
            .fetch_one(db.reader())
            .await
            .unwrap();
    let corrected = iso(bala_core::parse_date(&born).unwrap() - Duration::days(3));
    correct_person(db, older, "birth_date", &corrected).await;
    let (counters, facts) = recount().await;
    assert_eq!(counters, facts);

    // The audit trail holds the card read and the list reads.
    let n: i64 = bala_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('immunization.card.view', 'immunization.list.view')",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert!(n >= 3);
    assert_cohort_sizes_true(db).await;
}

/// The three facts other pillars read: unknown where the district records no
/// dose; then zero-dose, overdue days and "registered" as the card shows them.
async fn child_summary(backend: Backend) {
    let t = fresh(backend).await;
    let db = &t.db;
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let on = today();
    let birth = on - Duration::days(430);
    let unvaccinated = child(db, ctx, "Ерасыл", birth).await;
    assert_eq!(
        summary::child(db, unvaccinated, on).await.unwrap(),
        None,
        "no dose recorded anywhere in the district: unknown, not zero-dose"
    );
    let late = child(db, ctx, "Дәулет", birth).await;
    // A card with one wrong row is refused whole, the row named.
    let bcg = dose("BCG", birth);
    let err = doses::record_many(db, ctx, late, &[bcg.clone(), dose("XYZ", birth)], "card")
        .await
        .unwrap_err();
    match err {
        bala_immunization::store::Error::Validation(e) => {
            assert_eq!(e.0.len(), 1);
            assert_eq!(e.0[0].field, "doses[2].product");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(
        summary::child(db, late, on).await.unwrap(),
        None,
        "nothing was written"
    );
    // BCG at birth, DTP1 at 2 months, nothing since: DTP2 was due at 3 months.
    let ids = doses::record_many(
        db,
        ctx,
        late,
        &[bcg, dose("HEXA", birth + Duration::days(61))],
        "card",
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    let s = summary::child(db, unvaccinated, on).await.unwrap().unwrap();
    assert_eq!(
        s,
        summary::ChildSummary {
            registered: false,
            zero_dose: true,
            max_days_overdue: s.max_days_overdue,
        }
    );
    assert!(s.max_days_overdue > 60, "DTP1 overdue since month 3");
    let l = summary::child(db, late, on).await.unwrap().unwrap();
    assert!(l.registered && !l.zero_dose);
    assert!(l.max_days_overdue > 60);
    // Zero-dose is judged from 12 to 59 months, as on the zero-dose list.
    let older = child(db, ctx, "Санжар", on - Duration::days(6 * 365)).await;
    let o = summary::child(db, older, on).await.unwrap().unwrap();
    assert!(!o.zero_dose && !o.registered);
    // A refusal starts the card too, and a refused series is not overdue.
    let newborn = child(db, ctx, "Алдияр", on - Duration::days(10)).await;
    let n = summary::child(db, newborn, on).await.unwrap().unwrap();
    assert_eq!((n.registered, n.zero_dose), (false, false));
    doses::record_exception(
        db,
        ctx,
        newborn,
        &doses::ExceptionInput {
            kind: "refusal".into(),
            antigen: "BCG".into(),
            since: iso(on - Duration::days(5)),
            reason: "Parents' decision".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let n = summary::child(db, newborn, on).await.unwrap().unwrap();
    assert!(n.registered);
}

#[tokio::test]
async fn child_summary_sqlite() {
    child_summary(Backend::Sqlite).await;
}

#[tokio::test]
async fn child_summary_postgres() {
    child_summary(Backend::Postgres).await;
}

/// Zero-dose and under-immunized children are judged at one year: on a date
/// when part of the cohort is not yet one, an infant with DTP1 counts on
/// neither side (it used to make the zero-dose count too low, even negative).
async fn zero_dose_judged_at_one(backend: Backend) {
    let t = fresh(backend).await;
    let db = &t.db;
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let year = today().year() - 3;
    let d = |m, day| time::Date::from_calendar_date(year, m, day).unwrap();
    let january = child(db, ctx, "Ерасыл", d(time::Month::January, 10)).await;
    let december = child(db, ctx, "Дәулет", d(time::Month::December, 1)).await;
    doses::record_many(
        db,
        ctx,
        december,
        &[dose(
            "HEXA",
            d(time::Month::December, 1) + Duration::days(61),
        )],
        "card",
    )
    .await
    .unwrap();
    // In March and in September of the next year the January child is one,
    // the December one is not. (In March fewer children are one than not,
    // in September more: the two ways of counting, child by child or off
    // the counters, must agree.)
    for month in [time::Month::March, time::Month::September] {
        let on = time::Date::from_calendar_date(year + 1, month, 1).unwrap();
        let r = coverage::compute(db, DISTRICT, year, coverage::Basis::Cohort, on)
            .await
            .unwrap()
            .area;
        assert_eq!((r.registered, r.aged_12m), (2, 1), "{on}");
        assert_eq!(r.dose("DTP1").unwrap().by_12m, 1, "the dose itself counts");
        assert_eq!(
            r.zero_dose,
            Some(1),
            "{on}: the January child, without DTP1"
        );
        assert_eq!(
            r.under_immunized,
            Some(0),
            "{on}: the December child is not yet judged"
        );
    }
    // Before the first birthday of the cohort nobody is judged.
    let early = time::Date::from_calendar_date(year, time::Month::December, 20).unwrap();
    let r = coverage::compute(db, DISTRICT, year, coverage::Basis::Cohort, early)
        .await
        .unwrap()
        .area;
    assert_eq!(
        (r.aged_12m, r.zero_dose, r.under_immunized),
        (0, Some(0), Some(0))
    );
    // The December child's birth date was wrong: born in March, it is one by
    // September, with DTP1 and no DTP3.
    let september = time::Date::from_calendar_date(year + 1, time::Month::September, 1).unwrap();
    correct_person(db, december, "birth_date", &iso(d(time::Month::March, 1))).await;
    let r = coverage::compute(db, DISTRICT, year, coverage::Basis::Cohort, september)
        .await
        .unwrap()
        .area;
    assert_eq!(
        (r.aged_12m, r.zero_dose, r.under_immunized),
        (2, Some(1), Some(1))
    );
    correct_person(
        db,
        december,
        "birth_date",
        &iso(d(time::Month::December, 1)),
    )
    .await;
    // Once both are one, the December child is under-immunized (no DTP3).
    let later = time::Date::from_calendar_date(year + 2, time::Month::June, 1).unwrap();
    let r = coverage::report(db, DISTRICT, year, coverage::Basis::Cohort, later)
        .await
        .unwrap()
        .area;
    assert_eq!((r.zero_dose, r.under_immunized), (Some(1), Some(1)));
    assert!(
        summary::child(db, january, later)
            .await
            .unwrap()
            .unwrap()
            .zero_dose
    );
}

#[tokio::test]
async fn zero_dose_judged_at_one_sqlite() {
    zero_dose_judged_at_one(Backend::Sqlite).await;
}

#[tokio::test]
async fn zero_dose_judged_at_one_postgres() {
    zero_dose_judged_at_one(Backend::Postgres).await;
}

#[tokio::test]
async fn journey_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn journey_postgres() {
    journey(Backend::Postgres).await;
}

#[test]
fn latest_birth_aged_matches_the_engine() {
    use bala_immunization::span::Span;
    use time::macros::date;
    for on in [
        date!(2025 - 02 - 28),
        date!(2024 - 02 - 29),
        date!(2025 - 12 - 31),
        date!(2025 - 03 - 01),
    ] {
        let cut = coverage::latest_birth_aged(on, 12);
        assert!(Span::months(12).add_to(cut) <= on, "{on}");
        assert!(
            Span::months(12).add_to(cut.next_day().unwrap()) > on,
            "{on}"
        );
    }
}

/// Coverage answers are cached per coverage version (ADR 0014): a repeat gives
/// the same answer as a fresh computation, and a change by any path — the
/// register, raw SQL on the counters, official populations — is seen at once.
async fn coverage_cache(backend: Backend) {
    let t = fresh(backend).await;
    let db = &t.db;
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let birth = today() - Duration::days(400);
    let year = birth.year();
    let a = child(db, ctx, "Әлихан", birth).await;
    doses::record(
        db,
        ctx,
        a,
        &dose("HEXA", birth + Duration::days(61)),
        &doses::Provenance::of("ui"),
    )
    .await
    .unwrap();
    let json = |r: &coverage::Report| serde_json::to_value(r).unwrap();
    let ask = || coverage::report(db, DISTRICT, year, coverage::Basis::Cohort, today());
    let first = ask().await.unwrap();
    let fresh_ = coverage::compute(db, DISTRICT, year, coverage::Basis::Cohort, today())
        .await
        .unwrap();
    assert_eq!(json(&first), json(&fresh_));
    assert_eq!(
        json(&ask().await.unwrap()),
        json(&first),
        "a repeat answers the same"
    );
    assert_eq!(first.area.registered, 1);

    // The register: a new child of the cohort moves the denominator.
    child(db, ctx, "Айару", birth).await;
    assert_eq!(ask().await.unwrap().area.registered, 2);

    // Raw SQL on the counters (any writer, even one that forgets the cache).
    let dtp1 = |r: &coverage::Report| r.area.dose("DTP1").unwrap().vaccinated;
    let before = dtp1(&ask().await.unwrap());
    bala_store::sqlx::query(
        "UPDATE imm_counts SET n = n + 5 WHERE kind = 'cohort' AND label = 'DTP1' AND area_code = $1",
    )
    .bind(DISTRICT)
    .execute(db.reader())
    .await
    .unwrap();
    assert_eq!(dtp1(&ask().await.unwrap()), before + 5);

    // Official populations, on the period basis.
    let period = || coverage::report(db, DISTRICT, year, coverage::Basis::Period, today());
    assert_eq!(period().await.unwrap().area.official, None);
    bala_store::sqlx::query(
        "INSERT INTO imm_target_population (area_code, year, surviving_infants, source, updated_at) VALUES ($1, $2, 40, 'test', 'now')",
    )
    .bind(DISTRICT)
    .bind(year as i64)
    .execute(db.reader())
    .await
    .unwrap();
    assert_eq!(period().await.unwrap().area.official, Some(40));

    // Many writing transactions (PostgreSQL folds its change rows into the
    // counter past a thousand): answers stay right across the fold.
    for i in 0..1_100 {
        bala_store::sqlx::query("UPDATE people SET phone = $1 WHERE id = $2")
            .bind(format!("+7701{i:07}"))
            .bind(a)
            .execute(db.reader())
            .await
            .unwrap();
    }
    let folded = ask().await.unwrap();
    assert_eq!(
        json(&folded),
        json(
            &coverage::compute(db, DISTRICT, year, coverage::Basis::Cohort, today())
                .await
                .unwrap()
        )
    );
    child(db, ctx, "Томирис", birth).await;
    assert_eq!(
        ask().await.unwrap().area.registered,
        3,
        "a change after the fold is seen"
    );
}

#[tokio::test]
async fn coverage_cache_sqlite() {
    coverage_cache(Backend::Sqlite).await;
}
#[tokio::test]
async fn coverage_cache_postgres() {
    coverage_cache(Backend::Postgres).await;
}

/// A dose's area follows its child (migration 3005): the due list reads a
/// district's doses by area, so a child who moves, or whose duplicate record
/// is merged into it, must bring every dose along, whoever made the change.
async fn doses_follow_the_child(backend: Backend) {
    let t = fresh(backend).await;
    let db = &t.db;
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    let birth = today() - Duration::days(430);
    let kid = child(db, ctx, "Нұрлан", birth).await;
    let twin = child(db, ctx, "Нұрлан", birth).await;
    let given = birth + Duration::days(61);
    doses::record(
        db,
        ctx,
        kid,
        &dose("HEXA", given),
        &doses::Provenance::of("ui"),
    )
    .await
    .unwrap();
    doses::record(
        db,
        ctx,
        twin,
        &dose("PCV13", given),
        &doses::Provenance::of("ui"),
    )
    .await
    .unwrap();
    let areas_of = |id: i64| async move {
        bala_store::sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT area_code FROM imm_doses WHERE person_id = $1",
        )
        .bind(id)
        .fetch_all(db.reader())
        .await
        .unwrap()
    };
    const OTHER: &str = "751210000";
    // Moved by raw SQL, with no call into Bala: the trigger still moves the doses.
    bala_store::sqlx::query("UPDATE people SET area_code = $1 WHERE id = $2")
        .bind(OTHER)
        .bind(kid)
        .execute(db.reader())
        .await
        .unwrap();
    assert_eq!(areas_of(kid).await, vec![OTHER.to_string()]);
    // The card finds the doses under the child's new area (migration 3015).
    let products = |id: i64| async move {
        let rows = bala_immunization::store::card::dose_rows(db, id)
            .await
            .unwrap();
        rows.into_iter().map(|d| d.product).collect::<Vec<_>>()
    };
    assert_eq!(products(kid).await, ["HEXA"]);
    let overdue = |area: &'static str| duelist::Filter {
        area: area.into(),
        kind: duelist::Kind::Overdue,
        on: today(),
        until: None,
        min_days_overdue: 0,
    };
    let listed = duelist::list(db, &actor, &scope, &overdue(OTHER))
        .await
        .unwrap();
    let entry = listed
        .iter()
        .find(|e| e.person_id == kid)
        .expect("listed in the new district");
    // DTP1 was given, so the next DTP dose (not DTP1) is what is overdue.
    assert!(
        entry.items.iter().any(|i| i.label == "DTP2"),
        "{:?}",
        entry.items
    );
    assert!(
        !entry.items.iter().any(|i| i.label == "DTP1"),
        "{:?}",
        entry.items
    );
    // The twin's record turns out to be a duplicate: its dose moves with the merge.
    people::merge(db, ctx, kid, twin, bala_immunization::PERSON_REFS)
        .await
        .unwrap();
    assert_eq!(areas_of(kid).await, vec![OTHER.to_string()]);
    let mut merged = products(kid).await;
    merged.sort();
    assert_eq!(merged, ["HEXA", "PCV13"]);
    assert!(products(twin).await.is_empty());
    let listed = duelist::list(db, &actor, &scope, &overdue(OTHER))
        .await
        .unwrap();
    let entry = listed
        .iter()
        .find(|e| e.person_id == kid)
        .expect("still listed");
    assert!(
        !entry.items.iter().any(|i| i.label == "PCV1"),
        "{:?}",
        entry.items
    );
    assert!(
        listed.iter().all(|e| e.person_id != twin),
        "merged records are not listed"
    );
    assert_cohort_sizes_true(db).await;
    // Any writer keeps the counters true: a move, a corrected birth date, an
    // undone merge, an edit of nothing counted and a deletion, in raw SQL,
    // several rows per statement.
    let extra = child(db, ctx, "Ерлан", birth).await;
    for sql in [
        "UPDATE people SET area_code = '751210000' WHERE id IN (SELECT id FROM people)".into(),
        "UPDATE people SET birth_date = '2020-02-29', phone = NULL".into(),
        "UPDATE people SET merged_into = NULL".into(),
        "UPDATE people SET phone = '+77010000000'".into(),
        format!("DELETE FROM person_name_keys WHERE person_id = {extra}"),
        format!("DELETE FROM people WHERE id = {extra}"),
    ] {
        let mut tx = db.begin().await.unwrap();
        bala_store::sqlx::query(&sql)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_cohort_sizes_true(db).await;
    }
}

#[tokio::test]
async fn doses_follow_the_child_sqlite() {
    doses_follow_the_child(Backend::Sqlite).await;
}
#[tokio::test]
async fn doses_follow_the_child_postgres() {
    doses_follow_the_child(Backend::Postgres).await;
}

/// Lists drawn two ways are the same, or the first difference is named.
fn assert_same_lists(drawn: &[Vec<String>], whole: &[Vec<String>]) {
    for (i, (a, b)) in drawn.iter().zip(whole).enumerate() {
        let missing: Vec<&String> = b.iter().filter(|e| !a.contains(e)).collect();
        let extra: Vec<&String> = a.iter().filter(|e| !b.contains(e)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "list {i}: {} entries missing, e.g. {:?}; {} not in the whole read, e.g. {:?}",
            missing.len(),
            missing.first(),
            extra.len(),
            extra.first()
        );
    }
    assert_eq!(drawn.len(), whole.len());
}

/// A fresh database holding a synthetic 2024 cohort of about `births` children.
async fn synthetic(
    backend: Backend,
    births: usize,
    seed: u64,
) -> (TestDb, bala_immunization::store::synth::Report) {
    use bala_immunization::store::synth;
    let t = fresh(backend).await;
    let o = synth::Options {
        births,
        year: 2024,
        seed,
        doses_to: None,
    };
    let r = synth::generate(&t.db, &o, &mut |_, _| {}).await.unwrap();
    (t, r)
}

/// Changes one column of a person behind the registry's back (as a
/// correction by raw SQL would), then re-derives the child's facts.
async fn correct_person(db: &bala_store::Db, id: i64, column: &str, value: &str) {
    bala_store::sqlx::query(&format!("UPDATE people SET {column} = $1 WHERE id = $2"))
        .bind(value)
        .bind(id)
        .execute(db.reader())
        .await
        .unwrap();
    doses::refresh_person(db, id).await.unwrap();
}

/// The one number `sql` selects.
async fn count(db: &bala_store::Db, sql: &str) -> i64 {
    bala_store::sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(db.reader())
        .await
        .unwrap()
}

/// Every row shows `source` and `created_by` as where the dose came from.
fn assert_provenance(rows: &[card::DoseRow], source: &str, by: &str) {
    assert!(
        rows.iter()
            .all(|r| r.source == source && r.created_by == by),
        "{rows:?}"
    );
}

/// Every dose's child, area, campaign and import batch exist. The dose import checks these
/// itself and writes with SQLite's foreign keys off (`References::Caller`,
/// ADR 0027), so this asks what the database would have.
async fn assert_doses_refer_to_what_exists(db: &bala_store::Db) {
    let dangling = count(
        db,
        "SELECT COUNT(*) FROM imm_doses d WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = d.person_id) \
         OR NOT EXISTS (SELECT 1 FROM areas a WHERE a.code = d.area_code) \
         OR (d.campaign_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM imm_campaigns c WHERE c.id = d.campaign_id)) \
         OR (d.batch_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM imm_dose_batches b WHERE b.id = d.batch_id))",
    )
    .await;
    assert_eq!(dangling, 0, "doses referring to rows that do not exist");
}

/// The synthetic cohort on either database: every mother linked, every
/// refusal and contraindication stored, duplicates carrying no IIN.
async fn synth_writes_what_it_reports(backend: Backend) {
    let (t, r) = synthetic(backend, 3000, 7).await;
    let db = &t.db;
    let count = |sql: &'static str| async move { count(db, sql).await as usize };
    assert!(
        r.duplicates > 0 && r.refusals > 0 && r.contraindications > 0,
        "{r:?}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM people").await,
        r.children + r.mothers
    );
    // Duplicates carry no IIN, nor do about 2 % of the children themselves.
    let no_iin = count("SELECT COUNT(*) FROM people WHERE iin IS NULL").await;
    assert!(
        no_iin > r.duplicates && no_iin < r.duplicates + r.children / 25,
        "{no_iin} without IIN, {r:?}"
    );
    assert_eq!(count("SELECT COUNT(*) FROM relationships").await, r.mothers);
    assert_eq!(count("SELECT COUNT(*) FROM imm_refusals").await, r.refusals);
    assert_eq!(
        count("SELECT COUNT(*) FROM imm_contraindications").await,
        r.contraindications
    );
    assert_eq!(count("SELECT COUNT(*) FROM imm_doses").await, r.doses);
    // The cohort is about 3000 children, most with a mother on file.
    assert!(r.children >= 3000 && r.mothers > 2400, "{r:?}");
    assert_cohort_sizes_true(db).await;
}

#[tokio::test]
async fn synth_writes_what_it_reports_sqlite() {
    synth_writes_what_it_reports(Backend::Sqlite).await;
}
#[tokio::test]
async fn synth_writes_what_it_reports_postgres() {
    synth_writes_what_it_reports(Backend::Postgres).await;
}

/// Zero-dose and under-immunized counts on any date — before the cohort's
/// first birthday, while it turns one (whichever half is counted child by
/// child), once it is one — equal a count child by child of the children aged
/// one, for the republic, each region, and the districts of one region.
async fn zero_dose_on_any_date_matches_a_count_child_by_child(backend: Backend) {
    let (t, _) = synthetic(backend, 3000, 5).await;
    let db = &t.db;
    let mut dates = vec![time::Date::from_calendar_date(2024, time::Month::December, 20).unwrap()];
    for m in 1..=12u8 {
        let month = time::Month::try_from(m).unwrap();
        dates.push(time::Date::from_calendar_date(2025, month, 1).unwrap());
        dates.push(time::Date::from_calendar_date(2025, month, 17).unwrap());
    }
    dates.push(time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap());
    for on in dates {
        let r = coverage::compute(db, "000000000", 2024, coverage::Basis::Cohort, on)
            .await
            .unwrap();
        // And one region with its districts (the one with most children).
        let region = r
            .children
            .iter()
            .max_by_key(|a| a.registered)
            .unwrap()
            .area_code
            .clone();
        let g = coverage::compute(db, &region, 2024, coverage::Basis::Cohort, on)
            .await
            .unwrap();
        assert!(!g.children.is_empty(), "{region} has districts");
        let cutoff = coverage::latest_birth_aged(on, 12);
        // Each child already one, under each of its areas, with its valid
        // DTP1 and DTP3 by 12 months read from its stored facts.
        let mut dtp: std::collections::HashMap<i64, (i64, i64)> = Default::default();
        for (p, _, _, _, d) in stored_facts(db).await {
            let e = dtp.entry(p).or_default();
            if d.by_12m && d.label == "DTP1" {
                e.0 = 1;
            }
            if d.by_12m && d.label == "DTP3" {
                e.1 = 1;
            }
        }
        let children: Vec<(String, i64)> = bala_store::sqlx::query_as(
            "SELECT c.ancestor, p.id FROM people p JOIN area_closure c ON c.descendant = p.area_code
             WHERE p.merged_into IS NULL AND p.birth_date >= '2024-01-01' AND p.birth_date <= $1",
        )
        .bind(iso(cutoff))
        .fetch_all(db.reader())
        .await
        .unwrap();
        let mut oracle: std::collections::HashMap<String, (i64, i64, i64)> = Default::default();
        for (area, p) in children {
            let (d1, d3) = dtp.get(&p).copied().unwrap_or_default();
            let e = oracle.entry(area).or_default();
            *e = (e.0 + 1, e.1 + d1, e.2 + d3);
        }
        let mut judged = 0;
        let all = [&r.area, &g.area].into_iter();
        for a in all.chain(&r.children).chain(&g.children) {
            let (aged, dtp1, dtp3) = oracle.get(&a.area_code).copied().unwrap_or((0, 0, 0));
            assert_eq!(a.aged_12m, aged, "{on} {}", a.area_code);
            assert_eq!(
                (a.zero_dose, a.under_immunized),
                (Some(aged - dtp1), Some(dtp1 - dtp3)),
                "{on} {}",
                a.area_code
            );
            judged += aged;
        }
        assert!(on.year() == 2024 || judged > 0, "{on}: someone is one");
    }
}

#[tokio::test]
async fn zero_dose_on_any_date_matches_a_count_child_by_child_sqlite() {
    zero_dose_on_any_date_matches_a_count_child_by_child(Backend::Sqlite).await;
}
#[tokio::test]
async fn zero_dose_on_any_date_matches_a_count_child_by_child_postgres() {
    zero_dose_on_any_date_matches_a_count_child_by_child(Backend::Postgres).await;
}

/// Due lists skip the children whose `imm_first_due` row says nothing can be
/// due for them by the horizon; the lists must be exactly those drawn with
/// every child read, whatever the date, horizon and kind, and stay so when
/// rows go stale (birth date or sex corrected by raw SQL, with no call into
/// Bala).
async fn due_lists_skip_only_children_nothing_is_due_for(backend: Backend) {
    let (t, _) = synthetic(backend, 1500, 11).await;
    let db = &t.db;
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let day = |s: &str| bala_core::parse_date(s).unwrap();
    let filters: Vec<duelist::Filter> = [
        (duelist::Kind::Due, "2025-03-01", None),
        (duelist::Kind::Due, "2026-02-10", Some("2026-03-10")),
        (duelist::Kind::Overdue, "2026-02-10", None),
        (duelist::Kind::Due, "2027-06-01", Some("2027-09-01")),
        (duelist::Kind::Overdue, "2030-09-01", None),
        (duelist::Kind::ZeroDose, "2026-02-10", None),
    ]
    .into_iter()
    .map(|(kind, on, until)| duelist::Filter {
        area: AreaCode::republic().as_str().into(),
        kind,
        on: day(on),
        until: until.map(day),
        min_days_overdue: 0,
    })
    .collect();
    let lists = || async {
        let mut out = Vec::new();
        for f in &filters {
            let list = duelist::list(db, &actor, &scope, f).await.unwrap();
            let mut drawn: Vec<String> = list
                .iter()
                .map(|e| format!("{} {:?} {}", e.person_id, e.items, e.caregivers.len()))
                .collect();
            drawn.sort();
            out.push(drawn);
        }
        out
    };
    let count = |sql: &'static str| count(db, sql);
    let run = |sql: &'static str| async move {
        bala_store::sqlx::query(sql)
            .execute(db.reader())
            .await
            .unwrap();
    };
    // Rows were written for the children with doses, and most of them let a
    // list drawn in early 2026 skip the child.
    let rows = count("SELECT COUNT(*) FROM imm_first_due").await;
    let with_doses = count("SELECT COUNT(DISTINCT person_id) FROM imm_doses").await;
    assert_eq!(rows, with_doses);
    let skipped = count("SELECT COUNT(*) FROM imm_first_due WHERE first_due > '2026-03-10'").await;
    assert!(skipped * 2 > rows, "{skipped} of {rows}");
    let skipping = lists().await;
    assert!(skipping.iter().all(|l| !l.is_empty()), "{skipping:?}");
    run("DELETE FROM imm_first_due").await;
    assert_same_lists(&skipping, &lists().await);
    // Rows written again by the transactional rebuild (a calendar edit's),
    // then made stale: corrected birth dates and sexes.
    let cals = calendars::all(db).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    bala_immunization::store::facts::refresh_all(&mut tx, &cals)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM imm_first_due").await, rows);
    run("UPDATE people SET birth_date = '2023-01-15' WHERE id IN (SELECT person_id FROM imm_first_due WHERE first_due > '2026-03-10' ORDER BY person_id LIMIT 25)").await;
    // Rows that would hide everyone they speak for, were they not derived
    // from another sex, birth date or calendar than the child's.
    for stamp in [
        "sex = 'X'",
        "birth_date = '2001-01-01'",
        "calendar_id = 'kz-1999'",
    ] {
        bala_store::sqlx::query(&format!(
            "UPDATE imm_first_due SET first_due = '2099-01-01', {stamp} WHERE person_id IN \
             (SELECT person_id FROM imm_first_due WHERE first_due <= '2026-03-10' ORDER BY person_id LIMIT 25)"
        ))
        .execute(db.reader())
        .await
        .unwrap();
    }
    let stale = lists().await;
    run("DELETE FROM imm_first_due").await;
    assert_same_lists(&stale, &lists().await);
    assert_ne!(stale, skipping, "the corrections changed the lists");
}

#[tokio::test]
async fn due_lists_skip_only_children_nothing_is_due_for_sqlite() {
    due_lists_skip_only_children_nothing_is_due_for(Backend::Sqlite).await;
}
#[tokio::test]
async fn due_lists_skip_only_children_nothing_is_due_for_postgres() {
    due_lists_skip_only_children_nothing_is_due_for(Backend::Postgres).await;
}

/// Every valid-dose fact and counter, in a fixed order.
async fn facts_and_counters(db: &bala_store::Db) -> (Vec<StoredFact>, Vec<CountRow>) {
    (stored_facts(db).await, counters(db).await)
}

/// A register's history imported in several slices (each written while the
/// next one's facts are derived) leaves the same doses, facts, counters and
/// first due dates as a rebuild of the whole register from those doses, and
/// importing it again changes nothing.
async fn a_register_imported_in_slices_matches_its_rebuild(backend: Backend) {
    use bala_immunization::store::synth;
    let t = fresh(backend).await;
    let db = &t.db;
    let dir = std::env::temp_dir().join(format!(
        "bala-import-slices-{}-{:?}",
        std::process::id(),
        backend
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doses.csv");
    let o = synth::Options {
        births: 2600,
        year: 2024,
        seed: 11,
        doses_to: Some(file.clone()),
    };
    let r = synth::generate(db, &o, &mut |_, _| {}).await.unwrap();
    assert!(r.children > 2000, "two slices of 2 000 children: {r:?}");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let table = import::read(&bytes, &import::DOSE_COLUMNS).unwrap();
    let actor = Actor::system("test");
    let scope = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    // A first load: on PostgreSQL the dose and facts tables lose their
    // indexes for the load and get them back at its commit.
    let indexes = "SELECT COUNT(*) FROM pg_indexes WHERE tablename IN ('imm_doses', 'imm_facts', 'imm_first_due')";
    let pg = backend == Backend::Postgres;
    let before = if pg { count(db, indexes).await } else { 0 };
    let mut seen = (0, 0);
    let report = import::doses(db, ctx, &table, "csv", false, &mut |d, t| seen = (d, t))
        .await
        .unwrap();
    assert!(report.imported > 10_000, "{} imported", report.imported);
    // Every child of the file was found (the register is read whole, in
    // pages, when the file names most of it): the only rows rejected are
    // those whose IIN synth mistyped.
    assert!(report.rejected > 0);
    for o in report.outcomes.iter().filter(|o| o.outcome == "rejected") {
        assert!(
            o.message.contains("is not valid"),
            "line {}: {}",
            o.row,
            o.message
        );
    }
    if pg {
        assert_eq!(count(db, indexes).await, before);
    }
    assert_eq!(
        seen,
        (report.imported, report.imported),
        "progress ends at the end"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM imm_doses").await as usize,
        report.imported
    );
    assert_doses_refer_to_what_exists(db).await;
    let (facts, counters) = facts_and_counters(db).await;
    let first_due = first_due_rows(db).await;
    assert!(facts.len() > report.imported / 2 && !first_due.is_empty());
    assert_cohort_sizes_true(db).await;

    let cals = calendars::all(db).await.unwrap();
    let mut bulk = db.bulk().await.unwrap();
    bala_immunization::store::facts::rebuild_bulk(&mut bulk, &cals, &mut |_, _| {})
        .await
        .unwrap();
    bulk.commit().await.unwrap();
    assert!(
        facts_and_counters(db).await == (facts.clone(), counters.clone()),
        "the rebuild changed facts or counters the import wrote"
    );
    assert_eq!(first_due_rows(db).await, first_due);

    let again = import::doses(db, ctx, &table, "csv", false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.imported, again.unchanged), (0, report.imported));
    assert!(
        facts_and_counters(db).await == (facts, counters),
        "the second import changed facts or counters"
    );
}

#[tokio::test]
async fn a_register_imported_in_slices_matches_its_rebuild_sqlite() {
    a_register_imported_in_slices_matches_its_rebuild(Backend::Sqlite).await;
}
#[tokio::test]
async fn a_register_imported_in_slices_matches_its_rebuild_postgres() {
    a_register_imported_in_slices_matches_its_rebuild(Backend::Postgres).await;
}
