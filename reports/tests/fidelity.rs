//! Fidelity: a template carrying every feature an operator uses — fonts,
//! fills, borders, number formats, merges (also below a list row), column
//! widths, row heights, freeze panes, formulas above, in and below a list
//! row, print settings, conditional formats, data validation, a hyperlink, an
//! image, defined names, an auto-filter, three sheets — filled, then compared
//! feature by feature through calamine and the package's XML.

mod common;

use calamine::{Data, DataType};
use common::*;
use rust_xlsxwriter::{
    ConditionalFormatCell, ConditionalFormatCellRule, DataValidation, Format, FormatBorder, Image,
    Url, Workbook,
};
use serde_json::json;

const PNG: [u8; 70] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0,
    0, 0, 31, 21, 196, 137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 96, 248, 95, 15, 0, 2,
    135, 1, 128, 235, 71, 186, 146, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// Sheet "Report" (1-based rows):
///  1  A1:E1 merged title "Report ${title}" (bold 16pt, yellow fill), height 30
///  2  "Date:" | B2 ${LWAMS_INIT_DATE} (bordered, no date format) | C2 ${run.count} (0.00) | E2 =B5
///  3  headers (bold, bordered, grey fill), height 25; frozen above row 4
///  4  list row: ${sql1.rows.NAME} | SIZE (#,##0) | OK | WHEN (yyyy-mm-dd hh:mm) | "fixed" | =B4*2 | G4:H4 merged ${sql1.rows.NOTE}; height 20
///  5  "Total" | =SUM(B4:B4) | =COUNTA(A4:A4)
///  6  A6:C6 merged "Footer ${title}"
///  7  A7 hyperlink | B7 =B5*10
/// 10  an image
fn template() -> Vec<u8> {
    let mut wb = Workbook::new();
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_background_color("#FFFF00");
    let boxed = Format::new().set_border(FormatBorder::Thin);
    let two = Format::new().set_num_format("0.00");
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Medium)
        .set_background_color("#C0C0C0");
    let list = Format::new()
        .set_border(FormatBorder::Thin)
        .set_font_color("#0000FF");
    let thousands = Format::new()
        .set_num_format("#,##0")
        .set_border(FormatBorder::Thin);
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let italic = Format::new().set_italic();

    let ws = wb.add_worksheet();
    ws.set_name("Report").unwrap();
    ws.merge_range(0, 0, 0, 4, "Report ${title}", &title)
        .unwrap();
    ws.set_row_height(0, 30).unwrap();
    ws.write_string(1, 0, "Date:").unwrap();
    ws.write_string_with_format(1, 1, "${LWAMS_INIT_DATE}", &boxed)
        .unwrap();
    ws.write_string_with_format(1, 2, "${run.count}", &two)
        .unwrap();
    ws.write_formula(1, 4, "=B5").unwrap();
    for (c, h) in ["Name", "Size", "Ok", "When", "Note"].iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &head).unwrap();
    }
    ws.set_row_height(2, 25).unwrap();
    ws.write_string_with_format(3, 0, "${sql1.rows.NAME}", &list)
        .unwrap();
    ws.write_string_with_format(3, 1, "${sql1.rows.SIZE}", &thousands)
        .unwrap();
    ws.write_string(3, 2, "${sql1.rows.OK}").unwrap();
    ws.write_string_with_format(3, 3, "${sql1.rows.WHEN}", &when)
        .unwrap();
    ws.write_string_with_format(3, 4, "fixed", &italic).unwrap();
    ws.write_formula(3, 5, "=B4*2").unwrap();
    ws.merge_range(3, 6, 3, 7, "${sql1.rows.NOTE}", &list)
        .unwrap();
    ws.set_row_height(3, 20).unwrap();
    ws.write_string(4, 0, "Total").unwrap();
    ws.write_formula(4, 1, "=SUM(B4:B4)").unwrap();
    ws.write_formula(4, 2, "=COUNTA(A4:A4)").unwrap();
    ws.merge_range(5, 0, 5, 2, "Footer ${title}", &italic)
        .unwrap();
    ws.write_url(6, 0, Url::new("https://example.com/runs"))
        .unwrap();
    ws.write_formula(6, 1, "=B5*10").unwrap();
    ws.insert_image(9, 0, &Image::new_from_buffer(&PNG).unwrap())
        .unwrap();

    ws.set_column_width(0, 30).unwrap();
    ws.set_column_width(1, 12).unwrap();
    ws.set_column_width(3, 18).unwrap();
    ws.set_freeze_panes(3, 0).unwrap();
    ws.set_landscape();
    ws.set_margins(0.5, 0.6, 0.7, 0.8, 0.2, 0.3);
    ws.set_print_area(0, 0, 6, 7).unwrap();
    ws.set_repeat_rows(2, 2).unwrap();
    ws.autofilter(2, 0, 3, 4).unwrap();
    let red = Format::new().set_font_color("#FF0000");
    ws.add_conditional_format(
        3,
        1,
        3,
        1,
        &ConditionalFormatCell::new()
            .set_rule(ConditionalFormatCellRule::GreaterThan(100))
            .set_format(&red),
    )
    .unwrap();
    ws.add_data_validation(
        3,
        4,
        3,
        4,
        &DataValidation::new()
            .allow_list_strings(&["fixed", "other"])
            .unwrap(),
    )
    .unwrap();

    let summary = wb.add_worksheet();
    summary.set_name("Summary").unwrap();
    summary.write_string(0, 0, "Rows: ${rowsCount}").unwrap();
    summary.write_formula(0, 1, "=Report!B5").unwrap();
    summary.write_formula(0, 2, "=SUM(Report!B4:B4)").unwrap();
    summary
        .write_string_with_format(1, 0, "static", &title)
        .unwrap();
    summary.set_column_width(0, 22).unwrap();

    let stat = wb.add_worksheet();
    stat.set_name("Static").unwrap();
    stat.write_string(0, 0, "nothing to fill").unwrap();
    stat.write_number(1, 0, 42).unwrap();

    wb.define_name("Total", "=Report!$B$5").unwrap();
    wb.save_to_buffer().unwrap()
}

