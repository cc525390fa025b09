//! Small XML helpers over quick-xml events: reading a part as a stream,
//! text content, attributes, writing tags with some attributes replaced, and
//! the OOXML `_xHHHH_` escaping of cell text.

use std::borrow::Cow;
use std::io::{BufRead, Write};

use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::error::ReportError;

/// A reader over a part, with the part's name for errors.
pub(crate) struct PartReader<R: BufRead> {
    pub(crate) reader: quick_xml::Reader<R>,
    pub(crate) part: String,
    buf: Vec<u8>,
}

impl<R: BufRead> PartReader<R> {
    pub(crate) fn new(input: R, part: &str) -> PartReader<R> {
        let mut reader = quick_xml::Reader::from_reader(input);
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        PartReader {
            reader,
            part: part.to_string(),
            buf: Vec::with_capacity(4096),
        }
    }

    /// The next event, owned (the buffer is reused).
    pub(crate) fn next(&mut self) -> Result<Event<'static>, ReportError> {
        self.buf.clear();
        match self.reader.read_event_into(&mut self.buf) {
            Ok(ev) => Ok(ev.into_owned()),
            Err(e) => Err(self.error(e)),
        }
    }

    pub(crate) fn error(&self, e: impl std::fmt::Display) -> ReportError {
        ReportError::corrupt(
            &self.part,
            format!("at byte {}: {e}", self.reader.error_position()),
        )
    }
}

/// The local name of an element (`x:row` → `row`).
pub(crate) fn local<'a>(e: &'a BytesStart<'_>) -> &'a str {
    let name = e.name().0;
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// The local name of an end tag.
pub(crate) fn local_end(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// An attribute's unescaped value, by its full name.
pub(crate) fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.0 == key)
        .map(|a| value(&a))
}

/// An attribute's value by local name (`r:id` → `id`).
pub(crate) fn attr_local(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| local_end(a.key.0) == key)
        .map(|a| value(&a))
}

/// An attribute's value: references resolved, whitespace normalized (XML 1.0).
pub(crate) fn value(a: &quick_xml::events::attributes::Attribute<'_>) -> String {
    match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
        Ok(v) => v.into_owned(),
        Err(_) => a.value.to_string(),
    }
}

/// The text of a character or entity reference (`amp` → `&`).
pub(crate) fn resolve_ref(r: &BytesRef<'_>) -> Cow<'static, str> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Cow::Owned(c.to_string());
    }
    Cow::Borrowed(match &**r {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    })
}

/// Appends the text an event carries (text, reference, CDATA).
pub(crate) fn push_text(out: &mut String, ev: &Event<'_>) {
    match ev {
        Event::Text(t) => out.push_str(&t.xml10_content()),
        Event::GeneralRef(r) => out.push_str(&resolve_ref(r)),
        Event::CData(c) => out.push_str(&c.xml10_content()),
        _ => {}
    }
}

/// Escapes `&`, `<`, `>` (and `"` for attributes).
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' if attr => b"&quot;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[from..i]);
        out.extend_from_slice(rep);
        from = i + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

/// Cell text as OOXML stores it: characters XML 1.0 cannot carry (control
/// characters, and CR which XML would fold into LF) as `_xHHHH_`, a literal
/// `_xHHHH_` protected as `_x005F_xHHHH_`, then XML-escaped. Excel's limit of
/// 32,767 characters per cell is applied; the bool says whether text was cut.
pub(crate) fn cell_text_into(out: &mut Vec<u8>, s: &str) -> bool {
    const MAX_UNITS: usize = 32_767;
    let simple = s.len() <= MAX_UNITS
        && !s.bytes().any(|b| {
            matches!(b, b'&' | b'<' | b'>' | b'_') || (b < 0x20 && b != b'\t' && b != b'\n')
        });
    if simple {
        out.extend_from_slice(s.as_bytes());
        return false;
    }
    let mut units = 0usize;
    let mut cut = false;
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > MAX_UNITS {
            cut = true;
            break;
        }
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '_' if is_x_escape(bytes.get(i..).unwrap_or(&[])) => out.extend_from_slice(b"_x005F_"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {
                let _ = write!(out, "_x{:04X}_", c as u32);
            }
            '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(out, "_x{:04X}_", c as u32);
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    cut
}

/// `_xHHHH_` at the start of `b`.
fn is_x_escape(b: &[u8]) -> bool {
    b.len() >= 7
        && b[0] == b'_'
        && b[1] == b'x'
        && b[2..6].iter().all(u8::is_ascii_hexdigit)
        && b[6] == b'_'
}

/// Undoes the `_xHHHH_` escaping of OOXML strings.
pub(crate) fn unescape_ooxml(s: &str) -> Cow<'_, str> {
    if !s.contains("_x") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("_x") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        if is_x_escape(from.as_bytes()) {
            let code = from
                .get(2..6)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32);
            if let Some(c) = code {
                out.push(c);
                rest = from.get(7..).unwrap_or("");
                continue;
            }
        }
        out.push_str("_x");
        rest = from.get(2..).unwrap_or("");
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Writes a start (or empty) tag: `name` and its attributes, with `set`
/// replacing values of some attributes (by full name; `None` drops it) and
/// adding those the tag lacks. Values in `set` are unescaped text.
pub(crate) fn write_tag(
    out: &mut Vec<u8>,
    e: &BytesStart<'_>,
    set: &[(&str, Option<&str>)],
    empty: bool,
) {
    out.push(b'<');
    out.extend_from_slice(e.name().0.as_bytes());
    let mut done = vec![false; set.len()];
    for a in e.attributes().with_checks(false).flatten() {
        let key = a.key.0;
        if let Some(i) = set.iter().position(|(k, _)| *k == key) {
            if let Some(slot) = done.get_mut(i) {
                *slot = true;
            }
            if let Some((_, Some(v))) = set.get(i) {
                push_attr(out, key, v);
            }
            continue;
        }
        out.push(b' ');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"=\"");
        // Raw (already escaped) value; a single-quoted one may hold `"`.
        out.extend_from_slice(a.value.replace('"', "&quot;").as_bytes());
        out.push(b'"');
    }
    for (i, (k, v)) in set.iter().enumerate() {
        if let (false, Some(v)) = (done.get(i).copied().unwrap_or(true), v) {
            push_attr(out, k, v);
        }
    }
    out.extend_from_slice(if empty { b"/>" } else { b">" });
}

pub(crate) fn push_attr(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b' ');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"=\"");
    escape_into(out, value, true);
    out.push(b'"');
}

/// Writes an event as it was read.
pub(crate) fn write_event(out: &mut Vec<u8>, ev: &Event<'_>) {
    let mut w = quick_xml::Writer::new(out);
    // Writing into a Vec cannot fail.
    let _ = w.write_event(ev.borrow());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ooxml_text_escapes() {
        let mut out = Vec::new();
        assert!(!cell_text_into(&mut out, "a<b & c_x0041_\r\u{1b}[0m\t\n"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&lt;b &amp; c_x005F_x0041__x000D__x001B_[0m\t\n"
        );
        assert_eq!(unescape_ooxml("c_x005F_x0041__x000D_"), "c_x0041_\r");
        let mut out = Vec::new();
        assert!(cell_text_into(&mut out, &"é".repeat(40_000)));
        assert_eq!(String::from_utf8(out).unwrap().chars().count(), 32_767);
    }
}
