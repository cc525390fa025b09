//! Rewriting one worksheet as a stream: rows go through [`crate::row`];
//! everything else is copied event by event, except what names rows, which
//! moves with them (dimension, panes, selections, merges, conditional formats,
//! data validations, hyperlinks, auto-filters, row breaks, x14 extensions).

use std::collections::HashMap;
use std::io::{BufRead, Write};

use quick_xml::events::{BytesStart, Event};

use crate::cellref::MAX_ROW;
use crate::error::ReportError;
use crate::eval::SheetFill;
use crate::row::{Masters, RowWriter};
use crate::shift::Shift;
use crate::xml::{
    PartReader, attr, escape_into, local, local_end, push_text, write_event, write_tag,
};

/// Output is written to the part in chunks of about this size.
const FLUSH_AT: usize = 256 * 1024;

/// What a rewritten sheet produced.
#[derive(Debug, Default)]
pub(crate) struct SheetStats {
    pub(crate) cells: u64,
    pub(crate) truncated: u64,
}

pub(crate) fn rewrite_sheet<R: BufRead>(
    rd: &mut PartReader<R>,
    out: &mut dyn Write,
    fill: Option<&SheetFill>,
    shift: &Shift<'_>,
) -> Result<SheetStats, ReportError> {
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 64 * 1024);
    let mut rows = RowWriter {
        fill,
        shift,
        masters: Masters::default(),
        last_row: 0,
        stats: SheetStats::default(),
    };
    let mut in_data = false;
    let mut in_row_breaks = false;
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(e) if in_data && local(e) == "row" => {
                rows.row(rd, e.clone(), false, &mut buf)?;
            }
            Event::Empty(e) if in_data && local(e) == "row" => {
                rows.row(rd, e.clone(), true, &mut buf)?;
            }
            Event::Start(e) if local(e) == "sheetData" => {
                in_data = true;
                write_event(&mut buf, &ev);
            }
            Event::End(e) if local_end(e.name().0) == "sheetData" => {
                in_data = false;
                write_event(&mut buf, &ev);
            }
            _ if in_data => write_event(&mut buf, &ev),
            Event::Start(e) if local(e) == "mergeCells" && shift.own_moves() => {
                merge_cells(rd, e, fill, shift, &mut buf)?;
            }
            Event::Start(e)
                if matches!(
                    local(e),
                    "formula" | "formula1" | "formula2" | "f" | "sqref"
                ) =>
            {
                text_element(rd, e, shift, &mut buf)?;
            }
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                match local(e) {
                    "rowBreaks" => in_row_breaks = !empty,
                    "colBreaks" => in_row_breaks = false,
                    _ => {}
                }
                element(e, empty, in_row_breaks, shift, &mut buf, &ev);
            }
            Event::End(e) => {
                if local_end(e.name().0) == "rowBreaks" {
                    in_row_breaks = false;
                }
                write_event(&mut buf, &ev);
            }
            Event::Eof => break,
            _ => write_event(&mut buf, &ev),
        }
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf).map_err(ReportError::write)?;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(ReportError::write)?;
    Ok(rows.stats)
}

/// An element outside the sheet data: its reference attributes move.
fn element(
    e: &BytesStart<'_>,
    empty: bool,
    in_row_breaks: bool,
    shift: &Shift<'_>,
    buf: &mut Vec<u8>,
    ev: &Event<'_>,
) {
    // `dataRef` names areas of another sheet (data consolidation).
    if !shift.active() || local(e) == "dataRef" {
        return write_event(buf, ev);
    }
    let frozen = local(e) == "pane" && attr(e, "state").is_some_and(|s| s.starts_with("frozen"));
    let mut set: Vec<(&str, String)> = Vec::new();
    for a in e.attributes().with_checks(false).flatten() {
        let key = a.key.0;
        let value = || crate::xml::value(&a);
        let new = match key {
            "ref" | "sqref" => Some(shift.areas(&value(), None).into_owned()),
            "topLeftCell" | "activeCell" | "location" => {
                Some(shift.formula(&value(), None).into_owned())
            }
            "id" if in_row_breaks && local(e) == "brk" && shift.own_moves() => value()
                .parse::<u32>()
                .ok()
                .map(|id| shift.map().end_clamped(id).to_string()),
            // Frozen rows (a split pane's ySplit is a distance, not rows).
            "ySplit" if frozen && shift.own_moves() => value()
                .parse::<u32>()
                .ok()
                .filter(|y| (1..MAX_ROW).contains(y))
                .map(|y| (shift.map().start(y + 1) - 1).to_string()),
            _ => None,
        };
        if let Some(new) = new.filter(|n| *n != value()) {
            set.push((key, new));
        }
    }
    if set.is_empty() {
        return write_event(buf, ev);
    }
    let set: Vec<(&str, Option<&str>)> = set.iter().map(|(k, v)| (*k, Some(v.as_str()))).collect();
    write_tag(buf, e, &set, empty);
}

