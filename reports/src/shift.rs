//! Moving references when list rows expand: a reference to a row below a
//! list moves down with it, a range that ends on a list row grows over the
//! generated rows, and in a list row's own formulas same-row relative
//! references follow each generated row. Applies to this sheet's references
//! and to other sheets' references to it (`Data!C7`).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::formula::{Coord, RefEnd, Role, Sheet, rewrite, rewrite_areas, rewrite_series};
use crate::rows::RowMap;

/// The row maps of a fill, seen from one sheet.
pub(crate) struct Shift<'a> {
    own_name: String,
    own: &'a RowMap,
    /// Every sheet whose rows move, by lower-cased name.
    maps: &'a HashMap<String, RowMap>,
}

/// In a list row's formula: relative references to template row `.0` go to row `.1`.
pub(crate) type SameRow = Option<(u32, u32)>;

impl<'a> Shift<'a> {
    pub(crate) fn new(
        own_name: &str,
        maps: &'a HashMap<String, RowMap>,
        identity: &'a RowMap,
    ) -> Shift<'a> {
        let own_name = own_name.to_lowercase();
        let own = maps.get(&own_name).unwrap_or(identity);
        Shift {
            own_name,
            own,
            maps,
        }
    }

    /// Some sheet's rows move (formulas naming it must be rewritten).
    pub(crate) fn active(&self) -> bool {
        !self.maps.is_empty()
    }

    /// This sheet's rows move.
    pub(crate) fn own_moves(&self) -> bool {
        !self.own.is_identity()
    }

    pub(crate) fn map(&self) -> &RowMap {
        self.own
    }

    fn fix_end(
        &self,
        sheet: Sheet<'_>,
        end: RefEnd,
        role: Role,
        same_row: SameRow,
    ) -> Option<RefEnd> {
        let (map, own) = match sheet {
            Sheet::Own => (self.own, true),
            Sheet::Named(name) => {
                let name = name.to_lowercase();
                if name == self.own_name {
                    (self.own, true)
                } else if let Some(m) = self.maps.get(&name) {
                    (m, false)
                } else {
                    return Some(end);
                }
            }
            Sheet::Foreign => return Some(end),
        };
        let Some(row) = end.row else {
            return Some(end); // whole columns never move
        };
        let n = match same_row {
            Some((t, target)) if own && !row.abs && row.n == t => target,
            _ => match role {
                Role::Single | Role::Start => map.start_checked(row.n)?,
                Role::End => map.end_clamped(row.n),
            },
        };
        Some(RefEnd {
            row: Some(Coord { n, abs: row.abs }),
            ..end
        })
    }

    /// A formula (cell, rule, validation, defined name, link location).
    pub(crate) fn formula<'f>(&self, f: &'f str, same_row: SameRow) -> Cow<'f, str> {
        if !self.active() {
            return Cow::Borrowed(f);
        }
        let mut fix = |s: Sheet<'_>, e: RefEnd, r: Role| self.fix_end(s, e, r, same_row);
        rewrite(f, &mut fix)
    }

    /// A chart series: a single cell on a list row grows like a range.
    pub(crate) fn series<'f>(&self, f: &'f str) -> Cow<'f, str> {
        if !self.active() {
            return Cow::Borrowed(f);
        }
        let mut fix = |s: Sheet<'_>, e: RefEnd, r: Role| self.fix_end(s, e, r, None);
        rewrite_series(f, &mut fix)
    }

    /// A 0-based row number of a drawing anchor on this sheet.
    pub(crate) fn row0(&self, row0: u32) -> u32 {
        let start = self.own.start(row0.saturating_add(1));
        u32::try_from(start.saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// A `ref`/`sqref` list of areas on this sheet.
    pub(crate) fn areas<'f>(&self, a: &'f str, same_row: SameRow) -> Cow<'f, str> {
        if !self.own_moves() {
            return Cow::Borrowed(a);
        }
        let mut fix = |s: Sheet<'_>, e: RefEnd, r: Role| self.fix_end(s, e, r, same_row);
        rewrite_areas(a, &mut fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_grows_and_follows_rows() {
        let mut maps = HashMap::new();
        maps.insert("data".to_string(), RowMap::new(vec![(5, 3)]));
        let id = RowMap::default();
        let data = Shift::new("Data", &maps, &id);
        assert_eq!(
            data.formula("SUM(C5:C5)+C6+C4+$C$7", None),
            "SUM(C5:C7)+C8+C4+$C$9"
        );
        assert_eq!(
            data.formula("SUM(C2:C9)+SUM(5:5)+SUM(C:C)", None),
            "SUM(C2:C11)+SUM(5:7)+SUM(C:C)"
        );
        assert_eq!(data.formula("C5*$D5+E$5+D4", Some((5, 6))), "C6*$D6+E$5+D4");
        assert_eq!(data.formula("SUM($C$5:C5)", Some((5, 7))), "SUM($C$5:C7)");
        assert_eq!(data.areas("C5 A1:D5 A6:B6", None), "C5:C7 A1:D7 A8:B8");
        let other = Shift::new("Summary", &maps, &id);
        assert_eq!(
            other.formula("Data!C6+'DATA'!C5+C6", None),
            "Data!C8+'DATA'!C5+C6"
        );
        assert_eq!(other.areas("C6", None), "C6");
    }
}