fn data() -> serde_json::Value {
    json!({
        "title": "Nightly",
        "LWAMS_INIT_DATE": "2026-11-21",
        "run": {"count": 3},
        "rowsCount": 3,
        "sql1": {"rows": [
            {"NAME": "db1", "SIZE": 120, "OK": true, "WHEN": "2026-11-21T10:00:00", "NOTE": "big"},
            {"NAME": "db2", "SIZE": 7.5, "OK": false, "WHEN": "2026-11-21 11:30:00", "NOTE": "small"},
            {"NAME": "db3", "SIZE": 99, "OK": true, "WHEN": "2026-11-22T00:00:00+08:00", "NOTE": null}
        ]}
    })
}

const REPORT: &str = "xl/worksheets/sheet1.xml";
const SUMMARY: &str = "xl/worksheets/sheet2.xml";
const STATIC: &str = "xl/worksheets/sheet3.xml";

#[test]
fn values_and_types_read_back() {
    let out = fill_ok(&template(), &data());
    let v = values(&out, "Report");
    assert_eq!(value(&v, "A1"), Data::String("Report Nightly".into()));
    match value(&v, "B2") {
        Data::DateTime(d) => {
            assert_eq!(d.as_datetime().unwrap().to_string(), "2026-11-21 00:00:00")
        }
        other => panic!("B2 is a date, got {other:?}"),
    }
    assert_eq!(value(&v, "C2").as_f64(), Some(3.0));
    for (i, (name, size, ok)) in [
        ("db1", 120.0, true),
        ("db2", 7.5, false),
        ("db3", 99.0, true),
    ]
    .into_iter()
    .enumerate()
    {
        let r = 4 + i;
        assert_eq!(value(&v, &format!("A{r}")), Data::String(name.into()));
        assert_eq!(value(&v, &format!("B{r}")).as_f64(), Some(size));
        assert_eq!(value(&v, &format!("C{r}")), Data::Bool(ok));
        assert_eq!(
            value(&v, &format!("E{r}")),
            Data::String("fixed".into()),
            "scalar cells repeat"
        );
    }
    let when = |cell: &str| match value(&v, cell) {
        Data::DateTime(d) => d.as_datetime().unwrap().to_string(),
        other => panic!("{cell} is a date, got {other:?}"),
    };
    assert_eq!(when("D4"), "2026-11-21 10:00:00");
    assert_eq!(when("D5"), "2026-11-21 11:30:00");
    assert_eq!(
        when("D6"),
        "2026-11-22 00:00:00",
        "wall time, offset ignored"
    );
    assert_eq!(value(&v, "G4"), Data::String("big".into()));
    assert_eq!(value(&v, "G6"), Data::Empty, "null is an empty cell");
    assert_eq!(
        value(&v, "A7"),
        Data::String("Total".into()),
        "row 5 moved to 7"
    );
    assert_eq!(value(&v, "A8"), Data::String("Footer Nightly".into()));

    let s = values(&out, "Summary");
    assert_eq!(value(&s, "A1"), Data::String("Rows: 3".into()));
    assert_eq!(value(&s, "A2"), Data::String("static".into()));
    let st = values(&out, "Static");
    assert_eq!(value(&st, "A1"), Data::String("nothing to fill".into()));
}

