use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn p() -> Policy {
    Policy::default()
}

fn labels(t: &Table1D) -> (Vec<String>, String) {
    (
        t.cells.iter().map(|c| c.label(&p())).collect(),
        t.total.label(&p()),
    )
}

#[test]
fn large_counts_are_shown_as_they_are() {
    let t = suppress_1d(&[12, 7, 30], &p());
    assert_eq!(
        labels(&t),
        (vec!["12".into(), "7".into(), "30".into()], "49".into())
    );
}

#[test]
fn a_lone_small_count_takes_the_smallest_other_with_it() {
    let t = suppress_1d(&[12, 3, 30, 8], &p());
    assert_eq!(
        labels(&t),
        (
            vec!["12".into(), "<5".into(), "30".into(), "x".into()],
            "53".into()
        )
    );
}

#[test]
fn two_small_counts_protect_each_other_unless_their_sum_gives_them_away() {
    let t = suppress_1d(&[2, 3, 20], &p());
    assert_eq!(t.cells, [Cell::Primary, Cell::Primary, Cell::Shown(20)]);
    // 0 and 0: the reader sees "<5, <5" summing to 0, so both must be 0.
    let t = suppress_1d(&[0, 0, 20, 9], &p());
    assert_eq!(
        t.cells,
        [
            Cell::Primary,
            Cell::Primary,
            Cell::Shown(20),
            Cell::Secondary
        ]
    );
    // 4 and 4 sum to 8, the most two "<5" can hold: exposed the same way.
    let t = suppress_1d(&[4, 4, 20, 9], &p());
    assert_eq!(t.cells[3], Cell::Secondary);
}

#[test]
fn a_secondary_cell_that_reveals_its_partner_takes_a_third() {
    // With zeros shown, "<5" is 1–4; "<5" + "x" = 6 with x ≥ 5 leaves only 1 + 5.
    let keep_zero = Policy {
        threshold: 5,
        suppress_zero: false,
    };
    let t = suppress_1d(&[1, 5, 40], &keep_zero);
    assert_eq!(t.cells, [Cell::Primary, Cell::Secondary, Cell::Secondary]);
    // With zeros hidden too, 0 + 6 is as likely as 1 + 5: two cells suffice.
    let t = suppress_1d(&[1, 5, 40], &p());
    assert_eq!(t.cells, [Cell::Primary, Cell::Secondary, Cell::Shown(40)]);
}

#[test]
fn when_nothing_else_can_be_hidden_the_total_is() {
    let t = suppress_1d(&[3, 9], &p());
    assert_eq!(t.cells, [Cell::Primary, Cell::Secondary]);
    assert_eq!(t.total, Cell::Shown(12));
    let t = suppress_1d(&[0, 5], &p());
    assert_eq!(
        (t.cells.clone(), t.total),
        (vec![Cell::Primary, Cell::Secondary], Cell::Secondary)
    );
    let t = suppress_1d(&[3], &p());
    assert_eq!(
        (t.cells.clone(), t.total),
        (vec![Cell::Primary], Cell::Primary)
    );
    let t = suppress_1d(&[], &p());
    assert_eq!(t.total, Cell::Primary, "a zero total is a small count");
}

#[test]
fn zeros_can_be_shown_by_policy() {
    let keep_zero = Policy {
        threshold: 5,
        suppress_zero: false,
    };
    let t = suppress_1d(&[0, 12, 30], &keep_zero);
    assert_eq!(t.cells, [Cell::Shown(0), Cell::Shown(12), Cell::Shown(30)]);
    let t = suppress_1d(&[0, 2, 12, 30], &keep_zero);
    assert_eq!(
        t.cells,
        [
            Cell::Shown(0),
            Cell::Primary,
            Cell::Secondary,
            Cell::Shown(30)
        ],
        "a zero is never hidden to protect"
    );
    assert_eq!(
        Cell::Primary.label(&Policy {
            threshold: 10,
            suppress_zero: true
        }),
        "<10"
    );
}

#[test]
fn two_dimensional_tables_protect_rows_and_columns() {
    let counts = vec![vec![20, 3, 15], vec![12, 30, 9], vec![25, 11, 40]];
    let t = suppress_2d(&counts, &p()).unwrap();
    let hidden = |row: &[Cell]| row.iter().filter(|c| c.is_suppressed()).count();
    assert_eq!(t.cells[0][1], Cell::Primary);
    for r in &t.cells {
        assert_ne!(hidden(r), 1);
    }
    for c in 0..3 {
        let col: Vec<Cell> = t.cells.iter().map(|r| r[c]).collect();
        assert_ne!(hidden(&col), 1);
    }
    assert_eq!(t.grand_total, Cell::Shown(165));
    assert_eq!(
        t.row_totals,
        [Cell::Shown(38), Cell::Shown(51), Cell::Shown(76)]
    );
}

#[test]
fn small_totals_are_suppressed_and_protected_too() {
    let counts = vec![vec![1, 2], vec![20, 30]];
    let t = suppress_2d(&counts, &p()).unwrap();
    assert_eq!(t.row_totals[0], Cell::Primary);
    assert!(
        t.row_totals[1].is_suppressed() || t.grand_total.is_suppressed(),
        "otherwise grand − row 2 gives row 1"
    );
}

