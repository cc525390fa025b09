//! List expansion: lists side by side, shorter and empty lists, several
//! list rows in one sheet, text around a list, formulas inside and around
//! list rows, and everything below moving.

mod common;

use calamine::{Data, DataType};
use common::*;
use rust_xlsxwriter::{Format, FormatBorder, Workbook};
use serde_json::json;

fn text(s: &str) -> Data {
    Data::String(s.to_string())
}

#[test]
fn lists_side_by_side_and_shorter_lists_leave_blanks() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let b = Format::new().set_border(FormatBorder::Thin);
    ws.write_string_with_format(0, 0, "${hosts}", &b).unwrap();
    ws.write_string_with_format(0, 1, "${ips}", &b).unwrap();
    ws.write_string_with_format(0, 2, "${site}", &b).unwrap();
    ws.write_string_with_format(0, 3, "Host: ${hosts}!", &b)
        .unwrap();
    ws.write_string(1, 0, "below").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let (out, summary) = fill(
        &tpl,
        &json!({"hosts": ["a", "b", "c"], "ips": ["10.0.0.1"], "site": "par"}),
    )
    .unwrap();
    assert_eq!(summary.rows_added, 2);
    assert_eq!(summary.cells_filled, 12);
    let v = values(&out, "Sheet1");
    assert_eq!(
        [value(&v, "A1"), value(&v, "A2"), value(&v, "A3")],
        [text("a"), text("b"), text("c")]
    );
    assert_eq!(
        [value(&v, "B1"), value(&v, "B2"), value(&v, "B3")],
        [text("10.0.0.1"), Data::Empty, Data::Empty]
    );
    assert_eq!(
        [value(&v, "C1"), value(&v, "C2"), value(&v, "C3")],
        [text("par"), text("par"), text("par")]
    );
    assert_eq!(value(&v, "D2"), text("Host: b!"));
    assert_eq!(value(&v, "A4"), text("below"));
    // The blank cells keep the template cell's style (its border).
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    let style = cell_attrs(&xml, "B1")["s"].clone();
    assert_eq!(cell_attrs(&xml, "B3")["s"], style);
    assert!(!cell_attrs(&xml, "B3").contains_key("t"));
}

#[test]
fn an_empty_list_leaves_one_row_with_empty_list_cells() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "${rows.NAME}").unwrap();
    ws.write_string(0, 1, "${label}").unwrap();
    ws.write_string(0, 2, "n=${rows.NAME}").unwrap();
    ws.write_string(1, 0, "below").unwrap();
    ws.write_formula(1, 1, "=COUNTA(A1:A1)").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let (out, summary) = fill(&tpl, &json!({"rows": [], "label": "x"})).unwrap();
    assert_eq!(summary.rows_added, 0);
    let v = values(&out, "Sheet1");
    assert_eq!(value(&v, "A1"), Data::Empty);
    assert_eq!(value(&v, "B1"), text("x"));
    assert_eq!(
        value(&v, "C1"),
        Data::Empty,
        "a cell with an empty list is empty"
    );
    assert_eq!(value(&v, "A2"), text("below"));
    assert_eq!(formula(&formulas(&out, "Sheet1"), "B2"), "COUNTA(A1:A1)");
}

#[test]
fn several_list_rows_in_one_sheet() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Disks").unwrap();
    ws.write_string(1, 0, "${disks.name}").unwrap();
    ws.write_string(1, 1, "${disks.used}").unwrap();
    ws.write_formula(2, 1, "=SUM(B2:B2)").unwrap();
    ws.write_string(3, 0, "Users").unwrap();
    ws.write_string(4, 0, "${users}").unwrap();
    ws.write_formula(5, 0, "=COUNTA(A5:A5)&\" users, \"&B3")
        .unwrap();
    ws.merge_range(6, 0, 6, 1, "end", &Format::new()).unwrap();
    ws.write_formula(0, 1, "=B3+A6").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let data = json!({
        "disks": [{"name": "/", "used": 10}, {"name": "/var", "used": 20}],
        "users": ["u1", "u2", "u3", "u4"]
    });
    let out = fill_ok(&tpl, &data);
    let v = values(&out, "Sheet1");
    let f = formulas(&out, "Sheet1");
    assert_eq!(value(&v, "A3"), text("/var"));
    assert_eq!(value(&v, "B3").as_f64(), Some(20.0));
    assert_eq!(formula(&f, "B4"), "SUM(B2:B3)");
    assert_eq!(value(&v, "A5"), text("Users"));
    assert_eq!([value(&v, "A6"), value(&v, "A9")], [text("u1"), text("u4")]);
    assert_eq!(formula(&f, "A10"), "COUNTA(A6:A9)&\" users, \"&B4");
    assert_eq!(
        formula(&f, "B1"),
        "B4+A10",
        "references from above follow both lists"
    );
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    let merges: Vec<String> = elements(&xml, "mergeCell")
        .into_iter()
        .map(|a| a["ref"].clone())
        .collect();
    assert_eq!(merges, ["A11:B11"]);
}

