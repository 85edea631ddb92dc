//! Demo data: accounts for every role and a few hundred people in households,
//! generated deterministically (same seed, same people) relative to today so
//! that the children are of the ages the pillars care about. Loaded once: a
//! second `bala demo` finds the accounts and leaves the database as it is.

mod immunization;
mod indicators;
mod surveillance;
mod welfare;

use bala_access::{users, Role};
use bala_core::{AreaCode, Iin, Sex};
use bala_registry::households;
use bala_registry::people::{self, CreateOutcome, Ctx};
use bala_registry::person::PersonInput;
use bala_store::audit::Actor;
use bala_store::Db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration, OffsetDateTime};

/// The password of every demo account (never use demo mode in production).
pub const DEMO_PASSWORD: &str = "demo-Bala-2026";

/// (username, display name, role, area)
pub const ACCOUNTS: &[(&str, &str, Role, &str)] = &[
    (
        "admin",
        "Әсел Серікқызы (администратор)",
        Role::Admin,
        "000000000",
    ),
    (
        "analyst",
        "Дана Омарова (аналитик)",
        Role::Analyst,
        "000000000",
    ),
    (
        "manager.almaty",
        "Ерлан Ахметов",
        Role::RegionalManager,
        "750000000",
    ),
    (
        "nurse.almaly",
        "Гүлнар Жұмабаева",
        Role::HealthWorker,
        "751110000",
    ),
    (
        "social.almaly",
        "Айгүл Қасымова",
        Role::SocialWorker,
        "751110000",
    ),
    (
        "supervisor.almaty",
        "Марат Оспанов",
        Role::Supervisor,
        "750000000",
    ),
    (
        "nurse.shieli",
        "Сәуле Тоқтарова",
        Role::HealthWorker,
        "434600000",
    ),
];

/// Districts the demo households live in (with how many households each).
const DISTRICTS: &[(&str, usize)] = &[
    ("751110000", 40),
    ("751210000", 15),
    ("751310000", 10),
    ("434600000", 25),
    ("431010000", 10),
    ("611010000", 10),
    ("613200000", 10),
];

const KK_FEMALE: &[&str] = &[
    "Айгерім",
    "Аружан",
    "Әсел",
    "Дана",
    "Жанар",
    "Гүлнар",
    "Мадина",
    "Сәуле",
    "Ақбота",
    "Назерке",
    "Томирис",
    "Аяулым",
    "Інжу",
    "Мөлдір",
    "Балнұр",
    "Жансая",
];
const KK_MALE: &[&str] = &[
    "Нұрлан",
    "Ерлан",
    "Асқар",
    "Дәулет",
    "Нұрсұлтан",
    "Әлихан",
    "Ерасыл",
    "Арман",
    "Бауыржан",
    "Санжар",
    "Темірлан",
    "Алдияр",
    "Ислам",
    "Айбек",
    "Ғалым",
    "Қайрат",
];
const RU_FEMALE: &[&str] = &[
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Юлия",
    "Татьяна",
    "Алёна",
];
const RU_MALE: &[&str] = &[
    "Александр",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Иван",
    "Максим",
    "Артём",
    "Михаил",
];
/// Family names as (male form, female form).
const KK_FAMILY: &[(&str, &str)] = &[
    ("Нұрланов", "Нұрланова"),
    ("Ахметов", "Ахметова"),
    ("Серікбаев", "Серікбаева"),
    ("Жұмабаев", "Жұмабаева"),
    ("Оспанов", "Оспанова"),
    ("Қасымов", "Қасымова"),
    ("Тоқтаров", "Тоқтарова"),
    ("Омаров", "Омарова"),
    ("Исаев", "Исаева"),
    ("Бекетов", "Бекетова"),
    ("Сейітов", "Сейітова"),
    ("Әлиев", "Әлиева"),
];
const RU_FAMILY: &[(&str, &str)] = &[
    ("Иванов", "Иванова"),
    ("Петров", "Петрова"),
    ("Смирнов", "Смирнова"),
    ("Ким", "Ким"),
    ("Цой", "Цой"),
];
const STREETS: &[&str] = &[
    "Абай даңғылы",
    "Төле би көшесі",
    "Сейфуллин көшесі",
    "Жібек жолы",
    "Қонаев көшесі",
    "Достық даңғылы",
];

