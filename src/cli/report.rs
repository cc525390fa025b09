//! `baton report fill|placeholders`: check a report template without running
//! a process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use baton_runtime::nodes::DEFAULT_COMPANY;
use baton_runtime::report_check;
use baton_runtime::store::{ReportTemplateRow, Store};
use serde_json::{Value, json};

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
    /// Report templates kept in a store.
    Template {
        #[command(subcommand)]
        cmd: TemplateCmd,
        #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE, global = true)]
        store: String,
    },
    /// Report data (filled workbooks) kept by `baton serve`.
    Data {
        #[command(subcommand)]
        cmd: DataCmd,
        #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE, global = true)]
        store: String,
        /// The server's data directory (`serve --data-dir`).
        #[arg(long, env = "BATON_DATA_DIR", default_value = "data", global = true)]
        data_dir: PathBuf,
    },
}

#[derive(clap::Subcommand)]
pub enum TemplateCmd {
    /// Upload an xlsx (a new template, or replace `--id`): prints it with its
    /// placeholders, and a warning for each placeholder that names nothing a
    /// deployed process filling the template knows of.
    Add {
        file: PathBuf,
        /// Default: the file name without `.xlsx`.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        id: Option<String>,
        #[arg(long, default_value = "")]
        comments: String,
    },
    /// The templates, one JSON object per line.
    List,
    /// Download a template (by id or name) as it was uploaded.
    Get {
        template: String,
        #[arg(short, long)]
        out: PathBuf,
    },
    Rm {
        id: String,
    },
}

#[derive(clap::Subcommand)]
pub enum DataCmd {
    /// Filled workbooks, newest first, one JSON object per line.
    List {
        #[arg(long)]
        instance: Option<String>,
        /// A process key.
        #[arg(long)]
        process: Option<String>,
    },
    /// Copy a filled workbook out.
    Get {
        id: String,
        #[arg(short, long)]
        out: PathBuf,
    },
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
        Cmd::Template { cmd, store } => super::block_on(template(cmd, store))?,
        Cmd::Data {
            cmd,
            store,
            data_dir,
        } => super::block_on(data(cmd, store, data_dir))?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn open(url: &str) -> Result<Store> {
    Store::connect(url)
        .await
        .with_context(|| format!("opening the store {url}"))
}

async fn template(cmd: TemplateCmd, url: String) -> Result<()> {
    let store = open(&url).await?;
    match cmd {
        TemplateCmd::Add {
            file,
            name,
            id,
            comments,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let parsed = baton_reports::Template::from_bytes(bytes.clone())
                .with_context(|| file.display().to_string())?;
            let placeholders: Vec<Value> = parsed
                .placeholders()
                .iter()
                .map(|p| {
                    json!({"sheet": p.sheet, "cell": p.cell, "expression": p.expression, "optional": p.optional})
                })
                .collect();
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut row = ReportTemplateRow {
                id: id.unwrap_or_default(),
                company_id: DEFAULT_COMPANY.into(),
                name: name.unwrap_or_else(|| file_name.trim_end_matches(".xlsx").to_owned()),
                file_name,
                placeholders: Value::Array(placeholders),
                comments,
                updated_at: 0,
            };
            row.id = store.put_report_template(&row, &bytes).await?;
            let warnings =
                report_check::check_against_processes(&store, DEFAULT_COMPANY, &row).await?;
            for w in &warnings {
                tracing::warn!("{w}");
            }
            super::emit(json!({
                "id": row.id, "name": row.name, "placeholders": row.placeholders, "warnings": warnings
            }));
        }
        TemplateCmd::List => {
            for t in store.list_report_templates(DEFAULT_COMPANY).await? {
                super::emit(serde_json::to_string(&t)?);
            }
        }
        TemplateCmd::Get { template, out } => {
            let (_, bytes) = store
                .report_template(DEFAULT_COMPANY, &template)
                .await?
                .with_context(|| format!("no report template `{template}`"))?;
            write_whole(&out, &bytes)?;
        }
        TemplateCmd::Rm { id } => {
            if !store.delete_report_template(DEFAULT_COMPANY, &id).await? {
                bail!("no report template with id `{id}`");
            }
            super::emit(json!({ "deleted": id }));
        }
    }
    Ok(())
}

async fn data(cmd: DataCmd, url: String, data_dir: PathBuf) -> Result<()> {
    let store = open(&url).await?;
    match cmd {
        DataCmd::List { instance, process } => {
            let rows = store
                .list_report_data(DEFAULT_COMPANY, instance.as_deref(), process.as_deref())
                .await?;
            for r in rows {
                super::emit(serde_json::to_string(&r)?);
            }
        }
        DataCmd::Get { id, out } => {
            let r = store
                .report_data(DEFAULT_COMPANY, &id)
                .await?
                .with_context(|| format!("no report data `{id}`"))?;
            let path = data_dir.join(&r.path);
            let bytes = std::fs::read(&path).with_context(|| {
                format!("the report's file {} (see --data-dir)", path.display())
            })?;
            write_whole(&out, &bytes)?;
        }
    }
    Ok(())
}

/// Written beside, then renamed: `out` is whole or absent.
fn write_whole(out: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = out.with_extension("part");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    super::emit(json!({ "out": out.display().to_string(), "size": bytes.len() }));
    Ok(())
}
