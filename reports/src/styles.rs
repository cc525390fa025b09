//! Cell styles, for one purpose: a date written into a cell whose style has
//! no date format gets a copy of that style (`xf`) with Excel's built-in date
//! (14) or date-time (22) format, appended to `styles.xml`; nothing else in
//! the stylesheet changes.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use quick_xml::events::Event;

use crate::error::ReportError;
use crate::xml::{PartReader, attr, local, local_end, write_event, write_tag};

/// Built-in number format: `m/d/yyyy` (shown in the reader's locale).
pub(crate) const FMT_DATE: u32 = 14;
/// Built-in number format: `m/d/yyyy h:mm`.
pub(crate) const FMT_DATE_TIME: u32 = 22;

/// What the filler knows about the stylesheet.
#[derive(Debug, Clone, Default)]
pub(crate) struct Styles {
    /// Each cell format's (`cellXfs/xf`) number format id.
    xf_formats: Vec<u32>,
    /// Custom number formats that show dates or times.
    date_formats: Vec<u32>,
    /// The stylesheet has a `cellXfs` element to append to.
    has_cell_xfs: bool,
}

impl Styles {
    pub(crate) fn read<R: BufRead>(rd: &mut PartReader<R>) -> Result<Styles, ReportError> {
        let mut styles = Styles::default();
        let mut in_xfs = false;
        loop {
            match rd.next()? {
                Event::Start(e) | Event::Empty(e) => match local(&e) {
                    "numFmt" => {
                        let id = attr(&e, "numFmtId").and_then(|v| v.parse().ok());
                        let code = attr(&e, "formatCode").unwrap_or_default();
                        if let Some(id) = id.filter(|_| is_date_code(&code)) {
                            styles.date_formats.push(id);
                        }
                    }
                    "cellXfs" => {
                        styles.has_cell_xfs = true;
                        in_xfs = true;
                    }
                    "xf" if in_xfs => styles.xf_formats.push(
                        attr(&e, "numFmtId")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                    ),
                    _ => {}
                },
                Event::End(e) if local_end(e.name().0) == "cellXfs" => in_xfs = false,
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(styles)
    }

    /// Whether cell format `xf` shows a date or time.
    pub(crate) fn is_date(&self, xf: u32) -> bool {
        let Some(&fmt) = self.xf_formats.get(xf as usize) else {
            return false;
        };
        is_builtin_date(fmt) || self.date_formats.contains(&fmt)
    }

    pub(crate) fn xf_count(&self) -> u32 {
        u32::try_from(self.xf_formats.len()).unwrap_or(u32::MAX)
    }
}

fn is_builtin_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// Whether a number format code shows a date or time: a `d m y h s` outside
/// quotes, escapes and `[...]` (colours, locales), or elapsed time `[h]`.
fn is_date_code(code: &str) -> bool {
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            '[' => {
                let inner: String = chars.by_ref().take_while(|&d| d != ']').collect();
                let l = inner.to_ascii_lowercase();
                if !l.is_empty() && l.chars().all(|d| matches!(d, 'h' | 'm' | 's')) {
                    return true;
                }
            }
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' => return true,
            _ => {}
        }
    }
    false
}

/// Date styles added while filling: (original xf, date or date-time format) → new xf.
#[derive(Debug, Default)]
pub(crate) struct AddedStyles {
    base: u32,
    added: BTreeMap<u32, (u32, u32)>,
    by_key: HashMap<(u32, u32), u32>,
}

impl AddedStyles {
    pub(crate) fn new(styles: &Styles) -> AddedStyles {
        AddedStyles {
            base: styles.xf_count(),
            ..AddedStyles::default()
        }
    }

