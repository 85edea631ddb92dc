//! The SQL side of the case gate (see [`crate::gate`]): which cases a user
//! may read, and how they stand to one case. Both use the same conditions.

use super::{Ctx, Result, WelfareError};
use crate::gate::{permits, CaseAction, Relation};
use bala_access::{Principal, Role};
use bala_registry::scope::push_area_within;
use bala_store::{Db, Row, Sql};

fn is_supervisor(p: &Principal) -> bool {
    p.role == Role::Supervisor
}

/// Appends a condition true for the cases (alias `c`) the principal may read at `now`.
pub fn push_visible(sql: &mut Sql, p: &Principal, now: &str) {
    sql.push("(c.assigned_to = ").push_arg(p.user_id);
    if is_supervisor(p) {
        sql.push(" OR ");
        push_area_within(sql, "c.area_code", &p.scope);
    }
    sql.push(
        " OR (c.sensitive = 0 AND EXISTS (SELECT 1 FROM welfare_case_shares s \
         WHERE s.case_id = c.id AND s.revoked_at IS NULL AND s.user_id = ",
    )
    .push_arg(p.user_id)
    .push(
        ")) OR EXISTS (SELECT 1 FROM welfare_break_glass b \
         WHERE b.case_id = c.id AND b.user_id = ",
    )
    .push_arg(p.user_id)
    .push(" AND b.expires_at > ")
    .push_arg(now)
    .push("))");
}

/// The principal's relation to case `id` and whether the case is sensitive,
/// or `None` when the case does not exist.
pub async fn relation(
    db: &Db,
    p: &Principal,
    id: i64,
    now: &str,
) -> Result<Option<(Relation, bool)>> {
    let mut sql = Sql::new("SELECT c.assigned_to, c.sensitive, ");
    if is_supervisor(p) {
        sql.push("CASE WHEN ");
        push_area_within(&mut sql, "c.area_code", &p.scope);
        sql.push(" THEN 1 ELSE 0 END");
    } else {
        sql.push("0");
    }
    sql.push(
        " AS sup, (SELECT COUNT(*) FROM welfare_case_shares s WHERE s.case_id = c.id \
         AND s.revoked_at IS NULL AND s.user_id = ",
    )
    .push_arg(p.user_id)
    .push(") AS shared, (SELECT COUNT(*) FROM welfare_break_glass b WHERE b.case_id = c.id AND b.user_id = ")
    .push_arg(p.user_id)
    .push(" AND b.expires_at > ")
    .push_arg(now)
    .push(") AS bg FROM welfare_cases c WHERE c.id = ")
    .push_arg(id);
    let Some(r) = sql.query().fetch_optional(db.reader()).await? else {
        return Ok(None);
    };
    let assigned: i64 = r.try_get(0)?;
    let sensitive: i64 = r.try_get(1)?;
    let sup: i64 = r.try_get(2)?;
    let shared: i64 = r.try_get(3)?;
    let bg: i64 = r.try_get(4)?;
    Ok(Some((
        Relation {
            assigned: assigned == p.user_id,
            supervisor: sup != 0,
            shared: shared > 0,
            break_glass: bg > 0,
        },
        sensitive != 0,
    )))
}

/// Checks `action` on case `id`: `NotFound` when the case is absent or not
/// readable by the caller, `Forbidden` when readable but not for this action.
pub async fn require(db: &Db, ctx: Ctx<'_>, id: i64, action: CaseAction) -> Result<Relation> {
    let (now, _) = super::now();
    let Some((rel, sensitive)) = relation(db, ctx.principal, id, &now).await? else {
        return Err(WelfareError::NotFound);
    };
    if !permits(rel, sensitive, CaseAction::Read) {
        return Err(WelfareError::NotFound);
    }
    if !permits(rel, sensitive, action) {
        return Err(WelfareError::Forbidden);
    }
    Ok(rel)
}
