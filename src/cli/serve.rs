//! `baton serve`, `baton start`, `baton status`: the durable engine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::routing::get;
use axum::{Json, Router};
use baton_nodes::{MasterKey, Registry};
use baton_runtime::engine::{Engine, Options};
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use baton_runtime::store::Store;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Address for the HTTP server.
    #[arg(long, env = "BATON_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// On SIGTERM / Ctrl-C: how long to wait for the jobs running here.
    #[arg(long, env = "BATON_DRAIN_SECS", default_value_t = 30)]
    drain_secs: u64,
    /// Delete report data older than this many days (0: keep forever).
    #[arg(long, env = "BATON_REPORT_RETENTION_DAYS", default_value_t = 0)]
    report_retention_days: u32,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    wechat: WeChatArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Where WeChat's web authorisation lives (the mobile entry's sign-in);
/// other hosts are for a stand-in in tests.
#[derive(clap::Args, Clone)]
pub struct WeChatArgs {
    /// WeChat's authorisation page host.
    #[arg(long, env = "BATON_WECHAT_OPEN_BASE", default_value = baton_web::wechat::DEFAULT_OPEN_BASE)]
    wechat_open_base: String,
    /// WeChat's API host (the code-for-openid call).
    #[arg(long, env = "BATON_WECHAT_API_BASE", default_value = baton_web::wechat::DEFAULT_API_BASE)]
    wechat_api_base: String,
}

/// Task notices by mail (off unless `--smtp-host` and `--smtp-from`).
#[derive(clap::Args, Clone)]
pub struct MailArgs {
    /// The SMTP server that sends task notices (with approval links).
    #[arg(long, env = "BATON_SMTP_HOST", requires = "smtp_from")]
    smtp_host: Option<String>,
    #[arg(long, env = "BATON_SMTP_PORT", default_value_t = 25)]
    smtp_port: u16,
    /// `none`, `starttls` or `tls` (default: by port — 465 tls, 587 starttls).
    #[arg(long, env = "BATON_SMTP_SECURITY")]
    smtp_security: Option<String>,
    #[arg(long, env = "BATON_SMTP_USER")]
    smtp_user: Option<String>,
    /// Better given in the environment than on the command line.
    #[arg(long, env = "BATON_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// The sender, e.g. "Baton <baton@example.com>".
    #[arg(long, env = "BATON_SMTP_FROM")]
    smtp_from: Option<String>,
    /// This server's address as people reach it: links in mails (default
    /// http:// and the listen address) and where WeChat sends browsers back
    /// (default: the address the browser used).
    #[arg(long, env = "BATON_PUBLIC_URL")]
    public_url: Option<String>,
}