    /// The xf to use for a date in a cell of style `xf`.
    pub(crate) fn date_style(&mut self, styles: &Styles, xf: u32, with_time: bool) -> u32 {
        if styles.is_date(xf) || !styles.has_cell_xfs {
            return xf;
        }
        let fmt = if with_time { FMT_DATE_TIME } else { FMT_DATE };
        // A style index past the table (a broken template) clones style 0.
        let source = if xf < self.base { xf } else { 0 };
        if self.base == 0 {
            return xf;
        }
        let next = self.base + u32::try_from(self.added.len()).unwrap_or(0);
        *self.by_key.entry((source, fmt)).or_insert_with(|| {
            self.added.insert(next, (source, fmt));
            next
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty()
    }
}

/// Copies `styles.xml`, appending the added cell formats to `cellXfs`.
pub(crate) fn rewrite<R: BufRead>(
    rd: &mut PartReader<R>,
    added: &AddedStyles,
    out: &mut Vec<u8>,
) -> Result<(), ReportError> {
    let mut in_xfs = false;
    let mut index = 0u32;
    // Clones wanted of each source xf, with the format each gets.
    let mut wanted: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(source, fmt) in added.added.values() {
        wanted.entry(source).or_default().push(fmt);
    }
    let mut clones: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    // The xf being copied for cloning: (index, its events).
    let mut capturing: Option<(u32, Vec<Event<'static>>)> = None;
    loop {
        let ev = rd.next()?;
        if let Some((_, evs)) = capturing.as_mut() {
            let end = matches!(&ev, Event::End(e) if local_end(e.name().0) == "xf");
            evs.push(ev.clone());
            if end && let Some((i, evs)) = capturing.take() {
                clone_xf(i, &evs, &wanted, added, &mut clones);
            }
            write_event(out, &ev);
            continue;
        }
        match &ev {
            Event::Start(e) if local(e) == "cellXfs" => {
                in_xfs = true;
                let count =
                    (added.base + u32::try_from(added.added.len()).unwrap_or(0)).to_string();
                write_tag(out, e, &[("count", Some(&count))], false);
                continue;
            }
            Event::Start(e) | Event::Empty(e) if in_xfs && local(e) == "xf" => {
                if wanted.contains_key(&index) {
                    if matches!(ev, Event::Empty(_)) {
                        clone_xf(
                            index,
                            std::slice::from_ref(&ev),
                            &wanted,
                            added,
                            &mut clones,
                        );
                    } else {
                        capturing = Some((index, vec![ev.clone()]));
                    }
                }
                index += 1;
            }
            Event::End(e) if local_end(e.name().0) == "cellXfs" => {
                in_xfs = false;
                for bytes in clones.values() {
                    out.extend_from_slice(bytes);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        write_event(out, &ev);
    }
    Ok(())
}

/// Writes the clones of xf `index` (its events `evs`) into `clones` by new index.
fn clone_xf(
    index: u32,
    evs: &[Event<'static>],
    wanted: &HashMap<u32, Vec<u32>>,
    added: &AddedStyles,
    clones: &mut BTreeMap<u32, Vec<u8>>,
) {
    for &fmt in wanted.get(&index).map(Vec::as_slice).unwrap_or(&[]) {
        let Some(&new_index) = added.by_key.get(&(index, fmt)) else {
            continue;
        };
        let mut bytes = Vec::new();
        let fmt_text = fmt.to_string();
        for (i, ev) in evs.iter().enumerate() {
            match ev {
                Event::Start(e) | Event::Empty(e) if i == 0 => write_tag(
                    &mut bytes,
                    e,
                    &[
                        ("numFmtId", Some(&fmt_text)),
                        ("applyNumberFormat", Some("1")),
                    ],
                    matches!(ev, Event::Empty(_)),
                ),
                ev => write_event(&mut bytes, ev),
            }
        }
        clones.insert(new_index, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_codes() {
        for code in [
            "yyyy-mm-dd",
            "d/m/yy h:mm",
            "[h]:mm:ss",
            "[$-409]mmm d",
            "hh\"h\"",
        ] {
            assert!(is_date_code(code), "{code}");
        }
        for code in [
            "General",
            "0.00",
            "#,##0",
            "0.00E+00",
            "\"days\" 0",
            "[Red]0",
            "@",
            "0_)",
        ] {
            assert!(!is_date_code(code), "{code}");
        }
    }
}
