//! The xlsx package: which part is the workbook, its sheets (name → part),
//! shared strings, styles and calc chain, found through the relationships the
//! way Excel finds them (never by guessing file names).

use std::collections::HashMap;
use std::io::{BufReader, Cursor};

use quick_xml::events::Event;
use zip::ZipArchive;

use crate::error::ReportError;
use crate::xml::{PartReader, attr, attr_local, local, push_text};

pub(crate) type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// A streaming reader over one part of an [`Archive`].
pub(crate) type Part<'z, 'b> = PartReader<BufReader<zip::read::ZipFile<'z, Cursor<&'b [u8]>>>>;

/// A worksheet of the workbook.
#[derive(Debug, Clone)]
pub(crate) struct SheetPart {
    pub(crate) name: String,
    pub(crate) part: String,
    /// Parts that place things on the sheet's rows.
    pub(crate) companions: Vec<(Companion, String)>,
}

/// A part related to a worksheet whose row references move with its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Companion {
    /// Images, shapes and charts anchored to cells.
    Drawing,
    /// Legacy drawing (comment boxes).
    Vml,
    /// Tables, comments and threaded comments: `ref` attributes.
    Refs,
}

/// What the filler needs to know about the package.
#[derive(Debug, Clone)]
pub(crate) struct Book {
    pub(crate) workbook: String,
    pub(crate) workbook_rels: String,
    pub(crate) sheets: Vec<SheetPart>,
    pub(crate) shared_strings: Option<String>,
    pub(crate) styles: Option<String>,
    pub(crate) calc_chain: Option<String>,
    /// Chart parts of the sheets' drawings (their series name sheets).
    pub(crate) charts: Vec<String>,
    /// Dates count from 1904-01-01 (`<workbookPr date1904="1"/>`).
    pub(crate) date1904: bool,
}

pub(crate) fn open(bytes: &[u8]) -> Result<Archive<'_>, ReportError> {
    ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ReportError::NotXlsx(format!("not a zip archive ({e})")))
}

/// A part's reader, streaming and decompressing.
pub(crate) fn part_reader<'z, 'b>(
    zip: &'z mut Archive<'b>,
    name: &str,
) -> Result<Part<'z, 'b>, ReportError> {
    let file = zip
        .by_name(name)
        .map_err(|e| ReportError::corrupt(name, e))?;
    Ok(PartReader::new(
        BufReader::with_capacity(64 * 1024, file),
        name,
    ))
}

