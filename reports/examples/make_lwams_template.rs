//! Writes the report template of the LWAMS worked example (SPEC.md §7) to
//! `templates/reports/lwams-example.xlsx`: the two terminals' system
//! information, who approved, and the directory listings of `/home` (Linux)
//! and `C:/` (Windows), one row per file. Its placeholders name the worked
//! example's nodes: `linuxInfo`, `windowsInfo` (remote commands collecting
//! system information), `linuxDir`, `windowsDir` (directory listings).
//!
//!     cargo run -p baton-reports --example make_lwams_template -- [OUT]

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "templates/reports/lwams-example.xlsx".into());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Report")?;
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let head = Format::new()
        .set_bold()
        .set_background_color("#DCE6F1")
        .set_border(FormatBorder::Thin);
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    ws.merge_range(0, 0, 0, 3, "运维巡检报告 Operations report", &title)?;
    ws.write(1, 0, "Started / 开始")?;
    ws.write(1, 1, "${?LWAMS_INIT_DATE} ${?LWAMS_INIT_TIME}")?;
    ws.write(1, 2, "By / 发起人")?;
    ws.write(1, 3, "${?LWAMS_INITIATOR_NAME}")?;
    for (c, h) in [
        "Terminal / 终端",
        "Address / 地址",
        "OS / 系统",
        "System information / 设备信息",
    ]
    .iter()
    .enumerate()
    {
        ws.write_with_format(3, c as u16, *h, &head)?;
    }
    for (r, node) in [(4, "linuxInfo"), (5, "windowsInfo")] {
        ws.write_with_format(r, 0, format!("${{{node}.terminal.hostName}}"), &cell)?;
        ws.write_with_format(r, 1, format!("${{{node}.terminal.hostAddress}}"), &cell)?;
        ws.write_with_format(r, 2, format!("${{{node}.terminal.osName}}"), &cell)?;
        ws.write_with_format(r, 3, format!("${{{node}.stdout.trim()}}"), &cell)?;
    }
    ws.write_with_format(7, 0, "Files in /home (Linux)", &head)?;
    ws.write_with_format(8, 0, "${linuxDir.stdout.trim().split('\\r?\\n')}", &cell)?;
    ws.write_with_format(10, 0, "Files in C:/ (Windows)", &head)?;
    ws.write_with_format(11, 0, "${windowsDir.stdout.trim().split('\\r?\\n')}", &cell)?;
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 18)?;
    ws.set_column_width(2, 16)?;
    ws.set_column_width(3, 60)?;
    ws.set_freeze_panes(4, 0)?;
    ws.set_landscape();
    wb.save(&out)?;
    println!("{out}");
    Ok(())
}
