//! Cell values: types, dates, text mixing placeholders, expressions, escapes,
//! characters XML cannot carry, Excel's text limit, and templates in shapes
//! other writers produce (inline strings, `t="str"`, prefixed XML, cells
//! without `r`).

mod common;

use calamine::{Data, DataType};
use common::*;
use rust_xlsxwriter::{Format, Workbook};
use serde_json::json;

fn one_column(cells: &[&str]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (r, c) in cells.iter().enumerate() {
        ws.write_string(r as u32, 0, *c).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_lone_placeholder_keeps_the_value_type() {
    let tpl = one_column(&[
        "${i}", "${f}", "${t}", "${n}", "${s}", "${e}", "${big}", "${neg}",
    ]);
    let data = json!({"i": 42, "f": 2.5, "t": true, "n": null, "s": "hello", "e": "", "big": 12345678901234_i64, "neg": -0.125});
    let out = fill_ok(&tpl, &data);
    let v = values(&out, "Sheet1");
    assert_eq!(value(&v, "A1").as_f64(), Some(42.0));
    assert_eq!(value(&v, "A2").as_f64(), Some(2.5));
    assert_eq!(value(&v, "A3"), Data::Bool(true));
    assert_eq!(value(&v, "A4"), Data::Empty);
    assert_eq!(value(&v, "A5"), Data::String("hello".into()));
    assert_eq!(value(&v, "A6"), Data::Empty);
    assert_eq!(value(&v, "A7").as_f64(), Some(12345678901234.0));
    assert_eq!(value(&v, "A8").as_f64(), Some(-0.125));
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    assert!(
        cell_xml(&xml, "A5").contains("t=\"inlineStr\""),
        "text is an inline string"
    );
    // The shared strings table is left as it was.
    assert_eq!(
        part(&tpl, "xl/sharedStrings.xml"),
        part(&out, "xl/sharedStrings.xml")
    );
}

#[test]
fn dates_become_serials_with_a_date_style() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "${d}").unwrap();
    ws.write_string(1, 0, "${dt}").unwrap();
    ws.write_string_with_format(2, 0, "${d}", &Format::new().set_num_format("dd/mm/yyyy"))
        .unwrap();
    ws.write_string(3, 0, "${d2}").unwrap();
    ws.write_string(4, 0, "On ${d}").unwrap();
    ws.write_string(5, 0, "${notdate}").unwrap();
    let tpl = wb.save_to_buffer().unwrap();
    let data = json!({"d": "2026-11-21", "dt": "2026-11-21 10:00:00.250", "d2": "2026-11-22", "notdate": "2026-13-01"});
    let out = fill_ok(&tpl, &data);
    let v = values(&out, "Sheet1");
    let dt = |c: &str| match value(&v, c) {
        Data::DateTime(d) => d.as_datetime().unwrap().to_string(),
        other => panic!("{c}: {other:?}"),
    };
    assert_eq!(dt("A1"), "2026-11-21 00:00:00");
    assert_eq!(dt("A2"), "2026-11-21 10:00:00.250");
    assert_eq!(dt("A3"), "2026-11-21 00:00:00");
    assert_eq!(
        value(&v, "A5"),
        Data::String("On 2026-11-21".into()),
        "dates inside text stay text"
    );
    assert_eq!(value(&v, "A6"), Data::String("2026-13-01".into()));
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    let styles = part(&out, "xl/styles.xml");
    let xfs = elements(section(&styles, "cellXfs").unwrap().as_str(), "xf");
    let fmt = |cell: &str| {
        let s: usize = cell_attrs(&xml, cell)
            .get("s")
            .map_or(0, |s| s.parse().unwrap());
        xfs[s]["numFmtId"].clone()
    };
    assert_eq!(fmt("A1"), "14");
    assert_eq!(fmt("A2"), "22");
    assert_eq!(fmt("A4"), "14");
    assert_eq!(
        cell_attrs(&xml, "A1")["s"],
        cell_attrs(&xml, "A4")["s"],
        "one added style per need"
    );
    let tpl_xml = part(&tpl, "xl/worksheets/sheet1.xml");
    assert_eq!(
        cell_attrs(&xml, "A3")["s"],
        cell_attrs(&tpl_xml, "A3")["s"],
        "a custom date format is kept"
    );
}

