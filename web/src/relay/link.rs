//! One relay's connection, from `hello` to close.
//!
//! The link claims the host's jobs from the store (and, while its host
//! covers a lost one, that host's jobs too), sends them in batches, keeps
//! their leases while the relay holds them, and hands results to the engine:
//! a result counts only while the job's row still names this attempt and a
//! host this link serves, and it is acknowledged once the engine committed
//! it. Everything a relay sends is checked; a relay that floods or keeps
//! sending garbage is told why and disconnected, alone.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use baton_relay_protocol::{
    FrameWriter, Hello, PROTOCOL_VERSION, Thresholds, ToRelay, ToServer, Welcome, available, codes,
    decode,
};
use baton_runtime::store::{HostRow, JobLogRow};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::{Notify, mpsc};

use super::{LinkHandle, RelayHub};

mod credentials;
mod jobs;

/// What the hub tells a link.
pub(crate) enum Control {
    Send(ToRelay),
    /// Terminals, secrets or thresholds changed: send them again.
    Refresh,
    /// These jobs were cancelled by the engine.
    Cancelled(Vec<String>),
    Close(String),
}

/// Frames per second a relay may send before it counts as flooding (frames
/// that accept or finish jobs the link holds do not count).
const MAX_FRAMES_PER_S: u32 = 2_000;
/// Unreadable frames per ten seconds before the link is closed.
const MAX_BAD_PER_10S: u32 = 50;

/// A job sent to the relay and not finished.
struct Held {
    attempt: u32,
    exec: u32,
    accepted: bool,
}

struct Link {
    hub: Arc<RelayHub>,
    host: HostRow,
    token_hash: String,
    worker: String,
    peer: SocketAddr,
    held: HashMap<String, Held>,
    globals: Map<String, Value>,
    /// Claiming paused until then (the relay refused jobs: its queue is full).
    pause_until: Option<Instant>,
    /// The last claim stopped at the window: jobs may be waiting. Results
    /// that free room claim again at once instead of at the next poll.
    more: bool,
    logs: mpsc::UnboundedSender<JobLogRow>,
    ctl: mpsc::UnboundedSender<Control>,
}

/// Runs the link until the relay goes, is refused, or is revoked.
pub(crate) async fn run(
    hub: Arc<RelayHub>,
    host: HostRow,
    token_hash: String,
    socket: WebSocket,
    peer: SocketAddr,
) {
    let (mut sink, mut stream) = socket.split();
    // The first message must be a hello.
    let hello = match first_hello(&mut stream).await {
        Ok(h) => h,
        Err(why) => {
            tracing::warn!(host = host.name, %peer, "relay refused: {why}");
            let frame = encode_one(&ToRelay::Error {
                code: codes::INVALID_MESSAGE.into(),
                message: why,
            });
            let _ = sink.send(Message::Text(frame.into())).await;
            let _ = sink.close().await;
            return;
        }
    };
    if hello.protocol != PROTOCOL_VERSION {
        let why = format!(
            "protocol version {} is not spoken here: this server speaks {PROTOCOL_VERSION}",
            hello.protocol
        );
        tracing::warn!(host = host.name, %peer, "relay refused: {why}");
        let frame = encode_one(&ToRelay::Error {
            code: codes::PROTOCOL_VERSION.into(),
            message: why,
        });
        let _ = sink.send(Message::Text(frame.into())).await;
        let _ = sink.close().await;
        return;
    }
    let (ctl, mut ctl_rx) = mpsc::unbounded_channel();
    let wake = Arc::new(Notify::new());
    let conn = hub
        .next_conn
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let replaced = hub.links.lock().unwrap_or_else(|e| e.into_inner()).insert(
        host.id.clone(),
        LinkHandle {
            conn,
            tx: ctl.clone(),
            wake: wake.clone(),
        },
    );
    if let Some(old) = replaced {
        let _ = old
            .tx
            .send(Control::Close("the relay connected again".into()));
    }
    let (logs, logs_rx) = mpsc::unbounded_channel();
    tokio::spawn(write_logs(hub.clone(), logs_rx));
    let mut link = Link {
        worker: format!("{}/relay/{}", hub.cfg.server, host.id),
        hub: hub.clone(),
        host,
        token_hash,
        peer,
        held: HashMap::new(),
        globals: Map::new(),
        pause_until: None,
        more: false,
        logs,
        ctl,
    };
    let end = match link.start(&hello).await {
        Ok(first) => {
            let mut ok = true;
            for frame in first {
                ok &= sink.send(Message::Text(frame.into())).await.is_ok();
            }
            if ok {
                link.serve(&mut sink, &mut stream, &mut ctl_rx, &wake).await
            } else {
                "the relay went away during the welcome".into()
            }
        }
        Err(e) => format!("store: {e}"),
    };
    let _ = sink.close().await;
    link.closed(conn, &end).await;
}

