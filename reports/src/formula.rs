//! References inside formulas: find every A1 reference (cell, range,
//! whole rows, whole columns) with the sheet it names, and rewrite it.
//!
//! This is a scanner, not a formula parser: it skips string literals,
//! `[...]` groups (structured and external references) and `#ERRORS!`, and
//! takes a word as a reference only when it has a reference's shape and is not
//! a function name. References into other workbooks and 3-D references
//! (`Sheet1:Sheet3!A1`) are left as written.

use std::borrow::Cow;

use crate::cellref::{MAX_COL, MAX_ROW, col_name, col_number, parse_row};

/// One coordinate of a reference: its number and whether it has a `$`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Coord {
    pub(crate) n: u32,
    pub(crate) abs: bool,
}

/// One end of a reference: a cell has both, `A:C` has columns, `5:7` rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RefEnd {
    pub(crate) col: Option<Coord>,
    pub(crate) row: Option<Coord>,
}

/// Which end of a reference the rewrite sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Single,
    Start,
    End,
}

/// The sheet a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sheet<'s> {
    /// No sheet: the formula's own.
    Own,
    /// `Name!A1` or `'My name'!A1` (unquoted, `''` undone).
    Named(&'s str),
    /// Another workbook or a 3-D reference: never rewritten.
    Foreign,
}

/// Rewrites each reference end; `None` turns the reference into `#REF!`.
pub(crate) type Fix<'f> = dyn FnMut(Sheet<'_>, RefEnd, Role) -> Option<RefEnd> + 'f;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cell,
    Col,
    Row,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'\\' | b'?') || b >= 0x80
}

fn word_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_word_byte(c)) {
        i += 1;
    }
    i
}

/// Parses `$A$1`, `A`, `$5` (whole word) as a reference end.
fn parse_end(word: &str) -> Option<(RefEnd, Kind)> {
    let (col_abs, rest) = match word.strip_prefix('$') {
        Some(r) => (true, r),
        None => (false, word),
    };
    let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (letters, rest) = rest.split_at(letters);
    if letters.is_empty() {
        // Whole rows: `5` or `$5` (col_abs is the row's `$` here).
        let row = parse_row(rest)?;
        let end = RefEnd {
            col: None,
            row: Some(Coord {
                n: row,
                abs: col_abs,
            }),
        };
        return Some((end, Kind::Row));
    }
    let col = Coord {
        n: col_number(letters)?,
        abs: col_abs,
    };
    if rest.is_empty() {
        let end = RefEnd {
            col: Some(col),
            row: None,
        };
        return Some((end, Kind::Col));
    }
    let (row_abs, digits) = match rest.strip_prefix('$') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let row = Coord {
        n: parse_row(digits)?,
        abs: row_abs,
    };
    Some((
        RefEnd {
            col: Some(col),
            row: Some(row),
        },
        Kind::Cell,
    ))
}

fn write_end(out: &mut String, end: RefEnd) {
    if let Some(c) = end.col {
        if c.abs {
            out.push('$');
        }
        out.push_str(&col_name(c.n));
    }
    if let Some(r) = end.row {
        if r.abs {
            out.push('$');
        }
        out.push_str(&r.n.to_string());
    }
}

/// Index just past a `"..."` literal starting at `i` (`""` is an escaped quote).
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(&c) = b.get(i) {
        i += 1;
        if c == b'"' {
            if b.get(i) == Some(&b'"') {
                i += 1;
            } else {
                return i;
            }
        }
    }
    i
}

/// Index just past the `]` matching the `[` at `i` (nested for structured refs).
fn skip_brackets(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some(&c) = b.get(i) {
        i += 1;
        match c {
            b'[' => depth += 1,
            b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            // `'` escapes the next character inside structured references.
            b'\'' => i += 1,
            _ => {}
        }
    }
    i.min(b.len())
}

/// Rewrites every reference in `formula` through `fix`. Borrowed when nothing changed.
pub(crate) fn rewrite<'a>(formula: &'a str, fix: &mut Fix<'_>) -> Cow<'a, str> {
    rewrite_with(formula, fix, false)
}

