//! The workbook-level parts a fill touches: `workbook.xml` (defined names such
//! as print areas and print titles move with rows; `fullCalcOnLoad` so Excel
//! recalculates the formulas whose cached values were dropped), and — when the
//! calc chain, which lists formula cells by position, is dropped — its entries
//! in the workbook relationships and `[Content_Types].xml`.

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};

use crate::error::ReportError;
use crate::shift::Shift;
use crate::xml::{
    PartReader, attr, escape_into, local, local_end, push_text, write_event, write_tag,
};

/// Elements that follow `calcPr` in a workbook (schema order).
const AFTER_CALC_PR: &[&str] = &[
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
];

pub(crate) fn rewrite_workbook<R: BufRead>(
    rd: &mut PartReader<R>,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    let mut calc_done = false;
    let mut root: Option<String> = None;
    let mut depth = 0usize;
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(e) if depth == 0 => {
                root = Some(e.name().0.to_string());
                depth += 1;
            }
            Event::Start(e) | Event::Empty(e) if depth == 1 && local(e) == "calcPr" => {
                calc_done = true;
                write_tag(
                    out,
                    e,
                    &[("fullCalcOnLoad", Some("1"))],
                    matches!(ev, Event::Empty(_)),
                );
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
                continue;
            }
            Event::Start(e) | Event::Empty(e)
                if depth == 1 && !calc_done && AFTER_CALC_PR.contains(&local(e)) =>
            {
                calc_pr(out, root.as_deref());
                calc_done = true;
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::Start(e) if local(e) == "definedName" => {
                defined_name(rd, e, shift, out)?;
                continue;
            }
            Event::Start(_) => depth += 1,
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && !calc_done && root.as_deref() == Some(e.name().0) {
                    calc_pr(out, root.as_deref());
                    calc_done = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        write_event(out, &ev);
    }
    Ok(())
}

fn calc_pr(out: &mut Vec<u8>, root: Option<&str>) {
    let prefix = root
        .and_then(|r| r.rsplit_once(':'))
        .map(|(p, _)| format!("{p}:"))
        .unwrap_or_default();
    out.extend_from_slice(format!("<{prefix}calcPr fullCalcOnLoad=\"1\"/>").as_bytes());
}

fn defined_name<R: BufRead>(
    rd: &mut PartReader<R>,
    e: &BytesStart<'_>,
    shift: &Shift<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    let mut events = Vec::new();
    let mut text = String::new();
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::End(end) if local_end(end.name().0) == "definedName" => {
                events.push(ev);
                break;
            }
            Event::Eof => return Err(rd.error("unexpected end inside definedName")),
            ev => push_text(&mut text, ev),
        }
        events.push(ev);
    }
    let new = shift.formula(&text, None);
    write_event(out, &Event::Start(e.to_owned()));
    if new == text {
        events.iter().for_each(|ev| write_event(out, ev));
    } else {
        escape_into(out, &new, false);
        if let Some(end) = events.last() {
            write_event(out, end);
        }
    }
    Ok(())
}

/// Copies a part, leaving out the elements `drop` matches.
pub(crate) fn without<R: BufRead>(
    rd: &mut PartReader<R>,
    out: &mut Vec<u8>,
    drop: impl Fn(&BytesStart<'_>) -> bool,
) -> Result<(), ReportError> {
    let mut skipping = 0usize;
    loop {
        let ev = rd.next()?;
        if skipping > 0 {
            match &ev {
                Event::Start(_) => skipping += 1,
                Event::End(_) => skipping -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        match &ev {
            Event::Empty(e) if drop(e) => continue,
            Event::Start(e) if drop(e) => {
                skipping = 1;
                continue;
            }
            Event::Eof => break,
            _ => {}
        }
        write_event(out, &ev);
    }
    Ok(())
}

/// A relationship of type calcChain.
pub(crate) fn is_calc_chain_rel(e: &BytesStart<'_>) -> bool {
    local(e) == "Relationship" && attr(e, "Type").is_some_and(|t| t.ends_with("/calcChain"))
}

/// The content-type override of part `part`.
pub(crate) fn is_override_of(e: &BytesStart<'_>, part: &str) -> bool {
    local(e) == "Override" && attr(e, "PartName").is_some_and(|p| p.trim_start_matches('/') == part)
}
