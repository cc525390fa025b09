//! The `http` node against servers started here: axum over plain HTTP, a
//! rustls listener with a self-signed certificate, a closed port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use baton_nodes::resources::MemResources;
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Self-signed for `localhost` / 127.0.0.1 (P-256, not a CA), generated once
/// with openssl.
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBmDCCAT6gAwIBAgIUQE9z+wItjsSE/pNtJU/aaWGb8KswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTA4NDA1MFoYDzIxMjYxMDI4
MDg0MDUwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARNBo6BIm9QMHq/8ipZ4gVYF4Vn72iHWaEZrBXxIbpSkqbi2F+e8bEl
QZdrL4v/Tyn7AKOEzmLt1pDFcm/hBKTvo2wwajAdBgNVHQ4EFgQUx9FFFh3ahKPL
LMzqSaow1GI3REQwHwYDVR0jBBgwFoAUx9FFFh3ahKPLLMzqSaow1GI3REQwGgYD
VR0RBBMwEYIJbG9jYWxob3N0hwR/AAABMAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0E
AwIDSAAwRQIgKhsFUAvIMVr6ebGOrJmvwD/FWWhiWXlO1GtbAWbhRSECIQDa2NxM
pnZyZEzbwuUNMBfeW8JF+bj0FI4piZDgwSV8bg==
-----END CERTIFICATE-----
";
const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsm4h1fU/iAKevfDt
JEM/kkQdVJ2W4vMYlZ2+42QVUZ6hRANCAARNBo6BIm9QMHq/8ipZ4gVYF4Vn72iH
WaEZrBXxIbpSkqbi2F+e8bElQZdrL4v/Tyn7AKOEzmLt1pDFcm/hBKTv
-----END PRIVATE KEY-----
";

async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    axum::Json(json!({
        "method": method.as_str(),
        "body": String::from_utf8_lossy(&body),
        "contentType": h("content-type"),
        "token": h("x-token"),
        "accept": h("accept"),
    }))
}

async fn status(Path(code): Path<u16>) -> Response {
    let s = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
    let body = format!("failure detail {code} {}", "x".repeat(300));
    (s, body).into_response()
}