/// The listener Sub-Manager relays dial into (off unless `--relay-listen`).
#[derive(clap::Args, Clone)]
pub struct RelayArgs {
    /// Address for relays (TLS WebSocket), e.g. 0.0.0.0:9443.
    #[arg(long, env = "BATON_RELAY_LISTEN")]
    relay_listen: Option<String>,
    /// The relay certificate chain (PEM); without it and `--relay-key`, a
    /// self-signed one is made once and kept in the data directory.
    #[arg(long, env = "BATON_RELAY_CERT", requires = "relay_key")]
    relay_cert: Option<PathBuf>,
    /// The relay certificate's private key (PEM).
    #[arg(long, env = "BATON_RELAY_KEY", requires = "relay_cert")]
    relay_key: Option<PathBuf>,
    /// HOST:PORT relays are given in their package (default: the listen
    /// address, with this machine's name for 0.0.0.0).
    #[arg(long, env = "BATON_RELAY_PUBLIC_ADDR")]
    relay_public_addr: Option<String>,
    /// How often relays send heartbeats.
    #[arg(long, env = "BATON_RELAY_HEARTBEAT_MS", default_value_t = 2_000)]
    relay_heartbeat_ms: u64,
    /// A relay unheard of this long is lost: its jobs go to a backup.
    #[arg(long, env = "BATON_RELAY_LOST_AFTER_MS", default_value_t = 10_000)]
    relay_lost_after_ms: u64,
    /// The Linux `sub-manager` binary offered in host packages (default:
    /// `sub-manager` beside this program).
    #[arg(long, env = "BATON_SUB_MANAGER_BIN")]
    sub_manager_bin: Option<PathBuf>,
    /// The Windows `sub-manager.exe` offered in host packages.
    #[arg(long, env = "BATON_SUB_MANAGER_BIN_WINDOWS")]
    sub_manager_bin_windows: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
pub struct EngineArgs {
    /// A configuration file (TOML; its keys are these long flags, its values
    /// their defaults); default ./baton.toml when it exists.
    #[arg(long, env = "BATON_CONFIG")]
    pub config: Option<PathBuf>,
    /// sqlite://FILE?mode=rwc (default ./baton.db) or postgres://…
    #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE)]
    pub store: String,
    /// How long a claimed job or timer is held before another engine may take it.
    #[arg(long, env = "BATON_LEASE_MS", default_value_t = 30_000)]
    pub lease_ms: i64,
    /// How often to look for due timers and abandoned jobs.
    #[arg(long, env = "BATON_POLL_MS", default_value_t = 100)]
    pub poll_ms: u64,
    /// The file holding the master key that encrypts stored secrets
    /// (created, mode 0600, on first use). `BATON_MASTER_KEY` (base64) wins.
    #[arg(long, env = "BATON_MASTER_KEY_FILE", default_value = "baton.key")]
    pub master_key_file: PathBuf,
    /// Directories `file-operation` nodes are confined to (`:`-separated in the variable).
    #[arg(long = "file-root", env = "BATON_FILE_ROOTS", value_delimiter = ':')]
    pub file_roots: Vec<PathBuf>,
    /// Where files Baton keeps live (report data under `reports/`).
    #[arg(long, env = "BATON_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl Default for EngineArgs {
    fn default() -> Self {
        EngineArgs {
            config: None,
            store: super::DEFAULT_STORE.into(),
            lease_ms: 30_000,
            poll_ms: 100,
            master_key_file: "baton.key".into(),
            file_roots: Vec::new(),
            data_dir: "data".into(),
        }
    }
}

/// The engine over `url`. `work`: run jobs, timers and schedules here (a
/// server); `false`: a client that deploys and starts instances only.
pub async fn engine(url: &str, e: EngineArgs, work: bool) -> Result<Engine> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("opening the store {url}"))?;
    let opts = Options {
        lease_ms: e.lease_ms,
        poll: Duration::from_millis(e.poll_ms),
        work,
        ..Options::default()
    };
    let key = master_key(&e)?;
    let resources = StoreResources {
        store: store.clone(),
        key,
        company: DEFAULT_COMPANY.into(),
        roots: e.file_roots.clone(),
        data_dir: e.data_dir.clone(),
    };
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(resources),
        Some(store.clone()),
    );
    Ok(Engine::start(store, super::clock()?, Arc::new(handler), opts).await?)
}

/// `BATON_MASTER_KEY` (base64), else the key file (created 0600 on first use).
fn master_key(e: &EngineArgs) -> Result<MasterKey> {
    Ok(match std::env::var("BATON_MASTER_KEY") {
        Ok(k) => MasterKey::from_base64(&k).context("BATON_MASTER_KEY")?,
        Err(_) => MasterKey::load_or_create(&e.master_key_file)?,
    })
}

