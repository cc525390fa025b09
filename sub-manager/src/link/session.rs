//! One connection: TCP, TLS with the pinned certificate, the WebSocket
//! upgrade with the token, `hello` / `welcome`, what waited for the link,
//! then reading and writing side by side until the link ends.
//!
//! Reading and writing are two futures polled together, so a server that
//! blocks on writing to the relay is still read (no deadlock when both
//! sides are busy). What the server sends that cannot be read is answered
//! with an `error` message and logged (at most 20 lines per 10 s); it never
//! ends the link, except a frame over the transport limit (64 MiB), after
//! which the WebSocket cannot continue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_relay_protocol::{
    DecodeError, FrameWriter, HEADER_COMPANY, HEADER_PROTOCOL, Heartbeat, Hello, PATH,
    PROTOCOL_VERSION, ToRelay, ToServer, Welcome, available, codes, decode, encode,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use tokio_util::sync::CancellationToken;

use super::{Backlog, Backoff};
use crate::Agent;
use crate::login::Answer;
use crate::status::LinkState;

type Ws = WebSocketStream<TlsStream<TcpStream>>;

/// Each step of connecting (TCP, TLS, upgrade) and the wait for `welcome`.
const STEP: Duration = Duration::from_secs(10);
/// The transport's limit: above it the WebSocket cannot go on. Frames
/// between [`baton_relay_protocol::MAX_FRAME_BYTES`] and this are answered
/// with `frame_too_large` and the link stays up.
const TRANSPORT_MAX: usize = 64 * 1024 * 1024;

/// How a session that got its `welcome` ended.
pub enum End {
    Revoked(String),
    Lost(String),
    Shutdown,
}

/// Why a session never got its `welcome`.
pub enum Failure {
    /// HTTP 401 or 403 at the upgrade: the token is not (or no longer) good.
    Refused {
        status: u16,
        body: String,
    },
    Other(String),
}

pub async fn run(
    agent: &Arc<Agent>,
    rx: &mut mpsc::UnboundedReceiver<ToServer>,
    backlog: &mut Backlog,
    shutdown: &CancellationToken,
    backoff: &mut Backoff,
) -> Result<End, Failure> {
    let cfg = &agent.config;
    let (ws, local) = tokio::select! {
        r = connect(agent) => r?,
        _ = shutdown.cancelled() => return Ok(End::Shutdown),
    };
    let (mut sink, mut stream) = ws.split();
    let facts = {
        let ip = local.map(|a| a.ip());
        tokio::task::spawn_blocking(move || crate::facts::gather(ip))
            .await
            .unwrap_or_default()
    };
    let hello = ToServer::Hello(Box::new(Hello {
        protocol: PROTOCOL_VERSION,
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        company_code: cfg.company_code.clone(),
        facts,
        resumed: agent.journal.refs(),
    }));
    let frame = encode(&[hello]).map_err(|e| Failure::Other(e.to_string()))?;
    sink.send(Message::text(frame))
        .await
        .map_err(|e| Failure::Other(format!("sending hello: {e}")))?;

    let mut handler = Handler::new(agent.clone());
    let welcome = tokio::time::timeout(STEP, async {
        loop {
            let msg = match stream.next().await {
                None => {
                    return Err(Failure::Other(
                        "the server closed the connection before its welcome".into(),
                    ));
                }
                Some(Err(e)) => {
                    return Err(Failure::Other(format!("waiting for the welcome: {e}")));
                }
                Some(Ok(m)) => m,
            };
            if let Some(end) = handler.message(msg) {
                return match end {
                    End::Revoked(r) => Ok(Err(End::Revoked(r))),
                    End::Lost(e) => Err(Failure::Other(e)),
                    End::Shutdown => Err(Failure::Other("shutting down".into())),
                };
            }
            if let Some(refused) = handler.refused_version.take() {
                return Err(Failure::Other(refused));
            }
            if let Some(w) = handler.welcome.clone() {
                return Ok(Ok(w));
            }
        }
    })
    .await
    .map_err(|_| {
        Failure::Other(format!(
            "no welcome from the server within {} s",
            STEP.as_secs()
        ))
    })??;
    let welcome = match welcome {
        Ok(w) => w,
        Err(end) => return Ok(end),
    };
    backoff.reset();
    agent.status.set_link(LinkState::Connected {
        host_id: welcome.host_id.clone(),
    });
    tracing::info!(
        "connected to {}:{} as host `{}` (heartbeat every {} ms); holding {} jobs",
        cfg.cloud_host,
        cfg.cloud_port,
        welcome.host_id,
        welcome.heartbeat_ms,
        agent.journal.len()
    );

    // What waited: log lines, then every unacknowledged result.
    let (logs, dropped) = backlog.take();
    if dropped > 0 {
        tracing::warn!("{dropped} log lines were dropped while the link was down");
    }
    let results = agent
        .journal
        .results()
        .into_iter()
        .map(|(r, outcome)| ToServer::Result {
            job_id: r.job_id,
            attempt: r.attempt,
            outcome,
        });
    let mut waiting: Vec<ToServer> = logs.into_iter().chain(results).collect();
    write_batch(&mut sink, &mut waiting)
        .await
        .map_err(|e| Failure::Other(format!("sending what waited for the link: {e}")))?;

    let every = Duration::from_millis(welcome.heartbeat_ms.clamp(100, 3_600_000));
    // The server answers every ping (sent with each heartbeat) with a pong:
    // three heartbeats without anything from it means the link is dead
    // even if TCP has not noticed.
    let idle = (every * 3).max(Duration::from_secs(1));
    let end = tokio::select! {
        e = read_loop(&mut stream, &mut handler, idle) => e,
        e = write_loop(&mut sink, rx, agent, &welcome, every, shutdown) => e,
    };
    Ok(end)
}

