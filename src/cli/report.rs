//! `baton report fill|placeholders`: check a report template without running
//! a process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Fill TEMPLATE.xlsx from a JSON object (its members are the names the
    /// placeholders use); the output is written whole or not at all.
    Fill {
        template: PathBuf,
        /// A JSON object, e.g. {"collect": {"stdout": "…"}, "q": {"rows": [...]}}.
        #[arg(long)]
        data: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// The placeholders a template holds (sheet, cell, expression), one JSON object per line.
    Placeholders { template: PathBuf },
}

pub fn main(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Fill {
            template,
            data,
            out,
        } => {
            let started = Instant::now();
            let s = baton_reports::fill_file(&template, &data, &out)?;
            super::emit(json!({
                "out": out.display().to_string(),
                "sheetsFilled": s.sheets_filled,
                "cellsFilled": s.cells_filled,
                "rowsAdded": s.rows_added,
                "truncatedCells": s.truncated_cells,
                "ms": started.elapsed().as_millis() as u64,
            }));
        }
        Cmd::Placeholders { template } => {
            let bytes = std::fs::read(&template)
                .with_context(|| format!("cannot read {}", template.display()))?;
            let t = baton_reports::Template::from_bytes(bytes)
                .with_context(|| template.display().to_string())?;
            for p in t.placeholders() {
                super::emit(json!({
                    "sheet": p.sheet, "cell": p.cell, "expression": p.expression, "optional": p.optional
                }));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