/// `target` of a relationship of part `source`, as a part name.
pub(crate) fn resolve_target(source: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = source.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The relationships part of `part` (`xl/workbook.xml` → `xl/_rels/workbook.xml.rels`).
pub(crate) fn rels_of(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// A relationship: id, type (last path segment), target part, external or not.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) target: String,
    pub(crate) external: bool,
}

pub(crate) fn read_rels(zip: &mut Archive<'_>, source: &str) -> Result<Vec<Rel>, ReportError> {
    let rels_part = rels_of(source);
    if zip.index_for_name(&rels_part).is_none() {
        return Ok(Vec::new());
    }
    let mut rd = part_reader(zip, &rels_part)?;
    let mut rels = Vec::new();
    loop {
        match rd.next()? {
            Event::Start(e) | Event::Empty(e) if local(&e) == "Relationship" => {
                let external = attr(&e, "TargetMode").is_some_and(|m| m == "External");
                let target = attr(&e, "Target").unwrap_or_default();
                rels.push(Rel {
                    id: attr(&e, "Id").unwrap_or_default(),
                    kind: attr(&e, "Type")
                        .map(|t| t.rsplit('/').next().unwrap_or("").to_string())
                        .unwrap_or_default(),
                    target: if external {
                        target
                    } else {
                        resolve_target(source, &target)
                    },
                    external,
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(rels)
}

pub(crate) fn read_book(zip: &mut Archive<'_>) -> Result<Book, ReportError> {
    let root = read_rels(zip, "")?;
    let workbook = root
        .iter()
        .find(|r| r.kind == "officeDocument" && !r.external)
        .map(|r| r.target.clone())
        .unwrap_or_else(|| "xl/workbook.xml".to_string());
    if zip.index_for_name(&workbook).is_none() {
        return Err(ReportError::NotXlsx(format!(
            "no workbook part '{workbook}' in the archive"
        )));
    }
    let rels = read_rels(zip, &workbook)?;
    let by_id: HashMap<&str, &Rel> = rels.iter().map(|r| (r.id.as_str(), r)).collect();
    let of_kind = |k: &str| {
        rels.iter()
            .find(|r| r.kind == k && !r.external)
            .map(|r| r.target.clone())
            .filter(|t| zip.index_for_name(t).is_some())
    };
    let shared_strings = of_kind("sharedStrings");
    let styles = of_kind("styles");
    let calc_chain = of_kind("calcChain");

    let mut sheets = Vec::new();
    let mut date1904 = false;
    let mut rd = part_reader(zip, &workbook)?;
    loop {
        match rd.next()? {
            Event::Start(e) | Event::Empty(e) => match local(&e) {
                "workbookPr" => {
                    date1904 = attr(&e, "date1904").is_some_and(|v| v == "1" || v == "true");
                }
                "sheet" => {
                    let name = attr(&e, "name").unwrap_or_default();
                    let id = attr_local(&e, "id").unwrap_or_default();
                    if let Some(rel) = by_id.get(id.as_str())
                        && rel.kind == "worksheet"
                        && !rel.external
                    {
                        sheets.push(SheetPart {
                            name,
                            part: rel.target.clone(),
                            companions: Vec::new(),
                        });
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    drop(rd);
    sheets.retain(|s| zip.index_for_name(&s.part).is_some());
    let mut charts = Vec::new();
    for sheet in &mut sheets {
        for rel in read_rels(zip, &sheet.part)? {
            let kind = match rel.kind.as_str() {
                "drawing" => Companion::Drawing,
                "vmlDrawing" => Companion::Vml,
                "table" | "comments" | "threadedComment" => Companion::Refs,
                _ => continue,
            };
            if rel.external || zip.index_for_name(&rel.target).is_none() {
                continue;
            }
            if kind == Companion::Drawing {
                for chart in read_rels(zip, &rel.target)? {
                    if chart.kind == "chart"
                        && !chart.external
                        && zip.index_for_name(&chart.target).is_some()
                    {
                        charts.push(chart.target);
                    }
                }
            }
            sheet.companions.push((kind, rel.target));
        }
    }
    charts.sort();
    charts.dedup();
    Ok(Book {
        charts,
        workbook_rels: rels_of(&workbook),
        workbook,
        sheets,
        shared_strings,
        styles,
        calc_chain,
        date1904,
    })
}

/// The shared strings that hold a placeholder, by index.
pub(crate) fn placeholder_strings(
    zip: &mut Archive<'_>,
    part: &str,
) -> Result<HashMap<u32, String>, ReportError> {
    let mut rd = part_reader(zip, part)?;
    let mut found = HashMap::new();
    let mut index = 0u32;
    let mut text = String::new();
    // Depth inside <rPh> (phonetic runs are not part of the text).
    let mut in_phonetic = 0u32;
    let mut in_t = false;
    loop {
        let ev = rd.next()?;
        match &ev {
            Event::Start(e) => match local(e) {
                "si" => text.clear(),
                "rPh" => in_phonetic += 1,
                "t" => in_t = in_phonetic == 0,
                _ => {}
            },
            Event::End(e) => match crate::xml::local_end(e.name().0) {
                "si" => {
                    let t = crate::xml::unescape_ooxml(&text);
                    if crate::placeholder::has_placeholder(&t) {
                        found.insert(index, t.into_owned());
                    }
                    index = index.saturating_add(1);
                }
                "rPh" => in_phonetic = in_phonetic.saturating_sub(1),
                "t" => in_t = false,
                _ => {}
            },
            Event::Empty(e) if local(e) == "si" => index = index.saturating_add(1),
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) if in_t => {
                push_text(&mut text, &ev)
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            resolve_target("xl/workbook.xml", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve_target("xl/workbook.xml", "/xl/styles.xml"),
            "xl/styles.xml"
        );
        assert_eq!(
            resolve_target("xl/worksheets/sheet1.xml", "../drawings/d1.xml"),
            "xl/drawings/d1.xml"
        );
        assert_eq!(resolve_target("", "xl/workbook.xml"), "xl/workbook.xml");
        assert_eq!(rels_of("xl/workbook.xml"), "xl/_rels/workbook.xml.rels");
        assert_eq!(rels_of(""), "_rels/.rels");
    }
}