#[test]
fn formulas_follow_the_rows() {
    let out = fill_ok(&template(), &data());
    let f = formulas(&out, "Report");
    assert_eq!(
        formula(&f, "E2"),
        "B7",
        "a reference from above to a moved row"
    );
    assert_eq!(formula(&f, "F4"), "B4*2");
    assert_eq!(
        formula(&f, "F5"),
        "B5*2",
        "same-row references follow each generated row"
    );
    assert_eq!(formula(&f, "F6"), "B6*2");
    assert_eq!(
        formula(&f, "B7"),
        "SUM(B4:B6)",
        "a range ending on the list row grows"
    );
    assert_eq!(formula(&f, "C7"), "COUNTA(A4:A6)");
    assert_eq!(formula(&f, "B9"), "B7*10");
    let s = formulas(&out, "Summary");
    assert_eq!(
        formula(&s, "B1"),
        "Report!B7",
        "other sheets' references move"
    );
    assert_eq!(formula(&s, "C1"), "SUM(Report!B4:B6)");

    let xml = part(&out, REPORT);
    for cell in ["E2", "F4", "F5", "F6", "B7", "C7", "B9"] {
        assert!(
            !cell_xml(&xml, cell).contains("<v>"),
            "{cell}: cached value dropped"
        );
    }
    let wb = part(&out, "xl/workbook.xml");
    assert_eq!(
        elements(&wb, "calcPr")[0]
            .get("fullCalcOnLoad")
            .map(String::as_str),
        Some("1")
    );
}

#[test]
fn styles_survive_and_dates_get_a_date_style() {
    let tpl = template();
    let out = fill_ok(&tpl, &data());
    let (before, after) = (part(&tpl, REPORT), part(&out, REPORT));
    let s = |xml: &str, cell: &str| cell_attrs(xml, cell).get("s").cloned();
    // Each generated cell has its template cell's style.
    for col in ["A", "B", "E", "F", "G"] {
        for r in 4..=6 {
            assert_eq!(
                s(&after, &format!("{col}{r}")),
                s(&before, &format!("{col}4")),
                "{col}{r}"
            );
        }
    }
    assert_eq!(
        s(&after, "D5"),
        s(&before, "D4"),
        "a date format already there is kept"
    );
    assert_eq!(s(&after, "A1"), s(&before, "A1"));
    assert_eq!(s(&after, "A3"), s(&before, "A3"));
    assert_eq!(
        s(&after, "A8"),
        s(&before, "A6"),
        "moved cells keep their style"
    );
    assert_eq!(s(&after, "C2"), s(&before, "C2"));

    // B2 got a copy of its style with the built-in date format.
    let (st_before, st_after) = (part(&tpl, "xl/styles.xml"), part(&out, "xl/styles.xml"));
    let xfs_before = elements(section(&st_before, "cellXfs").unwrap().as_str(), "xf");
    let xfs_after = elements(section(&st_after, "cellXfs").unwrap().as_str(), "xf");
    assert_eq!(xfs_after.len(), xfs_before.len() + 1);
    assert_eq!(&xfs_after[..xfs_before.len()], &xfs_before[..]);
    let old: usize = s(&before, "B2").unwrap().parse().unwrap();
    let new: usize = s(&after, "B2").unwrap().parse().unwrap();
    assert_eq!(new, xfs_before.len());
    let (o, n) = (&xfs_before[old], &xfs_after[new]);
    assert_eq!(n["numFmtId"], "14");
    for key in ["fontId", "fillId", "borderId"] {
        assert_eq!(n.get(key), o.get(key), "{key} of the cloned style");
    }
    let count = &elements(&st_after, "cellXfs")[0]["count"];
    assert_eq!(count, &xfs_after.len().to_string());
    // Fonts, fills, borders and number formats are untouched.
    for tag in [
        "fonts",
        "fills",
        "borders",
        "numFmts",
        "cellStyleXfs",
        "dxfs",
    ] {
        assert_eq!(section(&st_before, tag), section(&st_after, tag), "{tag}");
    }
}