async fn connect(agent: &Agent) -> Result<(Ws, Option<SocketAddr>), Failure> {
    let cfg = &agent.config;
    let (host, port) = (cfg.cloud_host.as_str(), cfg.cloud_port);
    let other = Failure::Other;
    let tcp = tokio::time::timeout(STEP, TcpStream::connect((host, port)))
        .await
        .map_err(|_| other(format!("connecting to {host}:{port} timed out")))?
        .map_err(|e| other(format!("cannot connect to {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    let tls = crate::tls::client_config(&cfg.cloud_cert_sha256)
        .map_err(|e| other(format!("TLS configuration: {e}")))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| other(format!("`cloud_host` {host}: {e}")))?;
    let tls = tokio::time::timeout(STEP, TlsConnector::from(Arc::new(tls)).connect(name, tcp))
        .await
        .map_err(|_| other(format!("TLS handshake with {host}:{port} timed out")))?
        .map_err(|e| other(format!("TLS with {host}:{port}: {}", tls_error(&e))))?;
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("wss://{authority}{PATH}")
        .into_client_request()
        .map_err(|e| other(format!("the relay URL: {e}")))?;
    let h = req.headers_mut();
    let value = |v: &str, key: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| other(format!("`{key}` cannot be sent in an HTTP header")))
    };
    h.insert(
        "Authorization",
        value(&format!("Bearer {}", cfg.token), "token")?,
    );
    h.insert(HEADER_COMPANY, value(&cfg.company_code, "company_code")?);
    h.insert(HEADER_PROTOCOL, HeaderValue::from(PROTOCOL_VERSION));
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(TRANSPORT_MAX))
        .max_frame_size(Some(TRANSPORT_MAX));
    match tokio::time::timeout(STEP, client_async_with_config(req, tls, Some(ws_config))).await {
        Err(_) => Err(other("the WebSocket upgrade timed out".into())),
        Ok(Err(tungstenite::Error::Http(resp))) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_deref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .chars()
                        .take(300)
                        .collect::<String>()
                })
                .unwrap_or_default()
                .trim()
                .to_owned();
            if matches!(status, 401 | 403) {
                Err(Failure::Refused { status, body })
            } else {
                Err(other(format!(
                    "the server answered the upgrade with HTTP {status} {body}"
                )))
            }
        }
        Ok(Err(e)) => Err(other(format!("WebSocket upgrade: {e}"))),
        Ok(Ok((ws, _))) => Ok((ws, local)),
    }
}

/// A TLS failure in words: the pin mismatch's own message when that is it.
fn tls_error(e: &std::io::Error) -> String {
    if let Some(inner) = e.get_ref()
        && let Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o))) =
            inner.downcast_ref::<rustls::Error>()
    {
        return o.0.to_string();
    }
    e.to_string()
}