/// [`rewrite`] for chart series (`Sheet1!$B$4`): a single cell is the area
/// `B4:B4` to `fix`, so a series over a list row grows with it.
pub(crate) fn rewrite_series<'a>(formula: &'a str, fix: &mut Fix<'_>) -> Cow<'a, str> {
    rewrite_with(formula, fix, true)
}

fn rewrite_with<'a>(formula: &'a str, fix: &mut Fix<'_>, cells_are_areas: bool) -> Cow<'a, str> {
    let b = formula.as_bytes();
    let mut out = String::new();
    // Up to `copied` the output equals the input (no allocation until a change).
    let mut copied = 0usize;
    let mut changed = false;
    let mut i = 0usize;
    let mut after_bracket = false;
    while let Some(&c) = b.get(i) {
        let was_after_bracket = std::mem::take(&mut after_bracket);
        match c {
            b'"' => i = skip_string(b, i),
            b'[' => {
                i = skip_brackets(b, i);
                after_bracket = true;
            }
            b'#' => {
                // An error literal (`#REF!`, `#N/A`, `#DIV/0!`): never a sheet name.
                i += 1;
                while b
                    .get(i)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'/')
                {
                    i += 1;
                }
                if matches!(b.get(i), Some(b'!' | b'?')) {
                    i += 1;
                }
            }
            b'\'' => {
                let (name_end, name) = quoted_name(formula, i);
                if b.get(name_end) == Some(&b'!') {
                    let sheet = if was_after_bracket || name.starts_with('[') || name.contains(':')
                    {
                        Sheet::Foreign
                    } else {
                        Sheet::Named(&name)
                    };
                    let start = i;
                    let (end, text) = reference(formula, name_end + 1, sheet, fix, cells_are_areas);
                    if let Some(text) = text {
                        flush(&mut out, formula, &mut copied, start);
                        out.push_str(formula.get(start..=name_end).unwrap_or(""));
                        out.push_str(&text);
                        copied = end;
                        changed = true;
                    }
                    i = end;
                } else {
                    i = name_end;
                }
            }
            c if is_word_byte(c) => {
                let end = word_end(b, i);
                let sheet = match b.get(end) {
                    Some(b'!') => Some(end),
                    // `Sheet1:Sheet3!A1`: a 3-D reference.
                    Some(b':') => {
                        let e2 = word_end(b, end + 1);
                        (e2 > end + 1
                            && b.get(e2) == Some(&b'!')
                            && !is_ref_word(formula.get(i..end).unwrap_or("")))
                        .then_some(e2)
                    }
                    _ => None,
                };
                let start = i;
                let (ref_start, which) = match sheet {
                    Some(bang) => {
                        let name = formula.get(i..end).unwrap_or("");
                        let which = if was_after_bracket || bang != end {
                            Sheet::Foreign
                        } else {
                            Sheet::Named(name)
                        };
                        (bang + 1, which)
                    }
                    None => (i, Sheet::Own),
                };
                let (stop, text) = reference(formula, ref_start, which, fix, cells_are_areas);
                if let Some(text) = text {
                    flush(&mut out, formula, &mut copied, start);
                    out.push_str(formula.get(start..ref_start).unwrap_or(""));
                    out.push_str(&text);
                    copied = stop;
                    changed = true;
                }
                i = stop.max(end);
            }
            _ => i += 1,
        }
    }
    if !changed {
        return Cow::Borrowed(formula);
    }
    flush(&mut out, formula, &mut copied, formula.len());
    Cow::Owned(out)
}

fn is_ref_word(word: &str) -> bool {
    parse_end(word).is_some()
}

fn flush(out: &mut String, src: &str, copied: &mut usize, upto: usize) {
    if upto > *copied {
        out.push_str(src.get(*copied..upto).unwrap_or(""));
        *copied = upto;
    }
}

