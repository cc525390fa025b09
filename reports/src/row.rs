//! Writing one `<row>` of a worksheet: placeholder cells get their values,
//! a list row is written once per item (its other cells repeated, its
//! formulas following each row), rows move below expanded lists, formulas
//! are rewritten and lose their cached values.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use quick_xml::events::{BytesStart, Event};

use crate::cellref::{col_name, parse_cell};
use crate::error::ReportError;
use crate::eval::{Out, RowFill, SheetFill};
use crate::formula::translate;
use crate::sheet::SheetStats;
use crate::shift::{SameRow, Shift};
use crate::xml::{
    PartReader, attr, cell_text_into, escape_into, local, local_end, push_text, write_event,
    write_tag,
};

/// Shared-formula masters seen so far: `si` → (row, column, formula).
#[derive(Default)]
pub(crate) struct Masters(HashMap<String, (u32, u32, String)>);

pub(crate) struct RowWriter<'a> {
    pub(crate) fill: Option<&'a SheetFill>,
    pub(crate) shift: &'a Shift<'a>,
    pub(crate) masters: Masters,
    pub(crate) last_row: u32,
    pub(crate) stats: SheetStats,
}

/// A cell as read: its tag and its child events.
struct Cell {
    start: BytesStart<'static>,
    empty: bool,
    children: Vec<Event<'static>>,
    col: u32,
}

/// A cell's start tag split for fast repeated writing.
struct Head {
    tag: String,
    /// Prefix for child elements (`x:` when the sheet uses one).
    prefix: String,
    /// ` k="v"` for every attribute but `r`.
    all_but_r: Vec<u8>,
    /// ` k="v"` for every attribute but `r`, `t`, `s`, `vm`, `cm` (for new values).
    kept: Vec<u8>,
    /// The style attribute value, raw.
    style: Option<String>,
}

impl Head {
    fn of(e: &BytesStart<'_>) -> Head {
        let tag = e.name().0.to_string();
        let prefix = tag
            .rsplit_once(':')
            .map(|(p, _)| format!("{p}:"))
            .unwrap_or_default();
        let mut head = Head {
            tag,
            prefix,
            all_but_r: Vec::new(),
            kept: Vec::new(),
            style: None,
        };
        for a in e.attributes().with_checks(false).flatten() {
            let key = a.key.0;
            if key == "r" {
                continue;
            }
            let raw = format!(" {key}=\"{}\"", a.value.replace('"', "&quot;"));
            head.all_but_r.extend_from_slice(raw.as_bytes());
            match key {
                "s" => head.style = Some(a.value.into_owned()),
                "t" | "vm" | "cm" => {}
                _ => head.kept.extend_from_slice(raw.as_bytes()),
            }
        }
        head
    }

    /// Writes `<c r="A1"` plus attributes for a value of this kind.
    fn open(&self, buf: &mut Vec<u8>, col: &str, row: u32, style: Option<&str>, t: Option<&str>) {
        buf.push(b'<');
        buf.extend_from_slice(self.tag.as_bytes());
        buf.extend_from_slice(b" r=\"");
        buf.extend_from_slice(col.as_bytes());
        push_u32(buf, row);
        buf.push(b'"');
        if let Some(s) = style.or(self.style.as_deref()) {
            buf.extend_from_slice(b" s=\"");
            buf.extend_from_slice(s.as_bytes());
            buf.push(b'"');
        }
        if let Some(t) = t {
            buf.extend_from_slice(b" t=\"");
            buf.extend_from_slice(t.as_bytes());
            buf.push(b'"');
        }
        buf.extend_from_slice(&self.kept);
    }

    fn close(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"</");
        buf.extend_from_slice(self.tag.as_bytes());
        buf.push(b'>');
    }
}

