//! The TLS listener relays dial into, and the WebSocket upgrade.
//!
//! TLS is always on: with `--relay-cert`/`--relay-key` (PEM) the server uses
//! them; otherwise it makes a self-signed certificate once and keeps it in
//! the data directory, so the pin relays carry stays valid across restarts.
//! The upgrade is refused with a status and a reason before any WebSocket
//! exists: 401 for a missing, unknown or revoked token, 403 for a token of
//! another company, 426 for another protocol version.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_relay_protocol::{
    HEADER_COMPANY, HEADER_PROTOCOL, MAX_FRAME_BYTES, PATH, PROTOCOL_VERSION,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest;
use tokio::net::TcpListener;

use super::RelayHub;
use crate::auth::sha256_hex;

/// The relay listener's certificate chain and key.
pub struct RelayTls {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate (DER), hex: the relays' pin.
    pub cert_sha256: String,
}

impl RelayTls {
    /// From PEM files, or (both `None`) the self-signed pair kept in
    /// `dir` (`relay-cert.pem`, `relay-key.pem`), made on first use.
    pub fn load(cert: Option<&Path>, key: Option<&Path>, dir: &Path) -> Result<RelayTls, String> {
        let (cert_path, key_path) = match (cert, key) {
            (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf()),
            (None, None) => self_signed(dir)?,
            _ => return Err("give both --relay-cert and --relay-key, or neither".into()),
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
            .and_then(|i| i.collect())
            .map_err(|e| format!("reading the relay certificate {}: {e}", cert_path.display()))?;
        let Some(leaf) = chain.first() else {
            return Err(format!(
                "{}: no certificate in the file",
                cert_path.display()
            ));
        };
        let cert_sha256 = hex(&sha2::Sha256::digest(leaf.as_ref()));
        let key = PrivateKeyDer::from_pem_file(&key_path)
            .map_err(|e| format!("reading the relay key {}: {e}", key_path.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the relay certificate and key do not fit: {e}"))?;
        Ok(RelayTls {
            config: Arc::new(config),
            cert_sha256,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The kept self-signed pair, made (key 0600) when missing.
fn self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let cert = dir.join("relay-cert.pem");
    let key = dir.join("relay-key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let host = hostname();
    let names = vec![host, "localhost".into(), "127.0.0.1".into()];
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("making the relay certificate: {e}"))?;
    write_private(&key, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, made.cert.pem())
        .map_err(|e| format!("writing {}: {e}", cert.display()))?;
    tracing::info!(
        "made a self-signed relay certificate {} (relays pin its SHA-256)",
        cert.display()
    );
    Ok((cert, key))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "baton".into())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o
        .open(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Accepts relays on `listener` until the process ends: TCP_NODELAY, TLS,
/// then HTTP/1.1 with upgrades for the one route, [`PATH`].
pub async fn serve(hub: Arc<RelayHub>, listener: TcpListener, tls: Arc<rustls::ServerConfig>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let app = Router::new()
        .route(PATH, axum::routing::get(upgrade))
        .with_state(hub);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("relay listener: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(
                std::time::Duration::from_secs(10),
                acceptor.accept(tcp),
            )
            .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::info!(%peer, "relay TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "relay TLS handshake timed out");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(
                app.layer(axum::Extension(ConnectInfo(peer))),
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .with_upgrades();
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "relay connection: {e}");
            }
        });
    }
}

/// A refusal: the status, and the reason in the body and the server log.
fn refuse(status: StatusCode, peer: SocketAddr, reason: String) -> Response {
    tracing::warn!(%peer, "relay refused ({status}): {reason}");
    (status, reason).into_response()
}

async fn upgrade(
    State(hub): State<Arc<RelayHub>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let protocol = header(HEADER_PROTOCOL).unwrap_or("");
    if protocol != PROTOCOL_VERSION.to_string() {
        return refuse(
            StatusCode::UPGRADE_REQUIRED,
            peer,
            format!(
                "protocol version `{protocol}` is not spoken here: this server speaks {PROTOCOL_VERSION} (header {HEADER_PROTOCOL})"
            ),
        );
    }
    let Some(token) = header("authorization").and_then(|a| a.strip_prefix("Bearer ")) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            peer,
            "no enrolment token: send `Authorization: Bearer <token>`".into(),
        );
    };
    let host = match hub.store.host_by_token(&sha256_hex(token.trim())).await {
        Ok(Some(h)) => h,
        Ok(None) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                peer,
                "unknown or revoked enrolment token: download the host's package again".into(),
            );
        }
        Err(e) => {
            tracing::error!("relay upgrade: {e}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is not reachable",
            )
                .into_response();
        }
    };
    let company = header(HEADER_COMPANY).unwrap_or("");
    let code = match hub.store.company(&host.company_id).await {
        Ok(Some(c)) => c.code,
        Ok(None) => host.company_id.clone(),
        Err(e) => {
            tracing::error!("relay upgrade: {e}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is not reachable",
            )
                .into_response();
        }
    };
    if company != code {
        return refuse(
            StatusCode::FORBIDDEN,
            peer,
            format!(
                "company `{company}` does not match the host's company: the token of host `{}` belongs to another company",
                host.name
            ),
        );
    }
    let hash = sha256_hex(token.trim());
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| super::link::run(hub, host, hash, socket, peer))
}