/// A `'quoted name'` at `i`: index just past the closing quote, and the name.
fn quoted_name(src: &str, i: usize) -> (usize, Cow<'_, str>) {
    let b = src.as_bytes();
    let mut j = i + 1;
    let mut escaped = false;
    while let Some(&c) = b.get(j) {
        if c == b'\'' {
            if b.get(j + 1) == Some(&b'\'') {
                escaped = true;
                j += 2;
                continue;
            }
            let inner = src.get(i + 1..j).unwrap_or("");
            let name = if escaped {
                Cow::Owned(inner.replace("''", "'"))
            } else {
                Cow::Borrowed(inner)
            };
            return (j + 1, name);
        }
        j += 1;
    }
    (b.len(), Cow::Borrowed(""))
}

/// A reference starting at `at`: where it (or the non-reference word) ends,
/// and its new text if `fix` changed it.
fn reference(
    src: &str,
    at: usize,
    sheet: Sheet<'_>,
    fix: &mut Fix<'_>,
    cells_are_areas: bool,
) -> (usize, Option<String>) {
    let b = src.as_bytes();
    let end1 = word_end(b, at);
    let word1 = src.get(at..end1).unwrap_or("");
    if b.get(end1) == Some(&b'(') {
        return (end1, None); // a function such as LOG10(
    }
    let Some((first, kind)) = parse_end(word1) else {
        return (end1, None);
    };
    let mut second = None;
    if b.get(end1) == Some(&b':') {
        let end2 = word_end(b, end1 + 1);
        let word2 = src.get(end1 + 1..end2).unwrap_or("");
        if !matches!(b.get(end2), Some(b'(' | b'!'))
            && let Some((e2, k2)) = parse_end(word2)
            && k2 == kind
        {
            second = Some((e2, end2));
        }
    }
    let Some((last, stop)) = second else {
        if kind != Kind::Cell {
            return (end1, None); // a lone `A` or `5` is a name or a number
        }
        if cells_are_areas {
            return match (fix(sheet, first, Role::Start), fix(sheet, first, Role::End)) {
                (Some(a), Some(z)) if a == first && z == first => (end1, None),
                (Some(a), Some(z)) => {
                    let mut s = String::new();
                    write_end(&mut s, a);
                    if z != a {
                        s.push(':');
                        write_end(&mut s, z);
                    }
                    (end1, Some(s))
                }
                _ => (end1, Some("#REF!".to_string())),
            };
        }
        let text = fix(sheet, first, Role::Single).map(|new| (new != first).then_some(new));
        return match text {
            Some(None) => (end1, None),
            Some(Some(new)) => {
                let mut s = String::new();
                write_end(&mut s, new);
                (end1, Some(s))
            }
            None => (end1, Some("#REF!".to_string())),
        };
    };
    let a = fix(sheet, first, Role::Start);
    let z = fix(sheet, last, Role::End);
    match (a, z) {
        (Some(a), Some(z)) if a == first && z == last => (stop, None),
        (Some(a), Some(z)) => {
            let mut s = String::new();
            write_end(&mut s, a);
            s.push(':');
            write_end(&mut s, z);
            (stop, Some(s))
        }
        _ => (stop, Some("#REF!".to_string())),
    }
}

