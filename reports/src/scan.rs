//! Reading a template: one streaming pass over each worksheet to find the
//! cells whose text holds `${...}` (shared strings, inline strings, `t="str"`
//! values without a formula) and whether its formulas name other sheets.

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::events::Event;

use crate::cellref::{cell_name, parse_cell};
use crate::error::ReportError;
use crate::placeholder::{Piece, has_placeholder, split};
use crate::xml::{PartReader, attr, local, local_end, push_text, unescape_ooxml};

/// A cell with placeholders.
#[derive(Debug, Clone)]
pub(crate) struct PhCell {
    pub(crate) row: u32,
    pub(crate) col: u32,
    /// The cell's style (`s`), 0 when absent.
    pub(crate) style: u32,
    pub(crate) pieces: Vec<Piece>,
}

impl PhCell {
    pub(crate) fn name(&self) -> String {
        cell_name(self.row, self.col)
    }
}

/// What a worksheet holds that filling cares about.
#[derive(Debug, Clone, Default)]
pub(crate) struct SheetScan {
    pub(crate) cells: Vec<PhCell>,
    /// Some formula, rule or link names a sheet (`Other!A1`): when another
    /// sheet grows, this one is rewritten too.
    pub(crate) names_sheets: bool,
    /// The last row number used.
    pub(crate) last_row: u32,
}

/// The cell being read.
#[derive(Default)]
struct CellState {
    row: u32,
    col: u32,
    t: Option<String>,
    style: u32,
    has_formula: bool,
    v: String,
    inline: String,
}

pub(crate) fn scan_sheet<R: BufRead>(
    rd: &mut PartReader<R>,
    sheet: &str,
    strings: &HashMap<u32, String>,
) -> Result<SheetScan, ReportError> {
    let mut scan = SheetScan::default();
    let mut row = 0u32;
    let mut col = 0u32;
    let mut cell: Option<CellState> = None;
    // Which text we are inside: <v>, <is>/<t> (not phonetic), or a formula.
    let mut in_v = false;
    let mut in_t = false;
    let mut in_phonetic = 0u32;
    let mut formula: Option<String> = None;
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                match local(e) {
                    "row" => {
                        row = attr(e, "r").and_then(|r| r.parse().ok()).unwrap_or(row + 1);
                        scan.last_row = scan.last_row.max(row);
                        col = 0;
                    }
                    "c" => {
                        let at = attr(e, "r").and_then(|r| parse_cell(&r));
                        (row, col) = at.unwrap_or((row.max(1), col + 1));
                        scan.last_row = scan.last_row.max(row);
                        let state = CellState {
                            row,
                            col,
                            t: attr(e, "t"),
                            style: attr(e, "s").and_then(|s| s.parse().ok()).unwrap_or(0),
                            ..CellState::default()
                        };
                        if !empty {
                            cell = Some(state);
                        }
                    }
                    "f" | "formula" | "formula1" | "formula2" if !empty => {
                        if let Some(c) = cell.as_mut() {
                            c.has_formula = true;
                        }
                        formula = Some(String::new());
                    }
                    "f" => {
                        if let Some(c) = cell.as_mut() {
                            c.has_formula = true;
                        }
                    }
                    "v" if !empty => in_v = true,
                    "t" if !empty => in_t = in_phonetic == 0,
                    "rPh" if !empty => in_phonetic += 1,
                    "hyperlink" if attr(e, "location").is_some_and(|l| l.contains('!')) => {
                        scan.names_sheets = true;
                    }
                    _ => {}
                }
            }
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) => {
                if let Some(f) = formula.as_mut() {
                    push_text(f, &ev);
                } else if let Some(c) = cell.as_mut() {
                    if in_v {
                        push_text(&mut c.v, &ev);
                    } else if in_t {
                        push_text(&mut c.inline, &ev);
                    }
                }
            }
            Event::End(e) => match local_end(e.name().0) {
                "f" | "formula" | "formula1" | "formula2"
                    if formula.take().is_some_and(|f| f.contains('!')) =>
                {
                    scan.names_sheets = true;
                }
                "v" => in_v = false,
                "t" => in_t = false,
                "rPh" => in_phonetic = in_phonetic.saturating_sub(1),
                "c" => {
                    if let Some(c) = cell.take() {
                        check_cell(c, sheet, strings, &mut scan)?;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(scan)
}

fn check_cell(
    c: CellState,
    sheet: &str,
    strings: &HashMap<u32, String>,
    scan: &mut SheetScan,
) -> Result<(), ReportError> {
    if c.has_formula {
        return Ok(());
    }
    let text = match c.t.as_deref() {
        Some("s") => match c.v.trim().parse::<u32>().ok().and_then(|i| strings.get(&i)) {
            Some(t) => t.clone(),
            None => return Ok(()),
        },
        Some("inlineStr") => unescape_ooxml(&c.inline).into_owned(),
        Some("str") => unescape_ooxml(&c.v).into_owned(),
        _ => return Ok(()),
    };
    if !has_placeholder(&text) {
        return Ok(());
    }
    let pieces = split(&text).map_err(|(placeholder, message)| ReportError::Placeholder {
        sheet: sheet.to_string(),
        cell: cell_name(c.row, c.col),
        placeholder,
        message,
    })?;
    if pieces.iter().any(|p| matches!(p, Piece::Ph(_))) {
        scan.cells.push(PhCell {
            row: c.row,
            col: c.col,
            style: c.style,
            pieces,
        });
    }
    Ok(())
}