#[test]
fn text_mixing_placeholders_and_expressions() {
    let tpl = one_column(&[
        "${a} and ${b.c}, ${?missing} done",
        "${n * 2 + 1}",
        "${name.toUpperCase()} has ${name.length()} letters",
        "cost \\${x} is ${price}",
        "${empty list ? 'none' : 'some'}",
        "${flag ? 'yes' : 'no'}",
        "${?nothing.at.all}",
        "${rows[1].NAME}",
        "${rows[0]['the key']}",
        "${sql1.rows.名称}",
    ]);
    let data = json!({
        "a": "A", "b": {"c": 3}, "n": 4, "name": "baton", "price": 9.5, "list": [],
        "flag": false, "rows": [{"NAME": "r0", "the key": "k"}, {"NAME": "r1"}],
        "sql1": {"rows": [{"名称": "主机"}]}
    });
    let out = fill_ok(&tpl, &data);
    let v = values(&out, "Sheet1");
    let s = |c: &str| value(&v, c);
    assert_eq!(s("A1"), Data::String("A and 3,  done".into()));
    assert_eq!(s("A2").as_f64(), Some(9.0));
    assert_eq!(s("A3"), Data::String("BATON has 5 letters".into()));
    assert_eq!(s("A4"), Data::String("cost ${x} is 9.5".into()));
    assert_eq!(s("A5"), Data::String("none".into()));
    assert_eq!(s("A6"), Data::String("no".into()));
    assert_eq!(s("A7"), Data::Empty);
    assert_eq!(s("A8"), Data::String("r1".into()));
    assert_eq!(s("A9"), Data::String("k".into()));
    assert_eq!(s("A10"), Data::String("主机".into()));
}

#[test]
fn awkward_text_round_trips() {
    let tpl = one_column(&["${x}", "${y}", "${z}"]);
    let x = "a < b && c > d \"q\" 'a' _x0041_ tab\tnl\ncr\r esc\u{1b}[0m bell\u{7} 表";
    let long = "é".repeat(40_000);
    let (out, summary) = fill(&tpl, &json!({"x": x, "y": long, "z": "  padded  "})).unwrap();
    assert_eq!(summary.truncated_cells, 1);
    let v = values(&out, "Sheet1");
    assert_eq!(value(&v, "A1"), Data::String(x.to_string()));
    assert_eq!(
        value(&v, "A2"),
        Data::String("é".repeat(32_767)),
        "cut at Excel's limit"
    );
    assert_eq!(value(&v, "A3"), Data::String("  padded  ".into()));
}

#[test]
fn inline_str_prefixed_and_r_less_templates() {
    let sheet = r#"
      <x:row r="2" ht="30" customHeight="1">
        <x:c r="A2" t="inlineStr"><x:is><x:t>${host}</x:t></x:is></x:c>
        <x:c t="inlineStr" s="1"><x:is><x:r><x:t>${a}</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>-${b}</x:t></x:r><x:rPh><x:t>ignored ${nope}</x:t></x:rPh></x:is></x:c>
        <x:c t="str"><x:v>${n}</x:v></x:c>
        <x:c t="s"><x:v>0</x:v></x:c>
        <x:c t="str"><x:f>"${"&amp;"x}"</x:f><x:v>${x}</x:v></x:c>
      </x:row>
      <x:row><x:c t="s"><x:v>1</x:v></x:c></x:row>"#;
    let tpl = handmade(sheet, &["${list}", "plain &amp; simple"]);
    let t = baton_reports::Template::from_bytes(tpl.clone()).unwrap();
    let found: Vec<String> = t
        .placeholders()
        .iter()
        .map(|p| format!("{}:{}", p.cell, p.expression))
        .collect();
    assert_eq!(
        found,
        ["A2:host", "B2:a", "B2:b", "C2:n", "D2:list"],
        "formula results and phonetic text are not placeholders"
    );
    let data = json!({"host": "h1", "a": "x", "b": "y", "n": 7, "list": ["l1", "l2"]});
    let out = fill_ok(&tpl, &data);
    let v = values(&out, "Hand");
    assert_eq!(value(&v, "A2"), Data::String("h1".into()));
    assert_eq!(value(&v, "A3"), Data::String("h1".into()));
    assert_eq!(value(&v, "B2"), Data::String("x-y".into()));
    assert_eq!(value(&v, "C2").as_f64(), Some(7.0));
    assert_eq!(value(&v, "D3"), Data::String("l2".into()));
    assert_eq!(
        value(&v, "A4"),
        Data::String("plain & simple".into()),
        "the row without r moved"
    );
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(
            "<x:c r=\"A2\" t=\"inlineStr\"><x:is><x:t xml:space=\"preserve\">h1</x:t></x:is></x:c>"
        ),
        "{xml}"
    );
    assert_eq!(row_attrs(&xml, 3)["ht"], "30");
    assert_eq!(cell_attrs(&xml, "B3")["s"], "1");
    let wb = part(&out, "xl/workbook.xml");
    assert!(
        wb.contains("<x:calcPr fullCalcOnLoad=\"1\"/></x:workbook>"),
        "{wb}"
    );
}

