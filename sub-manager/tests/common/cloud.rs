//! A test cloud: a real TLS WebSocket server (tokio-rustls, a self-signed
//! certificate made with rcgen, tokio-tungstenite) on 127.0.0.1 that speaks
//! the relay protocol through `baton_relay_protocol`. The server side of
//! Baton does not exist yet; this stands in for it. Tests send messages
//! (or raw frames) and observe everything the relay sends, decoded and raw.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_relay_protocol::{
    Hello, PROTOCOL_VERSION, Thresholds, ToRelay, ToServer, Welcome, decode, encode,
};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "test-token-0123456789";
pub const COMPANY: &str = "acme";

/// A certificate and its key (kept to restart the cloud with the same one).
#[derive(Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    pub key: Vec<u8>,
}

impl Cert {
    pub fn new() -> Cert {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a certificate");
        Cert {
            der: ck.cert.der().to_vec(),
            key: ck.signing_key.serialize_der(),
        }
    }

    /// The pin for `cloud_cert_sha256`.
    pub fn pin(&self) -> String {
        Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// How the cloud answers.
#[derive(Clone)]
pub struct Policy {
    /// The bearer token it accepts; others get HTTP 401.
    pub token: String,
    /// Sent right after `hello`; `None`: the test sends it.
    pub welcome: Option<Welcome>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            token: TOKEN.into(),
            welcome: Some(welcome(200, Thresholds::default())),
        }
    }
}

pub fn welcome(heartbeat_ms: u64, thresholds: Thresholds) -> Welcome {
    Welcome {
        protocol: PROTOCOL_VERSION,
        host_id: "host-1".into(),
        heartbeat_ms,
        thresholds,
    }
}

/// What the cloud saw, across connections.
#[derive(Default)]
pub struct Seen {
    /// TCP connections accepted.
    pub tcp: AtomicUsize,
    /// TLS handshakes completed.
    pub tls: AtomicUsize,
    /// WebSocket upgrade requests (any token).
    pub upgrades: AtomicUsize,
    /// Upgrades refused with 401.
    pub refused: AtomicUsize,
    /// Every text frame any relay sent, raw.
    pub frames: Mutex<Vec<String>>,
    /// Upgrade request headers, `name: value` lines, per upgrade.
    pub headers: Mutex<Vec<Vec<(String, String)>>>,
}

pub struct Cloud {
    pub port: u16,
    pub cert: Cert,
    pub seen: Arc<Seen>,
    pub policy: Arc<Mutex<Policy>>,
    conns: mpsc::UnboundedReceiver<Conn>,
    stop: CancellationToken,
}

/// One relay connection.
pub struct Conn {
    pub hello: Hello,
    pub peer: SocketAddr,
    tx: mpsc::UnboundedSender<Message>,
    rx: mpsc::UnboundedReceiver<ToServer>,
    /// Frames the cloud could not decode (as errors), in order.
    pub bad: Arc<Mutex<Vec<String>>>,
    /// While set, the cloud stops reading this connection (and so stops
    /// answering pings): a half-open link as the relay sees it.
    paused: Arc<std::sync::atomic::AtomicBool>,
}

impl Cloud {
    pub async fn start() -> Cloud {
        Self::start_with(0, Cert::new(), Policy::default()).await
    }

