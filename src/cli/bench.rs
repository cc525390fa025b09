//! `baton bench run FILE --instances N --store memory|sqlite|URL`: one JSON
//! line with instances, seconds, instances per second, store and machine.
//! `baton bench schedules` and `baton bench relay` print one JSON line too
//! (`bench_schedules.rs`, `bench_relay.rs`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_core::{Action, Command, InstanceState, Output, step};
use baton_model::Model;
use baton_runtime::deploy::Deployment;
use baton_runtime::engine::JobHandler;
use baton_runtime::handlers::Builtin;
use serde_json::{Map, json};

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Start N instances of a model and run each to its end.
    Run {
        file: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        instances: usize,
        /// `memory` (the core alone, jobs completed inline), `sqlite` (a fresh
        /// file, every instance committed) or a store URL.
        #[arg(long, default_value = "memory")]
        store: String,
    },
    /// Fire lateness of schedules: N enabled schedules, M of them due in the same second.
    Schedules {
        #[arg(long, default_value_t = 100_000)]
        schedules: usize,
        #[arg(long, default_value_t = 1_000)]
        due: usize,
        /// `sqlite` (a fresh file) or a store URL.
        #[arg(long, default_value = "sqlite")]
        store: String,
    },
    /// `noop` jobs through one relay link (a real `sub-manager` child
    /// process): round-trip latency and jobs per second, end to end.
    Relay {
        /// Instances run one at a time (latency).
        #[arg(long, default_value_t = 2_000)]
        single: usize,
        /// Instances started at once (throughput).
        #[arg(long, default_value_t = 50_000)]
        instances: usize,
        /// `sqlite` (a fresh file) or a store URL.
        #[arg(long, default_value = "sqlite")]
        store: String,
        /// The `sub-manager` binary (default: beside this program).
        #[arg(long)]
        sub_manager: Option<PathBuf>,
    },
}

pub fn main(cmd: Cmd) -> Result<ExitCode> {
    let (file, instances, store) = match cmd {
        Cmd::Run {
            file,
            instances,
            store,
        } => (file, instances, store),
        Cmd::Schedules {
            schedules,
            due,
            store,
        } => {
            let (url, label, _dir) = store_url(&store)?;
            let mut line = super::bench_schedules::run(&url, schedules, due)?;
            line["engine"] = json!("baton");
            line["store"] = json!(label);
            line["machine"] = machine();
            super::emit(line);
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Relay {
            single,
            instances,
            store,
            sub_manager,
        } => {
            let (url, label, _dir) = store_url(&store)?;
            // The key, the relay certificate and the relay's own directory
            // (its journal) live here: the system temp dir, on disk.
            let dir =
                std::env::temp_dir().join(format!("baton-bench-relay-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let _work = TempDir(dir.clone());
            let mut line = super::bench_relay::run(&url, &dir, single, instances, sub_manager)?;
            line["engine"] = json!("baton");
            line["version"] = json!(env!("CARGO_PKG_VERSION"));
            line["store"] = json!(label);
            line["machine"] = machine();
            super::emit(line);
            return Ok(ExitCode::SUCCESS);
        }
    };
    let xml = super::read(&file)?;
    let dep = Deployment::compile(None, 1, &xml, &|k, p| Builtin::default().check(k, p))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (secs, label) = if store == "memory" {
        (memory(&dep.model, instances)?, "memory".to_owned())
    } else {
        let (url, label, _dir) = store_url(&store)?;
        (durable(&url, &xml, instances)?, label)
    };
    let line = json!({
        "engine": "baton",
        "version": env!("CARGO_PKG_VERSION"),
        "file": file.file_name().map(|f| f.to_string_lossy().into_owned()),
        "reparse": false,
        "n": instances,
        "instances": instances,
        "seconds": secs,
        "instances_per_sec": instances as f64 / secs,
        "store": label,
        "machine": machine(),
    });
    super::emit(format!("{line}"));
    Ok(ExitCode::SUCCESS)
}

/// The core alone: every instance started and driven to its end in memory;
/// jobs complete at once and timers fire at once.
fn memory(model: &Model, n: usize) -> Result<f64> {
    let process = model.main_process().context("no process")?;
    let mut out = Output::default();
    let mut todo = Vec::new();
    let t = Instant::now();
    let mut last = Instant::now();
    for i in 0..n {
        let mut st = InstanceState::new(process);
        out.clear();
        step(
            model,
            &mut st,
            0,
            Command::Start {
                vars: Map::new(),
                start: None,
            },
            &mut out,
        )?;
        loop {
            todo.clear();
            todo.extend(out.actions.iter().filter_map(|a| match a {
                Action::Dispatch { exec, .. } => Some(Command::JobCompleted {
                    exec: *exec,
                    output: None,
                    vars: Map::new(),
                }),
                Action::SetTimer { sub, .. } => Some(Command::TimerFired { sub: *sub }),
                _ => None,
            }));
            if todo.is_empty() {
                break;
            }
            out.clear();
            for c in todo.drain(..) {
                step(model, &mut st, 0, c, &mut out)?;
            }
        }
        if !st.status.is_ended() {
            bail!(
                "instance {i} did not end in memory (it waits for a user task, message or signal)"
            );
        }
        progress(&mut last, i, n);
    }
    Ok(t.elapsed().as_secs_f64())
}

/// The durable engine: deploy, start N instances through the engine's
/// group commit, and wait until every one has completed in the store.
fn durable(url: &str, xml: &str, n: usize) -> Result<f64> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let engine = super::serve::engine(url, Default::default(), true).await?;
        let def = engine.deploy(xml, None).await?;
        let t = Instant::now();
        for _ in 0..n {
            engine.start_detached(&def.key, Map::new(), "api")?;
        }
        let mut last = Instant::now();
        loop {
            let counts = engine.store().count_instances_by_status().await?;
            let done: i64 = counts
                .iter()
                .filter(|(s, _)| s != "running")
                .map(|(_, c)| c)
                .sum();
            if done as usize >= n {
                return Ok(t.elapsed().as_secs_f64());
            }
            progress(&mut last, done as usize, n);
            if t.elapsed() > Duration::from_secs(600) {
                bail!("only {done} of {n} instances ended within 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// `sqlite` → a fresh file in a temporary directory (removed afterwards); else the URL itself.
fn store_url(store: &str) -> Result<(String, String, Option<TempDir>)> {
    Ok(if store == "sqlite" {
        let dir = std::env::temp_dir().join(format!("baton-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
        (url, "sqlite".to_owned(), Some(TempDir(dir)))
    } else {
        let label = store.split(':').next().unwrap_or("url").to_owned();
        (store.to_owned(), label, None)
    })
}

fn progress(last: &mut Instant, i: usize, n: usize) {
    if last.elapsed() >= Duration::from_secs(2) {
        eprintln!("… {i} of {n}");
        *last = Instant::now();
    }
}

fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
    });
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": cpu,
        "os": std::env::consts::OS,
    })
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