pub fn main(a: Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let engine = engine(&a.engine.store, a.engine.clone(), true).await?;
        if a.report_retention_days > 0 {
            tokio::spawn(report_retention(
                engine.store().clone(),
                a.engine.data_dir.clone(),
                a.report_retention_days,
            ));
        }
        let key = master_key(&a.engine)?;
        if let Some(password) = baton_web::bootstrap::bootstrap(engine.store())
            .await
            .map_err(|e| anyhow::anyhow!("creating the first admin: {}", e.en))?
        {
            // Printed once: the store keeps only its hash.
            eprintln!(
                "\n  First start: sign in as `{}` with the password\n\n      {password}\n\n  (shown only now; it must be changed at first sign-in)\n",
                baton_web::bootstrap::ADMIN
            );
        }
        for (flag, base) in [
            ("--wechat-open-base", &a.wechat.wechat_open_base),
            ("--wechat-api-base", &a.wechat.wechat_api_base),
        ] {
            if !(base.starts_with("https://") || base.starts_with("http://")) {
                anyhow::bail!("{flag} `{base}`: expected an http:// or https:// URL");
            }
        }
        let state = baton_web::AppState::new(engine.store().clone(), key, a.engine.data_dir.clone())
            .with_engine(engine.clone())
            .with_wechat(baton_web::wechat::WeChatSettings {
                open_base: a.wechat.wechat_open_base.clone(),
                api_base: a.wechat.wechat_api_base.clone(),
                public_url: a.mail.public_url.clone(),
            });
        tokio::spawn(task_file_sweep(state.clone()));
        if let Some(addr) = &a.relay.relay_listen {
            start_relays(&a.relay, addr, &a.engine, &engine, &state).await?;
        }
        if let (Some(host), Some(from)) = (&a.mail.smtp_host, &a.mail.smtp_from) {
            baton_web::notify::spawn(
                state.clone(),
                baton_web::notify::MailSettings {
                    host: host.clone(),
                    port: a.mail.smtp_port,
                    security: a.mail.smtp_security.clone(),
                    user: a.mail.smtp_user.clone(),
                    password: a.mail.smtp_password.clone(),
                    from: from.clone(),
                    public_url: a
                        .mail
                        .public_url
                        .clone()
                        .unwrap_or_else(|| format!("http://{}", a.listen)),
                },
            );
        }
        let app = Router::new()
            .route(
                "/healthz",
                get(|| async { Json(json!({ "status": "ok" })) }),
            )
            .merge(baton_web::router(state.clone()))
            // The browser UI: every other path (a client-side screen or an asset).
            .fallback_service(baton_web::ui::router());
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("binding {}", a.listen))?;
        tracing::info!(
            "baton serving on http://{} (store {})",
            a.listen,
            a.engine.store
        );
        // On SIGTERM / Ctrl-C: take no more requests, end the open streams,
        // let the requests in flight finish (for up to the drain time).
        let (stopping, stop_now) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(listener, app).with_graceful_shutdown({
            let state = state.clone();
            async move {
                stop_signal().await;
                state.stop();
                let _ = stopping.send(());
            }
        });
        let drain = Duration::from_secs(a.drain_secs);
        tokio::select! {
            served = std::future::IntoFuture::into_future(server) => served?,
            () = async {
                if stop_now.await.is_ok() {
                    tokio::time::sleep(drain).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => tracing::warn!("requests still open after {} s: stopping anyway", a.drain_secs),
        }
        // Requests are done; let the jobs running here finish and commit.
        tracing::info!("stopping: draining running jobs (up to {} s)", a.drain_secs);
        let left = engine.drain(Duration::from_secs(a.drain_secs)).await;
        if left > 0 {
            tracing::warn!("{left} jobs still running at the deadline: another server (or the next start) takes them when their leases run out");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Starts the relay listener and the hub its links share.
async fn start_relays(
    r: &RelayArgs,
    addr: &str,
    e: &EngineArgs,
    engine: &Engine,
    state: &baton_web::AppState,
) -> Result<()> {
    use baton_web::relay::{RelayConfig, RelayHub, RelayTls};
    let tls = RelayTls::load(r.relay_cert.as_deref(), r.relay_key.as_deref(), &e.data_dir)
        .map_err(|m| anyhow::anyhow!("the relay listener: {m}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the relay listener {addr}"))?;
    let bound = listener.local_addr()?;
    let (public_host, public_port) = match &r.relay_public_addr {
        Some(p) => {
            let (h, port) = p
                .rsplit_once(':')
                .with_context(|| format!("--relay-public-addr `{p}`: expected HOST:PORT"))?;
            let port: u16 = port
                .parse()
                .with_context(|| format!("--relay-public-addr `{p}`: bad port"))?;
            (h.to_owned(), port)
        }
        None if bound.ip().is_unspecified() => (
            std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "localhost".into()),
            bound.port(),
        ),
        None => (bound.ip().to_string(), bound.port()),
    };
    let mut binaries = std::collections::HashMap::new();
    let beside = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("sub-manager")))
        .filter(|p| p.is_file());
    if let Some(p) = r.sub_manager_bin.clone().or(beside) {
        binaries.insert("linux".to_owned(), p);
    }
    if let Some(p) = r.sub_manager_bin_windows.clone() {
        binaries.insert("windows".to_owned(), p);
    }
    let cfg = RelayConfig {
        server: format!("baton-{}-{:04x}", std::process::id(), rand_u16()),
        heartbeat: Duration::from_millis(r.relay_heartbeat_ms.max(100)),
        lost_after: Duration::from_millis(r.relay_lost_after_ms.max(500)),
        thresholds: Default::default(),
        lease: Duration::from_millis(e.lease_ms.max(1_000) as u64),
        poll: Duration::from_millis(250),
        window: 10_000,
        public_host,
        public_port,
        binaries,
    };
    let key = master_key(e)?;
    let hub = RelayHub::new(
        engine.store().clone(),
        key,
        engine.clone(),
        cfg,
        tls.cert_sha256.clone(),
    );
    let _ = state.relay.set(hub.clone());
    tracing::info!(
        "relays connect to wss://{bound}{} (certificate SHA-256 {})",
        baton_relay_protocol::PATH,
        tls.cert_sha256
    );
    tokio::spawn(baton_web::relay::serve(hub, listener, tls.config));
    Ok(())
}

