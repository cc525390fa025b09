//! The schemas' editor hints: every `x-ref` names a known resource kind,
//! every node kind lists its outputs (`x-outputs`), and the outputs a real
//! run returns are among them.

use std::sync::Arc;

use baton_nodes::resources::MemResources;
use baton_nodes::{Ctx, JobInfo, Registry, RunResult, schema};
use serde_json::{Map, Value, json};

fn all_schemas() -> Vec<(&'static str, Value)> {
    let mut v = Registry::with_defaults().schemas();
    v.push(("call-process", schema::call_process()));
    v
}

#[test]
fn every_x_ref_names_a_known_resource_kind() {
    let mut refs = Vec::new();
    for (kind, s) in all_schemas() {
        for (name, p) in s["properties"].as_object().unwrap() {
            if let Some(r) = p.get("x-ref") {
                let r = r
                    .as_str()
                    .unwrap_or_else(|| panic!("{kind}.{name}: x-ref not a string"));
                assert!(
                    schema::REF_KINDS.contains(&r),
                    "{kind}.{name}: unknown x-ref {r:?}"
                );
                assert_eq!(p["type"], "string", "{kind}.{name}");
                refs.push(format!("{kind}.{name}={r}"));
            }
        }
    }
    // The properties that name a resource carry the picker's kind.
    for want in [
        "remote-command.terminal=terminal",
        "remote-command.terminalAccount=account",
        "remote-command.script=script",
        "remote-command.host=host",
        "local-command.script=script",
        "file-distribution.terminal=terminal",
        "file-distribution.terminalAccount=account",
        "sql.dataSource=dataSource",
        "report.template=reportTemplate",
        "call-process.processKey=process",
    ] {
        assert!(refs.iter().any(|r| r == want), "missing {want} in {refs:?}");
    }
}

#[test]
fn every_node_kind_lists_its_outputs() {
    for (kind, s) in all_schemas() {
        let outs: Vec<&str> = s["x-outputs"]
            .as_array()
            .unwrap_or_else(|| panic!("{kind} has no x-outputs"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if kind != "call-process" {
            for c in schema::COMMON_OUTPUTS {
                assert!(outs.contains(c), "{kind} lacks {c}");
            }
            assert!(
                outs.len() > schema::COMMON_OUTPUTS.len(),
                "{kind}: only the common outputs"
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &outs {
            assert!(seen.insert(*o), "{kind}: {o} listed twice");
        }
    }
}

fn props(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// Runs `kind` with `p` and checks every output key is listed in its
/// `x-outputs` or is one of its (rendered) properties.
async fn outputs_are_listed(kind: &str, res: MemResources, p: Value) -> Map<String, Value> {
    let s = all_schemas()
        .into_iter()
        .find(|(k, _)| *k == kind)
        .unwrap()
        .1;
    let listed: Vec<String> = s["x-outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let ctx = Ctx::new(
        JobInfo {
            job_id: "i1:1".into(),
            element_id: "n".into(),
            name: "N".into(),
            ..Default::default()
        },
        props(p),
        Arc::new(res),
    );
    let out = match Registry::with_defaults().run(kind, ctx).await {
        RunResult::Done { outputs, .. } => outputs,
        RunResult::Failed(e) => panic!("{kind} failed: {e}"),
    };
    for k in out.keys() {
        assert!(
            listed.contains(k) || s["properties"].get(k).is_some(),
            "{kind} returned `{k}`, not in its x-outputs {listed:?}"
        );
    }
    out
}

#[tokio::test]
async fn local_command_outputs_are_its_x_outputs() {
    let out = outputs_are_listed(
        "local-command",
        MemResources::default(),
        json!({"command": "echo hi"}),
    )
    .await;
    for k in [
        "stdout",
        "stderr",
        "exitCode",
        "durationMs",
        "name",
        "createDate",
        "createDatetime",
    ] {
        assert!(out.contains_key(k), "no {k} in {out:?}");
    }
    assert_eq!(out["stdout"].as_str().unwrap().trim(), "hi");
}

#[tokio::test]
async fn file_operation_outputs_are_its_x_outputs() {
    let dir = std::env::temp_dir().join(format!("baton-schema-refs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let res = || MemResources {
        roots: vec![dir.clone()],
        ..Default::default()
    };
    let f = dir.join("a.txt").display().to_string();
    outputs_are_listed(
        "file-operation",
        res(),
        json!({"tool": "write", "filename": f, "content": "x"}),
    )
    .await;
    let out = outputs_are_listed(
        "file-operation",
        res(),
        json!({"tool": "read", "filename": f}),
    )
    .await;
    assert_eq!(out["content"], "x");
    let g = dir.join("b.txt").display().to_string();
    outputs_are_listed(
        "file-operation",
        res(),
        json!({"tool": "move", "filename": f, "newFilename": g}),
    )
    .await;
    let out = outputs_are_listed(
        "file-operation",
        res(),
        json!({"tool": "delete", "filename": g}),
    )
    .await;
    assert_eq!(out["deleted"], true);
    let _ = std::fs::remove_dir_all(&dir);
}
