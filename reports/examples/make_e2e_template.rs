//! Writes the small report template the browser test of reports uploads
//! (`web/ui/e2e/report.test.js`) to `web/ui/e2e/fixtures/e2e-report.xlsx`:
//! a title, the output of the process's `say` node (one row per line), the
//! `ticket` form value, the approval comment (optional) and the start date.
//!
//!     cargo run -p baton-reports --example make_e2e_template -- [OUT]

use rust_xlsxwriter::{Format, FormatBorder, Workbook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "web/ui/e2e/fixtures/e2e-report.xlsx".into());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Report")?;
    let head = Format::new()
        .set_bold()
        .set_background_color("#DCE6F1")
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    ws.write_with_format(0, 0, "E2E report / 端到端报表", &Format::new().set_bold())?;
    ws.write_with_format(1, 0, "Started / 开始", &head)?;
    ws.write_with_format(1, 1, "${LWAMS_INIT_DATE}", &cell)?;
    ws.write_with_format(2, 0, "Ticket / 工单", &head)?;
    ws.write_with_format(2, 1, "${ticket}", &cell)?;
    ws.write_with_format(3, 0, "Comment / 意见", &head)?;
    ws.write_with_format(3, 1, "${?comment}", &cell)?;
    ws.write_with_format(5, 0, "Command output / 命令输出", &head)?;
    ws.write_with_format(6, 0, "${say.stdout.trim().split('\\n')}", &cell)?;
    ws.write(8, 0, "End / 结束")?;
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 40)?;
    wb.save(&out)?;
    println!("{out}");
    Ok(())
}
