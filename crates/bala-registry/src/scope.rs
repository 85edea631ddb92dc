//! SQL for area scope: the one fragment every query over personal data uses.

use bala_core::AreaCode;
use bala_store::Sql;

/// Appends a condition that is true when `column` (an area code) lies inside one
/// of the scope's areas. An empty scope matches nothing.
pub fn push_area_within(sql: &mut Sql, column: &str, scope: &[AreaCode]) {
    if scope.is_empty() {
        sql.push("1 = 0");
        return;
    }
    sql.push(column).push(" IN (");
    push_areas(sql, scope);
    sql.push(")");
}

/// The query of the codes of every area inside the scope, for callers that
/// check the scope in memory (beside a long id list an area condition leads
/// the planners astray); `None` for an empty scope, which holds no area.
pub fn areas_within(scope: &[AreaCode]) -> Option<Sql> {
    if scope.is_empty() {
        return None;
    }
    let mut sql = Sql::new("");
    push_areas(&mut sql, scope);
    Some(sql)
}

fn push_areas(sql: &mut Sql, scope: &[AreaCode]) {
    sql.push("SELECT descendant FROM area_closure WHERE ancestor IN (")
        .push_list(scope.iter().map(|a| a.as_str()))
        .push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments() {
        let mut s = Sql::new("SELECT 1 WHERE ");
        push_area_within(&mut s, "p.area_code", &[AreaCode::republic()]);
        assert_eq!(s.text(), "SELECT 1 WHERE p.area_code IN (SELECT descendant FROM area_closure WHERE ancestor IN ($1))");
        let mut e = Sql::new("");
        push_area_within(&mut e, "x", &[]);
        assert_eq!(e.text(), "1 = 0");
    }
}