/// A formula or `xm:sqref` outside the sheet data, rewritten as text.
fn text_element<R: BufRead>(
    rd: &mut PartReader<R>,
    e: &BytesStart<'_>,
    shift: &Shift<'_>,
    buf: &mut Vec<u8>,
) -> Result<(), ReportError> {
    let is_sqref = local(e) == "sqref";
    let mut events = vec![Event::Start(e.to_owned())];
    let mut text = String::new();
    let mut plain = true;
    let mut depth = 1usize;
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(_) => {
                depth += 1;
                plain = false;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Empty(_) => plain = false,
            Event::Eof => return Err(rd.error("unexpected end inside a formula")),
            ev => push_text(&mut text, ev),
        }
        events.push(ev);
        if depth == 0 {
            break;
        }
    }
    let new = if is_sqref {
        shift.areas(&text, None)
    } else {
        shift.formula(&text, None)
    };
    if !plain || new == text {
        events.iter().for_each(|ev| write_event(buf, ev));
        return Ok(());
    }
    write_event(buf, &Event::Start(e.to_owned()));
    escape_into(buf, &new, false);
    if let Some(end) = events.last() {
        write_event(buf, end);
    }
    Ok(())
}

/// `<mergeCells>`: merges inside a list row repeat on each generated row;
/// the others move (or grow) like any area.
fn merge_cells<R: BufRead>(
    rd: &mut PartReader<R>,
    start: &BytesStart<'_>,
    fill: Option<&SheetFill>,
    shift: &Shift<'_>,
    buf: &mut Vec<u8>,
) -> Result<(), ReportError> {
    let tag = start.name().0.to_string();
    let child = match tag.rsplit_once(':') {
        Some((p, _)) => format!("{p}:mergeCell"),
        None => "mergeCell".to_string(),
    };
    let mut refs = Vec::new();
    let mut end = None;
    loop {
        match rd.next()? {
            Event::Start(e) | Event::Empty(e) if local(&e) == "mergeCell" => {
                if let Some(r) = attr(&e, "ref") {
                    refs.push(r);
                }
            }
            Event::End(e) if local_end(e.name().0) == "mergeCells" => {
                end = Some(e);
                break;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let lists: HashMap<u32, u32> = fill
        .map(|f| {
            f.rows
                .iter()
                .filter(|(_, r)| r.n > 1)
                .map(|(&t, r)| (t, r.n))
                .collect()
        })
        .unwrap_or_default();
    let mut merged = Vec::with_capacity(refs.len());
    for r in &refs {
        let rows = merge_rows(r);
        match rows
            .and_then(|(r1, r2)| (r1 == r2).then_some(r1))
            .and_then(|t| lists.get(&t).map(|&n| (t, n)))
        {
            Some((t, n)) => {
                let first = shift.map().start(t);
                for i in 0..u64::from(n) {
                    let target = u32::try_from(first + i).unwrap_or(u32::MAX);
                    merged.push(shift.areas(r, Some((t, target))).into_owned());
                }
            }
            None => merged.push(shift.areas(r, None).into_owned()),
        }
    }
    let count = merged.len().to_string();
    write_tag(buf, start, &[("count", Some(&count))], false);
    for m in &merged {
        buf.push(b'<');
        buf.extend_from_slice(child.as_bytes());
        crate::xml::push_attr(buf, "ref", m);
        buf.extend_from_slice(b"/>");
    }
    match end {
        Some(end) => write_event(buf, &Event::End(end)),
        None => return Err(rd.error("unexpected end inside mergeCells")),
    }
    Ok(())
}

/// The first and last row of a merge `A5:C5`.
fn merge_rows(r: &str) -> Option<(u32, u32)> {
    let (a, z) = r.split_once(':').unwrap_or((r, r));
    let row = |s: &str| crate::cellref::parse_cell(&s.replace('$', "")).map(|(row, _)| row);
    Some((row(a)?, row(z)?))
}
