//! Shared by the report tests: fill a template in memory, read the result
//! back with calamine, and read package parts and XML attributes directly.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use baton_reports::{FillSummary, ReportError, Template};
use calamine::{Data, Range, Reader, Xlsx, open_workbook_from_rs};
use quick_xml::events::Event;

/// Fills `template` with `data`, returning the filled package.
pub fn fill(
    template: &[u8],
    data: &serde_json::Value,
) -> Result<(Vec<u8>, FillSummary), ReportError> {
    let t = Template::from_bytes(template.to_vec())?;
    let mut out = Cursor::new(Vec::new());
    let summary = t.fill(data, &mut out)?;
    Ok((out.into_inner(), summary))
}

pub fn fill_ok(template: &[u8], data: &serde_json::Value) -> Vec<u8> {
    match fill(template, data) {
        Ok((bytes, _)) => bytes,
        Err(e) => panic!("fill failed: {e}"),
    }
}

fn book(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("calamine opens the result")
}

/// The values of a sheet, read by calamine.
pub fn values(bytes: &[u8], sheet: &str) -> Range<Data> {
    book(bytes).worksheet_range(sheet).expect("sheet reads")
}

/// The formulas of a sheet, read by calamine.
pub fn formulas(bytes: &[u8], sheet: &str) -> Range<String> {
    book(bytes).worksheet_formula(sheet).expect("formulas read")
}

/// `B3` → (2, 1), 0-based (row, col) as calamine counts.
pub fn pos(cell: &str) -> (u32, u32) {
    let split = cell.find(|c: char| c.is_ascii_digit()).unwrap();
    let (letters, digits) = cell.split_at(split);
    let col = letters
        .bytes()
        .fold(0u32, |a, b| a * 26 + u32::from(b - b'A' + 1));
    (digits.parse::<u32>().unwrap() - 1, col - 1)
}

pub fn value(range: &Range<Data>, cell: &str) -> Data {
    range.get_value(pos(cell)).cloned().unwrap_or(Data::Empty)
}

pub fn formula(range: &Range<String>, cell: &str) -> String {
    range.get_value(pos(cell)).cloned().unwrap_or_default()
}

/// A part of the package, as bytes.
pub fn part_bytes(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut f = zip
        .by_name(name)
        .unwrap_or_else(|e| panic!("part {name}: {e}"));
    let mut out = Vec::new();
    f.read_to_end(&mut out).unwrap();
    out
}

pub fn part(bytes: &[u8], name: &str) -> String {
    String::from_utf8(part_bytes(bytes, name)).unwrap()
}

pub fn part_names(bytes: &[u8]) -> Vec<String> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    zip.file_names().map(|s| s.unwrap().to_string()).collect()
}

