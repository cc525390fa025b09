//! A1 cell names: `C5` ⇄ (row 5, column 3), both 1-based.

/// Excel's last row and column.
pub(crate) const MAX_ROW: u32 = 1_048_576;
pub(crate) const MAX_COL: u32 = 16_384;

/// Column letters of a 1-based column number (`1` → `A`, `28` → `AB`).
pub(crate) fn col_name(mut col: u32) -> String {
    let mut letters = [0u8; 4];
    let mut n = 0;
    while col > 0 && n < letters.len() {
        let rem = (col - 1) % 26;
        letters[n] = b'A' + rem as u8;
        n += 1;
        col = (col - 1) / 26;
    }
    letters[..n].iter().rev().map(|&b| b as char).collect()
}

/// The 1-based column number of letters (`AB` → 28); `None` past `XFD`.
pub(crate) fn col_number(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut col = 0u32;
    for b in letters.bytes() {
        if !b.is_ascii_alphabetic() {
            return None;
        }
        col = col * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    (col <= MAX_COL).then_some(col)
}

/// `C5` → (5, 3). No `$` allowed; `None` for anything else.
pub(crate) fn parse_cell(name: &str) -> Option<(u32, u32)> {
    let split = name.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = name.split_at(split);
    let col = col_number(letters)?;
    let row = parse_row(digits)?;
    Some((row, col))
}

/// A 1-based row number within Excel's range.
pub(crate) fn parse_row(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let row: u32 = digits.parse().ok()?;
    (1..=MAX_ROW).contains(&row).then_some(row)
}

/// (5, 3) → `C5`.
pub(crate) fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", col_name(col), row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip() {
        for (n, s) in [
            (1, "A"),
            (26, "Z"),
            (27, "AA"),
            (52, "AZ"),
            (703, "AAA"),
            (16384, "XFD"),
        ] {
            assert_eq!(col_name(n), s);
            assert_eq!(col_number(s), Some(n));
        }
        assert_eq!(col_number("XFE"), None);
        assert_eq!(col_number("ABCD"), None);
        assert_eq!(parse_cell("c5"), Some((5, 3)));
        assert_eq!(parse_cell("A0"), None);
        assert_eq!(parse_cell("A1048577"), None);
        assert_eq!(parse_cell("5"), None);
        assert_eq!(cell_name(12, 28), "AB12");
    }
}
