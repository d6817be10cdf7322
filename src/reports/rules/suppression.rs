//! Suppression that cannot be undone from the same response.
//!
//! Hiding the small cells (primary suppression) is not enough: a response also states
//! sums (a distribution's cells add up to the headcount, a cumulative count is the
//! previous one plus this cell, the child localities and the own units add up to the
//! total), and a hidden cell that is the only unknown of a sum is the sum minus the
//! rest. So the cells of a report form a [`Table`]: values (counts and cumulative
//! counts), grouped in cells that are shown or hidden as one, and the sums the
//! response states. [`Table::suppress`] hides:
//!
//! 1. every cell with a value between 1 and the threshold (primary suppression);
//! 2. every cell taken of a hidden value (its denominator would disclose it);
//! 3. in every sum with exactly one hidden value, a second one (complementary
//!    suppression), the smallest non-zero shown value so that as little as possible
//!    is lost, a zero only when the sum has nothing else;
//! 4. repeated to a fixed point, then checked exactly: a hidden value is disclosed iff
//!    its unit vector lies in the row space of the sums restricted to the hidden
//!    values (Gauss–Jordan elimination over the integers); each disclosed value gets
//!    one more partner, and the whole is repeated until nothing is disclosed.
//!
//! What must stay unknown is every hidden count, and every hidden cumulative count
//! below the threshold; a larger cumulative count of a hidden cell (71 people at
//! master or higher) may follow from the cells below it without disclosing any count.
//!
//! Hiding more never discloses a hidden value that was safe, so the loop only grows
//! the hidden set and ends.

use std::collections::BTreeMap;

/// One value of a table: a count or a cumulative count.
pub type ValueId = usize;

/// One cell of a table: the values shown or hidden together.
pub type CellId = usize;

/// The right-hand side of a stated sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// A figure that is always shown (a headcount, a movement count).
    Public(i64),
    /// A value of the table, which may be hidden.
    Value(ValueId),
}

/// A sum a response states: the parts add up to the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sum {
    /// What the parts add up to.
    pub total: Total,
    /// The values added.
    pub parts: Vec<ValueId>,
}

#[derive(Debug, Clone, Default)]
struct Cell {
    values: Vec<ValueId>,
    hidden: bool,
    denominator: Option<ValueId>,
}

/// The cells of a response, their values and the sums between them.
#[derive(Debug, Clone, Default)]
pub struct Table {
    values: Vec<i64>,
    is_count: Vec<bool>,
    cell_of: Vec<CellId>,
    threshold: i64,
    cells: Vec<Cell>,
    sums: Vec<Sum>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a cell of `count` people, with the cumulative count of its ordered scale if
    /// any, shown or hidden together; returns the cell and the ids of its values.
    pub fn cell(&mut self, count: i64, cumulative: Option<i64>) -> (CellId, ValueId, Option<ValueId>) {
        let id = self.cells.len();
        let mut push = |value: i64, is_count: bool| {
            self.values.push(value);
            self.is_count.push(is_count);
            self.cell_of.push(id);
            self.values.len() - 1
        };
        let count = push(count, true);
        let cumulative = cumulative.map(|c| push(c, false));
        self.cells.push(Cell { values: [Some(count), cumulative].into_iter().flatten().collect(), ..Cell::default() });
        (id, count, cumulative)
    }

    /// Makes `cell` a share of `denominator`: hidden whenever that value is.
    pub fn taken_of(&mut self, cell: CellId, denominator: ValueId) {
        if let Some(c) = self.cells.get_mut(cell) {
            c.denominator = Some(denominator);
        }
    }

    /// States that `parts` add up to `total`.
    pub fn sum(&mut self, total: Total, parts: Vec<ValueId>) {
        self.sums.push(Sum { total, parts });
    }

    /// Whether `cell` is hidden.
    pub fn is_hidden(&self, cell: CellId) -> bool {
        self.cells.get(cell).is_some_and(|c| c.hidden)
    }

    /// Whether `value` is hidden (its cell is).
    pub fn value_hidden(&self, value: ValueId) -> bool {
        self.cell_of.get(value).is_some_and(|c| self.is_hidden(*c))
    }

    /// Hides `cell`; returns whether it was shown.
    pub fn hide(&mut self, cell: CellId) -> bool {
        match self.cells.get_mut(cell) {
            Some(c) if !c.hidden => {
                c.hidden = true;
                true
            }
            _ => false,
        }
    }

    /// The number of hidden cells.
    pub fn hidden_count(&self) -> usize {
        self.cells.iter().filter(|c| c.hidden).count()
    }

