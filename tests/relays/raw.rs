//! A relay driven by hand over the real TLS link: the bytes a broken or
//! hostile relay would send.

use std::sync::Arc;

use baton_relay_protocol::{HEADER_COMPANY, HEADER_PROTOCOL, PATH};
use futures_util::{SinkExt, StreamExt};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// Connects with these headers; `Err((status, body))` when refused.
pub(crate) async fn connect(
    port: u16,
    pin: &str,
    token: &str,
    company: &str,
    protocol: &str,
) -> Result<Ws, (u16, String)> {
    let cfg = sub_manager::config::Config::parse(
        &format!(
            "company_code = \"x\"\ncloud_host = \"127.0.0.1\"\ncloud_port = 1\n\
             token = \"t\"\ncloud_cert_sha256 = \"{pin}\"\n"
        ),
        "raw",
        std::path::Path::new("/"),
    )
    .unwrap();
    let tls = sub_manager::tls::client_config(&cfg.cloud_cert_sha256).unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut req = format!("wss://127.0.0.1:{port}{PATH}")
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    h.insert(HEADER_COMPANY, HeaderValue::from_str(company).unwrap());
    h.insert(HEADER_PROTOCOL, HeaderValue::from_str(protocol).unwrap());
    match tokio_tungstenite::client_async(req, tls).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(resp)) => Err((
            resp.status().as_u16(),
            String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned(),
        )),
        Err(e) => panic!("upgrade: {e}"),
    }
}

/// Every text frame the server sends until it closes the link (at most
/// `limit` of waiting).
pub(crate) async fn until_closed(ws: &mut Ws, limit: std::time::Duration) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("the server did not close the link; it sent {got:?}"),
            Ok(Some(Ok(Message::Text(t)))) => got.push(t.to_string()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return got,
            Ok(Some(Ok(_))) => {}
        }
    }
}

pub(crate) async fn send(ws: &mut Ws, text: String) -> bool {
    ws.send(Message::Text(text.into())).await.is_ok()
}
