//! The stored people register.
//!
//! Every function takes a [`Ctx`]: who acts (for the audit trail) and which
//! areas they may see. Rows outside the scope are filtered in SQL, so they are
//! never loaded, and a request for one answers [`RegistryError::NotFound`].

use crate::person::{self, likely_same, NameKeys, PersonInput, ValidPerson};
use crate::{areas, scope, Page, RegistryError};
use bala_core::{date::iso, name_keys, AreaCode, FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, AnyConnection, Row};
use bala_store::{is_unique_violation, time_fmt, Db, Sql};
use serde::{Deserialize, Serialize};

/// Who acts, and the areas they may see.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub scope: &'a [AreaCode],
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Person {
    pub id: i64,
    pub iin: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub family_name_lat: Option<String>,
    pub given_name_lat: Option<String>,
    pub birth_date: String,
    pub sex: String,
    pub area_code: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub household_id: Option<i64>,
    pub merged_into: Option<i64>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Person {
    pub fn full_name(&self) -> String {
        [
            Some(self.family_name.as_str()),
            Some(self.given_name.as_str()),
            self.patronymic.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The Latin spelling: as recorded, or transliterated from the Cyrillic.
    pub fn latin_name(&self) -> String {
        let family = self
            .family_name_lat
            .clone()
            .unwrap_or_else(|| bala_core::to_latin(&self.family_name));
        let given = self
            .given_name_lat
            .clone()
            .unwrap_or_else(|| bala_core::to_latin(&self.given_name));
        format!("{family} {given}")
    }

    pub fn keys(&self) -> NameKeys {
        NameKeys::of(
            &self.family_name,
            &self.given_name,
            self.family_name_lat.as_deref(),
            self.given_name_lat.as_deref(),
        )
    }

    /// The record as input, for edit forms.
    pub fn to_input(&self) -> PersonInput {
        PersonInput {
            iin: self.iin.clone(),
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            patronymic: self.patronymic.clone(),
            family_name_lat: self.family_name_lat.clone(),
            given_name_lat: self.given_name_lat.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            area_code: self.area_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
        }
    }
}

pub(crate) fn from_row(r: &AnyRow) -> Result<Person, sqlx::Error> {
    Ok(Person {
        id: r.try_get("id")?,
        iin: r.try_get("iin")?,
        family_name: r.try_get("family_name")?,
        given_name: r.try_get("given_name")?,
        patronymic: r.try_get("patronymic")?,
        family_name_lat: r.try_get("family_name_lat")?,
        given_name_lat: r.try_get("given_name_lat")?,
        birth_date: r.try_get("birth_date")?,
        sex: r.try_get("sex")?,
        area_code: r.try_get("area_code")?,
        address: r.try_get("address")?,
        phone: r.try_get("phone")?,
        household_id: r.try_get("household_id")?,
        merged_into: r.try_get("merged_into")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn today() -> bala_core::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Checks the parts of a record that need the database: the area exists now and
/// lies in the caller's scope; the IIN is not another person's.
async fn validate_stored(
    db: &Db,
    ctx: Ctx<'_>,
    input: &PersonInput,
    self_id: Option<i64>,
) -> Result<ValidPerson, RegistryError> {
    let p = person::validate(input, today())?;
    let mut errors = ValidationErrors::new();
    match areas::get(db, p.area.as_str()).await? {
        None => errors.push(
            "area_code",
            "err-area-unknown",
            format!("no area has code {}", p.area),
        ),
        Some(a) if !a.is_valid_on(&iso(today())) => errors.push(
            "area_code",
            "err-area-historical",
            "this area no longer exists; choose its successor",
        ),
        Some(_) if !areas::is_within(db, p.area.as_str(), ctx.scope).await? => errors.push(
            "area_code",
            "err-area-scope",
            "this area is outside the areas you work in",
        ),
        Some(_) => {}
    }
    if let Some(iin) = &p.iin {
        let holder: Option<i64> = sqlx::query("SELECT id FROM people WHERE iin = $1")
            .bind(iin.as_str())
            .fetch_optional(db.reader())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if holder.is_some() && holder != self_id {
            errors.push(
                "iin",
                "err-iin-taken",
                "a person with this IIN is already registered",
            );
        }
    }
    errors.into_result()?;
    Ok(p)
}

async fn write_name_keys(
    conn: &mut AnyConnection,
    id: i64,
    p: &ValidPerson,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM person_name_keys WHERE person_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let parts = [
        Some(p.family_name.as_str()),
        Some(p.given_name.as_str()),
        p.patronymic.as_deref(),
        p.family_name_lat.as_deref(),
        p.given_name_lat.as_deref(),
    ];
    for key in name_keys(parts.into_iter().flatten()) {
        sqlx::query("INSERT INTO person_name_keys (name_key, person_id) VALUES ($1, $2)")
            .bind(key)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn snapshot(
    conn: &mut AnyConnection,
    id: i64,
    changed_by: &str,
) -> Result<(), RegistryError> {
    let r = sqlx::query("SELECT * FROM people WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let p = from_row(&r)?;
    sqlx::query(
        "INSERT INTO person_versions (person_id, version, data, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(p.version)
    .bind(serde_json::to_string(&p).expect("serialisable"))
    .bind(&p.updated_at)
    .bind(changed_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn iin_taken() -> RegistryError {
    ValidationErrors::single(FieldError::new(
        "iin",
        "err-iin-taken",
        "a person with this IIN is already registered",
    ))
    .into()
}

#[derive(Debug)]
pub enum CreateOutcome {
    Created(i64),
    /// Records that look like the same person; nothing was saved. Call again
    /// with `confirmed_new = true` once the user has looked at them.
    PossibleDuplicates(Vec<Person>),
}

/// Candidate duplicates of a new record: same birth date and area, same names after folding.
pub async fn find_likely_duplicates(
    db: &Db,
    p: &ValidPerson,
    except: Option<i64>,
) -> Result<Vec<Person>, RegistryError> {
    let keys = NameKeys::of(
        &p.family_name,
        &p.given_name,
        p.family_name_lat.as_deref(),
        p.given_name_lat.as_deref(),
    );
    let rows = sqlx::query(
        "SELECT * FROM people WHERE birth_date = $1 AND area_code = $2 AND merged_into IS NULL",
    )
    .bind(iso(p.birth_date))
    .bind(p.area.as_str())
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let candidate = from_row(r)?;
        if Some(candidate.id) != except && likely_same(&keys, &candidate.keys()) {
            out.push(candidate);
        }
    }
    Ok(out)
}

pub async fn create(
    db: &Db,
    ctx: Ctx<'_>,
    input: &PersonInput,
    confirmed_new: bool,
) -> Result<CreateOutcome, RegistryError> {
    let p = validate_stored(db, ctx, input, None).await?;
    if !confirmed_new {
        let dups = find_likely_duplicates(db, &p, None).await?;
        if !dups.is_empty() {
            return Ok(CreateOutcome::PossibleDuplicates(dups));
        }
    }
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO people (iin, family_name, given_name, patronymic, family_name_lat, given_name_lat,
                             birth_date, sex, area_code, address, phone, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id",
    )
    .bind(p.iin.as_ref().map(|i| i.as_str().to_string()))
    .bind(&p.family_name)
    .bind(&p.given_name)
    .bind(&p.patronymic)
    .bind(&p.family_name_lat)
    .bind(&p.given_name_lat)
    .bind(iso(p.birth_date))
    .bind(p.sex.code())
    .bind(p.area.as_str())
    .bind(&p.address)
    .bind(&p.phone)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match inserted {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => return Err(iin_taken()),
        Err(e) => return Err(e.into()),
    };
    write_name_keys(&mut tx, id, &p).await?;
    snapshot(&mut tx, id, &ctx.actor.name).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "person.create", "person", id)
            .with_details(serde_json::json!({"confirmed_new": confirmed_new})),
    )
    .await?;
    tx.commit().await?;
    Ok(CreateOutcome::Created(id))
}

/// Reads one person without auditing — for code paths that audit at a coarser grain.
pub async fn fetch_in_scope(db: &Db, scope: &[AreaCode], id: i64) -> Result<Person, RegistryError> {
    if scope.is_empty() {
        return Err(RegistryError::NotFound);
    }
    let mut sql = Sql::new("SELECT * FROM people WHERE id = ");
    sql.push_arg(id).push(" AND ");
    scope::push_area_within(&mut sql, "area_code", scope);
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(RegistryError::NotFound)?;
    Ok(from_row(&r)?)
}

/// Reads one person (audited).
pub async fn get(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<Person, RegistryError> {
    let p = fetch_in_scope(db, ctx.scope, id).await?;
    audit::record(db, &[NewEntry::by(ctx.actor, "person.read", "person", id)]).await?;
    Ok(p)
}

pub async fn update(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    expected_version: i64,
    input: &PersonInput,
) -> Result<(), RegistryError> {
    let old = fetch_in_scope(db, ctx.scope, id).await?;
    if old.merged_into.is_some() {
        return Err(ValidationErrors::single(FieldError::new(
            "id",
            "err-merged",
            "this record was merged into another",
        ))
        .into());
    }
    let p = validate_stored(db, ctx, input, Some(id)).await?;
    let changed: Vec<&str> = changed_fields(&old.to_input(), input);
    let mut tx = db.begin().await?;
    let res = sqlx::query(
        "UPDATE people SET iin = $1, family_name = $2, given_name = $3, patronymic = $4, family_name_lat = $5,
                given_name_lat = $6, birth_date = $7, sex = $8, area_code = $9, address = $10, phone = $11,
                version = version + 1, updated_at = $12
         WHERE id = $13 AND version = $14",
    )
    .bind(p.iin.as_ref().map(|i| i.as_str().to_string()))
    .bind(&p.family_name)
    .bind(&p.given_name)
    .bind(&p.patronymic)
    .bind(&p.family_name_lat)
    .bind(&p.given_name_lat)
    .bind(iso(p.birth_date))
    .bind(p.sex.code())
    .bind(p.area.as_str())
    .bind(&p.address)
    .bind(&p.phone)
    .bind(time_fmt::now())
    .bind(id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await;
    match res {
        Ok(r) if r.rows_affected() == 0 => return Err(RegistryError::Conflict),
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(iin_taken()),
        Err(e) => return Err(e.into()),
    }
    write_name_keys(&mut tx, id, &p).await?;
    snapshot(&mut tx, id, &ctx.actor.name).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "person.update", "person", id)
            .with_details(serde_json::json!({"fields": changed})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Names of the fields that differ (for the audit trail: which, never the values).
fn changed_fields(old: &PersonInput, new: &PersonInput) -> Vec<&'static str> {
    let norm = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut out = Vec::new();
    let pairs: [(&'static str, Option<String>, Option<String>); 11] = [
        ("iin", norm(&old.iin), norm(&new.iin)),
        (
            "family_name",
            Some(old.family_name.clone()),
            Some(new.family_name.trim().to_string()),
        ),
        (
            "given_name",
            Some(old.given_name.clone()),
            Some(new.given_name.trim().to_string()),
        ),
        ("patronymic", norm(&old.patronymic), norm(&new.patronymic)),
        (
            "family_name_lat",
            norm(&old.family_name_lat),
            norm(&new.family_name_lat),
        ),
        (
            "given_name_lat",
            norm(&old.given_name_lat),
            norm(&new.given_name_lat),
        ),
        (
            "birth_date",
            Some(old.birth_date.clone()),
            Some(new.birth_date.trim().to_string()),
        ),
        (
            "sex",
            Some(old.sex.clone()),
            Some(new.sex.trim().to_uppercase()),
        ),
        (
            "area_code",
            Some(old.area_code.clone()),
            Some(new.area_code.trim().to_string()),
        ),
        ("address", norm(&old.address), norm(&new.address)),
        (
            "phone",
            norm(&old.phone),
            person::normalize_phone(new.phone.as_deref().unwrap_or("")),
        ),
    ];
    for (name, a, b) in pairs {
        if a != b {
            out.push(name);
        }
    }
    out
}

/// What to look for. Empty fields do not filter.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Search {
    /// An IIN (or its beginning), or words of a name in any script.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    /// Only people inside this area.
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub household_id: Option<i64>,
    /// `child` (under 18 today) or `adult`.
    #[serde(default)]
    pub age: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub per_page: Option<i64>,
}

impl Search {
    /// Validates the filters, naming the field of each problem.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if let Some(d) = self.birth_date.as_deref().filter(|d| !d.trim().is_empty()) {
            if bala_core::parse_date(d).is_err() {
                e.push(
                    "birth_date",
                    "err-date",
                    "not a date in the form YYYY-MM-DD",
                );
            }
        }
        if let Some(a) = self.area.as_deref().filter(|a| !a.trim().is_empty()) {
            if AreaCode::parse(a).is_err() {
                e.push("area", "err-kato", "not a 9-digit KATO code");
            }
        }
        if let Some(s) = self.sex.as_deref().filter(|s| !s.trim().is_empty()) {
            if s.parse::<bala_core::Sex>().is_err() {
                e.push("sex", "err-sex", "M or F");
            }
        }
        if let Some(a) = self.age.as_deref().filter(|a| !a.is_empty()) {
            if a != "child" && a != "adult" {
                e.push("age", "err-age-filter", "child or adult");
            }
        }
        if self.page.is_some_and(|p| p < 1) {
            e.push("page", "err-page", "pages start at 1");
        }
        if self.per_page.is_some_and(|p| !(1..=200).contains(&p)) {
            e.push("per_page", "err-per-page", "between 1 and 200");
        }
        e.into_result()
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Adds the WHERE conditions for a search (scope included) to `sql`.
fn search_conditions(sql: &mut Sql, scope: &[AreaCode], s: &Search) {
    sql.push(" WHERE p.merged_into IS NULL AND ");
    scope::push_area_within(sql, "p.area_code", scope);
    if let Some(q) = non_empty(&s.q) {
        let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        if !compact.is_empty() && compact.chars().all(|c| c.is_ascii_digit()) {
            // Digits: an IIN or its beginning. ':' sorts right after '9'.
            sql.push(" AND p.iin >= ")
                .push_arg(compact.clone())
                .push(" AND p.iin < ")
                .push_arg(format!("{compact}:"));
        } else {
            for key in name_keys([q]) {
                // '{' sorts right after 'z': [key, key{) is every key starting with `key`.
                sql.push(" AND p.id IN (SELECT person_id FROM person_name_keys WHERE name_key >= ")
                    .push_arg(key.clone())
                    .push(" AND name_key < ")
                    .push_arg(format!("{key}{{"))
                    .push(")");
            }
        }
    }
    if let Some(d) = non_empty(&s.birth_date) {
        sql.push(" AND p.birth_date = ").push_arg(d.to_string());
    }
    if let Some(a) = non_empty(&s.area) {
        sql.push(" AND p.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
            .push_arg(a.to_string())
            .push(")");
    }
    if let Some(sex) = non_empty(&s.sex).and_then(|x| x.parse::<bala_core::Sex>().ok()) {
        sql.push(" AND p.sex = ").push_arg(sex.code());
    }
    if let Some(h) = s.household_id {
        sql.push(" AND p.household_id = ").push_arg(h);
    }
    match non_empty(&s.age) {
        Some("child") => {
            sql.push(" AND p.birth_date > ").push_arg(adult_cutoff());
        }
        Some("adult") => {
            sql.push(" AND p.birth_date <= ").push_arg(adult_cutoff());
        }
        _ => {}
    }
}

/// The latest birth date of someone who is 18 today.
fn adult_cutoff() -> String {
    let t = today();
    let d = time::Date::from_calendar_date(t.year() - 18, t.month(), t.day())
        .or_else(|_| time::Date::from_calendar_date(t.year() - 18, t.month(), t.day() - 1))
        .expect("a valid date");
    iso(d)
}

/// Head counts for dashboards (not personal data, so not audited).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Counts {
    pub people: i64,
    pub children: i64,
}

pub async fn counts_in_scope(db: &Db, scope: &[AreaCode]) -> Result<Counts, RegistryError> {
    let mut sql = Sql::new("SELECT COUNT(*), COALESCE(SUM(CASE WHEN p.birth_date > ");
    sql.push_arg(adult_cutoff())
        .push(" THEN 1 ELSE 0 END), 0) FROM people p WHERE p.merged_into IS NULL AND ");
    scope::push_area_within(&mut sql, "p.area_code", scope);
    let r = sql.query().fetch_one(db.reader()).await?;
    Ok(Counts {
        people: r.try_get(0)?,
        children: r.try_get(1)?,
    })
}

/// Searches the register within the caller's scope (audited: which records were shown).
pub async fn search(db: &Db, ctx: Ctx<'_>, s: &Search) -> Result<Page<Person>, RegistryError> {
    s.check()?;
    let per_page = s.per_page.unwrap_or(25);
    let page = s.page.unwrap_or(1);

    let mut count = Sql::new("SELECT COUNT(*) FROM people p");
    search_conditions(&mut count, ctx.scope, s);
    let total: i64 = count.query().fetch_one(db.reader()).await?.try_get(0)?;

    let mut list = Sql::new("SELECT p.* FROM people p");
    search_conditions(&mut list, ctx.scope, s);
    list.push(" ORDER BY p.family_name, p.given_name, p.id LIMIT ")
        .push_arg(per_page)
        .push(" OFFSET ")
        .push_arg((page - 1) * per_page);
    let items: Vec<Person> = list
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_, _>>()?;

    if !items.is_empty() {
        let ids: Vec<i64> = items.iter().map(|p| p.id).collect();
        audit::record(
            db,
            &[NewEntry::by(ctx.actor, "person.search", "person", "*")
                .with_details(serde_json::json!({"shown": ids, "total": total}))],
        )
        .await?;
    }
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub version: i64,
    pub changed_at: String,
    pub changed_by: String,
    pub data: serde_json::Value,
}

/// Earlier versions of a record (and of records merged into it).
pub async fn history(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<Vec<(i64, Version)>, RegistryError> {
    fetch_in_scope(db, ctx.scope, id).await?;
    let rows = sqlx::query(
        "SELECT person_id, version, data, changed_at, changed_by FROM person_versions
         WHERE person_id = $1 OR person_id IN (SELECT id FROM people WHERE merged_into = $1)
         ORDER BY changed_at DESC, person_id, version DESC",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let data: String = r.try_get("data")?;
        out.push((
            r.try_get("person_id")?,
            Version {
                version: r.try_get("version")?,
                changed_at: r.try_get("changed_at")?,
                changed_by: r.try_get("changed_by")?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            },
        ));
    }
    audit::record(
        db,
        &[NewEntry::by(ctx.actor, "person.history", "person", id)],
    )
    .await?;
    Ok(out)
}

/// A column in another pillar's table that holds a person id, re-pointed on merge.
#[derive(Debug, Clone, Copy)]
pub struct PersonRef {
    pub table: &'static str,
    pub column: &'static str,
    /// The table's column holding the person's own area, when its rows are
    /// indexed by area first: a merge then finds the duplicate's rows under
    /// the duplicate's area (the dose table has no index led by person).
    pub area: Option<&'static str>,
}

/// Merges `duplicate` into `survivor`: the survivor keeps its own values and
/// takes the duplicate's where it has none; everything that pointed at the
/// duplicate (relationships, the pillars' records listed in `refs`) points at the
/// survivor; the duplicate stays, marked `merged_into`, with its history.
pub async fn merge(
    db: &Db,
    ctx: Ctx<'_>,
    survivor_id: i64,
    duplicate_id: i64,
    refs: &[PersonRef],
) -> Result<(), RegistryError> {
    let s = fetch_in_scope(db, ctx.scope, survivor_id).await?;
    if survivor_id == duplicate_id {
        return Err(ValidationErrors::single(FieldError::new(
            "duplicate_id",
            "err-merge-self",
            "a record cannot be merged with itself",
        ))
        .into());
    }
    let d = fetch_in_scope(db, ctx.scope, duplicate_id).await?;
    let mut errors = ValidationErrors::new();
    if s.merged_into.is_some() || d.merged_into.is_some() {
        errors.push(
            "duplicate_id",
            "err-merged",
            "one of the records was already merged",
        );
    }
    if let (Some(a), Some(b)) = (&s.iin, &d.iin) {
        if a != b {
            errors.push(
                "duplicate_id",
                "err-merge-iin",
                "the records have different IINs: they are different people",
            );
        }
    }
    if s.birth_date != d.birth_date || s.sex != d.sex {
        errors.push(
            "duplicate_id",
            "err-merge-birth",
            "birth date or sex differ; correct one record first",
        );
    }
    errors.into_result()?;

    let mut tx = db.begin().await?;
    let taken_iin = s.iin.is_none() && d.iin.is_some();
    if taken_iin {
        sqlx::query("UPDATE people SET iin = NULL WHERE id = $1")
            .bind(duplicate_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE people SET
            iin = COALESCE(iin, $1), patronymic = COALESCE(patronymic, $2),
            family_name_lat = COALESCE(family_name_lat, $3), given_name_lat = COALESCE(given_name_lat, $4),
            address = COALESCE(address, $5), phone = COALESCE(phone, $6), household_id = COALESCE(household_id, $7),
            version = version + 1, updated_at = $8
         WHERE id = $9",
    )
    .bind(&d.iin)
    .bind(&d.patronymic)
    .bind(&d.family_name_lat)
    .bind(&d.given_name_lat)
    .bind(&d.address)
    .bind(&d.phone)
    .bind(d.household_id)
    .bind(time_fmt::now())
    .bind(survivor_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE people SET merged_into = $1, version = version + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(survivor_id)
    .bind(time_fmt::now())
    .bind(duplicate_id)
    .execute(&mut *tx)
    .await?;
    // Name keys: the survivor is found by the duplicate's spellings too.
    sqlx::query(
        "INSERT INTO person_name_keys (name_key, person_id)
         SELECT name_key, $1 FROM person_name_keys WHERE person_id = $2
         ON CONFLICT DO NOTHING",
    )
    .bind(survivor_id)
    .bind(duplicate_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM person_name_keys WHERE person_id = $1")
        .bind(duplicate_id)
        .execute(&mut *tx)
        .await?;
    // Versions are snapshots taken after each change.
    snapshot(&mut tx, survivor_id, &ctx.actor.name).await?;
    snapshot(&mut tx, duplicate_id, &ctx.actor.name).await?;
    crate::households::repoint_relationships(&mut tx, survivor_id, duplicate_id).await?;
    for r in refs {
        let within = match r.area {
            Some(area) => format!("{area} = (SELECT area_code FROM people WHERE id = $2) AND "),
            None => String::new(),
        };
        let sql = format!(
            "UPDATE {} SET {} = $1 WHERE {within}{} = $2",
            r.table, r.column, r.column
        );
        sqlx::query(&sql)
            .bind(survivor_id)
            .bind(duplicate_id)
            .execute(&mut *tx)
            .await?;
    }
    let details = serde_json::json!({"iin_moved": taken_iin, "refs": refs.iter().map(|r| r.table).collect::<Vec<_>>()});
    sqlx::query("INSERT INTO person_merges (survivor_id, merged_id, at, actor, details) VALUES ($1, $2, $3, $4, $5)")
        .bind(survivor_id)
        .bind(duplicate_id)
        .bind(time_fmt::now())
        .bind(&ctx.actor.name)
        .bind(details.to_string())
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "person.merge", "person", survivor_id)
            .with_details(serde_json::json!({"merged": duplicate_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
