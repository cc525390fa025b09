//! `baton run FILE [--process ID] [--var k=v…] [--store URL]`: run one
//! instance until it ends or waits, and print its outcome and trace as JSON.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use baton_core::Status;
use baton_runtime::deploy::Deployment;
use baton_runtime::engine::JobHandler;
use baton_runtime::handlers::Builtin;
use baton_runtime::machine::Machine;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    file: PathBuf,
    /// The process to start (default: the first in the file).
    #[arg(long)]
    process: Option<String>,
    /// Start variables, `key=value` (the value is JSON when it parses as JSON).
    #[arg(long = "var")]
    vars: Vec<String>,
    /// `memory` (default) or a store URL (sqlite://…, postgres://…).
    #[arg(long, default_value = "memory")]
    store: String,
    /// With a store: how long to wait for the instance to end.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

pub fn main(a: Args) -> Result<ExitCode> {
    let xml = super::read(&a.file)?;
    let vars = super::parse_vars(&a.vars)?;
    if a.store != "memory" {
        return run_durable(&a, &xml, vars);
    }
    let dep = match Deployment::compile(None, 1, &xml, &|k, p| Builtin::default().check(k, p)) {
        Ok(d) => d,
        Err(rej) => {
            for d in &rej.0 {
                eprintln!("{}:{d}", a.file.display());
            }
            return Ok(ExitCode::from(1));
        }
    };
    let process = match &a.process {
        Some(p) => p.clone(),
        None => dep
            .model
            .main_process()
            .map(|p| dep.model.element(p).id.clone())
            .context("the file has no process")?,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let mut m = Machine::new(now);
    let dep = m.deploy(dep);
    let mut worker = Builtin::default();
    let i = m
        .start_and_run(&process, vars, &mut worker)
        .map_err(anyhow::Error::msg)?;
    let inst = &m.instances[i];
    let model = &dep.model;
    let trace: Vec<_> = inst
        .history
        .iter()
        .map(|h| json!({ "element": model.element(h.element).id, "exec": h.exec, "event": h.kind }))
        .collect();
    let waiting: Vec<&str> = inst.state.active_elements(model);
    let out = json!({
        "process": process,
        "status": inst.state.status,
        "waiting_at": waiting,
        "error": inst.state.error,
        "incidents": inst.incidents,
        "variables": inst.state.vars,
        "outputs": inst.state.outputs,
        "trace": trace,
    });
    super::emit(serde_json::to_string_pretty(&out)?);
    Ok(match inst.state.status {
        Status::Failed => ExitCode::from(1),
        _ if !inst.incidents.is_empty() => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

fn run_durable(
    a: &Args,
    xml: &str,
    vars: serde_json::Map<String, serde_json::Value>,
) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let engine = super::serve::engine(&a.store, Default::default(), true).await?;
        let def = engine.deploy(xml, a.process.as_deref()).await?;
        let id = engine.start_instance(&def.key, vars, "manual").await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(a.timeout_secs);
        loop {
            let row = engine.store().load_instance(&id).await?.context("instance vanished")?;
            if row.status != "running" || tokio::time::Instant::now() > deadline {
                let history = engine.store().history(&id).await?;
                let trace: Vec<_> = history.iter().map(|h| json!({ "element": h.element_id, "exec": h.exec, "event": h.kind, "at": h.at })).collect();
                let out = json!({ "instance": id, "definition": def.id, "status": row.status, "trace": trace });
                super::emit(serde_json::to_string_pretty(&out)?);
                if row.status == "running" {
                    bail!("the instance is still running after {} s", a.timeout_secs);
                }
                return Ok(if row.status == "completed" { ExitCode::SUCCESS } else { ExitCode::from(1) });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}
