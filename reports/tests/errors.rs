//! Errors say what and where (sheet, cell, placeholder); no input panics;
//! `fill_file` leaves nothing behind when it fails.

mod common;

use std::io::Cursor;

use baton_reports::{ReportError, Template, fill_file};
use common::*;
use rust_xlsxwriter::Workbook;
use serde_json::json;

fn template(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Ops").unwrap();
    for (r, c, s) in cells {
        ws.write_string(*r, *c, *s).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn fill_err(tpl: &[u8], data: serde_json::Value) -> ReportError {
    match fill(tpl, &data) {
        Ok(_) => panic!("fill succeeded"),
        Err(e) => e,
    }
}

#[test]
fn not_an_xlsx() {
    let e = Template::from_bytes(b"name,value\nx,1\n".to_vec()).unwrap_err();
    assert!(matches!(e, ReportError::NotXlsx(_)), "{e}");
    assert!(e.to_string().starts_with("not an xlsx workbook"), "{e}");
    // A zip, but not a workbook.
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("hello.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"hi").unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let e = Template::from_bytes(bytes).unwrap_err();
    assert!(e.to_string().contains("no workbook part"), "{e}");
}

#[test]
fn corrupt_and_truncated_packages() {
    let tpl = template(&[(0, 0, "${x}")]);
    let e = Template::from_bytes(tpl[..tpl.len() / 2].to_vec()).unwrap_err();
    assert!(matches!(e, ReportError::NotXlsx(_)), "truncated: {e}");
    // Damage the compressed data of every part but keep the directory intact.
    let mut bad = tpl.clone();
    for b in bad.iter_mut().skip(200).step_by(97).take(40) {
        *b ^= 0x5a;
    }
    match Template::from_bytes(bad.clone()) {
        Err(e) => assert!(
            matches!(e, ReportError::Corrupt { .. } | ReportError::NotXlsx(_)),
            "{e}"
        ),
        Ok(t) => {
            let _ = t.fill(&json!({"x": 1}), Cursor::new(Vec::new()));
        }
    }
}

#[test]
fn a_placeholder_that_does_not_parse_names_sheet_and_cell() {
    let e = Template::from_bytes(template(&[(2, 1, "Total: ${a +}")])).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ReportError::Placeholder { .. }));
    assert!(
        msg.contains("sheet 'Ops' cell B3") && msg.contains("${a +}"),
        "{msg}"
    );
    let e = Template::from_bytes(template(&[(0, 3, "x ${unclosed")])).unwrap_err();
    assert!(
        e.to_string().contains("sheet 'Ops' cell D1") && e.to_string().contains("no closing"),
        "{e}"
    );
}

#[test]
fn a_missing_value_names_sheet_cell_and_placeholder() {
    let tpl = template(&[(0, 0, "ok"), (4, 2, "${collect.stdot}")]);
    let e = fill_err(&tpl, json!({"collect": {"stdout": "x"}}));
    assert!(matches!(e, ReportError::Missing { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("sheet 'Ops' cell C5")
            && msg.contains("${collect.stdot}")
            && msg.contains("'stdot'"),
        "{msg}"
    );
    let e = fill_err(&tpl, json!({}));
    assert!(e.to_string().contains("unknown name 'collect'"), "{e}");
    // Through baton-expr too.
    let e = fill_err(&template(&[(0, 0, "${count + 1}")]), json!({}));
    assert!(
        matches!(e, ReportError::Missing { .. }) && e.to_string().contains("cell A1"),
        "{e}"
    );
    // Other evaluation errors.
    let e = fill_err(&template(&[(1, 0, "${10 / n}")]), json!({"n": 0}));
    assert!(
        matches!(e, ReportError::Eval { .. }) && e.to_string().contains("cell A2"),
        "{e}"
    );
}

#[test]
fn an_optional_missing_value_is_empty() {
    let tpl = template(&[
        (0, 0, "${?collect.stdot}"),
        (0, 1, "[${?nope}]"),
        (0, 2, "${?rows.X}"),
    ]);
    let out = fill_ok(&tpl, &json!({"collect": {}, "rows": [{"X": 1}, {}]}));
    let v = values(&out, "Ops");
    assert_eq!(value(&v, "A1"), calamine::Data::Empty);
    assert_eq!(value(&v, "B1"), calamine::Data::String("[]".into()));
    assert_eq!(value(&v, "C1"), calamine::Data::Float(1.0));
    assert_eq!(value(&v, "C2"), calamine::Data::Empty);
}

#[test]
fn wrong_shapes_name_sheet_cell_and_a_field() {
    let tpl = template(&[(1, 1, "${host}")]);
    let e = fill_err(&tpl, json!({"host": {"name": "h", "ip": "1.2.3.4"}}));
    assert!(matches!(e, ReportError::WrongShape { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("sheet 'Ops' cell B2")
            && msg.contains("is an object")
            && msg.contains("${host.ip}"),
        "{msg}"
    );
    let tpl = template(&[(3, 0, "rows: ${sql1.rows}")]);
    let e = fill_err(&tpl, json!({"sql1": {"rows": [{"NAME": "a"}]}}));
    let msg = e.to_string();
    assert!(
        msg.contains("cell A4")
            && msg.contains("list of objects")
            && msg.contains("${sql1.rows.NAME}"),
        "{msg}"
    );
    let e = fill_err(&template(&[(0, 0, "${m}")]), json!({"m": [[1, 2]]}));
    assert!(e.to_string().contains("list of lists"), "{e}");
}

/// A deterministic xorshift, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What garbage in XML is made of.
const ALPHABET: &[u8] = b"<>\"/=x:9$.{}AZ&;";

fn try_everything(bytes: Vec<u8>) {
    if let Ok(t) = Template::from_bytes(bytes) {
        let data = json!({"x": [1, "2026-01-01", null], "y": {"z": "t"}, "rows": [{"A": 1}]});
        let _ = t.fill(&data, Cursor::new(Vec::new()));
    }
}

#[test]
fn no_input_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for len in [0usize, 1, 4, 22, 100, 3000] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        try_everything(bytes);
    }
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..500).map(|_| rng.next() as u8));
    try_everything(bytes);

    // Every truncation of a real template.
    let tpl = template(&[(0, 0, "${x}"), (1, 0, "${y.z}"), (2, 0, "=${rows.A}")]);
    for cut in (0..tpl.len()).step_by(37) {
        try_everything(tpl[..cut].to_vec());
    }
    // Garbage inside the XML of a stored (uncompressed) package.
    let sheet = r#"<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>${y.z} ${x}</x:t></x:is></x:c><x:c r="C1"><x:f>SUM(A1:A1)+Z9</x:f></x:c></x:row><x:row r="3"><x:c r="A3" t="s"><x:v>0</x:v></x:c></x:row>"#;
    let good = handmade(sheet, &["${x}"]);
    try_everything(good.clone());
    // BATON_REPORTS_FUZZ_ROUNDS=100000 for a longer run.
    let rounds: u64 = std::env::var("BATON_REPORTS_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    let compressed = template(&[(0, 0, "${x}"), (1, 0, "a ${y.z}"), (2, 1, "${rows.A}")]);
    for round in 0..rounds {
        let flips = 1 + (round % 8);
        if round % 3 == 1 {
            // Garbage in the sheet XML itself, packaged with a valid checksum.
            let mut xml = sheet.as_bytes().to_vec();
            for _ in 0..flips {
                let i = (rng.next() as usize) % xml.len();
                xml[i] = ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize];
            }
            try_everything(handmade(
                &String::from_utf8_lossy(&xml),
                &["${x}", "${rows.A}"],
            ));
            continue;
        }
        let mut bytes = if round % 3 == 0 {
            compressed.clone()
        } else {
            good.clone()
        };
        for _ in 0..flips {
            let i = (rng.next() as usize) % bytes.len();
            bytes[i] = match rng.next() % 4 {
                0 => b'<',
                1 => b'"',
                2 => b'9',
                _ => rng.next() as u8,
            };
        }
        try_everything(bytes);
    }
}

#[test]
fn fill_file_is_atomic() {
    let dir = std::env::temp_dir().join(format!("baton-reports-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tpl = dir.join("t.xlsx");
    std::fs::write(&tpl, template(&[(0, 0, "${x}")])).unwrap();
    let out = dir.join("out.xlsx");
    let tmp = dir.join("out.xlsx.tmp");

    let data = dir.join("d.json");
    std::fs::write(&data, r#"{"x": "filled"}"#).unwrap();
    let summary = fill_file(&tpl, &data, &out).unwrap();
    assert_eq!(summary.cells_filled, 1);
    assert!(out.exists() && !tmp.exists());
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        value(&values(&bytes, "Ops"), "A1"),
        calamine::Data::String("filled".into())
    );
    std::fs::remove_file(&out).unwrap();

    for (body, what) in [
        (r#"{"y": 1}"#, "unknown name 'x'"),
        ("[1]", "must be a JSON object"),
        ("{", "data"),
    ] {
        std::fs::write(&data, body).unwrap();
        let e = fill_file(&tpl, &data, &out).unwrap_err();
        assert!(e.to_string().contains(what), "{e}");
        assert!(
            !out.exists() && !tmp.exists(),
            "nothing left behind after: {e}"
        );
    }
    // An output directory that does not exist.
    std::fs::write(&data, r#"{"x": 1}"#).unwrap();
    let e = fill_file(&tpl, &data, &dir.join("no/such/dir/out.xlsx")).unwrap_err();
    assert!(matches!(e, ReportError::Io { .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
