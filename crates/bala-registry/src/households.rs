//! Households, and who is whose mother, father, guardian.

use crate::people::{fetch_in_scope, from_row, Ctx, Person};
use crate::{areas, scope, Page, RegistryError};
use bala_core::{AreaCode, FieldError, ValidationErrors};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, AnyConnection, Row};
use bala_store::{time_fmt, Db, Sql};
use serde::Serialize;

/// How `related` stands to a person: `related` is the person's mother, father, …
pub const RELATIONSHIP_KINDS: &[&str] = &[
    "mother",
    "father",
    "guardian",
    "foster_parent",
    "grandparent",
    "sibling",
    "other_relative",
];

/// Kinds that make the related person a caregiver (the contact for due lists and cases).
pub fn is_caregiver(kind: &str) -> bool {
    matches!(
        kind,
        "mother" | "father" | "guardian" | "foster_parent" | "grandparent"
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct Household {
    pub id: i64,
    pub area_code: String,
    pub address: Option<String>,
    pub members: Vec<Person>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relation {
    /// `related` is the person's `kind` (e.g. mother); `inverse` when the person is
    /// the one named by kind for `related` (e.g. the person is the child's mother).
    pub kind: String,
    pub inverse: bool,
    pub related: Person,
}

pub async fn create(
    db: &Db,
    ctx: Ctx<'_>,
    area_code: &str,
    address: Option<&str>,
) -> Result<i64, RegistryError> {
    let mut errors = ValidationErrors::new();
    if AreaCode::parse(area_code).is_err() || areas::get(db, area_code).await?.is_none() {
        errors.push("area_code", "err-area-unknown", "choose an existing area");
    } else if !areas::is_within(db, area_code, ctx.scope).await? {
        errors.push(
            "area_code",
            "err-area-scope",
            "this area is outside the areas you work in",
        );
    }
    errors.into_result()?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query("INSERT INTO households (area_code, address, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id")
        .bind(area_code)
        .bind(address.map(str::trim).filter(|a| !a.is_empty()))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "household.create", "household", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn fetch_household(
    db: &Db,
    scope: &[AreaCode],
    id: i64,
) -> Result<(String, Option<String>), RegistryError> {
    let mut sql = Sql::new("SELECT area_code, address FROM households WHERE id = ");
    sql.push_arg(id).push(" AND ");
    scope::push_area_within(&mut sql, "area_code", scope);
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(RegistryError::NotFound)?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

/// A household and its members (audited).
pub async fn get(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<Household, RegistryError> {
    let (area_code, address) = fetch_household(db, ctx.scope, id).await?;
    let mut sql = Sql::new("SELECT * FROM people WHERE merged_into IS NULL AND household_id = ");
    sql.push_arg(id).push(" AND ");
    scope::push_area_within(&mut sql, "area_code", ctx.scope);
    sql.push(" ORDER BY birth_date");
    let members = sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_, _>>()?;
    audit::record(
        db,
        &[NewEntry::by(ctx.actor, "household.read", "household", id)],
    )
    .await?;
    Ok(Household {
        id,
        area_code,
        address,
        members,
    })
}

/// Households inside an area of the caller's scope, with member counts.
pub async fn list(
    db: &Db,
    ctx: Ctx<'_>,
    area: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<Page<(i64, String, Option<String>, i64)>, RegistryError> {
    let filter = |sql: &mut Sql| {
        sql.push(" WHERE ");
        scope::push_area_within(sql, "h.area_code", ctx.scope);
        if let Some(a) = area {
            sql.push(" AND h.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
                .push_arg(a.to_string())
                .push(")");
        }
    };
    let mut count = Sql::new("SELECT COUNT(*) FROM households h");
    filter(&mut count);
    let total: i64 = count.query().fetch_one(db.reader()).await?.try_get(0)?;
    let mut sql = Sql::new(
        "SELECT h.id, h.area_code, h.address,
                (SELECT COUNT(*) FROM people p WHERE p.household_id = h.id AND p.merged_into IS NULL) AS members
         FROM households h",
    );
    filter(&mut sql);
    sql.push(" ORDER BY h.id LIMIT ")
        .push_arg(per_page)
        .push(" OFFSET ")
        .push_arg((page - 1) * per_page);
    let items = sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

/// Puts a person into a household (or takes them out with `None`).
pub async fn set_household(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    household_id: Option<i64>,
) -> Result<(), RegistryError> {
    fetch_in_scope(db, ctx.scope, person_id).await?;
    if let Some(h) = household_id {
        fetch_household(db, ctx.scope, h).await.map_err(|_| {
            RegistryError::from(ValidationErrors::single(FieldError::new(
                "household_id",
                "err-household",
                "no such household in your areas",
            )))
        })?;
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE people SET household_id = $1, version = version + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(household_id)
    .bind(time_fmt::now())
    .bind(person_id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "person.household", "person", person_id)
            .with_details(serde_json::json!({"household_id": household_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records that `related_id` is `person_id`'s `kind` (e.g. mother).
pub async fn link(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    related_id: i64,
    kind: &str,
) -> Result<(), RegistryError> {
    // Scope first: a record outside it is "not found" whatever else is wrong.
    fetch_in_scope(db, ctx.scope, person_id).await?;
    let mut errors = ValidationErrors::new();
    if !RELATIONSHIP_KINDS.contains(&kind) {
        errors.push(
            "kind",
            "err-relationship-kind",
            format!("one of {}", RELATIONSHIP_KINDS.join(", ")),
        );
    }
    if person_id == related_id {
        errors.push(
            "related_id",
            "err-relationship-self",
            "a person cannot be their own relative",
        );
    }
    errors.into_result()?;
    fetch_in_scope(db, ctx.scope, related_id)
        .await
        .map_err(|_| {
            RegistryError::from(ValidationErrors::single(FieldError::new(
                "related_id",
                "err-person-unknown",
                "no such person in your areas",
            )))
        })?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO relationships (person_id, related_id, kind, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (person_id, related_id) DO UPDATE SET kind = $3",
    )
    .bind(person_id)
    .bind(related_id)
    .bind(kind)
    .bind(time_fmt::now())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "person.link", "person", person_id)
            .with_details(serde_json::json!({"related_id": related_id, "kind": kind})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unlink(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    related_id: i64,
) -> Result<(), RegistryError> {
    fetch_in_scope(db, ctx.scope, person_id).await?;
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM relationships WHERE person_id = $1 AND related_id = $2")
        .bind(person_id)
        .bind(related_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(RegistryError::NotFound);
    }
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "person.unlink", "person", person_id)
            .with_details(serde_json::json!({"related_id": related_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Everyone related to a person, both ways, within the caller's scope.
/// Not audited on its own: it is read as part of a person's page, which is.
pub async fn relations(
    db: &Db,
    scope: &[AreaCode],
    person_id: i64,
) -> Result<Vec<Relation>, RegistryError> {
    let mut sql = Sql::new(
        "SELECT r.kind, 0 AS inverse, p.* FROM relationships r JOIN people p ON p.id = r.related_id WHERE r.person_id = ",
    );
    sql.push_arg(person_id).push(" AND ");
    scope::push_area_within(&mut sql, "p.area_code", scope);
    sql.push(" UNION ALL SELECT r.kind, 1 AS inverse, p.* FROM relationships r JOIN people p ON p.id = r.person_id WHERE r.related_id = ");
    sql.push_arg(person_id).push(" AND ");
    scope::push_area_within(&mut sql, "p.area_code", scope);
    let rows = sql.query().fetch_all(db.reader()).await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(Relation {
            kind: r.try_get("kind")?,
            inverse: r.try_get::<i64, _>("inverse")? != 0,
            related: from_row(r)?,
        });
    }
    Ok(out)
}

/// Moves a merged duplicate's relationships to the survivor (inside the merge transaction).
pub(crate) async fn repoint_relationships(
    conn: &mut AnyConnection,
    survivor: i64,
    duplicate: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO relationships (person_id, related_id, kind, created_at)
         SELECT $1, related_id, kind, created_at FROM relationships WHERE person_id = $2 AND related_id <> $1
         ON CONFLICT DO NOTHING",
    )
    .bind(survivor)
    .bind(duplicate)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO relationships (person_id, related_id, kind, created_at)
         SELECT person_id, $1, kind, created_at FROM relationships WHERE related_id = $2 AND person_id <> $1
         ON CONFLICT DO NOTHING",
    )
    .bind(survivor)
    .bind(duplicate)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM relationships WHERE person_id = $1 OR related_id = $1")
        .bind(duplicate)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