async fn read_loop(stream: &mut SplitStream<Ws>, handler: &mut Handler, idle: Duration) -> End {
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                return End::Lost(format!("nothing from the server for {} s", idle.as_secs()));
            }
            Ok(None) => return End::Lost("the server closed the connection".into()),
            Ok(Some(Err(e))) => return End::Lost(format!("reading from the server: {e}")),
            Ok(Some(Ok(msg))) => {
                if let Some(end) = handler.message(msg) {
                    return end;
                }
            }
        }
    }
}

async fn write_loop(
    sink: &mut SplitSink<Ws, Message>,
    rx: &mut mpsc::UnboundedReceiver<ToServer>,
    agent: &Agent,
    welcome: &Welcome,
    every: Duration,
    shutdown: &CancellationToken,
) -> End {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buf = Vec::with_capacity(1024);
    let mut was_available = true;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                let bye = [ToServer::Bye { reason: "the Sub-Manager is shutting down".into() }];
                if let Ok(f) = encode(&bye) {
                    let _ = sink.send(Message::text(f)).await;
                }
                let _ = sink.close().await;
                return End::Shutdown;
            }
            n = rx.recv_many(&mut buf, 1024) => {
                if n == 0 {
                    return End::Shutdown;
                }
                if let Err(e) = write_batch(sink, &mut buf).await {
                    return End::Lost(format!("writing to the server: {e}"));
                }
            }
            _ = tick.tick() => {
                let hb = heartbeat(agent, welcome).await;
                if hb.available != was_available {
                    was_available = hb.available;
                    match &hb.reason {
                        Some(why) => tracing::warn!("not available for new work: {why}"),
                        None => tracing::info!("available for new work again"),
                    }
                }
                agent.status.heartbeat(&hb);
                let mut one = vec![ToServer::Heartbeat(hb)];
                let sent = async {
                    write_batch(sink, &mut one).await?;
                    sink.send(Message::Ping(Default::default())).await
                };
                if let Err(e) = sent.await {
                    return End::Lost(format!("writing to the server: {e}"));
                }
            }
        }
    }
}

async fn heartbeat(agent: &Agent, welcome: &Welcome) -> Heartbeat {
    let sampler = agent.sampler.clone();
    let load = tokio::task::spawn_blocking(move || {
        sampler.lock().unwrap_or_else(|p| p.into_inner()).sample()
    })
    .await
    .unwrap_or_default();
    let (ok, reason) = available(&welcome.thresholds, &load);
    Heartbeat {
        at_ms: chrono::Utc::now().timestamp_millis(),
        load1: load.load1,
        cpu_pct: load.cpu_pct,
        mem_free: load.mem_free,
        mem_total: load.mem_total,
        io_bytes_per_s: load.io_bytes_per_s,
        available: ok,
        reason,
        running: agent.runner.running(),
        queued: agent.runner.queued(),
    }
}

/// Sends `msgs` (drained) packed into as few frames as fit.
async fn write_batch(
    sink: &mut SplitSink<Ws, Message>,
    msgs: &mut Vec<ToServer>,
) -> Result<(), tungstenite::Error> {
    if msgs.is_empty() {
        return Ok(());
    }
    let mut w = FrameWriter::new();
    for m in msgs.drain(..) {
        match w.push(&m) {
            Ok(Some(frame)) => sink.feed(Message::text(frame)).await?,
            Ok(None) => {}
            Err(e) => tracing::error!("not sent: {e}"),
        }
    }
    if let Some(frame) = w.finish() {
        sink.feed(Message::text(frame)).await?;
    }
    sink.flush().await
}

/// What the server sends, acted on.
struct Handler {
    agent: Arc<Agent>,
    welcome: Option<Welcome>,
    refused_version: Option<String>,
    noise: Noise,
}

impl Handler {
    fn new(agent: Arc<Agent>) -> Self {
        Handler {
            agent,
            welcome: None,
            refused_version: None,
            noise: Noise::default(),
        }
    }

    fn message(&mut self, msg: Message) -> Option<End> {
        match msg {
            Message::Text(t) => self.frame(t.as_str()),
            Message::Binary(b) => {
                self.bad(
                    codes::BINARY_FRAME,
                    format!(
                        "binary frame of {} bytes: the relay protocol uses text frames",
                        b.len()
                    ),
                );
                None
            }
            Message::Close(f) => Some(End::Lost(match f {
                Some(f) if !f.reason.is_empty() => {
                    format!("the server closed the link ({}: {})", f.code, f.reason)
                }
                _ => "the server closed the link".into(),
            })),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
        }
    }