/// The plain HTTP test server.
async fn server() -> SocketAddr {
    let app = Router::new()
        .route("/hello", get(|| async { "hello there" }))
        .route(
            "/json",
            get(|| async { axum::Json(json!({"ok": true, "items": [1, 2, 3]})) }),
        )
        .route(
            "/badjson",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "not {json") }),
        )
        .route(
            "/headers",
            get(|| async {
                let mut h = HeaderMap::new();
                h.insert("x-custom-thing", "yes".parse().unwrap());
                h.append(header::SET_COOKIE, "a=1".parse().unwrap());
                h.append(header::SET_COOKIE, "b=2".parse().unwrap());
                (h, "h")
            }),
        )
        .route("/echo", any(echo))
        .route("/status/{code}", get(status))
        .route("/redirect", get(|| async { Redirect::temporary("/hello") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// An HTTPS server with the self-signed certificate: answers `ok` to anything.
async fn tls_server() -> SocketAddr {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs = vec![CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nsecure ok")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

fn ctx(p: Value) -> Ctx {
    Ctx::new(
        JobInfo {
            job_id: "i1:4".into(),
            element_id: "call".into(),
            name: "Call".into(),
            ..Default::default()
        },
        p.as_object().unwrap().clone(),
        Arc::new(MemResources::default()),
    )
    .with_vars(
        json!({"token": "tok-123", "item": {"id": 7, "name": "disk"}})
            .as_object()
            .unwrap()
            .clone(),
    )
}

async fn run(kind: &str, p: Value) -> RunResult {
    Registry::with_defaults().run(kind, ctx(p)).await
}

async fn ok(kind: &str, p: Value) -> (Map<String, Value>, Map<String, Value>) {
    match run(kind, p).await {
        RunResult::Done { outputs, vars } => (outputs, vars),
        RunResult::Failed(e) => panic!("failed: {e}"),
    }
}

async fn err(kind: &str, p: Value) -> NodeError {
    match run(kind, p).await {
        RunResult::Failed(e) => e,
        RunResult::Done { outputs, .. } => panic!("succeeded: {outputs:?}"),
    }
}

#[tokio::test]
async fn get_text_json_and_headers() {
    let a = server().await;
    let (o, _) = ok("http", json!({"url": format!("http://{a}/hello")})).await;
    assert_eq!(o["status"], 200);
    assert_eq!(o["body"], "hello there");
    assert_eq!(o["headers"]["content-type"], "text/plain; charset=utf-8");
    assert!(o["durationMs"].is_u64());

    let (o, _) = ok("http", json!({"url": format!("http://{a}/json")})).await;
    assert_eq!(o["body"], json!({"ok": true, "items": [1, 2, 3]}));
    assert_eq!(o["body"]["items"][2], 3);

    // Declared JSON that does not parse stays text.
    let (o, _) = ok("http", json!({"url": format!("http://{a}/badjson")})).await;
    assert_eq!(o["body"], "not {json");

    let (o, _) = ok("http", json!({"url": format!("http://{a}/headers")})).await;
    assert_eq!(o["headers"]["x-custom-thing"], "yes");
    assert_eq!(o["headers"]["set-cookie"], "a=1, b=2");

    let (o, _) = ok(
        "http",
        json!({"url": format!("http://{a}/hello"), "method": "HEAD"}),
    )
    .await;
    assert_eq!(o["status"], 200);
    assert_eq!(o["body"], "");
}

#[tokio::test]
async fn post_body_and_request_headers() {
    let a = server().await;
    let url = format!("http://{a}/echo");
    let (o, _) = ok(
        "http",
        json!({"url": url, "method": "post", "body": "{\"id\": ${item.id}}",
               "headers": "{\"X-Token\": \"${token}\", \"Accept\": \"application/json\"}"}),
    )
    .await;
    assert_eq!(o["body"]["method"], "POST");
    assert_eq!(o["body"]["body"], "{\"id\": 7}");
    assert_eq!(o["body"]["contentType"], "application/json");
    assert_eq!(o["body"]["token"], "tok-123");
    assert_eq!(o["body"]["accept"], "application/json");

    // `Name: value` lines; a text body; the other methods.
    for m in ["PUT", "PATCH", "DELETE"] {
        let (o, _) = ok(
            "http",
            json!({"url": url, "method": m, "body": "plain ${item.name}",
                   "headers": "X-Token: t2\nContent-Type: text/x-custom\n"}),
        )
        .await;
        assert_eq!(o["body"]["method"], m);
        assert_eq!(o["body"]["body"], "plain disk");
        assert_eq!(o["body"]["contentType"], "text/x-custom");
        assert_eq!(o["body"]["token"], "t2");
    }
    // A `${}` that is a whole object is sent as JSON.
    let (o, _) = ok(
        "http",
        json!({"url": url, "method": "POST", "body": "${item}"}),
    )
    .await;
    let sent: Value = serde_json::from_str(o["body"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent, json!({"id": 7, "name": "disk"}));
    assert_eq!(o["body"]["contentType"], "application/json");
}

#[tokio::test]
async fn failing_statuses() {
    let a = server().await;
    let e = err("http", json!({"url": format!("http://{a}/status/500")})).await;
    let quoted: String = format!("failure detail 500 {}", "x".repeat(300))
        .chars()
        .take(200)
        .collect();
    assert_eq!(
        e.to_string(),
        format!("HTTP 500 Internal Server Error from http://{a}/status/500: {quoted}")
    );
    let e = err("http", json!({"url": format!("http://{a}/status/404")})).await;
    assert!(e.to_string().starts_with("HTTP 404 Not Found from "), "{e}");

    // Configured: only 400-499 and 503 fail.
    let p = |code: u16| json!({"url": format!("http://{a}/status/{code}"), "failStatusCodes": "400-499, 503"});
    let (o, _) = ok("http", p(500)).await;
    assert_eq!(o["status"], 500);
    assert!(
        o["body"]
            .as_str()
            .unwrap()
            .starts_with("failure detail 500")
    );
    assert!(
        err("http", p(503))
            .await
            .to_string()
            .starts_with("HTTP 503 Service Unavailable")
    );
    assert!(
        err("http", p(418))
            .await
            .to_string()
            .starts_with("HTTP 418 I'm a teapot")
    );
    let (o, _) = ok(
        "http",
        json!({"url": format!("http://{a}/status/500"), "failStatusCodes": "none"}),
    )
    .await;
    assert_eq!(o["status"], 500);

    // A BPMN error for an error boundary event.
    let e = err(
        "http",
        json!({"url": format!("http://{a}/status/404"), "handleStatusCodes": "404"}),
    )
    .await;
    assert!(
        matches!(&e, NodeError::Bpmn { code, .. } if code == "HTTP404"),
        "{e:?}"
    );
    // ignoreErrors completes the node with the reason.
    let (o, _) = ok(
        "http",
        json!({"url": format!("http://{a}/status/502"), "ignoreErrors": "true"}),
    )
    .await;
    assert!(
        o["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 502 Bad Gateway"),
        "{o:?}"
    );
}

#[tokio::test]
async fn redirects() {
    let a = server().await;
    let (o, _) = ok("http", json!({"url": format!("http://{a}/redirect")})).await;
    assert_eq!(o["status"], 200);
    assert_eq!(o["body"], "hello there");
    assert_eq!(o["finalUrl"], format!("http://{a}/hello"));
    let (o, _) = ok(
        "http",
        json!({"url": format!("http://{a}/redirect"), "followRedirects": "false"}),
    )
    .await;
    assert_eq!(o["status"], 307);
    assert_eq!(o["headers"]["location"], "/hello");
}

#[tokio::test]
async fn timeout_stops_the_request() {
    let a = server().await;
    let started = Instant::now();
    let e = err(
        "http",
        json!({"url": format!("http://{a}/slow"), "timeout": "0.3"}),
    )
    .await;
    assert_eq!(e, NodeError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn tls_verification() {
    let a = tls_server().await;
    let url = format!("https://127.0.0.1:{}/", a.port());
    let e = err("http", json!({"url": url})).await.to_string();
    assert!(
        e.starts_with(&format!(
            "TLS handshake with 127.0.0.1:{} failed: the server's certificate ",
            a.port()
        )),
        "{e}"
    );
    assert!(e.contains("invalid peer certificate"), "{e}");
    assert!(e.ends_with("(tlsVerify=false accepts it)"), "{e}");
    let (o, _) = ok("http", json!({"url": url, "tlsVerify": "false"})).await;
    assert_eq!(o["status"], 200);
    assert_eq!(o["body"], "secure ok");
}

#[tokio::test]
async fn connection_and_address_errors() {
    // A port nobody listens on: bind one, then close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = err("http", json!({"url": format!("http://127.0.0.1:{port}/x")})).await;
    assert_eq!(
        e.to_string(),
        format!("connection refused by 127.0.0.1:{port} (http://127.0.0.1:{port}/x)")
    );
    let e = err(
        "http",
        json!({"url": "http://no-such-host.invalid/", "timeout": "20"}),
    )
    .await;
    assert!(
        e.to_string()
            .starts_with("cannot resolve host `no-such-host.invalid`: "),
        "{e}"
    );
    let e = err("http", json!({"url": "not a url"})).await;
    assert_eq!(
        e.to_string(),
        "property `url`: `not a url` is not a valid URL: relative URL without a base"
    );
    let e = err("http", json!({"url": "ftp://x/y"})).await;
    assert_eq!(
        e.to_string(),
        "property `url`: `ftp://x/y` is not a valid URL: scheme `ftp` is not http or https"
    );
    let e = err("http", json!({"url": "http://x/", "method": "BREW"})).await;
    assert_eq!(
        e.to_string(),
        "property `method`: `BREW` is not one of GET, POST, PUT, DELETE, PATCH, HEAD"
    );
    let e = err(
        "http",
        json!({"url": "http://x/", "headers": "no colon here"}),
    )
    .await;
    assert_eq!(
        e.to_string(),
        "property `headers`: line `no colon here` is not `Name: value`"
    );
    let e = err("http", json!({"url": "http://x/", "failStatusCodes": "4x"})).await;
    assert_eq!(
        e.to_string(),
        "property `failStatusCodes`: `4x` is not a status code, a range `400-499` or `4XX`"
    );
    // A password in the URL never shows.
    let e = err(
        "http",
        json!({"url": format!("http://admin:s3cretpw@127.0.0.1:{port}/")}),
    )
    .await;
    assert!(!e.to_string().contains("s3cretpw"), "{e}");

    let reg = Registry::with_defaults();
    let p = |v: Value| v.as_object().unwrap().clone();
    assert_eq!(
        reg.validate("http", &p(json!({"method": "GET"})))
            .unwrap_err(),
        NodeError::property("url", "is required")
    );
    assert!(
        reg.validate("http", &p(json!({"url": "http://x/${path}"})))
            .is_ok()
    );
    assert!(
        reg.validate("http", &p(json!({"url": "http://x/", "method": "FETCH"})))
            .is_err()
    );
    assert!(!reg.idempotent("http"));
}

#[tokio::test]
async fn flowable_http_task() {
    let a = server().await;
    assert_eq!(Registry::with_defaults().canonical("http"), Some("http"));
    let (o, vars) = ok(
        "http",
        json!({
            "requestMethod": "POST",
            "requestUrl": format!("http://{a}/echo"),
            "requestHeaders": "X-Token: ${token}\nContent-Type: application/json",
            "requestBody": "{\"n\": 1}",
            "requestTimeout": "5000",
            "responseVariableName": "resp",
        }),
    )
    .await;
    assert_eq!(o["body"]["method"], "POST");
    assert_eq!(o["body"]["token"], "tok-123");
    assert_eq!(o["body"]["body"], "{\"n\": 1}");
    assert_eq!(o["timeout"], "5", "requestTimeout in ms became seconds");
    assert_eq!(vars["resp"]["method"], "POST");

    // Flowable does not fail on a status unless `failStatusCodes` says so.
    let (o, _) = ok(
        "http",
        json!({"requestMethod": "GET", "requestUrl": format!("http://{a}/status/500")}),
    )
    .await;
    assert_eq!(o["status"], 500);
    let e = err(
        "http",
        json!({"requestMethod": "GET", "requestUrl": format!("http://{a}/status/500"), "failStatusCodes": "5XX"}),
    )
    .await;
    assert!(e.to_string().starts_with("HTTP 500"), "{e}");
    let (o, _) = ok(
        "http",
        json!({"requestMethod": "GET", "requestUrl": format!("http://{a}/redirect"), "disallowRedirects": "true"}),
    )
    .await;
    assert_eq!(o["status"], 307);
    let (o, _) = ok(
        "http",
        json!({"requestMethod": "GET", "requestUrl": "http://127.0.0.1:9/", "ignoreException": "true"}),
    )
    .await;
    assert!(
        o["errorMessage"].as_str().unwrap().contains("127.0.0.1:9"),
        "{o:?}"
    );
    // The Flowable timeout (ms) is enforced.
    let e = err(
        "http",
        json!({"requestMethod": "GET", "requestUrl": format!("http://{a}/slow"), "requestTimeout": "300"}),
    )
    .await;
    assert_eq!(e, NodeError::Timeout(Duration::from_millis(300)));
}

#[tokio::test]
async fn camunda_http_connector() {
    let a = server().await;
    let reg = Registry::with_defaults();
    assert_eq!(reg.canonical("http-connector"), Some("http"));
    let (o, _) = ok(
        "http-connector",
        json!({
            "url": format!("http://{a}/echo"),
            "method": "PUT",
            "headers": {"X-Token": "${token}", "Content-Type": "application/json"},
            "payload": "{\"v\": \"${item.name}\"}",
        }),
    )
    .await;
    assert_eq!(o["body"]["method"], "PUT");
    assert_eq!(o["body"]["token"], "tok-123");
    assert_eq!(o["body"]["body"], "{\"v\": \"disk\"}");
    // The connector reports a failing status instead of failing.
    let (o, _) = ok(
        "http-connector",
        json!({"url": format!("http://{a}/status/404"), "method": "GET"}),
    )
    .await;
    assert_eq!(o["status"], 404);
}
