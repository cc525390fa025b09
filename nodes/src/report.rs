//! `report`: fill a report template (xlsx with `${…}` cells, see
//! `baton-reports`) from the instance — built-ins, earlier nodes' outputs,
//! process variables, global variables — and keep the workbook as report
//! data. Outputs `report.id`, `report.name`, `report.comments` (LWAMS names)
//! and the filled file's size.

use std::io::Cursor;

use baton_reports::Template;
use serde_json::{Value, json};

use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::resources::NewReport;
use crate::schema::{self, prop};
use crate::{BoxFuture, Node, Outputs};

pub struct Report;

impl Node for Report {
    fn kind(&self) -> &'static str {
        "report"
    }

    fn schema(&self) -> Value {
        schema::object(
            "Report",
            vec![
                (
                    "template",
                    schema::reference(
                        "reportTemplate",
                        "Report template",
                        "The template's id or name.",
                    ),
                ),
                (
                    "name",
                    prop(
                        "string",
                        "Report name",
                        "The filled report's name (default: the template's name).",
                    ),
                ),
                (
                    "comments",
                    prop("string", "Comments", "Kept with the report."),
                ),
            ],
            &["template"],
        )
    }

    /// Filling again gives the same workbook from the same instance data; a
    /// re-run after a crash keeps a second copy, nothing worse.
    fn idempotent(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let key = ctx.required("template")?;
    let template = ctx
        .resources()
        .report_template(&key)
        .await
        .map_err(NodeError::failed)?
        .ok_or_else(|| NodeError::property("template", format!("no report template `{key}`")))?;
    let name = match ctx.text("name")? {
        Some(n) if !n.trim().is_empty() => n,
        _ => template.name.clone(),
    };
    let comments = ctx.text("comments")?.unwrap_or_default();
    ctx.log(
        Stream::Info,
        &format!("filling report template `{}`", template.name),
    );
    let scope = ctx.snapshot();
    let content = template.content;
    // Filling a large table is CPU work: off the async threads.
    let filled = tokio::task::spawn_blocking(move || {
        let t = Template::from_bytes(content)?;
        let mut out = Cursor::new(Vec::new());
        let summary = t.fill(&scope, &mut out)?;
        Ok::<_, baton_reports::ReportError>((out.into_inner(), summary))
    })
    .await
    .map_err(|e| NodeError::failed(format!("the report fill stopped: {e}")))?;
    let (bytes, summary) = filled
        .map_err(|e| NodeError::failed(format!("report template `{}`: {e}", template.name)))?;
    let size = bytes.len();
    let id = ctx
        .resources()
        .save_report(NewReport {
            template_id: template.id,
            name: name.clone(),
            comments: comments.clone(),
            instance_id: ctx.job.instance_id.clone(),
            element_id: ctx.job.element_id.clone(),
            content: bytes,
        })
        .await
        .map_err(NodeError::failed)?;
    ctx.log(
        Stream::Info,
        &format!(
            "report {id} kept: {size} bytes, {} cells filled, {} rows added",
            summary.cells_filled, summary.rows_added
        ),
    );
    let mut o = Outputs::new();
    o.insert(
        "report".into(),
        json!({ "id": id, "name": name, "comments": comments }),
    );
    o.insert("size".into(), json!(size));
    o.insert("rowsAdded".into(), json!(summary.rows_added));
    Ok(o)
}