    /// On `port` (0: any), with `cert` and `policy`.
    pub async fn start_with(port: u16, cert: Cert, policy: Policy) -> Cloud {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the test cloud");
        let port = listener.local_addr().expect("addr").port();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.clone())),
            )
            .expect("server TLS config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let seen = Arc::new(Seen::default());
        let policy = Arc::new(Mutex::new(policy));
        let stop = CancellationToken::new();
        let (conn_tx, conns) = mpsc::unbounded_channel();
        let (s, p, st) = (seen.clone(), policy.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = tokio::select! {
                    r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                    _ = st.cancelled() => return,
                };
                s.tcp.fetch_add(1, Ordering::SeqCst);
                let (acceptor, s, p, st, conn_tx) = (
                    acceptor.clone(),
                    s.clone(),
                    p.clone(),
                    st.clone(),
                    conn_tx.clone(),
                );
                tokio::spawn(async move {
                    tokio::select! {
                        _ = serve(tcp, peer, acceptor, s, p, conn_tx) => {}
                        _ = st.cancelled() => {}
                    }
                });
            }
        });
        Cloud {
            port,
            cert,
            seen,
            policy,
            conns,
            stop,
        }
    }

    /// Stops listening and drops every connection (the cloud "goes down").
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// The next relay connection (after its `hello`).
    pub async fn accept(&mut self) -> Conn {
        self.accept_within(Duration::from_secs(20))
            .await
            .expect("a relay connection within 20 s")
    }

    pub async fn accept_within(&mut self, limit: Duration) -> Option<Conn> {
        tokio::time::timeout(limit, self.conns.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every frame the relay sent so far, joined.
    pub fn all_frames(&self) -> String {
        self.seen.frames.lock().unwrap().join("\n")
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    seen: Arc<Seen>,
    policy: Arc<Mutex<Policy>>,
    conn_tx: mpsc::UnboundedSender<Conn>,
) {
    // Small frames both ways: without this, Nagle and delayed ACKs add 40 ms.
    let _ = tcp.set_nodelay(true);
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    seen.tls.fetch_add(1, Ordering::SeqCst);
    let pol = policy.lock().unwrap().clone();
    let s2 = seen.clone();
    // The signature is tungstenite's callback's.
    #[allow(clippy::result_large_err)]
    let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        s2.upgrades.fetch_add(1, Ordering::SeqCst);
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        s2.headers.lock().unwrap().push(headers);
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {}", pol.token)) || req.uri().path() != "/api/v1/relay" {
            s2.refused.fetch_add(1, Ordering::SeqCst);
            let mut r = ErrorResponse::new(Some("token revoked".into()));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            return Err(r);
        }
        Ok(resp)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(256 << 20))
        .max_frame_size(Some(256 << 20));
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(tls, check, Some(config)).await
    else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    // The first frame must be a hello.
    let hello = loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => {
                seen.frames.lock().unwrap().push(t.to_string());
                let d = decode::<ToServer>(t.as_str()).expect("the first frame decodes");
                match d.messages.into_iter().next() {
                    Some(ToServer::Hello(h)) => break *h,
                    other => panic!("the first message is not a hello: {other:?}"),
                }
            }
            Some(Ok(_)) => continue,
            _ => return,
        }
    };
    let (tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
    let (in_tx, rx) = mpsc::unbounded_channel();
    let bad = Arc::new(Mutex::new(Vec::new()));
    let paused = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(w) = policy.lock().unwrap().welcome.clone() {
        let _ = tx.send(text(&[ToRelay::Welcome(w)]));
    }
    let _ = conn_tx.send(Conn {
        hello,
        peer,
        tx,
        rx,
        bad: bad.clone(),
        paused: paused.clone(),
    });
    let writer = async move {
        while let Some(m) = out_rx.recv().await {
            if sink.send(m).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    };
    let reader = async move {
        loop {
            if paused.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let Some(Ok(m)) = stream.next().await else {
                break;
            };
            if let Message::Text(t) = m {
                seen.frames.lock().unwrap().push(t.to_string());
                match decode::<ToServer>(t.as_str()) {
                    Ok(d) => {
                        for e in d.errors {
                            bad.lock().unwrap().push(e.to_string());
                        }
                        for m in d.messages {
                            let _ = in_tx.send(m);
                        }
                    }
                    Err(e) => bad.lock().unwrap().push(e.to_string()),
                }
            }
        }
    };
    // The connection ends when either side does (the relay closing, or the
    // test dropping its `Conn`).
    tokio::select! {
        _ = writer => {}
        _ = reader => {}
    }
}

/// Messages as one text frame.
pub fn text(msgs: &[ToRelay]) -> Message {
    Message::text(encode(msgs).expect("encode"))
}

impl Conn {
    /// Stops reading this connection (see `paused`).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    pub fn send(&self, msgs: Vec<ToRelay>) {
        let _ = self.tx.send(text(&msgs));
    }

    /// A raw WebSocket message (garbage, binary, oversized...).
    pub fn send_raw(&self, m: Message) {
        let _ = self.tx.send(m);
    }

    /// The next message, within 20 s.
    pub async fn recv(&mut self) -> ToServer {
        self.recv_within(Duration::from_secs(20))
            .await
            .expect("a message from the relay within 20 s")
    }

    /// The next message; `None` on timeout or when the connection closed.
    pub async fn recv_within(&mut self, limit: Duration) -> Option<ToServer> {
        tokio::time::timeout(limit, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Skips messages until `f` picks one (heartbeats and others are skipped), within 20 s.
    pub async fn until<T>(&mut self, mut f: impl FnMut(&ToServer) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let m = self
                .recv_within(left)
                .await
                .expect("the awaited message within 20 s");
            if let Some(t) = f(&m) {
                return t;
            }
        }
    }

    /// Waits until the relay closes this connection (or `limit` passes): true if closed.
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(None) => return true,
                Ok(Some(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}