async fn first_hello(
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Result<Hello, String> {
    let msg = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .map_err(|_| "no hello within 10 s".to_owned())?;
    let text = match msg {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(_)) => return Err("the first frame must be a text frame holding `hello`".into()),
        Some(Err(e)) => return Err(format!("reading the hello: {e}")),
        None => return Err("closed before its hello".into()),
    };
    let d = decode::<ToServer>(text.as_str()).map_err(|e| format!("the hello frame: {e}"))?;
    match d.messages.into_iter().next() {
        Some(ToServer::Hello(h)) => Ok(*h),
        Some(other) => Err(format!(
            "the first message must be `hello`, not {}",
            kind_of(&other)
        )),
        None => Err(d
            .errors
            .first()
            .map(|e| format!("the hello: {e}"))
            .unwrap_or_else(|| "an empty first frame".into())),
    }
}

fn kind_of(m: &ToServer) -> &'static str {
    match m {
        ToServer::Hello(_) => "hello",
        ToServer::Heartbeat(_) => "heartbeat",
        ToServer::Accepted { .. } => "accepted",
        ToServer::Rejected { .. } => "rejected",
        ToServer::Log { .. } => "log",
        ToServer::Result { .. } => "result",
        ToServer::LoginCheck { .. } => "loginCheck",
        ToServer::Error { .. } => "error",
        ToServer::Bye { .. } => "bye",
    }
}

fn encode_one(m: &ToRelay) -> String {
    baton_relay_protocol::encode(std::slice::from_ref(m)).unwrap_or_else(|_| "[]".into())
}

/// Packs messages into frames under the size limit.
fn frames(messages: &[ToRelay]) -> Vec<String> {
    let mut w = FrameWriter::new();
    let mut out = Vec::new();
    for m in messages {
        match w.push(m) {
            Ok(Some(full)) => out.push(full),
            Ok(None) => {}
            Err(e) => tracing::error!("a message too large for one frame was dropped: {e}"),
        }
    }
    out.extend(w.finish());
    out
}

impl Link {
    fn now(&self) -> i64 {
        self.hub.engine.now_ms()
    }

    /// The host's thresholds, else the server's.
    fn thresholds(&self) -> Thresholds {
        self.host
            .thresholds
            .as_ref()
            .and_then(|t| serde_json::from_value(t.clone()).ok())
            .unwrap_or_else(|| self.hub.cfg.thresholds.clone())
    }

    /// Records the hello, adopts what the relay still holds, and returns the
    /// first frames: welcome, terminals, secrets, cancellations.
    async fn start(&mut self, hello: &Hello) -> baton_runtime::store::Result<Vec<String>> {
        let store = &self.hub.store;
        let facts = serde_json::to_value(&hello.facts).unwrap_or_default();
        store
            .host_connected(&self.host.id, &self.hub.cfg.server, &facts, self.now())
            .await?;
        // Back: whoever covered this host is free again.
        store.release_cover(&self.host.id).await?;
        self.reload().await?;
        self.hub.publish_host(&self.host, true);
        tracing::info!(
            host = self.host.name,
            peer = %self.peer,
            agent = hello.agent_version,
            resumed = hello.resumed.len(),
            "relay connected"
        );
        let mut out = vec![ToRelay::Welcome(Welcome {
            protocol: PROTOCOL_VERSION,
            host_id: self.host.id.clone(),
            heartbeat_ms: self.hub.cfg.heartbeat.as_millis() as u64,
            thresholds: self.thresholds(),
        })];
        out.extend(self.terminals().await?);
        out.extend(self.adopt(&hello.resumed).await?);
        let mut frames = frames(&out);
        frames.extend(self.secrets().await?);
        Ok(frames)
    }