struct Gen {
    rng: StdRng,
    today: Date,
    serial: u16,
}

impl Gen {
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.gen_range(0..xs.len())]
    }

    fn date_between(&mut self, min_days_ago: i64, max_days_ago: i64) -> Date {
        self.today - Duration::days(self.rng.gen_range(min_days_ago..=max_days_ago))
    }

    fn iin(&mut self, birth: Date, sex: Sex) -> Option<String> {
        self.serial = self.serial.wrapping_add(7) % 10_000;
        Iin::compose(birth, sex, self.serial).map(|i| i.to_string())
    }

    fn phone(&mut self) -> String {
        let op = *self.pick(&["701", "702", "705", "707", "747", "771", "775", "778"]);
        format!("+7{op}{:07}", self.rng.gen_range(0..10_000_000))
    }
}

fn patronymic(father_given: &str, sex: Sex, kazakh: bool) -> String {
    if kazakh {
        format!(
            "{father_given}{}",
            if sex == Sex::Male {
                "ұлы"
            } else {
                "қызы"
            }
        )
    } else {
        format!(
            "{father_given}{}",
            if sex == Sex::Male {
                "ович"
            } else {
                "овна"
            }
        )
    }
}

/// Loads demo accounts and people unless they are already there.
pub async fn load(db: &Db, keys: &bala_welfare::crypt::KeyRing) -> anyhow::Result<()> {
    if users::find_by_username(db, "admin").await?.is_some() {
        tracing::info!("demo data already present; reusing the database");
        return Ok(());
    }
    let actor = Actor::system("demo");
    for (username, display_name, role, area) in ACCOUNTS {
        let new = users::NewUser {
            username: username.to_string(),
            display_name: display_name.to_string(),
            password: DEMO_PASSWORD.to_string(),
            role: *role,
            scope: vec![AreaCode::parse(area)?],
        };
        users::create(db, &actor, &new).await?;
    }
    let republic = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &republic,
    };
    let mut g = Gen {
        rng: StdRng::seed_from_u64(2026),
        today: OffsetDateTime::now_utc().date(),
        serial: 100,
    };
    let mut people_count = 0;
    for (district, households_n) in DISTRICTS {
        for _ in 0..*households_n {
            people_count += household(db, ctx, &mut g, district).await?;
        }
    }
    duplicates(db, ctx, &mut g).await?;
    tracing::info!(people = people_count, "demo register loaded");
    immunization::load(db).await?;
    welfare::load(db, keys).await?;
    indicators::load(db).await?;
    let welfare =
        crate::computed::publish_welfare(db, time::OffsetDateTime::now_utc().date(), 2).await?;
    tracing::info!(
        added = welfare.added,
        "welfare figures published to the indicator registry"
    );
    let immunization =
        crate::computed::publish_immunization(db, time::OffsetDateTime::now_utc().date(), 5)
            .await?;
    tracing::info!(
        added = immunization.added,
        "immunization figures published to the indicator registry"
    );
    surveillance::load(db).await?;
    Ok(())
}

async fn add(db: &Db, ctx: Ctx<'_>, p: PersonInput) -> anyhow::Result<i64> {
    match people::create(db, ctx, &p, true).await? {
        CreateOutcome::Created(id) => Ok(id),
        CreateOutcome::PossibleDuplicates(_) => {
            unreachable!("confirmed_new skips the duplicate check")
        }
    }
}