fn push_u32(buf: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

impl RowWriter<'_> {
    /// Reads the rest of a `<row>` (its start tag given) and writes it, moved
    /// and filled, once per row it becomes.
    pub(crate) fn row<R: BufRead>(
        &mut self,
        rd: &mut PartReader<R>,
        start: BytesStart<'static>,
        empty: bool,
        buf: &mut Vec<u8>,
    ) -> Result<(), ReportError> {
        let r = attr(&start, "r")
            .and_then(|r| r.parse::<u32>().ok())
            .unwrap_or(self.last_row + 1);
        self.last_row = r;
        let (cells, tail) = if empty {
            (Vec::new(), Vec::new())
        } else {
            read_cells(rd, r)?
        };
        let plan: Option<&RowFill> = self.fill.and_then(|f| f.rows.get(&r));
        let n = plan.map_or(1, |p| p.n);
        let first = self.shift.map().start(r);
        let heads: Vec<Head> = cells.iter().map(|c| Head::of(&c.start)).collect();
        let cols: Vec<String> = cells.iter().map(|c| col_name(c.col)).collect();
        for i in 0..n {
            let row = u32::try_from(first + u64::from(i)).unwrap_or(u32::MAX);
            let row_text = row.to_string();
            write_tag(buf, &start, &[("r", Some(&row_text))], empty);
            if empty {
                continue;
            }
            let same_row: SameRow = Some((r, row));
            for ((cell, head), col) in cells.iter().zip(&heads).zip(&cols) {
                if let Some(fill) = plan.and_then(|p| p.cells.get(&cell.col)) {
                    self.value_cell(buf, head, col, row, fill.at(i as usize));
                } else if has_formula(cell) {
                    self.formula_cell(buf, cell, head, col, r, row, same_row);
                } else {
                    plain_cell(buf, cell, head, col, row);
                }
            }
            tail.iter().for_each(|ev| write_event(buf, ev));
            buf.extend_from_slice(b"</");
            buf.extend_from_slice(start.name().0.as_bytes());
            buf.push(b'>');
        }
        Ok(())
    }

    fn value_cell(&mut self, buf: &mut Vec<u8>, head: &Head, col: &str, row: u32, out: &Out) {
        self.stats.cells += 1;
        let p = &head.prefix;
        match out {
            Out::Empty => {
                head.open(buf, col, row, None, None);
                buf.extend_from_slice(b"/>");
            }
            Out::Number(n) => {
                head.open(buf, col, row, None, None);
                let _ = write!(buf, "><{p}v>{n}</{p}v>");
                head.close(buf);
            }
            Out::Bool(b) => {
                head.open(buf, col, row, None, Some("b"));
                let v = if *b { 1 } else { 0 };
                let _ = write!(buf, "><{p}v>{v}</{p}v>");
                head.close(buf);
            }
            Out::Date(serial, xf) => {
                head.open(buf, col, row, Some(&xf.to_string()), None);
                let _ = write!(buf, "><{p}v>{serial}</{p}v>");
                head.close(buf);
            }
            Out::Text(s) => {
                head.open(buf, col, row, None, Some("inlineStr"));
                if p.is_empty() {
                    buf.extend_from_slice(b"><is><t xml:space=\"preserve\">");
                } else {
                    let _ = write!(buf, "><{p}is><{p}t xml:space=\"preserve\">");
                }
                if cell_text_into(buf, s) {
                    self.stats.truncated += 1;
                }
                let _ = write!(buf, "</{p}t></{p}is>");
                head.close(buf);
            }
        }
    }

    /// A formula cell: the formula rewritten (shared formulas written out in
    /// full when rows move), the cached value dropped.
    #[allow(clippy::too_many_arguments)]
    fn formula_cell(
        &mut self,
        buf: &mut Vec<u8>,
        cell: &Cell,
        head: &Head,
        col: &str,
        template_row: u32,
        row: u32,
        same_row: SameRow,
    ) {
        buf.push(b'<');
        buf.extend_from_slice(head.tag.as_bytes());
        buf.extend_from_slice(format!(" r=\"{col}{row}\"").as_bytes());
        // Without a cached value the value type (`t`) goes too.
        let attrs = String::from_utf8_lossy(&head.all_but_r);
        buf.extend_from_slice(strip_attr(&attrs, "t").as_bytes());
        buf.push(b'>');
        let mut skip_depth = 0usize;
        let mut iter = cell.children.iter().peekable();
        while let Some(ev) = iter.next() {
            if skip_depth > 0 {
                match ev {
                    Event::Start(_) => skip_depth += 1,
                    Event::End(_) => skip_depth -= 1,
                    _ => {}
                }
                continue;
            }
            match ev {
                Event::Start(e) if local(e) == "v" => skip_depth = 1,
                Event::Empty(e) if local(e) == "v" => {}
                Event::Start(e) | Event::Empty(e) if local(e) == "f" => {
                    let mut text = String::new();
                    if matches!(ev, Event::Start(_)) {
                        for ev in iter.by_ref() {
                            if matches!(ev, Event::End(_)) {
                                break;
                            }
                            push_text(&mut text, ev);
                        }
                    }
                    self.formula(buf, e, &text, template_row, cell.col, same_row);
                }
                ev => write_event(buf, ev),
            }
        }
        head.close(buf);
    }

    fn formula(
        &mut self,
        buf: &mut Vec<u8>,
        f: &BytesStart<'_>,
        text: &str,
        row: u32,
        col: u32,
        same_row: SameRow,
    ) {
        let kind = attr(f, "t");
        let shared = kind.as_deref() == Some("shared");
        let si = attr(f, "si");
        if shared
            && !text.is_empty()
            && let Some(si) = &si
        {
            self.masters
                .0
                .entry(si.clone())
                .or_insert((row, col, text.to_string()));
        }
        if !self.shift.active() {
            write_tag(buf, f, &[], text.is_empty());
            if !text.is_empty() {
                escape_into(buf, text, false);
                write_end(buf, f);
            }
            return;
        }
        let base = if shared && text.is_empty() {
            match si.as_ref().and_then(|si| self.masters.0.get(si)) {
                Some((mr, mc, master)) => translate(
                    master,
                    i64::from(row) - i64::from(*mr),
                    i64::from(col) - i64::from(*mc),
                )
                .into_owned(),
                None => {
                    // A dependent without its master: keep it as it is.
                    write_tag(buf, f, &[], true);
                    return;
                }
            }
        } else {
            text.to_string()
        };
        let new = self.shift.formula(&base, same_row);
        let array_ref = match kind.as_deref() {
            Some("array" | "dataTable") => {
                attr(f, "ref").map(|r| self.shift.areas(&r, same_row).into_owned())
            }
            _ => None,
        };
        let set: Vec<(&str, Option<&str>)> = if shared {
            vec![("t", None), ("ref", None), ("si", None)]
        } else if let Some(r) = &array_ref {
            vec![("ref", Some(r.as_str()))]
        } else {
            Vec::new()
        };
        if new.is_empty() {
            write_tag(buf, f, &set, true);
            return;
        }
        write_tag(buf, f, &set, false);
        escape_into(buf, &new, false);
        write_end(buf, f);
    }
}

