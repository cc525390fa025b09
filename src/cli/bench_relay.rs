//! `baton bench relay`: `noop` jobs through one real relay link, end to end
//! through the server (issue 4's benchmark).
//!
//! In this process: the engine as `serve` builds it, the relay hub, its TLS
//! listener on loopback. A child process: the real `sub-manager` (its
//! journal on disk, fsynced), enrolled as host `bench`. Each instance is
//! start → `noop` for host `bench` → end, so one instance is one job's
//! whole path: the engine commits the job routed to the host → the link
//! claims it from the store → the relay journals and runs it → its result
//! comes back → the engine applies it → the instance is completed.
//!
//! - latency: `single` instances one after another, each timed from just
//!   before `start_instance` until its row says completed. The engine has no
//!   completion hook, so that row is polled every `POLL_US` (it adds up to
//!   that much per instance; the JSON line says so).
//! - throughput: `instances` started at once (`start_detached`); jobs per
//!   second from the first start until the last instance completed
//!   (counted every 50 ms).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_nodes::MasterKey;
use baton_runtime::engine::Engine;
use baton_runtime::nodes::DEFAULT_COMPANY;
use baton_runtime::store::{HostRow, Store};
use baton_web::relay::{RelayConfig, RelayHub, RelayTls, issue_token};
use serde_json::{Map, json};

/// The host the process's `noop` is routed to.
const HOST: &str = "bench";
/// Process key.
const KEY: &str = "relay-noop";
/// How often the latency phase reads the instance row.
const POLL_US: u64 = 100;
/// Instances run (and not measured) before the latency phase.
const WARMUP: usize = 50;

const MODEL: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:baton="http://baton.dev/schema/bpmn" id="bench-relay-d" targetNamespace="t">
  <process id="relay-noop" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="noop"/>
    <serviceTask id="noop" baton:type="noop">
      <extensionElements><baton:property name="host" value="bench"/></extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="noop" targetRef="e"/>
    <endEvent id="e"/>
  </process></definitions>"#;

/// The `sub-manager` child: killed when dropped.
struct Relay {
    child: Child,
    log: PathBuf,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// The `sub-manager` binary: `--sub-manager`, else beside this program.
fn sub_manager_bin(given: Option<PathBuf>) -> Result<PathBuf> {
    let bin = match given {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("the directory of this program")?
            .join("sub-manager"),
    };
    if !bin.is_file() {
        bail!(
            "no sub-manager binary at {} (build it: cargo build --release -p sub-manager --bin sub-manager, or pass --sub-manager PATH)",
            bin.display()
        );
    }
    Ok(bin)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts the relay for host `HOST` with its config file and journal under `dir`.
fn spawn_relay(bin: &Path, dir: &Path, port: u16, pin: &str, token: &str) -> Result<Relay> {
    std::fs::create_dir_all(dir)?;
    let config = dir.join("sub-manager.toml");
    std::fs::write(
        &config,
        format!(
            "company_code = \"{DEFAULT_COMPANY}\"\ncloud_host = \"127.0.0.1\"\ncloud_port = {port}\n\
             token = \"{token}\"\ncloud_cert_sha256 = \"{pin}\"\nhttp_host = \"127.0.0.1\"\n\
             http_port = {}\ndata_dir = \"data\"\n",
            free_port()?
        ),
    )?;
    let log = dir.join("relay.log");
    let out = std::fs::File::create(&log)?;
    let child = Command::new(bin)
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    Ok(Relay { child, log })
}

/// The hub and its TLS listener on loopback, configured as `serve` does;
/// returns the hub, the port and the certificate pin.
async fn relay_side(
    engine: &Engine,
    key: &MasterKey,
    dir: &Path,
    lease_ms: i64,
) -> Result<(std::sync::Arc<RelayHub>, u16, String)> {
    let tls = RelayTls::load(None, None, dir).map_err(|m| anyhow::anyhow!("relay TLS: {m}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    // `serve`'s values (src/cli/serve.rs `start_relays`).
    let cfg = RelayConfig {
        server: format!("baton-bench-{}", std::process::id()),
        heartbeat: Duration::from_millis(2_000),
        lost_after: Duration::from_millis(10_000),
        thresholds: Default::default(),
        lease: Duration::from_millis(lease_ms.max(1_000) as u64),
        poll: Duration::from_millis(250),
        window: 10_000,
        public_host: "127.0.0.1".into(),
        public_port: port,
        binaries: Default::default(),
    };
    let hub = RelayHub::new(
        engine.store().clone(),
        key.clone(),
        engine.clone(),
        cfg,
        tls.cert_sha256.clone(),
    );
    tokio::spawn(baton_web::relay::serve(hub.clone(), listener, tls.config));
    Ok((hub, port, tls.cert_sha256))
}

/// Waits for an instance to end (reading its row every `POLL_US`); its status.
async fn ended(store: &Store, id: &str, relay: &Relay) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = store.load_instance(id).await?.context("instance row")?;
        if row.status != "running" {
            return Ok(row.status);
        }
        if Instant::now() > deadline {
            bail!(
                "instance {id} still running after 30 s; incidents: {:?}\nrelay log:\n{}",
                store.incidents(id).await?,
                relay.log_tail()
            );
        }
        // tokio's timer has a 1 ms grain: sleep on a blocking thread instead.
        tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_micros(POLL_US))).await?;
    }
}

async fn ended_count(store: &Store) -> Result<i64> {
    Ok(store
        .count_instances_by_status()
        .await?
        .iter()
        .filter(|(s, _)| s != "running")
        .map(|(_, c)| c)
        .sum())
}