/// One household: a mother, usually a father, one to four children.
async fn household(db: &Db, ctx: Ctx<'_>, g: &mut Gen, district: &str) -> anyhow::Result<usize> {
    let kazakh = g.rng.gen_bool(0.8);
    let (family_m, family_f) = *g.pick(if kazakh { KK_FAMILY } else { RU_FAMILY });
    let address = format!("{}, {}", g.pick(STREETS), g.rng.gen_range(1..200));
    let hid = households::create(db, ctx, district, Some(&address)).await?;
    let mother_birth = g.date_between(20 * 365, 40 * 365);
    let mother_given = *g.pick(if kazakh { KK_FEMALE } else { RU_FEMALE });
    let mother = PersonInput {
        iin: g.iin(mother_birth, Sex::Female),
        family_name: family_f.into(),
        given_name: mother_given.into(),
        birth_date: bala_core::date::iso(mother_birth),
        sex: "F".into(),
        area_code: district.into(),
        address: Some(address.clone()),
        phone: Some(g.phone()),
        ..Default::default()
    };
    let mother_id = add(db, ctx, mother).await?;
    households::set_household(db, ctx, mother_id, Some(hid)).await?;
    let mut count = 1;
    let father_given = *g.pick(if kazakh { KK_MALE } else { RU_MALE });
    let father_id = if g.rng.gen_bool(0.75) {
        let birth = g.date_between(22 * 365, 45 * 365);
        let father = PersonInput {
            iin: g.iin(birth, Sex::Male),
            family_name: family_m.into(),
            given_name: father_given.into(),
            birth_date: bala_core::date::iso(birth),
            sex: "M".into(),
            area_code: district.into(),
            address: Some(address.clone()),
            phone: g.rng.gen_bool(0.6).then(|| g.phone()),
            ..Default::default()
        };
        let id = add(db, ctx, father).await?;
        households::set_household(db, ctx, id, Some(hid)).await?;
        count += 1;
        Some(id)
    } else {
        None
    };
    let children = g.rng.gen_range(1..=4);
    for i in 0..children {
        // The youngest are under five (the immunization years); older siblings up to 15.
        let birth = if i == 0 {
            g.date_between(5, 5 * 365)
        } else {
            g.date_between(30, 15 * 365)
        };
        let sex = if g.rng.gen_bool(0.51) {
            Sex::Male
        } else {
            Sex::Female
        };
        let given = *g.pick(match (kazakh, sex) {
            (true, Sex::Male) => KK_MALE,
            (true, Sex::Female) => KK_FEMALE,
            (false, Sex::Male) => RU_MALE,
            (false, Sex::Female) => RU_FEMALE,
        });
        let family = if sex == Sex::Male { family_m } else { family_f };
        let newborn = (g.today - birth).whole_days() < 60;
        let latin = g.rng.gen_bool(0.25);
        let child = PersonInput {
            // Newborns often have no IIN yet; a few older children are migrants without one.
            iin: if newborn || g.rng.gen_bool(0.05) {
                None
            } else {
                g.iin(birth, sex)
            },
            family_name: family.into(),
            given_name: given.into(),
            patronymic: father_id.map(|_| patronymic(father_given, sex, kazakh)),
            family_name_lat: latin.then(|| bala_core::to_latin(family)),
            given_name_lat: latin.then(|| bala_core::to_latin(given)),
            birth_date: bala_core::date::iso(birth),
            sex: sex.code().into(),
            area_code: district.into(),
            address: Some(address.clone()),
            ..Default::default()
        };
        let id = add(db, ctx, child).await?;
        households::set_household(db, ctx, id, Some(hid)).await?;
        households::link(db, ctx, id, mother_id, "mother").await?;
        if let Some(f) = father_id {
            households::link(db, ctx, id, f, "father").await?;
        }
        count += 1;
    }
    Ok(count)
}

/// A few children registered twice (once in Latin, without IIN) for the merge demo.
async fn duplicates(db: &Db, ctx: Ctx<'_>, g: &mut Gen) -> anyhow::Result<()> {
    let s = people::Search {
        area: Some("751110000".into()),
        age: Some("child".into()),
        per_page: Some(3),
        ..Default::default()
    };
    for p in people::search(db, ctx, &s).await?.items {
        let twin = PersonInput {
            family_name: p
                .family_name_lat
                .clone()
                .unwrap_or_else(|| bala_core::to_latin(&p.family_name)),
            given_name: p
                .given_name_lat
                .clone()
                .unwrap_or_else(|| bala_core::to_latin(&p.given_name)),
            birth_date: p.birth_date.clone(),
            sex: p.sex.clone(),
            area_code: p.area_code.clone(),
            phone: g.rng.gen_bool(0.5).then(|| g.phone()),
            ..Default::default()
        };
        add(db, ctx, twin).await?;
    }
    Ok(())
}

pub fn print_logins() {
    println!();
    println!("Demo accounts (password for all: {DEMO_PASSWORD}):");
    for (username, name, role, area) in ACCOUNTS {
        println!("  {username:<18} {:<17} area {area}  {name}", role.code());
    }
    println!();
}
