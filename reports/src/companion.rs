//! Parts beside a worksheet that name its rows: drawings (images, shapes and
//! charts anchored to cells), comment boxes (legacy VML), tables and comments
//! (`ref`), and charts (their series, `Sheet1!$B$4:$B$4`). When the sheet's
//! rows move, these move with them; a table or chart series over a list row
//! grows with it.

use std::io::BufRead;

use quick_xml::events::Event;

use crate::error::ReportError;
use crate::package::Companion;
use crate::shift::Shift;
use crate::xml::{
    PartReader, attr, escape_into, local, local_end, push_text, write_event, write_tag,
};

/// Rewrites a companion part of a sheet whose rows move.
pub(crate) fn rewrite<R: BufRead>(
    rd: &mut PartReader<R>,
    kind: Companion,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    match kind {
        Companion::Drawing => drawing(rd, shift, out),
        Companion::Vml => vml(rd, shift, out),
        Companion::Refs => refs(rd, shift, out),
    }
}

/// A chart: its series formulas (any sheet's rows may have moved).
pub(crate) fn chart<R: BufRead>(
    rd: &mut PartReader<R>,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    text_elements(rd, out, |name, text| {
        (name == "f").then(|| shift.series(text).into_owned())
    })
}

/// `ref` and `sqref` attributes (tables, their auto-filters, comments).
fn refs<R: BufRead>(
    rd: &mut PartReader<R>,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let mut set = Vec::new();
                for key in ["ref", "sqref"] {
                    if let Some(v) = attr(e, key) {
                        let new = shift.areas(&v, None);
                        if new != v {
                            set.push((key, new.into_owned()));
                        }
                    }
                }
                if set.is_empty() {
                    write_event(out, &ev);
                } else {
                    let set: Vec<(&str, Option<&str>)> =
                        set.iter().map(|(k, v)| (*k, Some(v.as_str()))).collect();
                    write_tag(out, e, &set, matches!(ev, Event::Empty(_)));
                }
            }
            Event::Eof => return Ok(()),
            _ => write_event(out, &ev),
        }
    }
}

/// Drawing anchors: `<xdr:from>`/`<xdr:to>` rows (0-based). A two-cell
/// anchor's ends move independently (Excel's "move and size with cells"); a
/// one-cell anchor moves whole; an absolute one stays.
fn drawing<R: BufRead>(
    rd: &mut PartReader<R>,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        TwoCell,
        OneCell,
        Absolute,
    }
    let mut mode = Mode::TwoCell;
    let mut delta: i64 = 0;
    let mut end: Option<bool> = None; // Some(false) in <from>, Some(true) in <to>
    let mut in_row = false;
    let mut text = String::new();
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(e) => match local(e) {
                "twoCellAnchor" => {
                    mode = match attr(e, "editAs").as_deref() {
                        Some("oneCell") => Mode::OneCell,
                        Some("absolute") => Mode::Absolute,
                        _ => Mode::TwoCell,
                    };
                }
                "oneCellAnchor" => mode = Mode::OneCell,
                "absoluteAnchor" => mode = Mode::Absolute,
                "from" => end = Some(false),
                "to" => end = Some(true),
                "row" if end.is_some() => {
                    in_row = true;
                    text.clear();
                }
                _ => {}
            },
            Event::End(e) => match local_end(e.name().0) {
                "from" | "to" => end = None,
                "row" if in_row => {
                    in_row = false;
                    let new = match (text.trim().parse::<u32>(), mode, end) {
                        (Ok(row), Mode::Absolute, _) => row,
                        (Ok(row), Mode::OneCell, Some(true)) => {
                            u32::try_from(i64::from(row) + delta).unwrap_or(row)
                        }
                        (Ok(row), _, _) => {
                            let new = shift.row0(row);
                            delta = i64::from(new) - i64::from(row);
                            new
                        }
                        (Err(_), ..) => {
                            escape_into(out, &text, false);
                            write_event(out, &ev);
                            continue;
                        }
                    };
                    out.extend_from_slice(new.to_string().as_bytes());
                }
                _ => {}
            },
            Event::Eof => return Ok(()),
            _ if in_row => {
                push_text(&mut text, &ev);
                continue;
            }
            _ => {}
        }
        write_event(out, &ev);
    }
}

/// Legacy VML comment boxes: `<x:Row>` (the cell, 0-based) and `<x:Anchor>`
/// (`col, off, top row, off, col, off, bottom row, off`).
fn vml<R: BufRead>(
    rd: &mut PartReader<R>,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    text_elements(rd, out, |name, text| match name {
        "Row" => text
            .trim()
            .parse::<u32>()
            .ok()
            .map(|r| shift.row0(r).to_string()),
        "Anchor" => {
            let mut parts: Vec<String> = text.split(',').map(|p| p.trim().to_string()).collect();
            if parts.len() != 8 {
                return None;
            }
            let top: u32 = parts.get(2)?.parse().ok()?;
            let bottom: u32 = parts.get(6)?.parse().ok()?;
            let delta = i64::from(shift.row0(top)) - i64::from(top);
            parts[2] = shift.row0(top).to_string();
            parts[6] = u32::try_from(i64::from(bottom) + delta)
                .unwrap_or(bottom)
                .to_string();
            Some(parts.join(", "))
        }
        _ => None,
    })
}

/// Copies a part, replacing the text of leaf elements `map` answers for.
fn text_elements<R: BufRead>(
    rd: &mut PartReader<R>,
    out: &mut Vec<u8>,
    map: impl Fn(&str, &str) -> Option<String>,
) -> Result<(), ReportError> {
    // The open leaf element's local name and its text so far.
    let mut open: Option<(String, String, Vec<Event<'static>>)> = None;
    loop {
        let ev = rd.next()?;
        if let Some((name, text, held)) = open.as_mut() {
            match &ev {
                Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) => {
                    push_text(text, &ev);
                    held.push(ev);
                    continue;
                }
                Event::End(_) => {
                    match map(name, text) {
                        Some(new) if new != *text => escape_into(out, &new, false),
                        _ => held.iter().for_each(|e| write_event(out, e)),
                    }
                    open = None;
                }
                _ => {
                    held.iter().for_each(|e| write_event(out, e));
                    open = None;
                }
            }
        }
        match &ev {
            Event::Start(e) => {
                write_event(out, &ev);
                open = Some((local(e).to_string(), String::new(), Vec::new()));
            }
            Event::Eof => return Ok(()),
            _ => write_event(out, &ev),
        }
    }
}