    /// Hides every cell with a value from 1 to `threshold − 1`, then as many others as
    /// it takes for no hidden value to be recomputable from the shown ones and the
    /// stated sums (see the module).
    pub fn suppress(&mut self, threshold: i64) {
        self.threshold = threshold;
        let small = |n: i64| n > 0 && n < threshold;
        for id in 0..self.cells.len() {
            let primary = self
                .cells
                .get(id)
                .is_some_and(|c| c.values.iter().any(|v| self.values.get(*v).copied().is_some_and(small)));
            if primary {
                self.hide(id);
            }
        }
        loop {
            if self.propagate() {
                continue;
            }
            let disclosed = self.disclosed();
            if disclosed.is_empty() {
                break;
            }
            let mut changed = false;
            for value in disclosed {
                changed |= self.partner_for(value);
            }
            if !changed {
                // Nothing shown is left to hide next to a disclosed value: only sums
                // of public figures remain, which disclose nothing not already shown.
                break;
            }
        }
    }

    /// Hides the cells taken of hidden values and a partner in every sum with a single
    /// hidden value, until neither rule applies; returns whether anything was hidden.
    fn propagate(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut changed = false;
            for id in 0..self.cells.len() {
                let hide = self.cells.get(id).and_then(|c| c.denominator).is_some_and(|d| self.value_hidden(d));
                if hide {
                    changed |= self.hide(id);
                }
            }
            for s in 0..self.sums.len() {
                let members = self.members(s);
                let mut hidden = members.iter().filter(|v| self.value_hidden(**v));
                if let (Some(only), None) = (hidden.next(), hidden.next())
                    && self.secret(*only)
                {
                    changed |= self.hide_partner(&members);
                }
            }
            if !changed {
                return any;
            }
            any = true;
        }
    }

    /// Whether `value` is hidden and must stay unknown: a count, or a cumulative count
    /// below the threshold. A larger cumulative count of a hidden cell (71 people at
    /// master or higher) may follow from the cells below it without disclosing a
    /// hidden count; hiding it with its cell keeps the wire's one flag per cell.
    fn secret(&self, value: ValueId) -> bool {
        let small = |n: i64| n > 0 && n < self.threshold;
        self.value_hidden(value)
            && (self.is_count.get(value).copied().unwrap_or(true) || self.values.get(value).copied().is_some_and(small))
    }

    fn members(&self, sum: usize) -> Vec<ValueId> {
        let Some(s) = self.sums.get(sum) else { return Vec::new() };
        let mut members = s.parts.clone();
        if let Total::Value(v) = s.total {
            members.push(v);
        }
        members
    }

    /// Hides the cell of the smallest non-zero shown value among `members` (a zero if
    /// nothing else is shown); returns whether one was hidden.
    fn hide_partner(&mut self, members: &[ValueId]) -> bool {
        let value = |v: &ValueId| self.values.get(*v).copied().unwrap_or_default();
        let shown = members.iter().filter(|v| !self.value_hidden(**v));
        let best = shown.min_by_key(|v| (value(v) == 0, value(v)));
        match best.and_then(|v| self.cell_of.get(*v)).copied() {
            Some(cell) => self.hide(cell),
            None => false,
        }
    }

    /// Hides a partner for the disclosed `value` in one of its sums with a shown
    /// member; returns whether one was hidden.
    fn partner_for(&mut self, value: ValueId) -> bool {
        for s in 0..self.sums.len() {
            let members = self.members(s);
            if members.contains(&value) && self.hide_partner(&members) {
                return true;
            }
        }
        false
    }

    /// The secret values (see [`Table::suppress`]) that the shown values and the stated
    /// sums determine exactly.
    pub fn disclosed(&self) -> Vec<ValueId> {
        // Equations over the hidden values only, split into independent groups.
        let hidden: Vec<ValueId> = (0..self.values.len()).filter(|v| self.value_hidden(*v)).collect();
        let mut parent: BTreeMap<ValueId, ValueId> = hidden.iter().map(|v| (*v, *v)).collect();
        let rows: Vec<Row> = self
            .sums
            .iter()
            .map(|s| {
                let mut row: BTreeMap<ValueId, i128> = BTreeMap::new();
                for p in &s.parts {
                    *row.entry(*p).or_default() += 1;
                }
                if let Total::Value(t) = s.total {
                    *row.entry(t).or_default() -= 1;
                }
                row.into_iter().filter(|(v, c)| *c != 0 && self.value_hidden(*v)).collect::<Vec<_>>()
            })
            .filter(|row: &Row| !row.is_empty())
            .collect();
        for row in &rows {
            if let Some((first, _)) = row.first() {
                for (v, _) in row.iter().skip(1) {
                    union(&mut parent, *first, *v);
                }
            }
        }
        let mut groups: BTreeMap<ValueId, (Vec<ValueId>, Vec<&Row>)> = BTreeMap::new();
        for v in &hidden {
            let root = find(&mut parent, *v);
            groups.entry(root).or_default().0.push(*v);
        }
        for row in &rows {
            if let Some((first, _)) = row.first() {
                let root = find(&mut parent, *first);
                groups.entry(root).or_default().1.push(row);
            }
        }
        let mut disclosed = Vec::new();
        for (columns, rows) in groups.values() {
            if rows.is_empty() {
                continue;
            }
            let index: BTreeMap<ValueId, usize> = columns.iter().enumerate().map(|(i, v)| (*v, i)).collect();
            let matrix: Vec<Vec<i128>> = rows
                .iter()
                .map(|row| {
                    let mut dense = vec![0; columns.len()];
                    for (v, c) in row.iter() {
                        if let Some(slot) = index.get(v).and_then(|i| dense.get_mut(*i)) {
                            *slot = *c;
                        }
                    }
                    dense
                })
                .collect();
            match determined_columns(matrix) {
                Some(found) => disclosed.extend(found.into_iter().filter_map(|i| columns.get(i).copied())),
                // Numbers too large to eliminate exactly: assume the worst.
                None => disclosed.extend(columns.iter().copied()),
            }
        }
        disclosed.retain(|v| self.secret(*v));
        disclosed
    }
}

