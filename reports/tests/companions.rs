//! Parts beside a sheet that name its rows move with them: images and charts
//! anchored below a list, comments (and their boxes), tables and chart series
//! over a list row, which grow with it.

mod common;

use common::*;
use rust_xlsxwriter::{Chart, ChartType, Image, Note, Table, Workbook};
use serde_json::json;

const PNG: [u8; 70] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0,
    0, 0, 31, 21, 196, 137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 96, 248, 95, 15, 0, 2,
    135, 1, 128, 235, 71, 186, 146, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// Row 1 headers, row 2 the list row (A2, B2 and a table F1:G2 over it),
/// row 4 a cell with a note, an image at row 6, a chart at rows 9–23 whose
/// series is the list row; sheet "Other" charts the list row too.
fn template() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Name").unwrap();
    ws.write_string(0, 1, "Size").unwrap();
    ws.write_string(1, 0, "${rows.NAME}").unwrap();
    ws.write_string(1, 1, "${rows.SIZE}").unwrap();
    ws.write_string(3, 0, "below").unwrap();
    ws.insert_note(3, 0, &Note::new("a note below")).unwrap();
    ws.insert_image(5, 0, &Image::new_from_buffer(&PNG).unwrap())
        .unwrap();
    let mut chart = Chart::new(ChartType::Column);
    chart
        .add_series()
        .set_categories("Sheet1!$A$2:$A$2")
        .set_values("Sheet1!$B$2:$B$2");
    ws.insert_chart(8, 3, &chart).unwrap();
    ws.add_table(0, 5, 1, 6, &Table::new()).unwrap();
    let other = wb.add_worksheet();
    other.set_name("Other").unwrap();
    let mut chart = Chart::new(ChartType::Line);
    chart.add_series().set_values("Sheet1!$B$1:$B$2");
    other.insert_chart(0, 0, &chart).unwrap();
    wb.save_to_buffer().unwrap()
}

fn data(n: usize) -> serde_json::Value {
    let rows: Vec<_> = (0..n)
        .map(|i| json!({"NAME": format!("n{i}"), "SIZE": i}))
        .collect();
    json!({ "rows": rows })
}

#[test]
fn anchors_comments_tables_and_series_follow_the_list() {
    let tpl = template();
    let out = fill_ok(&tpl, &data(4));
    // Comment on A4 → A7, its box and cell row (0-based) 3 → 6.
    let comments = part(&out, "xl/comments1.xml");
    assert_eq!(elements(&comments, "comment")[0]["ref"], "A7");
    let vml = part(&out, "xl/drawings/vmlDrawing1.vml");
    assert_eq!(texts(&vml, "Row"), ["6"]);
    let before = texts(&part(&tpl, "xl/drawings/vmlDrawing1.vml"), "Anchor")[0].clone();
    let rows = |a: &str| -> Vec<u32> {
        let p: Vec<u32> = a.split(',').map(|x| x.trim().parse().unwrap()).collect();
        vec![p[2], p[6]]
    };
    let (b, a) = (rows(&before), rows(&texts(&vml, "Anchor")[0]));
    assert_eq!(
        [a[0] - b[0], a[1] - b[1]],
        [3, 3],
        "the box moves with its cell"
    );

    // Image (one-cell anchor) 5 → 8; chart (two-cell) 8..22 → 11..25.
    let drawing = part(&out, "xl/drawings/drawing1.xml");
    assert_eq!(texts(&drawing, "row"), ["8", "8", "11", "25"]);

    // The table over the list row grows with it.
    let table = part(&out, "xl/tables/table1.xml");
    assert_eq!(elements(&table, "table")[0]["ref"], "F1:G5");
    assert_eq!(elements(&table, "autoFilter")[0]["ref"], "F1:G5");

    // Chart series over the list row grow, on this sheet and another.
    let chart1 = part(&out, "xl/charts/chart1.xml");
    assert_eq!(
        texts(&chart1, "f"),
        ["Sheet1!$A$2:$A$5", "Sheet1!$B$2:$B$5"]
    );
    let chart2 = part(&out, "xl/charts/chart2.xml");
    assert_eq!(texts(&chart2, "f"), ["Sheet1!$B$1:$B$5"]);
}

#[test]
fn companions_are_untouched_when_no_row_moves() {
    let tpl = template();
    let out = fill_ok(&tpl, &data(1));
    for name in [
        "xl/comments1.xml",
        "xl/drawings/vmlDrawing1.vml",
        "xl/drawings/drawing1.xml",
        "xl/tables/table1.xml",
        "xl/charts/chart1.xml",
    ] {
        assert_eq!(part_bytes(&tpl, name), part_bytes(&out, name), "{name}");
    }
}