    fn frame(&mut self, text: &str) -> Option<End> {
        let d = match decode::<ToRelay>(text) {
            Ok(d) => d,
            Err(e) => {
                self.decode_error(&e);
                return None;
            }
        };
        for e in &d.errors {
            self.decode_error(e);
        }
        for m in d.messages {
            if let Some(end) = self.handle(m) {
                return Some(end);
            }
        }
        None
    }

    fn decode_error(&mut self, e: &DecodeError) {
        if let DecodeError::VersionMismatch { theirs, ours, .. } = e {
            self.refused_version = Some(format!(
                "the server speaks relay protocol version {theirs}; this Sub-Manager speaks {ours}: upgrade one of them"
            ));
        }
        self.bad(e.code(), e.to_string());
    }

    /// Answers the server with an `error` and logs it (rate-limited).
    fn bad(&mut self, code: &str, message: String) {
        if self.noise.allow() {
            tracing::warn!("unreadable input from the server ({code}): {message}");
        }
        let _ = self.agent.outbox.send(ToServer::Error {
            code: code.to_owned(),
            message,
        });
    }

    fn handle(&mut self, m: ToRelay) -> Option<End> {
        let a = &self.agent;
        match m {
            ToRelay::Welcome(w) => {
                if self.welcome.is_none() {
                    self.welcome = Some(w);
                }
            }
            ToRelay::Jobs { jobs } => a.runner.submit(jobs),
            ToRelay::Ack { results } => {
                a.journal.ack(&results);
            }
            ToRelay::Cancel { job_id } => {
                let n = a.runner.cancel(&job_id);
                tracing::info!("cancel {job_id}: {n} attempt(s) held here");
            }
            ToRelay::Terminals { terminals } => {
                let count = terminals.len();
                let accounts: usize = terminals.iter().map(|t| t.accounts.len()).sum();
                match a.vault.set_terminals(terminals) {
                    Ok(gone) => tracing::info!(
                        "terminals: {count} ({accounts} accounts){}",
                        if gone > 0 {
                            format!("; deleted the secrets of {gone} accounts no longer listed")
                        } else {
                            String::new()
                        }
                    ),
                    Err(e) => self.bad("vault", e.to_string()),
                }
            }
            ToRelay::SetSecret {
                account_id,
                secret,
                passphrase,
            } => match a
                .vault
                .set_secret(&account_id, &secret, passphrase.as_ref())
            {
                Ok(()) => tracing::info!("stored the secret of account `{account_id}`"),
                Err(e) => self.bad("vault", e.to_string()),
            },
            ToRelay::RemoveSecret { account_id } => match a.vault.remove_secret(&account_id) {
                Ok(had) => tracing::info!(
                    "removed the secret of account `{account_id}`{}",
                    if had { "" } else { " (there was none)" }
                ),
                Err(e) => self.bad("vault", e.to_string()),
            },
            ToRelay::LoginResult {
                req_id,
                ok,
                user,
                reason,
            } => {
                if !a.logins.resolve(&req_id, Answer { ok, user, reason }) {
                    tracing::debug!("login result {req_id}: nobody is waiting for it");
                }
            }
            ToRelay::Revoked { reason } => return Some(End::Revoked(reason)),
            ToRelay::Error { code, message } => {
                if self.noise.allow() {
                    tracing::warn!("the server reports {code}: {message}");
                }
            }
        }
        None
    }
}

/// At most 20 warnings per 10 s about what the server sends, so a flood
/// of garbage cannot fill the log.
struct Noise {
    window: Instant,
    count: u32,
    suppressed: u32,
}

impl Default for Noise {
    fn default() -> Self {
        Noise {
            window: Instant::now(),
            count: 0,
            suppressed: 0,
        }
    }
}

impl Noise {
    fn allow(&mut self) -> bool {
        if self.window.elapsed() > Duration::from_secs(10) {
            if self.suppressed > 0 {
                tracing::warn!(
                    "{} more warnings about the server's input were suppressed",
                    self.suppressed
                );
            }
            *self = Noise::default();
        }
        self.count += 1;
        if self.count > 20 {
            self.suppressed += 1;
            false
        } else {
            true
        }
    }
}
