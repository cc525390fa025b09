//! Where a template row lands once list rows above it have expanded.

use crate::cellref::MAX_ROW;

/// The list rows of one sheet and how many rows each became. A list row `t`
/// that became `n` rows occupies `new(t) ..= new(t) + n - 1`; every row below
/// it moves down by `n - 1`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowMap {
    /// (template row, rows it became, rows added by list rows above it), by row.
    lists: Vec<(u32, u32, u64)>,
}

impl RowMap {
    /// `expansions`: (template row, rows it became ≥ 1), any order.
    pub(crate) fn new(mut expansions: Vec<(u32, u32)>) -> RowMap {
        expansions.retain(|&(_, n)| n > 1);
        expansions.sort_unstable();
        let mut added = 0u64;
        let lists = expansions
            .into_iter()
            .map(|(row, n)| {
                let entry = (row, n, added);
                added += u64::from(n - 1);
                entry
            })
            .collect();
        RowMap { lists }
    }

    /// True when no row moves.
    pub(crate) fn is_identity(&self) -> bool {
        self.lists.is_empty()
    }

    /// Rows added in total.
    pub(crate) fn added(&self) -> u64 {
        self.lists
            .last()
            .map_or(0, |&(_, n, a)| a + u64::from(n - 1))
    }

    /// The new number of template row `row` (its first row if it is a list row).
    pub(crate) fn start(&self, row: u32) -> u64 {
        let above = self.lists.partition_point(|&(t, _, _)| t < row);
        let added = match above.checked_sub(1).and_then(|i| self.lists.get(i)) {
            Some(&(_, n, a)) => a + u64::from(n - 1),
            None => 0,
        };
        u64::from(row) + added
    }

    /// The last new row that template row `row` covers.
    pub(crate) fn end(&self, row: u32) -> u64 {
        let start = self.start(row);
        match self.lists.binary_search_by_key(&row, |&(t, _, _)| t) {
            Ok(i) => start + self.lists.get(i).map_or(0, |&(_, n, _)| u64::from(n - 1)),
            Err(_) => start,
        }
    }

    /// [`RowMap::start`] if it is still a row of the sheet.
    pub(crate) fn start_checked(&self, row: u32) -> Option<u32> {
        u32::try_from(self.start(row))
            .ok()
            .filter(|&r| r <= MAX_ROW)
    }

    /// [`RowMap::end`], cut at the sheet's last row (a range to the bottom
    /// stays a range to the bottom).
    pub(crate) fn end_clamped(&self, row: u32) -> u32 {
        u32::try_from(self.end(row).min(u64::from(MAX_ROW))).unwrap_or(MAX_ROW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_move_below_lists() {
        let map = RowMap::new(vec![(9, 2), (5, 4), (7, 1)]);
        assert_eq!(map.start(4), 4);
        assert_eq!((map.start(5), map.end(5)), (5, 8));
        assert_eq!(map.start(6), 9);
        assert_eq!(map.start(7), 10);
        assert_eq!((map.start(9), map.end(9)), (12, 13));
        assert_eq!(map.start(10), 14);
        assert_eq!(map.added(), 4);
        assert!(RowMap::new(vec![(3, 1)]).is_identity());
        assert_eq!(map.end_clamped(MAX_ROW), MAX_ROW);
        assert_eq!(map.start_checked(MAX_ROW), None);
    }
}