/// A sum as an equation over the hidden values: (value, coefficient).
type Row = Vec<(ValueId, i128)>;

fn find(parent: &mut BTreeMap<ValueId, ValueId>, v: ValueId) -> ValueId {
    let mut root = v;
    while let Some(p) = parent.get(&root).copied().filter(|p| *p != root) {
        root = p;
    }
    parent.insert(v, root);
    root
}

fn union(parent: &mut BTreeMap<ValueId, ValueId>, a: ValueId, b: ValueId) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent.insert(rb, ra);
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The columns of `matrix` whose unit vector lies in its row space: after Gauss–Jordan
/// elimination (rows kept integral, divided by their gcd), those whose pivot row has
/// no other non-zero entry. `None` if a number outgrew i128.
pub fn determined_columns(mut matrix: Vec<Vec<i128>>) -> Option<Vec<usize>> {
    let width = matrix.first().map_or(0, Vec::len);
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    let mut next = 0;
    for col in 0..width {
        let Some(found) = (next..matrix.len()).find(|r| matrix.get(*r).and_then(|row| row.get(col)) != Some(&0)) else {
            continue;
        };
        matrix.swap(next, found);
        let pivot_row = matrix.get(next)?.clone();
        let p = *pivot_row.get(col)?;
        for (r, row) in matrix.iter_mut().enumerate() {
            let f = *row.get(col)?;
            if r == next || f == 0 {
                continue;
            }
            let mut g = 0;
            for (x, y) in row.iter_mut().zip(&pivot_row) {
                *x = x.checked_mul(p)?.checked_sub(y.checked_mul(f)?)?;
                g = gcd(g, *x);
            }
            if g > 1 {
                row.iter_mut().for_each(|x| *x /= g);
            }
        }
        pivots.push((next, col));
        next += 1;
    }
    Some(
        pivots
            .into_iter()
            .filter(|(r, _)| matrix.get(*r).is_some_and(|row| row.iter().filter(|x| **x != 0).count() == 1))
            .map(|(_, c)| c)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distribution of `counts` adding up to their public sum; returns the cells.
    fn distribution(table: &mut Table, counts: &[i64]) -> Vec<(CellId, ValueId)> {
        let cells: Vec<(CellId, ValueId)> =
            counts.iter().map(|c| table.cell(*c, None)).map(|(c, v, _)| (c, v)).collect();
        table.sum(Total::Public(counts.iter().sum()), cells.iter().map(|(_, v)| *v).collect());
        cells
    }

    fn hidden(table: &Table, cells: &[(CellId, ValueId)]) -> Vec<bool> {
        cells.iter().map(|(c, _)| table.is_hidden(*c)).collect()
    }

    #[test]
    fn a_lone_small_cell_gets_the_smallest_non_zero_partner() {
        let mut table = Table::new();
        let cells = distribution(&mut table, &[40, 3, 0, 12, 9]);
        table.suppress(5);
        assert_eq!(hidden(&table, &cells), [false, true, false, false, true]);
        assert!(table.disclosed().is_empty());
    }

    #[test]
    fn nothing_small_hides_nothing_and_zero_discloses_nobody() {
        let mut table = Table::new();
        let cells = distribution(&mut table, &[40, 0, 5, 12]);
        table.suppress(5);
        assert_eq!(table.hidden_count(), 0, "{:?}", hidden(&table, &cells));
    }

    #[test]
    fn a_zero_is_the_partner_only_when_nothing_else_is_shown() {
        let mut table = Table::new();
        let cells = distribution(&mut table, &[3, 0]);
        table.suppress(5);
        assert_eq!(hidden(&table, &cells), [true, true]);
        assert!(table.disclosed().is_empty());
    }

    #[test]
    fn cumulative_counts_do_not_disclose_a_hidden_level() {
        // doctorate 3, master 68 (cumulative 71), university 100, none 29 of 200.
        let mut table = Table::new();
        let (doctorate, d, Some(dc)) = table.cell(3, Some(3)) else { panic!() };
        let (master, m, Some(mc)) = table.cell(68, Some(71)) else { panic!() };
        let (university, u, Some(uc)) = table.cell(100, Some(171)) else { panic!() };
        let (none, n, _) = table.cell(29, None);
        table.sum(Total::Value(dc), vec![d]);
        table.sum(Total::Value(mc), vec![dc, m]);
        table.sum(Total::Value(uc), vec![mc, u]);
        table.sum(Total::Public(200), vec![uc, n]);
        table.sum(Total::Public(200), vec![d, m, u, n]);
        table.suppress(5);
        assert!(table.is_hidden(doctorate) && table.is_hidden(master), "master's cumulative would give 71 − 68");
        assert!(!table.is_hidden(university) && !table.is_hidden(none), "71 people at master or higher say nothing");
        assert!(table.disclosed().is_empty());
    }

    #[test]
    fn children_and_own_units_that_add_up_to_the_total_get_partners_across_groups() {
        // Two groups (rows) of two cells each, and the total row; each row adds up to a
        // public headcount, each column of the groups to the total's cell.
        let mut table = Table::new();
        let a = distribution(&mut table, &[3, 20]);
        let b = distribution(&mut table, &[30, 40]);
        let total = distribution(&mut table, &[33, 60]);
        for col in 0..2 {
            table.sum(Total::Value(total[col].1), vec![a[col].1, b[col].1]);
        }
        table.suppress(5);
        assert_eq!(hidden(&table, &a), [true, true]);
        assert_eq!(hidden(&table, &b), [true, true], "each column needs a second hidden cell");
        assert_eq!(hidden(&table, &total), [false, false], "the total row is then safe to show");
        assert!(table.disclosed().is_empty());
    }

    #[test]
    fn a_cell_taken_of_a_hidden_count_is_hidden_with_it() {
        let mut table = Table::new();
        let (under_way, u, _) = table.cell(4, None);
        let (other, o, _) = table.cell(96, None);
        table.sum(Total::Public(100), vec![u, o]);
        let (completed, ..) = table.cell(4, None);
        table.taken_of(completed, u);
        let (started, ..) = table.cell(0, None);
        table.taken_of(started, u);
        table.suppress(5);
        assert!(table.is_hidden(under_way) && table.is_hidden(other));
        assert!(table.is_hidden(completed) && table.is_hidden(started));
    }

    #[test]
    fn the_exact_check_catches_what_pairs_per_sum_miss() {
        // Hidden cells x, y in row 1 and columns 1, 2; z, w in row 2, columns 3, 4;
        // a bridge cell b in row 1, column 3 links them: every row and column has two
        // hidden cells, yet b is determined. The exact check must hide more.
        let mut table = Table::new();
        let values = [[3, 3, 3, 0], [0, 0, 3, 3], [9, 9, 9, 9]];
        let rows: Vec<Vec<(CellId, ValueId)>> = values.iter().map(|r| distribution(&mut table, r)).collect();
        let totals: Vec<(CellId, ValueId)> =
            (0..4).map(|c| table.cell(values.iter().map(|r| r[c]).sum(), None)).map(|(c, v, _)| (c, v)).collect();
        for col in 0..4 {
            table.sum(Total::Value(totals[col].1), rows.iter().map(|r| r[col].1).collect());
        }
        table.suppress(5);
        assert!(table.disclosed().is_empty());
        for (r, row) in values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if *v > 0 && *v < 5 {
                    assert!(table.is_hidden(rows[r][c].0));
                }
            }
        }
    }

    #[test]
    fn elimination_finds_exactly_the_determined_columns() {
        // x0 + x1 = k; x1 = k'; x2 + x3 = k''.
        let found = determined_columns(vec![vec![1, 1, 0, 0], vec![0, 1, 0, 0], vec![0, 0, 1, 1]]);
        assert_eq!(found, Some(vec![0, 1]));
        assert_eq!(determined_columns(vec![vec![1, -1, 0], vec![0, 1, -1], vec![1, 0, -1]]), Some(vec![]));
    }
}
