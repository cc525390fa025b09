//! Baton's Sub-Manager: the relay agent that runs inside a customer LAN.
//! It dials out to the server (no inbound port), keeps the terminals'
//! credentials encrypted, runs the nodes the server routes to it — remote
//! commands on the terminals near it, local commands on itself — and
//! survives restarts without losing or doubling work.
//!
//! ```text
//!              ┌──────────────────────── sub-manager ────────────────────────┐
//!  server ◄═══►│ link (TLS, pinned) ──jobs──► runner ──► baton_nodes::Registry│──► terminals (SSH, WinRM)
//!   wss        │   ▲   │ terminals/secrets     │  ▲ logs, results (masked)    │
//!              │   │   └────────► vault ◄──────┘  │                           │
//!              │   └── outbox ◄── journal (durable queue, group commit)      │
//!              │ page (axum, :8080) ── sign-in via the link (loginCheck)     │
//!              └─────────────────────────────────────────────────────────────┘
//! ```
//!
//! - [`link`] keeps the WebSocket up (backoff, revocation), speaks
//!   `baton_relay_protocol`, sends heartbeats from [`facts::Sampler`].
//! - [`runner`] journals accepted jobs ([`journal`]), runs them through the
//!   node registry over [`resources::RelayResources`] (the [`vault`]),
//!   masks and forwards logs and results.
//! - [`page`] is the local web page; [`status`] is what it shows.

pub mod config;
pub mod facts;
pub mod journal;
pub mod link;
pub mod login;
pub mod noop;
pub mod page;
pub mod resources;
pub mod runner;
pub mod status;
pub mod tls;
pub mod vault;

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// Bytes appended to the journal before it is rewritten with only the live entries.
const COMPACT_AFTER: u64 = 64 * 1024 * 1024;

/// The relay's parts, shared by the link, the runner and the page.
pub struct Agent {
    pub config: Config,
    pub vault: Arc<vault::Vault>,
    pub journal: journal::Journal,
    pub runner: runner::Runner,
    pub status: Arc<status::Status>,
    pub outbox: runner::Outbox,
    pub logins: login::Logins,
    pub sampler: Arc<Mutex<facts::Sampler>>,
}

/// Runs the relay until `shutdown`: opens the vault and the journal,
/// resumes the work a previous run left, serves the local page, and keeps
/// the link up.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    vault::create_private_dir(&config.data_dir)?;
    let vault = Arc::new(vault::Vault::open(&config.data_dir)?);
    let (journal, replay) = journal::Journal::open(&config.data_dir, COMPACT_AFTER)?;
    if let Some(f) = &replay.damaged_file {
        tracing::error!(
            "the job journal ends with {} damaged bytes (a torn write?): moved to {}",
            replay.damaged_bytes,
            f.display()
        );
    }
    let (outbox, outbox_rx) = mpsc::unbounded_channel();
    let status = Arc::new(status::Status::new());
    let runner = runner::Runner::new(
        runner::Options {
            max_jobs: config.max_jobs,
            max_held: config.max_held_jobs,
            file_roots: config.file_roots.clone(),
        },
        vault.clone(),
        journal.clone(),
        status.clone(),
        outbox.clone(),
    );
    let sampler = tokio::task::spawn_blocking(facts::Sampler::new).await?;
    let agent = Arc::new(Agent {
        config,
        vault,
        journal,
        runner,
        status,
        outbox,
        logins: login::Logins::default(),
        sampler: Arc::new(Mutex::new(sampler)),
    });
    let held = agent.journal.len();
    let (rerun, interrupted) = agent.runner.recover();
    if held > 0 {
        tracing::info!(
            "resuming: {held} jobs held from before ({rerun} to run, {interrupted} interrupted \
             non-idempotent ones reported as failed, {} results waiting for the server)",
            held - rerun - interrupted
        );
    }

    let cfg = &agent.config;
    let addr = format!("{}:{}", cfg.http_host, cfg.http_port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!("the local page cannot listen on {addr} (`http_host`, `http_port`)")
        })?;
    tracing::info!(
        "Sub-Manager {} for company `{}`: page on http://{addr}, server {}:{}",
        env!("CARGO_PKG_VERSION"),
        cfg.company_code,
        cfg.cloud_host,
        cfg.cloud_port
    );
    let page = axum::serve(listener, page::router(agent.clone()))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let page = tokio::spawn(async move {
        if let Err(e) = page.await {
            tracing::error!("the local page stopped: {e}");
        }
    });
    link::run(agent.clone(), outbox_rx, shutdown).await;
    let _ = page.await;
    agent.journal.sync().await?;
    Ok(())
}
