//! Writes the report benchmark's inputs: a template whose one list row has 10
//! list placeholders (`${sql1.rows.C0}` … `${sql1.rows.C9}`, styled, with a
//! header above and a SUM below), and a data file of ROWS × 10 values (text,
//! integers, decimals, booleans and ISO dates).
//!
//!     cargo run --release -p baton-reports --example make_bench_template -- DIR [ROWS]
//!
//! Writes DIR/template.xlsx and DIR/data.json.

use std::io::Write;

use rust_xlsxwriter::{Format, FormatBorder, Workbook};

const COLS: usize = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: make_bench_template DIR [ROWS]")?);
    let rows: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    std::fs::create_dir_all(&dir)?;

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Report")?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDDDDD");
    let cell = Format::new().set_border(FormatBorder::Thin);
    ws.write_string_with_format(0, 0, "Inventory ${title} — ${LWAMS_INIT_DATE}", &title)?;
    for c in 0..COLS {
        ws.write_string_with_format(1, c as u16, format!("Column {c}"), &head)?;
        ws.write_string_with_format(2, c as u16, format!("${{sql1.rows.C{c}}}"), &cell)?;
        ws.set_column_width(c as u16, 14)?;
    }
    ws.write_string(3, 0, "Total")?;
    ws.write_formula(3, 2, "=SUM(C3:C3)")?;
    ws.set_freeze_panes(2, 0)?;
    wb.save(dir.join("template.xlsx"))?;

    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("data.json"))?);
    write!(
        out,
        "{{\"title\":\"nightly\",\"LWAMS_INIT_DATE\":\"2026-11-21\",\"sql1\":{{\"rows\":["
    )?;
    for r in 0..rows {
        if r > 0 {
            write!(out, ",")?;
        }
        write!(
            out,
            "{{\"C0\":\"host-{r:06}\",\"C1\":\"10.0.{}.{}\",\"C2\":{},\"C3\":{:.2},\"C4\":{},\"C5\":\"2026-{:02}-{:02}\",\"C6\":\"ok\",\"C7\":\"/var/lib/app/{r}\",\"C8\":{},\"C9\":\"note {r}\"}}",
            (r / 256) % 256,
            r % 256,
            r * 7 % 1000,
            (r % 10_000) as f64 / 3.0,
            r % 2 == 0,
            r % 12 + 1,
            r % 28 + 1,
            r,
        )?;
    }
    writeln!(out, "]}}}}")?;
    out.flush()?;
    println!(
        "wrote {} and {} ({rows} rows)",
        dir.join("template.xlsx").display(),
        dir.join("data.json").display()
    );
    Ok(())
}