async fn completed_count(store: &Store) -> Result<i64> {
    Ok(store
        .count_instances_by_status()
        .await?
        .iter()
        .filter(|(s, _)| s == "completed")
        .map(|(_, c)| c)
        .sum())
}

/// Milliseconds at quantile `q` of sorted microsecond samples.
fn ms_at(sorted: &[u64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs both phases against the store at `url`; `dir` holds the key, the
/// TLS certificate and the relay's directory. Returns the figures.
pub fn run(
    url: &str,
    dir: &Path,
    single: usize,
    instances: usize,
    sub_manager: Option<PathBuf>,
) -> Result<serde_json::Value> {
    let bin = sub_manager_bin(sub_manager)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let args = super::serve::EngineArgs {
            master_key_file: dir.join("baton.key"),
            data_dir: dir.join("data"),
            ..Default::default()
        };
        let lease_ms = args.lease_ms;
        let engine = super::serve::engine(url, args.clone(), true).await?;
        // The same key the engine took (`serve`'s rule).
        let key = match std::env::var("BATON_MASTER_KEY") {
            Ok(k) => MasterKey::from_base64(&k).context("BATON_MASTER_KEY")?,
            Err(_) => MasterKey::load_or_create(&args.master_key_file)?,
        };
        let store = engine.store().clone();
        let (hub, port, pin) = relay_side(&engine, &key, dir, lease_ms).await?;
        store
            .put_host(&HostRow::new(HOST, DEFAULT_COMPANY, HOST))
            .await?;
        let token = issue_token(&store, &key, HOST)
            .await?
            .context("no token issued for the bench host")?;
        let relay = spawn_relay(&bin, &dir.join("relay"), port, &pin, &token)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !hub.is_linked(HOST) {
            if Instant::now() > deadline {
                bail!(
                    "the relay did not connect within 20 s; its log:\n{}",
                    relay.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        engine.deploy(MODEL, None).await?;

        // Warm up: route cache, connections, the relay's runner.
        for _ in 0..WARMUP {
            let id = engine.start_instance(KEY, Map::new(), "api").await?;
            let status = ended(&store, &id, &relay).await?;
            if status != "completed" {
                bail!("a warm-up instance ended {status}");
            }
        }

        // Latency: one instance at a time.
        let mut total = Vec::with_capacity(single);
        let mut committed = Vec::with_capacity(single);
        let mut last = Instant::now();
        for i in 0..single {
            let t = Instant::now();
            let id = engine.start_instance(KEY, Map::new(), "api").await?;
            let c = t.elapsed();
            let status = ended(&store, &id, &relay).await?;
            let all = t.elapsed();
            if status != "completed" {
                bail!("instance {id} ended {status}");
            }
            total.push(all.as_micros() as u64);
            committed.push(c.as_micros() as u64);
            if last.elapsed() >= Duration::from_secs(2) {
                eprintln!("… latency: {i} of {single}");
                last = Instant::now();
            }
        }
        total.sort_unstable();
        committed.sort_unstable();
        if total.is_empty() {
            total.push(0);
            committed.push(0);
        }
        let latency = json!({
            "instances": single,
            "p50_ms": round3(ms_at(&total, 0.50)),
            "p99_ms": round3(ms_at(&total, 0.99)),
            "max_ms": round3(ms_at(&total, 1.0)),
            "poll_us": POLL_US,
        });
        eprintln!(
            "latency: start committed (start_instance returned) p50 {:.3} ms, p99 {:.3} ms; \
             the rest (claim → relay → result → applied, + up to {POLL_US} µs polling) p50 ≈ {:.3} ms",
            ms_at(&committed, 0.50),
            ms_at(&committed, 0.99),
            ms_at(&total, 0.50) - ms_at(&committed, 0.50),
        );

        // Throughput: all at once.
        let before = ended_count(&store).await?;
        let t = Instant::now();
        for _ in 0..instances {
            engine.start_detached(KEY, Map::new(), "api")?;
        }
        let queued = t.elapsed();
        let mut last = Instant::now();
        let mut first_done: Option<Duration> = None;
        let secs = loop {
            let done = ended_count(&store).await? - before;
            if done > 0 && first_done.is_none() {
                first_done = Some(t.elapsed());
            }
            if done as usize >= instances {
                break t.elapsed().as_secs_f64();
            }
            if last.elapsed() >= Duration::from_secs(2) {
                eprintln!("… throughput: {done} of {instances} completed");
                last = Instant::now();
            }
            if t.elapsed() > Duration::from_secs(600) {
                bail!(
                    "only {done} of {instances} instances ended within 10 minutes; relay log:\n{}",
                    relay.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let completed = completed_count(&store).await? as usize;
        let expected = WARMUP + single + instances;
        if completed < expected {
            bail!("{completed} of {expected} instances completed (the others failed or were cancelled)");
        }
        eprintln!(
            "throughput: {instances} starts queued in {:.3} s; first completion seen after {:.3} s",
            queued.as_secs_f64(),
            first_done.unwrap_or_default().as_secs_f64()
        );
        drop(relay);
        Ok(json!({
            "bench": "relay",
            "latency": latency,
            "throughput": {
                "instances": instances,
                "seconds": round3(secs),
                "jobs_per_sec": (instances as f64 / secs).round(),
            },
            "targets": { "p99_ms": 5.0, "jobs_per_sec": 20_000 },
            "journal": dir.join("relay").join("data").display().to_string(),
        }))
    })
}