fn rand_u16() -> u16 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (t ^ (t >> 16)) as u16
}

/// Ctrl-C, or SIGTERM (service managers, containers).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Hourly: report data older than `days` loses its row, then its file.
/// Every hour: the uploads of tasks cancelled before their completion go.
async fn task_file_sweep(state: baton_web::AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let gone = baton_web::routes::task_files::sweep_cancelled(&state).await;
        if gone > 0 {
            tracing::info!("{gone} files of cancelled tasks removed");
        }
    }
}

async fn report_retention(store: Store, data_dir: PathBuf, days: u32) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = chrono::Utc::now().timestamp_millis() - i64::from(days) * 86_400_000;
        match store.expire_report_data(before).await {
            Ok(rows) => {
                for r in &rows {
                    if let Err(e) = std::fs::remove_file(data_dir.join(&r.path)) {
                        tracing::warn!(report = r.id, "removing {}: {e}", r.path);
                    }
                }
                if !rows.is_empty() {
                    tracing::info!("report retention: {} reports removed", rows.len());
                }
            }
            Err(e) => tracing::warn!("report retention: {e}"),
        }
    }
}

#[derive(clap::Args)]
pub struct StartArgs {
    file: PathBuf,
    /// How many instances to start (0: deploy only).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    #[arg(long = "var")]
    vars: Vec<String>,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn start_main(a: StartArgs) -> Result<ExitCode> {
    let xml = super::read(&a.file)?;
    let vars = super::parse_vars(&a.vars)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        // A client: the servers sharing the store do the instances' work.
        let engine = engine(&a.engine.store, a.engine.clone(), false).await?;
        let def = engine.deploy(&xml, None).await?;
        let mut waits = Vec::with_capacity(a.instances);
        for _ in 0..a.instances {
            let e = engine.clone();
            let (k, v) = (def.key.clone(), vars.clone());
            waits.push(tokio::spawn(
                async move { e.start_instance(&k, v, "api").await },
            ));
        }
        let mut started = 0;
        for w in waits {
            w.await??;
            started += 1;
        }
        super::emit(format!(
            "{}",
            json!({ "definition": def.id, "started": started })
        ));
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// A configuration file (TOML; its keys are these long flags, its values
    /// their defaults); default ./baton.toml when it exists.
    #[arg(long, env = "BATON_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE)]
    store: String,
}

pub fn status_main(a: StatusArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::connect(&a.store).await?;
        let c: std::collections::BTreeMap<_, _> = store
            .count_instances_by_status()
            .await?
            .into_iter()
            .collect();
        super::emit(json!({ "instances": c }));
        Ok(ExitCode::SUCCESS)
    })
}