#[test]
fn list_row_formulas_follow_each_row() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "rate").unwrap();
    ws.write_number(0, 1, 2).unwrap();
    ws.write_string(1, 0, "${xs}").unwrap();
    ws.write_formula(1, 1, "=A2*$B$1").unwrap();
    ws.write_formula(1, 2, "=SUM($A$2:A2)").unwrap();
    ws.write_formula(1, 3, "=A2&\"A2\"").unwrap();
    ws.write_formula(2, 0, "=SUM(A2:A2)").unwrap();
    ws.write_formula(2, 1, "=AVERAGE(B2:B2)*$A$2").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let out = fill_ok(&tpl, &json!({"xs": [1, 2, 3]}));
    let f = formulas(&out, "Sheet1");
    assert_eq!(formula(&f, "B3"), "A3*$B$1");
    assert_eq!(formula(&f, "B4"), "A4*$B$1");
    assert_eq!(
        formula(&f, "C4"),
        "SUM($A$2:A4)",
        "a running total stays a running total"
    );
    assert_eq!(
        formula(&f, "D3"),
        "A3&\"A2\"",
        "text inside strings is not a reference"
    );
    assert_eq!(formula(&f, "A5"), "SUM(A2:A4)");
    assert_eq!(formula(&f, "B5"), "AVERAGE(B2:B4)*$A$2");
}

#[test]
fn shared_formulas_are_written_out_when_rows_move() {
    // rust_xlsxwriter writes no shared formulas: this template is hand-made.
    let sheet = r#"
      <x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row>
      <x:row r="2"><x:c r="A2"><x:v>5</x:v></x:c><x:c r="B2"><x:f t="shared" ref="B2:B4" si="0">A2*2</x:f><x:v>10</x:v></x:c></x:row>
      <x:row r="3"><x:c r="A3"><x:v>6</x:v></x:c><x:c r="B3"><x:f t="shared" si="0"/><x:v>12</x:v></x:c></x:row>
      <x:row r="4"><x:c r="A4"><x:v>7</x:v></x:c><x:c r="B4"><x:f t="shared" si="0"/><x:v>14</x:v></x:c></x:row>"#;
    let tpl = handmade(sheet, &["${xs}"]);
    let out = fill_ok(&tpl, &json!({"xs": ["a", "b"]}));
    let f = formulas(&out, "Hand");
    assert_eq!(formula(&f, "B3"), "A3*2");
    assert_eq!(formula(&f, "B4"), "A4*2");
    assert_eq!(formula(&f, "B5"), "A5*2");
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("t=\"shared\""), "{xml}");
    assert!(!cell_xml(&xml, "B5").contains("<x:v>"));
}

#[test]
fn row_breaks_links_and_validations_below_move() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "${xs}").unwrap();
    ws.write_url(3, 0, rust_xlsxwriter::Url::new("internal:Sheet1!A5"))
        .unwrap();
    ws.set_page_breaks(&[2]).unwrap();
    ws.add_data_validation(
        4,
        0,
        5,
        0,
        &rust_xlsxwriter::DataValidation::new()
            .allow_whole_number(rust_xlsxwriter::DataValidationRule::GreaterThan(0)),
    )
    .unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let out = fill_ok(&tpl, &json!({"xs": [1, 2, 3, 4]}));
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    assert_eq!(elements(&xml, "hyperlink")[0]["ref"], "A7");
    assert_eq!(elements(&xml, "hyperlink")[0]["location"], "Sheet1!A8");
    assert_eq!(elements(&xml, "brk")[0]["id"], "5");
    assert_eq!(elements(&xml, "dataValidation")[0]["sqref"], "A8:A9");
}

#[test]
fn a_list_too_long_for_a_sheet_is_an_error() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "${xs}").unwrap();
    ws.write_string(1_048_000, 0, "far below").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let xs: Vec<u32> = (0..1000).collect();
    let err = fill(&tpl, &json!({ "xs": xs })).unwrap_err().to_string();
    assert!(
        err.contains("sheet 'Sheet1'") && err.contains("1048576"),
        "{err}"
    );
}

#[test]
fn a_sheet_without_placeholders_follows_another_sheets_list() {
    let mut wb = Workbook::new();
    let data = wb.add_worksheet();
    data.set_name("Data").unwrap();
    data.write_string(0, 0, "${xs}").unwrap();
    data.write_number(1, 0, 7).unwrap();
    let sum = wb.add_worksheet();
    sum.set_name("Sum").unwrap();
    sum.write_formula(0, 0, "=SUM(Data!A1:A1)+Data!A2").unwrap();
    sum.write_string(1, 0, "kept").unwrap();
    let untouched = wb.add_worksheet();
    untouched.write_formula(0, 0, "=1+1").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let out = fill_ok(&tpl, &json!({"xs": [1, 2, 3]}));
    assert_eq!(
        formula(&formulas(&out, "Sum"), "A1"),
        "SUM(Data!A1:A3)+Data!A4"
    );
    assert_eq!(value(&values(&out, "Sum"), "A2"), text("kept"));
    assert_eq!(
        part_bytes(&tpl, "xl/worksheets/sheet3.xml"),
        part_bytes(&out, "xl/worksheets/sheet3.xml")
    );
}

#[test]
fn a_frozen_pane_below_a_list_moves_with_its_rows() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(1, 0, "${xs}").unwrap();
    ws.set_freeze_panes(5, 1).unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let out = fill_ok(&tpl, &json!({"xs": [1, 2, 3]}));
    let pane = &elements(&part(&out, "xl/worksheets/sheet1.xml"), "pane")[0];
    assert_eq!(
        (pane["ySplit"].as_str(), pane["xSplit"].as_str()),
        ("7", "1")
    );
    assert_eq!(pane["topLeftCell"], "B8");
}
