//! Small-cell suppression for de-identified statistics.
//!
//! A published count below the threshold (5) can identify a child in a small
//! district, so it is replaced by "<5" (*primary* suppression). Hiding one cell
//! is not enough when its row or column total is shown: the reader subtracts the
//! visible cells from the total. So further cells are hidden (*secondary*
//! suppression, shown as "x", the mark the statistics bureau uses for
//! confidential figures) until no hidden cell can be pinned to one value from
//! any single row or column, taking into account what the marks reveal ("<5" is
//! 0–4, "x" is at least 5).
//!
//! Limits: each row and column is audited on its own. In a two-dimensional table
//! a determined reader combining several rows and columns (linear programming)
//! can sometimes narrow cells further; tables meant for wide publication should
//! be kept small or audited with a dedicated tool.

mod engine;

use engine::{Entry, Grid};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Counts below this are suppressed.
    pub threshold: u64,
    /// Whether a zero is suppressed too. A zero can disclose ("no child in this
    /// village was vaccinated"), and the rule is "every count below 5", so true
    /// by default.
    pub suppress_zero: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            threshold: 5,
            suppress_zero: true,
        }
    }
}

impl Policy {
    fn is_small(&self, n: u64) -> bool {
        n < self.threshold && (n > 0 || self.suppress_zero)
    }
}

/// A published cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Shown(u64),
    /// Below the threshold.
    Primary,
    /// Hidden to protect another cell; at least the threshold.
    Secondary,
}

impl Cell {
    /// The text to print: the number, `<5` or `x`.
    pub fn label(&self, policy: &Policy) -> String {
        match self {
            Cell::Shown(n) => n.to_string(),
            Cell::Primary => format!("<{}", policy.threshold),
            Cell::Secondary => "x".to_string(),
        }
    }

    pub fn value(&self) -> Option<u64> {
        match self {
            Cell::Shown(n) => Some(*n),
            _ => None,
        }
    }

    pub fn is_suppressed(&self) -> bool {
        !matches!(self, Cell::Shown(_))
    }
}

/// A one-dimensional table: categories and their total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table1D {
    pub cells: Vec<Cell>,
    pub total: Cell,
}

/// A two-dimensional table with row, column and grand totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table2D {
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub col_totals: Vec<Cell>,
    pub grand_total: Cell,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SuppressionError {
    #[error("row {row} has {found} cells, the first row has {expected}")]
    Ragged {
        row: usize,
        expected: usize,
        found: usize,
    },
}

/// Suppresses a list of counts whose total is published with them.
pub fn suppress_1d(counts: &[u64], policy: &Policy) -> Table1D {
    let total: u64 = counts.iter().sum();
    let mut values = counts.to_vec();
    values.push(total);
    let interior: Vec<Entry> = (0..counts.len()).collect();
    let mut grid = Grid::new(values, *policy, interior.clone());
    grid.add_line(interior, counts.len());
    let cells = grid.solve();
    Table1D {
        total: cells[counts.len()],
        cells: cells[..counts.len()].to_vec(),
    }
}

/// Suppresses a table of counts published with row, column and grand totals.
pub fn suppress_2d(counts: &[Vec<u64>], policy: &Policy) -> Result<Table2D, SuppressionError> {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    if let Some((row, r)) = counts.iter().enumerate().find(|(_, r)| r.len() != cols) {
        return Err(SuppressionError::Ragged {
            row,
            expected: cols,
            found: r.len(),
        });
    }
    // Entries: the cells row by row, then row totals, column totals, grand total.
    let cell = |r: usize, c: usize| r * cols + c;
    let row_total = |r: usize| rows * cols + r;
    let col_total = |c: usize| rows * cols + rows + c;
    let grand = rows * cols + rows + cols;
    let mut values: Vec<u64> = counts.iter().flatten().copied().collect();
    values.extend(counts.iter().map(|r| r.iter().sum::<u64>()));
    values.extend((0..cols).map(|c| counts.iter().map(|r| r[c]).sum::<u64>()));
    values.push(counts.iter().flatten().sum());
    let mut grid = Grid::new(values, *policy, (0..rows * cols).collect());
    for r in 0..rows {
        grid.add_line((0..cols).map(|c| cell(r, c)).collect(), row_total(r));
    }
    for c in 0..cols {
        grid.add_line((0..rows).map(|r| cell(r, c)).collect(), col_total(c));
    }
    grid.add_line((0..rows).map(row_total).collect(), grand);
    grid.add_line((0..cols).map(col_total).collect(), grand);
    let out = grid.solve();
    Ok(Table2D {
        cells: (0..rows)
            .map(|r| (0..cols).map(|c| out[cell(r, c)]).collect())
            .collect(),
        row_totals: (0..rows).map(|r| out[row_total(r)]).collect(),
        col_totals: (0..cols).map(|c| out[col_total(c)]).collect(),
        grand_total: out[grand],
    })
}

#[cfg(test)]
mod tests;
