//! The welfare pillar's pages.

use crate::routes::RouteTable;

pub fn routes() -> RouteTable {
    RouteTable::new()
}