#[test]
fn a_template_without_placeholders_is_copied() {
    let tpl = one_column(&["no placeholders", "$ {x} and #{y}"]);
    let t = baton_reports::Template::from_bytes(tpl.clone()).unwrap();
    assert!(t.placeholders().is_empty());
    let out = fill_ok(&tpl, &json!({}));
    for name in part_names(&tpl) {
        assert_eq!(part_bytes(&tpl, &name), part_bytes(&out, &name), "{name}");
    }
}

#[test]
fn the_calc_chain_goes_with_its_relationship_and_content_type() {
    let tpl = one_column(&["${x}", "=A1"]);
    let rels = part(&tpl, "xl/_rels/workbook.xml.rels").replace(
        "</Relationships>",
        r#"<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>"#,
    );
    let types = part(&tpl, "[Content_Types].xml").replace(
        "</Types>",
        r#"<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>"#,
    );
    let chain = r#"<?xml version="1.0" encoding="UTF-8"?><calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="A2" i="1"/></calcChain>"#;
    let tpl = with_parts(
        &tpl,
        &[
            ("xl/_rels/workbook.xml.rels", Some(rels)),
            ("[Content_Types].xml", Some(types)),
            ("xl/calcChain.xml", Some(chain.to_string())),
        ],
    );
    let out = fill_ok(&tpl, &json!({"x": 1}));
    assert!(!part_names(&out).contains(&"xl/calcChain.xml".to_string()));
    assert!(!part(&out, "xl/_rels/workbook.xml.rels").contains("calcChain"));
    assert!(!part(&out, "[Content_Types].xml").contains("calcChain"));
    assert!(part(&out, "[Content_Types].xml").contains("/xl/styles.xml"));
    assert_eq!(value(&values(&out, "Sheet1"), "A1").as_f64(), Some(1.0));
    // Without placeholders nothing changes, the chain included.
    let plain = with_parts(
        &tpl,
        &[(
            "xl/sharedStrings.xml",
            Some(part(&tpl, "xl/sharedStrings.xml").replace("${x}", "x")),
        )],
    );
    let out = fill_ok(&plain, &json!({}));
    assert!(part_names(&out).contains(&"xl/calcChain.xml".to_string()));
}

#[test]
fn dates_in_a_1904_workbook() {
    let tpl = one_column(&["${d}"]);
    let wb = part(&tpl, "xl/workbook.xml");
    let wb = match wb.find("<workbookPr") {
        Some(_) => wb.replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1),
        None => panic!("rust_xlsxwriter writes workbookPr"),
    };
    let tpl = with_parts(&tpl, &[("xl/workbook.xml", Some(wb))]);
    let out = fill_ok(&tpl, &json!({"d": "1904-01-03"}));
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    assert!(
        cell_xml(&xml, "A1").contains("<v>2</v>"),
        "{}",
        cell_xml(&xml, "A1")
    );
}
