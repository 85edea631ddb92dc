//! The suppression engine: entries (cells and totals) linked by lines, each
//! line saying "these entries add up to that total".

use super::{Cell, Policy};

pub type Entry = usize;

struct Line {
    parts: Vec<Entry>,
    total: Entry,
}

pub struct Grid {
    values: Vec<u64>,
    cells: Vec<Cell>,
    lines: Vec<Line>,
    policy: Policy,
    /// Entries preferred for secondary suppression (interior cells before totals).
    interior: Vec<Entry>,
}

impl Grid {
    pub fn new(values: Vec<u64>, policy: Policy, interior: Vec<Entry>) -> Grid {
        let cells = values
            .iter()
            .map(|&v| {
                if policy.is_small(v) {
                    Cell::Primary
                } else {
                    Cell::Shown(v)
                }
            })
            .collect();
        Grid {
            values,
            cells,
            lines: Vec::new(),
            policy,
            interior,
        }
    }

    pub fn add_line(&mut self, parts: Vec<Entry>, total: Entry) {
        self.lines.push(Line { parts, total });
    }

    /// Adds secondary suppressions until no line exposes a hidden entry.
    /// Terminates: every round hides one more entry or stops.
    pub fn solve(mut self) -> Vec<Cell> {
        while let Some(line) = (0..self.lines.len()).find(|&l| self.exposes(l)) {
            let victim = self.secondary_candidate(line);
            self.cells[victim] = Cell::Secondary;
        }
        self.cells
    }

    /// The bounds a reader can infer for a hidden entry from its mark alone.
    fn bounds(&self, e: Entry, line_rest: u64) -> (u64, u64) {
        let t = self.policy.threshold;
        match self.cells[e] {
            Cell::Shown(v) => (v, v),
            Cell::Primary => (u64::from(!self.policy.suppress_zero), t.saturating_sub(1)),
            Cell::Secondary => (t, line_rest.max(t)),
        }
    }

    /// Whether some hidden entry of the line can be pinned to a single value.
    fn exposes(&self, l: Entry) -> bool {
        let line = &self.lines[l];
        let Cell::Shown(total) = self.cells[line.total] else {
            return false;
        };
        let hidden: Vec<Entry> = line
            .parts
            .iter()
            .copied()
            .filter(|&e| self.cells[e].is_suppressed())
            .collect();
        if hidden.is_empty() {
            return false;
        }
        let visible: u64 = line
            .parts
            .iter()
            .filter_map(|&e| self.cells[e].value())
            .sum();
        let rest = total.saturating_sub(visible);
        let b: Vec<(u64, u64)> = hidden.iter().map(|&e| self.bounds(e, rest)).collect();
        let (sum_lo, sum_hi): (u64, u64) =
            b.iter().fold((0, 0), |(a, c), (lo, hi)| (a + lo, c + hi));
        b.iter().any(|&(lo, hi)| {
            let others = (sum_lo - lo, sum_hi - hi);
            let lower = lo.max(rest.saturating_sub(others.1));
            let upper = hi.min(rest.saturating_sub(others.0));
            lower >= upper
        })
    }

    /// The smallest visible part of the line to hide next (interior cells first,
    /// ties to the earliest), or the line's total when no part is left.
    fn secondary_candidate(&self, l: Entry) -> Entry {
        let line = &self.lines[l];
        let visible =
            |e: &Entry| matches!(self.cells[*e], Cell::Shown(v) if v >= self.policy.threshold);
        let pick =
            |parts: &mut dyn Iterator<Item = Entry>| parts.min_by_key(|&e| (self.values[e], e));
        pick(
            &mut line
                .parts
                .iter()
                .copied()
                .filter(visible)
                .filter(|e| self.interior.contains(e)),
        )
        .or_else(|| pick(&mut line.parts.iter().copied().filter(visible)))
        .unwrap_or(line.total)
    }
}