    /// The host row and the company's global variables, read again.
    async fn reload(&mut self) -> baton_runtime::store::Result<()> {
        if let Some(h) = self.hub.store.host_by_id(&self.host.id).await? {
            self.host = h;
        }
        self.globals = self.hub.store.globals(&self.host.company_id).await?;
        Ok(())
    }

    /// The hosts whose jobs this link claims: its own, and the lost host it covers.
    fn serving(&self) -> Vec<String> {
        let mut v = vec![self.host.id.clone()];
        v.extend(self.host.covering.clone());
        v
    }

    async fn serve(
        &mut self,
        sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        ctl_rx: &mut mpsc::UnboundedReceiver<Control>,
        wake: &Notify,
    ) -> String {
        // The secrets went out with the first frames.
        self.secrets_sent().await;
        let mut poll = tokio::time::interval(self.hub.cfg.poll);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut house = tokio::time::interval(Duration::from_secs(1));
        house.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_rx = Instant::now();
        let mut renewed = Instant::now();
        let (mut second, mut frames_in_s) = (Instant::now(), 0u32);
        let (mut ten, mut bad_in_10s) = (Instant::now(), 0u32);
        loop {
            let mut out: Vec<ToRelay> = Vec::new();
            tokio::select! {
                msg = stream.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Binary(_))) => {
                            out.push(ToRelay::Error { code: codes::BINARY_FRAME.into(), message: "binary frames are not part of the protocol".into() });
                            bad_in_10s += 1;
                            if let Some(end) = self.send(sink, &out).await { return end; }
                            continue;
                        }
                        Some(Ok(Message::Close(_))) | None => return "the relay closed the link".into(),
                        Some(Ok(_)) => { last_rx = Instant::now(); continue; }
                        Some(Err(e)) => return format!("reading from the relay: {e}"),
                    };
                    last_rx = Instant::now();
                    if second.elapsed() >= Duration::from_secs(1) { second = Instant::now(); frames_in_s = 0; }
                    if ten.elapsed() >= Duration::from_secs(10) { ten = Instant::now(); bad_in_10s = 0; }
                    let decoded = decode::<ToServer>(text.as_str());
                    // A frame that settles work this link sent is never a
                    // flood: a busy relay sends many (bounded by the window).
                    if !decoded.as_ref().is_ok_and(|d| self.settles_work(&d.messages)) {
                        frames_in_s += 1;
                    }
                    if frames_in_s > MAX_FRAMES_PER_S {
                        let why = format!("flooding: more than {MAX_FRAMES_PER_S} frames in a second");
                        let _ = self.send(sink, &[ToRelay::Error { code: "flood".into(), message: why.clone() }]).await;
                        return why;
                    }
                    match decoded {
                        Ok(d) => {
                            for e in &d.errors {
                                bad_in_10s += 1;
                                out.push(ToRelay::Error { code: e.code().into(), message: e.to_string() });
                            }
                            if let Err(end) = self.handle(d.messages, &mut out).await {
                                let _ = self.send(sink, &out).await;
                                return end;
                            }
                        }
                        Err(e) => {
                            bad_in_10s += 1;
                            tracing::info!(host = self.host.name, "unreadable frame from the relay: {e}");
                            out.push(ToRelay::Error { code: e.code().into(), message: e.to_string() });
                        }
                    }
                    if bad_in_10s > MAX_BAD_PER_10S {
                        let why = format!("more than {MAX_BAD_PER_10S} unreadable frames in 10 s");
                        out.push(ToRelay::Error { code: "flood".into(), message: why.clone() });
                        let _ = self.send(sink, &out).await;
                        return why;
                    }
                }
                c = ctl_rx.recv() => match c {
                    Some(Control::Send(m)) => out.push(m),
                    Some(Control::Refresh) => {
                        if let Err(e) = self.reload().await { tracing::warn!("relay refresh: {e}"); }
                        match self.terminals().await {
                            Ok(t) => out.extend(t),
                            Err(e) => tracing::warn!("relay refresh: {e}"),
                        }
                        match self.secrets().await {
                            Ok(frames) if !frames.is_empty() => {
                                for f in frames {
                                    if sink.send(Message::Text(f.into())).await.is_err() {
                                        return "the relay went away".into();
                                    }
                                }
                                self.secrets_sent().await;
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!("relay refresh: {e}"),
                        }
                    }
                    Some(Control::Cancelled(ids)) => {
                        for id in ids {
                            if self.held.remove(&id).is_some() {
                                out.push(ToRelay::Cancel { job_id: id });
                            }
                        }
                    }
                    Some(Control::Close(why)) => {
                        let _ = self.send(sink, &out).await;
                        return why;
                    }
                    None => return "the server is stopping".into(),
                },
                _ = wake.notified() => self.claim(&mut out).await,
                _ = poll.tick() => self.claim(&mut out).await,
                _ = house.tick() => {
                    if last_rx.elapsed() > self.hub.cfg.lost_after {
                        return format!("nothing from the relay for {} s", last_rx.elapsed().as_secs());
                    }
                    if let Err(end) = self.housekeeping(&mut out, &mut renewed).await {
                        let _ = self.send(sink, &out).await;
                        return end;
                    }
                }
            }
            // Results made room while jobs were left in the store: take
            // them now (a wake or the poll may be far off). A tenth of the
            // window at least, so a trickle of results is not a claim each.
            if self.more
                && self.hub.cfg.window.saturating_sub(self.held.len())
                    >= (self.hub.cfg.window / 10).max(1)
            {
                self.claim(&mut out).await;
            }
            if let Some(end) = self.send(sink, &out).await {
                return end;
            }
        }
    }

    async fn send(
        &self,
        sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
        out: &[ToRelay],
    ) -> Option<String> {
        if out.is_empty() {
            return None;
        }
        for f in frames(out) {
            if let Err(e) = sink.send(Message::Text(f.into())).await {
                return Some(format!("writing to the relay: {e}"));
            }
        }
        None
    }

    /// Whether the messages accept or finish a job this link holds (and
    /// has not seen accepted, for `accepted`).
    fn settles_work(&self, messages: &[ToServer]) -> bool {
        messages.iter().any(|m| match m {
            ToServer::Result {
                job_id, attempt, ..
            } => self.held.get(job_id).is_some_and(|h| h.attempt == *attempt),
            ToServer::Accepted { jobs } => jobs.iter().any(|r| {
                self.held
                    .get(&r.job_id)
                    .is_some_and(|h| h.attempt == r.attempt && !h.accepted)
            }),
            _ => false,
        })
    }

    /// Every second: the token still valid, the host row fresh (covering,
    /// thresholds), leases renewed, jobs cancelled elsewhere dropped.
    async fn housekeeping(
        &mut self,
        out: &mut Vec<ToRelay>,
        renewed: &mut Instant,
    ) -> Result<(), String> {
        let hub = self.hub.clone();
        let store = &hub.store;
        match store.host_by_token(&self.token_hash).await {
            Ok(Some(h)) if h.id == self.host.id => {
                let covering_changed = h.covering != self.host.covering;
                self.host = h;
                if covering_changed {
                    self.claim(out).await;
                }
            }
            Ok(_) => {
                let why = "the host's token was revoked".to_owned();
                out.push(ToRelay::Revoked {
                    reason: why.clone(),
                });
                return Err(why);
            }
            Err(e) => tracing::warn!("relay housekeeping: {e}"),
        }
        if renewed.elapsed() >= self.hub.cfg.lease / 3 && !self.held.is_empty() {
            *renewed = Instant::now();
            let ids: Vec<String> = self.held.keys().cloned().collect();
            let until = self.now() + self.hub.cfg.lease.as_millis() as i64;
            match store.renew_leases(&self.worker, &ids, until).await {
                Ok(n) if (n as usize) < ids.len() => {
                    // Some rows are gone or moved: cancelled elsewhere, or
                    // failed over. The relay drops them.
                    if let Ok(rows) = store.jobs_by_ids(&ids).await {
                        for id in ids {
                            let still = rows.iter().any(|r| {
                                r.id == id && r.worker.as_deref() == Some(self.worker.as_str())
                            });
                            if !still {
                                self.held.remove(&id);
                                out.push(ToRelay::Cancel { job_id: id });
                            }
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("renewing relay job leases: {e}"),
            }
        }
        Ok(())
    }

    async fn handle(
        &mut self,
        messages: Vec<ToServer>,
        out: &mut Vec<ToRelay>,
    ) -> Result<(), String> {
        let mut results = Vec::new();
        for m in messages {
            match m {
                ToServer::Hello(_) => out.push(ToRelay::Error {
                    code: codes::INVALID_MESSAGE.into(),
                    message: "`hello` is the first message only".into(),
                }),
                ToServer::Heartbeat(hb) => {
                    let (theirs, ours) =
                        (hb.available, available(&self.thresholds(), &hb.load()).0);
                    let value = serde_json::to_value(&hb).unwrap_or_default();
                    if let Err(e) = self
                        .hub
                        .store
                        .host_heartbeat(
                            &self.host.id,
                            &self.hub.cfg.server,
                            &value,
                            theirs && ours,
                            self.now(),
                        )
                        .await
                    {
                        tracing::warn!("recording a heartbeat: {e}");
                    }
                }
                ToServer::Accepted { jobs } => {
                    for r in jobs {
                        if let Some(h) = self.held.get_mut(&r.job_id)
                            && h.attempt == r.attempt
                        {
                            h.accepted = true;
                        }
                    }
                }
                ToServer::Rejected { jobs, reason } => {
                    tracing::info!(
                        host = self.host.name,
                        count = jobs.len(),
                        "relay refused jobs: {reason}"
                    );
                    let ids: Vec<String> = jobs
                        .iter()
                        .filter(|r| self.held.remove(&r.job_id).is_some())
                        .map(|r| r.job_id.clone())
                        .collect();
                    if let Err(e) = self.hub.store.release_jobs(&self.worker, &ids).await {
                        tracing::warn!("releasing refused jobs: {e}");
                    }
                    self.pause_until = Some(Instant::now() + Duration::from_millis(500));
                }
                ToServer::Log {
                    job_id,
                    attempt,
                    stream,
                    text,
                } => {
                    let _ = self.logs.send(JobLogRow {
                        job_id,
                        attempt: attempt as i32,
                        seq: 0,
                        at: 0,
                        stream: format!("{stream:?}").to_ascii_lowercase(),
                        line: text,
                    });
                }
                ToServer::Result {
                    job_id,
                    attempt,
                    outcome,
                } => results.push((job_id, attempt, outcome)),
                ToServer::LoginCheck {
                    req_id,
                    username,
                    password,
                } => {
                    out.push(self.login(req_id, &username, &password).await);
                }
                ToServer::Error { code, message } => {
                    tracing::warn!(
                        host = self.host.name,
                        "the relay could not read what we sent ({code}): {message}"
                    );
                }
                ToServer::Bye { reason } => return Err(format!("the relay said bye: {reason}")),
            }
        }
        if !results.is_empty() {
            self.results(results).await;
        }
        Ok(())
    }

    /// The link ended: jobs sent but not taken are released at once; taken
    /// ones keep their lease (the relay holds them and says so when it is back).
    async fn closed(&mut self, conn: u64, why: &str) {
        tracing::info!(host = self.host.name, peer = %self.peer, "relay link closed: {why}");
        {
            let mut links = self.hub.links.lock().unwrap_or_else(|e| e.into_inner());
            if links.get(&self.host.id).is_some_and(|l| l.conn == conn) {
                links.remove(&self.host.id);
            }
        }
        let untaken: Vec<String> = self
            .held
            .iter()
            .filter(|(_, h)| !h.accepted)
            .map(|(id, _)| id.clone())
            .collect();
        if let Err(e) = self.hub.store.release_jobs(&self.worker, &untaken).await {
            tracing::warn!("releasing relay jobs: {e}");
        }
        if let Err(e) = self
            .hub
            .store
            .host_link_closed(&self.host.id, &self.hub.cfg.server)
            .await
        {
            tracing::warn!("recording a closed relay link: {e}");
        }
        if let Ok(Some(h)) = self.hub.store.host_by_id(&self.host.id).await {
            self.hub.publish_host(&h, false);
        }
    }
}

/// Writes relay log lines in batches (`seq`: a strictly increasing
/// microsecond clock, as the server's own node logs).
async fn write_logs(hub: Arc<RelayHub>, mut rx: mpsc::UnboundedReceiver<JobLogRow>) {
    let mut last = 0i64;
    let mut buf = Vec::new();
    while rx.recv_many(&mut buf, 512).await > 0 {
        let now = chrono::Utc::now();
        for l in buf.iter_mut() {
            last = (last + 1).max(now.timestamp_micros());
            l.seq = last;
            l.at = now.timestamp_millis();
        }
        if let Err(e) = hub.store.append_job_logs(&buf).await {
            tracing::warn!("writing relay node logs: {e}");
        }
        buf.clear();
    }
}