fn write_end(buf: &mut Vec<u8>, f: &BytesStart<'_>) {
    buf.extend_from_slice(b"</");
    buf.extend_from_slice(f.name().0.as_bytes());
    buf.push(b'>');
}

/// Removes ` key="..."` from a raw attribute list.
fn strip_attr(attrs: &str, key: &str) -> String {
    let needle = format!(" {key}=\"");
    match attrs.find(&needle) {
        Some(at) => {
            let rest = &attrs[at + needle.len()..];
            let end = rest.find('"').map_or(rest.len(), |e| e + 1);
            format!("{}{}", &attrs[..at], &rest[end..])
        }
        None => attrs.to_string(),
    }
}

fn has_formula(cell: &Cell) -> bool {
    cell.children
        .iter()
        .any(|ev| matches!(ev, Event::Start(e) | Event::Empty(e) if local(e) == "f"))
}

/// A cell without placeholders or formula, moved to `row`.
fn plain_cell(buf: &mut Vec<u8>, cell: &Cell, head: &Head, col: &str, row: u32) {
    buf.push(b'<');
    buf.extend_from_slice(head.tag.as_bytes());
    buf.extend_from_slice(b" r=\"");
    buf.extend_from_slice(col.as_bytes());
    push_u32(buf, row);
    buf.push(b'"');
    buf.extend_from_slice(&head.all_but_r);
    if cell.empty {
        buf.extend_from_slice(b"/>");
        return;
    }
    buf.push(b'>');
    cell.children.iter().for_each(|ev| write_event(buf, ev));
    head.close(buf);
}

/// Reads a row's cells (and anything else in it) up to `</row>`.
fn read_cells<R: BufRead>(
    rd: &mut PartReader<R>,
    row: u32,
) -> Result<(Vec<Cell>, Vec<Event<'static>>), ReportError> {
    let mut cells = Vec::new();
    let mut tail = Vec::new();
    let mut col = 0u32;
    loop {
        let ev = rd.next()?;
        match ev {
            Event::Empty(e) if local(&e) == "c" => {
                col = cell_col(&e, col);
                cells.push(Cell {
                    start: e,
                    empty: true,
                    children: Vec::new(),
                    col,
                });
            }
            Event::Start(e) if local(&e) == "c" => {
                col = cell_col(&e, col);
                let mut children = Vec::new();
                let mut depth = 1usize;
                loop {
                    let ev = rd.next()?;
                    match &ev {
                        Event::Start(_) => depth += 1,
                        Event::End(_) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        Event::Eof => {
                            return Err(rd.error(format!("unexpected end inside row {row}")));
                        }
                        _ => {}
                    }
                    children.push(ev);
                }
                cells.push(Cell {
                    start: e,
                    empty: false,
                    children,
                    col,
                });
            }
            Event::End(e) if local_end(e.name().0) == "row" => break,
            Event::Eof => return Err(rd.error(format!("unexpected end inside row {row}"))),
            Event::Text(t) if t.xml10_content().trim().is_empty() => {}
            other => tail.push(other),
        }
    }
    Ok((cells, tail))
}

/// A cell's column: from its `r`, else the one after the previous cell.
fn cell_col(e: &BytesStart<'_>, prev: u32) -> u32 {
    attr(e, "r")
        .and_then(|r| parse_cell(&r))
        .map_or(prev + 1, |(_, c)| c)
}