#[test]
fn ragged_tables_are_refused() {
    let e = suppress_2d(&[vec![1, 2], vec![3]], &p()).unwrap_err();
    assert_eq!(
        e,
        SuppressionError::Ragged {
            row: 1,
            expected: 2,
            found: 1
        }
    );
    let empty = suppress_2d(&[], &p()).unwrap();
    assert!(empty.cells.is_empty());
}

#[test]
fn cells_serialize_with_a_kind() {
    assert_eq!(
        serde_json::to_string(&Cell::Shown(7)).unwrap(),
        r#"{"kind":"shown","value":7}"#
    );
    assert_eq!(
        serde_json::to_string(&Cell::Primary).unwrap(),
        r#"{"kind":"primary"}"#
    );
}

// ---- properties ------------------------------------------------------------

/// What a reader can infer a hidden cell to be from its mark alone.
fn mark_range(c: Cell, policy: &Policy, cap: u64) -> Vec<u64> {
    match c {
        Cell::Shown(v) => vec![v],
        Cell::Primary => (u64::from(!policy.suppress_zero)..policy.threshold).collect(),
        Cell::Secondary => (policy.threshold..=cap.max(policy.threshold)).collect(),
    }
}

/// Every value each hidden cell can take that is consistent with all that is
/// published (marks, visible cells, visible total), by brute-force sumsets.
fn feasible_values(cells: &[Cell], total: Cell, policy: &Policy) -> Vec<BTreeSet<u64>> {
    let Cell::Shown(total) = total else {
        return vec![];
    };
    let ranges: Vec<Vec<u64>> = cells
        .iter()
        .map(|c| mark_range(*c, policy, total))
        .collect();
    (0..ranges.len())
        .filter(|&i| cells[i].is_suppressed())
        .map(|i| {
            let mut others: BTreeSet<u64> = BTreeSet::from([0]);
            for r in ranges
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, r)| r)
            {
                others = others
                    .iter()
                    .flat_map(|s| r.iter().map(move |v| s + v))
                    .filter(|s| *s <= total)
                    .collect();
            }
            ranges[i]
                .iter()
                .copied()
                .filter(|v| *v <= total && others.contains(&(total - v)))
                .collect()
        })
        .collect()
}

fn policies() -> impl Strategy<Value = Policy> {
    (3u64..=6, any::<bool>()).prop_map(|(threshold, suppress_zero)| Policy {
        threshold,
        suppress_zero,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_suppressed_value_can_be_recovered_in_one_dimension(counts in proptest::collection::vec(0u64..15, 0..7), policy in policies()) {
        let t = suppress_1d(&counts, &policy);
        if t.total.value().is_some() {
            let hidden = t.cells.iter().filter(|c| c.is_suppressed()).count();
            prop_assert_ne!(hidden, 1, "total minus the visible cells would give the hidden one");
        }
        for (k, values) in feasible_values(&t.cells, t.total, &policy).iter().enumerate() {
            prop_assert!(values.len() >= 2, "hidden cell #{} is pinned to {:?} in {:?}", k, values, t);
        }
    }

    #[test]
    fn suppression_hides_all_small_counts_and_shows_the_rest_truly(counts in proptest::collection::vec(0u64..40, 0..8), policy in policies()) {
        let t = suppress_1d(&counts, &policy);
        for (c, n) in t.cells.iter().zip(&counts) {
            match c {
                Cell::Shown(v) => prop_assert_eq!(v, n),
                Cell::Primary => prop_assert!(policy.is_small(*n)),
                Cell::Secondary => prop_assert!(*n >= policy.threshold),
            }
            if policy.is_small(*n) { prop_assert_eq!(*c, Cell::Primary); }
        }
        if let Cell::Shown(v) = t.total { prop_assert_eq!(v, counts.iter().sum::<u64>()); }
    }

    #[test]
    fn two_dimensional_lines_never_hide_exactly_one_cell(rows in 1usize..5, cols in 1usize..5, seed in proptest::collection::vec(0u64..25, 16), policy in policies()) {
        let counts: Vec<Vec<u64>> = (0..rows).map(|r| (0..cols).map(|c| seed[r * 4 + c]).collect()).collect();
        let t = suppress_2d(&counts, &policy).unwrap();
        // Each row and column alone must leave every hidden cell at least two values.
        let check = |parts: Vec<Cell>, total: Cell| {
            feasible_values(&parts, total, &policy).iter().all(|v| v.len() >= 2)
                && (total.is_suppressed() || parts.iter().filter(|c| c.is_suppressed()).count() != 1)
        };
        for ((row, published), total) in counts.iter().zip(&t.cells).zip(&t.row_totals) {
            prop_assert!(check(published.clone(), *total));
            for (n, cell) in row.iter().zip(published) {
                if policy.is_small(*n) { prop_assert_eq!(*cell, Cell::Primary); }
                if let Cell::Shown(v) = cell { prop_assert_eq!(v, n); }
            }
        }
        for c in 0..cols {
            prop_assert!(check(t.cells.iter().map(|row| row[c]).collect(), t.col_totals[c]));
        }
        prop_assert!(check(t.row_totals.clone(), t.grand_total));
        prop_assert!(check(t.col_totals.clone(), t.grand_total));
    }
}
