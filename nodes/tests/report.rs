//! The `report` node: fills its template from the instance's scopes (node
//! outputs, variables, globals), keeps the workbook through the resources,
//! outputs `report.id|name|comments`; a missing template or value is a clear
//! failure and keeps nothing.

use std::sync::Arc;

use baton_nodes::resources::{MemResources, ReportTemplate};
use baton_nodes::{Ctx, JobInfo, Registry, RunResult};
use calamine::{Data, Reader, Xlsx};
use serde_json::{Value, json};

fn template() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Hosts").unwrap();
    ws.write(0, 0, "Site ${site}").unwrap();
    ws.write(1, 0, "${q.rows.host}").unwrap();
    ws.write(1, 1, "${q.rows.load}").unwrap();
    ws.write(2, 0, "by ${who}").unwrap();
    book.save_to_buffer().unwrap()
}

fn ctx(res: Arc<MemResources>, props: Value, outputs: Value) -> Ctx {
    Ctx::new(
        JobInfo {
            job_id: "i1:4".into(),
            instance_id: "i1".into(),
            element_id: "rep".into(),
            ..Default::default()
        },
        props.as_object().unwrap().clone(),
        res,
    )
    .with_outputs(outputs.as_object().unwrap().clone())
    .with_vars(json!({"who": "ops"}).as_object().unwrap().clone())
    .with_globals(
        json!({"site": "sh01", "who": "global"})
            .as_object()
            .unwrap()
            .clone(),
    )
}

fn resources() -> Arc<MemResources> {
    Arc::new(MemResources {
        report_templates: vec![ReportTemplate {
            id: "t1".into(),
            name: "hosts".into(),
            content: template(),
        }],
        ..Default::default()
    })
}

fn rows() -> Value {
    json!({"q": {"rows": [{"host": "a", "load": 0.5}, {"host": "b", "load": 1.25}]}})
}

#[tokio::test]
async fn fills_and_keeps_the_report() {
    let res = resources();
    let c = ctx(
        res.clone(),
        json!({"template": "hosts", "name": "hosts ${site}", "comments": "nightly"}),
        rows(),
    );
    let RunResult::Done { outputs, .. } = Registry::with_defaults().run("report", c).await else {
        panic!("the report failed");
    };
    assert_eq!(
        outputs["report"],
        json!({"id": "report-1", "name": "hosts sh01", "comments": "nightly"})
    );
    assert_eq!(outputs["rowsAdded"], 1);
    let kept = res.reports.lock().unwrap();
    let (id, r) = &kept[0];
    assert_eq!(id, "report-1");
    assert_eq!(
        (
            r.template_id.as_str(),
            r.instance_id.as_str(),
            r.element_id.as_str()
        ),
        ("t1", "i1", "rep")
    );
    assert_eq!(outputs["size"], r.content.len());
    let mut book = Xlsx::new(std::io::Cursor::new(r.content.clone())).unwrap();
    let range = book.worksheet_range("Hosts").unwrap();
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(0, 0), Data::String("Site sh01".into()));
    assert_eq!(cell(1, 0), Data::String("a".into()));
    assert_eq!(cell(2, 1), Data::Float(1.25));
    assert_eq!(
        cell(3, 0),
        Data::String("by ops".into()),
        "variables before globals"
    );
}

#[tokio::test]
async fn a_missing_template_or_value_fails_and_keeps_nothing() {
    let res = resources();
    for (props, outputs, says) in [
        (
            json!({"template": "nope"}),
            rows(),
            "no report template `nope`",
        ),
        (
            json!({"template": "hosts"}),
            json!({}),
            "sheet 'Hosts' cell A2",
        ),
        (
            json!({"template": "hosts"}),
            json!({"q": {"rows": [{"host": {"a": 1}, "load": 1}]}}),
            "cell A2",
        ),
    ] {
        match Registry::with_defaults()
            .run("report", ctx(res.clone(), props, outputs))
            .await
        {
            RunResult::Failed(e) => {
                assert!(e.to_string().contains(says), "expected {says:?} in {e}")
            }
            other => panic!("expected a failure: {other:?}"),
        }
    }
    assert!(res.reports.lock().unwrap().is_empty());
}