/// Attributes of every element with local name `name`, in document order.
pub fn elements(xml: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let mut rd = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match rd.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == name => {
                out.push(
                    e.attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            let v = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap();
                            (a.key.as_ref().to_string(), v.into_owned())
                        })
                        .collect(),
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// Text content of every element with local name `name`.
pub fn texts(xml: &str, name: &str) -> Vec<String> {
    let mut rd = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut inside = None::<String>;
    loop {
        match rd.read_event().unwrap() {
            Event::Start(e) if e.local_name().as_ref() == name => inside = Some(String::new()),
            Event::Empty(e) if e.local_name().as_ref() == name => out.push(String::new()),
            Event::Text(t) => {
                if let Some(s) = inside.as_mut() {
                    s.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(s) = inside.as_mut() {
                    s.push_str(match &*r {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "?",
                    });
                }
            }
            Event::End(e) if e.local_name().as_ref() == name => {
                if let Some(s) = inside.take() {
                    out.push(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// The attributes of cell `r` in a sheet's XML.
pub fn cell_attrs(sheet_xml: &str, r: &str) -> BTreeMap<String, String> {
    elements(sheet_xml, "c")
        .into_iter()
        .find(|a| a.get("r").map(String::as_str) == Some(r))
        .unwrap_or_else(|| panic!("no cell {r}"))
}

/// The XML of cell `r` (any prefix), from `<c` to its end.
pub fn cell_xml(sheet_xml: &str, r: &str) -> String {
    let needle = format!("c r=\"{r}\"");
    let at = sheet_xml
        .match_indices(&needle)
        .map(|(i, _)| i)
        .find(|&i| sheet_xml[..i].ends_with('<') || sheet_xml[..i].ends_with(':'))
        .unwrap_or_else(|| panic!("no cell {r}"));
    let start = sheet_xml[..at].rfind('<').unwrap();
    let rest = &sheet_xml[start..];
    let tag_end = rest.find('>').unwrap();
    if rest[..tag_end].ends_with('/') {
        return rest[..=tag_end].to_string();
    }
    let close = rest.find("c>").map(|e| e + 2).unwrap_or(rest.len());
    rest[..close].to_string()
}

/// Attributes of row `r`.
pub fn row_attrs(sheet_xml: &str, r: u32) -> BTreeMap<String, String> {
    elements(sheet_xml, "row")
        .into_iter()
        .find(|a| a.get("r").map(String::as_str) == Some(&r.to_string()))
        .unwrap_or_else(|| panic!("no row {r}"))
}

/// The XML between `<tag` and the matching `</tag>` (or `/>`), first occurrence.
pub fn section(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}"))?;
    let rest = &xml[start..];
    let close = format!("</{tag}>");
    let end = match rest.find(&close) {
        Some(e) => e + close.len(),
        None => rest.find("/>")? + 2,
    };
    Some(rest[..end].to_string())
}

/// Defined names of workbook.xml: name (with local sheet id) → formula.
pub fn defined_names(bytes: &[u8]) -> BTreeMap<String, String> {
    let xml = part(bytes, "xl/workbook.xml");
    let names = elements(&xml, "definedName");
    let formulas = texts(&xml, "definedName");
    names
        .iter()
        .zip(formulas)
        .map(|(a, f)| {
            let key = match a.get("localSheetId") {
                Some(id) => format!("{}@{id}", a["name"]),
                None => a["name"].clone(),
            };
            (key, f)
        })
        .collect()
}

/// A minimal xlsx package written by hand: one sheet with the given
/// `sheetData` inner XML (and optional prefix), for shapes rust_xlsxwriter
/// does not produce (inline strings, `t="str"`, prefixes, cells without `r`).
pub fn handmade(sheet_xml: &str, shared: &[&str]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default();
    let mut put = |name: &str, body: &str| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    };
    put(
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#,
    );
    put(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    put(
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
    );
    put(
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:sheets><x:sheet name="Hand" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>"#,
    );
    put(
        "xl/styles.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment wrapText="1"/></xf></cellXfs></styleSheet>"#,
    );
    let sst: String = shared
        .iter()
        .map(|s| format!("<si><t xml:space=\"preserve\">{s}</t></si>"))
        .collect();
    put(
        "xl/sharedStrings.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">{sst}</sst>"#,
            n = shared.len()
        ),
    );
    put(
        "xl/worksheets/sheet1.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>{sheet_xml}</x:sheetData></x:worksheet>"#
        ),
    );
    zip.finish().unwrap().into_inner()
}

/// A copy of a package with some parts replaced or added (`Some`) or removed (`None`).
pub fn with_parts(bytes: &[u8], changes: &[(&str, Option<String>)]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let body = match changes.iter().find(|(n, _)| *n == name) {
            Some((_, Some(new))) => new.as_bytes().to_vec(),
            Some((_, None)) => continue,
            None => {
                let mut b = Vec::new();
                f.read_to_end(&mut b).unwrap();
                b
            }
        };
        zout.start_file(name, opts).unwrap();
        zout.write_all(&body).unwrap();
    }
    for (name, body) in changes {
        if let Some(body) = body
            && zin.index_for_name(name).is_none()
        {
            zout.start_file(*name, opts).unwrap();
            zout.write_all(body.as_bytes()).unwrap();
        }
    }
    zout.finish().unwrap().into_inner()
}