/// Rewrites a `ref`/`sqref` value: areas (`A1`, `A1:B2`, `A:A`, `1:3`)
/// separated by spaces, all on the sheet itself. A single cell is the area
/// `A1:A1` to `fix` (so it can grow); areas that `fix` drops are left out.
pub(crate) fn rewrite_areas<'a>(areas: &'a str, fix: &mut Fix<'_>) -> Cow<'a, str> {
    let mut out = String::new();
    let mut changed = false;
    for area in areas.split_ascii_whitespace() {
        let (a, z) = match area.split_once(':') {
            Some((a, z)) => (a, z),
            None => (area, area),
        };
        let (Some((first, k1)), Some((last, k2))) = (parse_end(a), parse_end(z)) else {
            push_area(&mut out, area);
            continue;
        };
        if k1 != k2 {
            push_area(&mut out, area);
            continue;
        }
        match (
            fix(Sheet::Own, first, Role::Start),
            fix(Sheet::Own, last, Role::End),
        ) {
            (Some(na), Some(nz)) => {
                if na == first && nz == last {
                    push_area(&mut out, area);
                } else {
                    changed = true;
                    let mut s = String::new();
                    write_end(&mut s, na);
                    if nz != na || area.contains(':') {
                        s.push(':');
                        write_end(&mut s, nz);
                    }
                    push_area(&mut out, &s);
                }
            }
            _ => changed = true,
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(areas)
    }
}

fn push_area(out: &mut String, area: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(area);
}

/// The formula of a shared-formula cell `(dr, dc)` away from the master:
/// relative rows and columns move, absolute ones stay; a reference moved off
/// the sheet becomes `#REF!`.
pub(crate) fn translate(formula: &str, dr: i64, dc: i64) -> Cow<'_, str> {
    let mut fix = |_: Sheet<'_>, end: RefEnd, _: Role| {
        let mv = |c: Option<Coord>, d: i64, max: u32| -> Option<Option<Coord>> {
            match c {
                None => Some(None),
                Some(c) if c.abs => Some(Some(c)),
                Some(c) => {
                    let n = i64::from(c.n) + d;
                    (1..=i64::from(max)).contains(&n).then_some(Some(Coord {
                        n: n as u32,
                        abs: false,
                    }))
                }
            }
        };
        Some(RefEnd {
            col: mv(end.col, dc, MAX_COL)?,
            row: mv(end.row, dr, MAX_ROW)?,
        })
    };
    rewrite(formula, &mut fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows ≥ 5 move down by 10 on sheet "Data" and on the own sheet.
    fn shift(f: &str) -> String {
        let mut fix = |sheet: Sheet<'_>, mut end: RefEnd, _: Role| {
            if (matches!(sheet, Sheet::Own) || sheet == Sheet::Named("Data"))
                && let Some(r) = end.row.as_mut().filter(|r| r.n >= 5)
            {
                r.n += 10;
            }
            Some(end)
        };
        rewrite(f, &mut fix).into_owned()
    }

    #[test]
    fn finds_references_and_leaves_the_rest() {
        assert_eq!(
            shift("SUM(A1:B5)+$C$7*D$9-$E4"),
            "SUM(A1:B15)+$C$17*D$19-$E4"
        );
        assert_eq!(
            shift("Data!A5+'Data'!B6+Other!C7"),
            "Data!A15+'Data'!B16+Other!C7"
        );
        assert_eq!(shift("\"A5\"&LOG10(A5)&A5"), "\"A5\"&LOG10(A15)&A15");
        assert_eq!(
            shift("SUM(5:7)+SUM(A:A)+Name5"),
            "SUM(15:17)+SUM(A:A)+Name5"
        );
        assert_eq!(
            shift("[1]Data!A5+Data:Other!A5"),
            "[1]Data!A5+Data:Other!A5"
        );
        assert_eq!(
            shift("Table1[[#This Row],[A5]]+1.5E+5"),
            "Table1[[#This Row],[A5]]+1.5E+5"
        );
        assert_eq!(
            shift("IF(#REF!,'it''s'!A5,TRUE)"),
            "IF(#REF!,'it''s'!A5,TRUE)"
        );
        assert_eq!(shift("数据!A5+A6"), "数据!A5+A16");
        assert_eq!(shift("ABCD5+XFE5+A0"), "ABCD5+XFE5+A0");
    }

    #[test]
    fn translates_relative_parts() {
        assert_eq!(translate("A1+$B$2+C$3+$D4", 2, 1), "B3+$B$2+D$3+$D6");
        assert_eq!(translate("A1", -1, 0), "#REF!");
        assert_eq!(translate("SUM(A1:A3)", 1, 0), "SUM(A2:A4)");
    }

    #[test]
    fn areas() {
        let mut fix = |_: Sheet<'_>, mut end: RefEnd, role: Role| {
            if let Some(r) = end.row.as_mut().filter(|r| r.n == 5 && role == Role::End) {
                r.n = 9;
            }
            Some(end)
        };
        assert_eq!(
            rewrite_areas("A1:B2 C5 D5:E5", &mut fix),
            "A1:B2 C5:C9 D5:E9"
        );
    }
}
