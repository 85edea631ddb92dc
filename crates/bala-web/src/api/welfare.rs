//! The welfare pillar's JSON API.

use crate::routes::RouteTable;

pub fn routes() -> RouteTable {
    RouteTable::new()
}