#[test]
fn layout_survives() {
    let tpl = template();
    let out = fill_ok(&tpl, &data());
    let (before, after) = (part(&tpl, REPORT), part(&out, REPORT));
    assert_eq!(
        section(&before, "cols"),
        section(&after, "cols"),
        "column widths"
    );
    assert!(section(&after, "cols").unwrap().contains("width"));
    assert_eq!(
        section(&before, "sheetViews"),
        section(&after, "sheetViews"),
        "freeze pane above the list"
    );
    assert_eq!(elements(&after, "pane")[0]["state"], "frozen");
    assert_eq!(
        section(&before, "pageMargins"),
        section(&after, "pageMargins")
    );
    assert_eq!(section(&before, "pageSetup"), section(&after, "pageSetup"));
    assert_eq!(elements(&after, "pageSetup")[0]["orientation"], "landscape");
    assert_eq!(elements(&after, "pageMargins")[0]["left"], "0.5");

    // Row heights: the title, the header, and every generated row.
    assert_eq!(row_attrs(&after, 1), row_attrs(&before, 1));
    assert_eq!(row_attrs(&after, 3), row_attrs(&before, 3));
    assert!(row_attrs(&after, 3).contains_key("ht"));
    for r in 4..=6 {
        assert_eq!(
            row_attrs(&after, r).get("ht"),
            row_attrs(&before, 4).get("ht"),
            "row {r}"
        );
        assert_eq!(row_attrs(&after, r)["customHeight"], "1");
    }
    assert_eq!(
        row_attrs(&after, 7).get("ht"),
        row_attrs(&before, 5).get("ht")
    );

    let merges: Vec<String> = elements(&after, "mergeCell")
        .into_iter()
        .map(|a| a["ref"].clone())
        .collect();
    assert_eq!(merges, ["A1:E1", "G4:H4", "G5:H5", "G6:H6", "A8:C8"]);
    assert_eq!(elements(&after, "mergeCells")[0]["count"], "5");

    assert_eq!(
        elements(&after, "conditionalFormatting")[0]["sqref"],
        "B4:B6"
    );
    assert_eq!(
        section(&before, "cfRule"),
        section(&after, "cfRule"),
        "the rule itself is unchanged"
    );
    assert_eq!(elements(&after, "dataValidation")[0]["sqref"], "E4:E6");
    assert_eq!(elements(&after, "hyperlink")[0]["ref"], "A9");
    assert_eq!(elements(&after, "autoFilter")[0]["ref"], "A3:E6");
    assert_eq!(elements(&before, "dimension")[0]["ref"], "A1:H7");
    assert_eq!(elements(&after, "dimension")[0]["ref"], "A1:H9");
    // Print area grows, print titles (above the list) stay.
    let names = defined_names(&out);
    assert_eq!(names["_xlnm.Print_Area@0"], "Report!$A$1:$H$9");
    assert_eq!(names["_xlnm.Print_Titles@0"], "Report!$3:$3");
    assert_eq!(names["_xlnm._FilterDatabase@0"], "Report!$A$3:$E$6");
    assert_eq!(names["Total"], "Report!$B$7");
}

#[test]
fn untouched_parts_are_byte_identical() {
    let tpl = template();
    let out = fill_ok(&tpl, &data());
    assert_eq!(part_names(&tpl), part_names(&out), "same parts, same order");
    let changed = [
        REPORT,
        SUMMARY,
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/drawings/drawing1.xml",
    ];
    for name in part_names(&tpl) {
        if !changed.contains(&name.as_str()) {
            assert_eq!(part_bytes(&tpl, &name), part_bytes(&out, &name), "{name}");
        }
    }
    assert!(
        part_names(&out).iter().any(|n| n.starts_with("xl/media/")),
        "the image is there"
    );
    assert_eq!(part_bytes(&tpl, STATIC), part_bytes(&out, STATIC));
    // The Summary sheet kept everything but its filled cell and moved formulas.
    let (b, a) = (part(&tpl, SUMMARY), part(&out, SUMMARY));
    assert_eq!(section(&b, "cols"), section(&a, "cols"));
    assert_eq!(cell_attrs(&b, "A2"), cell_attrs(&a, "A2"));
}

#[test]
fn a_template_fills_many_times() {
    let t = baton_reports::Template::from_bytes(template()).unwrap();
    let names: Vec<_> = t
        .placeholders()
        .iter()
        .map(|p| format!("{}!{} {}", p.sheet, p.cell, p.expression))
        .collect();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "Report!A1 title");
    assert!(names.contains(&"Report!G4 sql1.rows.NOTE".to_string()));
    assert!(names.contains(&"Summary!A1 rowsCount".to_string()));
    for n in [0usize, 1, 5] {
        let mut d = data();
        let rows: Vec<_> = d["sql1"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .cycle()
            .take(n)
            .cloned()
            .collect();
        d["sql1"]["rows"] = json!(rows);
        let mut buf = std::io::Cursor::new(Vec::new());
        let summary = t.fill(&d, &mut buf).unwrap();
        assert_eq!(summary.rows_added, n.saturating_sub(1) as u64);
        let out = buf.into_inner();
        let f = formulas(&out, "Report");
        let last = 3 + n.max(1);
        assert_eq!(
            formula(&f, &format!("B{}", last + 1)),
            format!("SUM(B4:B{last})")
        );
    }
}
