//! The local page: anonymous visitors go to the sign-in page; sign-in is
//! checked by the cloud over the link (`loginCheck` → `loginResult`); the
//! session cookie is HttpOnly and SameSite=Strict; the pages show the link,
//! terminals (never secrets), jobs and a job's log (escaped); with the link
//! down, sign-in is refused with a clear message; repeated failures lock.

mod common;

use std::time::Duration;

use baton_relay_protocol::{
    AccountSpec, AuthKind, LoginUser, Secret, TerminalSpec, ToRelay, ToServer,
};
use common::cloud::{Cloud, Conn};
use common::relay::Relay;
use common::{as_result, job};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh connection.
async fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Response {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the page");
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some(f) = form {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{f}",
            f.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Answers sign-in checks: `user1` / `right-pw` may log in; everything
/// else is refused. Other messages are passed on.
fn answer_logins(
    mut conn: Conn,
) -> (
    tokio::task::JoinHandle<Conn>,
    tokio::sync::mpsc::UnboundedReceiver<ToServer>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let h = tokio::spawn(async move {
        while let Some(m) = conn.recv_within(Duration::from_secs(60)).await {
            if let ToServer::LoginCheck {
                req_id,
                username,
                password,
            } = &m
            {
                let ok = username == "user1" && password.expose() == "right-pw";
                conn.send(vec![ToRelay::LoginResult {
                    req_id: req_id.clone(),
                    ok,
                    user: ok.then(|| LoginUser {
                        id: "u1".into(),
                        name: "User One".into(),
                    }),
                    reason: (!ok).then(|| "wrong user name or password".into()),
                }]);
            }
            if tx.send(m).is_err() {
                break;
            }
        }
        conn
    });
    (h, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_through_the_cloud_and_see_the_relay() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let conn = cloud.accept().await;
    let port = relay.page_port;
    conn.send(vec![
        ToRelay::Terminals {
            terminals: vec![TerminalSpec {
                id: "t1".into(),
                name: "linux-box".into(),
                host_name: "node1".into(),
                host_address: "10.0.0.7".into(),
                port: 22,
                connection_type: "ssh".into(),
                os_name: "CentOS".into(),
                os_version: "7".into(),
                comments: String::new(),
                accounts: vec![AccountSpec {
                    id: "a1".into(),
                    username: "root".into(),
                    auth_kind: AuthKind::Password,
                    comments: String::new(),
                }],
            }],
        },
        ToRelay::SetSecret {
            account_id: "a1".into(),
            secret: Secret::new("Terminal-Pw-55"),
            passphrase: None,
        },
        ToRelay::Jobs {
            jobs: vec![job(
                "i9:1",
                "local-command",
                json!({"command": "echo '<script>alert(1)</script>'"}),
            )],
        },
    ]);
    let (_answers, mut rx) = answer_logins(conn);
    while let Some(m) = rx.recv().await {
        if as_result(&m).is_some() {
            break;
        }
    }

    // Anonymous: to the sign-in page.
    let r = http(port, "GET", "/", None, None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    let r = http(port, "GET", "/jobs/i9%3A1/1", None, None).await;
    assert_eq!(r.status, 303);
    let r = http(port, "GET", "/login", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Sign in") && r.body.contains("name=password"));

    // Wrong password: the cloud says no.
    let r = http(
        port,
        "POST",
        "/login",
        None,
        Some("username=user1&password=nope"),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body
            .contains("Sign-in refused: wrong user name or password"),
        "{}",
        r.body
    );
    assert!(r.header("set-cookie").is_none());

    // Right password: a session cookie.
    let r = http(
        port,
        "POST",
        "/login",
        None,
        Some("username=user1&password=right-pw"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/"));
    let set = r.header("set-cookie").expect("a cookie").to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();

    let r = http(port, "GET", "/", Some(&cookie), None).await;
    assert_eq!(r.status, 200);
    let b = &r.body;
    assert!(b.contains("User One"), "the signed-in user");
    assert!(b.contains("connected (host host-1)"), "{b}");
    assert!(
        b.contains("Last heartbeat") && b.contains("available"),
        "{b}"
    );
    assert!(b.contains("linux-box") && b.contains("10.0.0.7") && b.contains("secret stored"));
    assert!(!b.contains("Terminal-Pw-55"), "never a secret");
    assert!(b.contains("i9:1"), "recent jobs");
    assert!(!b.contains("<script>alert"), "escaped");

    let r = http(port, "GET", "/jobs/i9%3A1/1", Some(&cookie), None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<script>alert"));
    let r = http(port, "GET", "/jobs/nope/1", Some(&cookie), None).await;
    assert_eq!(r.status, 404);

    // A forged or expired cookie is anonymous; signing out ends the session.
    let r = http(port, "GET", "/", Some("baton_relay_session=forged"), None).await;
    assert_eq!(r.status, 303);
    let r = http(port, "POST", "/logout", Some(&cookie), None).await;
    assert_eq!(r.status, 303);
    let r = http(port, "GET", "/", Some(&cookie), None).await;
    assert_eq!(r.status, 303);

    // The sign-in's password never reaches the relay's log.
    assert!(!relay.log().contains("right-pw"));
    assert!(relay.log().contains("`User One` (u1) signed in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sign_in_without_the_link_and_repeated_failures_lock() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let conn = cloud.accept().await;
    let port = relay.page_port;
    let (_answers, mut rx) = answer_logins(conn);
    // Connected: heartbeats flow.
    while let Some(m) = rx.recv().await {
        if matches!(m, ToServer::Heartbeat(_)) {
            break;
        }
    }
    for _ in 0..5 {
        let r = http(
            port,
            "POST",
            "/login",
            None,
            Some("username=user2&password=x"),
        )
        .await;
        assert_eq!(r.status, 401);
    }
    let r = http(
        port,
        "POST",
        "/login",
        None,
        Some("username=user2&password=x"),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed sign-ins"), "{}", r.body);
    // Another user is not locked.
    let r = http(
        port,
        "POST",
        "/login",
        None,
        Some("username=user1&password=right-pw"),
    )
    .await;
    assert_eq!(r.status, 303);

    // The cloud goes away.
    cloud.stop();
    assert!(
        relay
            .wait_log("reconnecting in", Duration::from_secs(10))
            .await
    );
    // The page learns the link state just after the log line: wait for it.
    let mut r = http(port, "GET", "/login", None, None).await;
    for _ in 0..100 {
        if r.body.contains("reconnecting") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        r = http(port, "GET", "/login", None, None).await;
    }
    assert!(r.body.contains("reconnecting"), "{}", r.body);
    let r = http(
        port,
        "POST",
        "/login",
        None,
        Some("username=user1&password=right-pw"),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        r.body.contains("The link to the cloud is down"),
        "{}",
        r.body
    );
    assert!(r.header("set-cookie").is_none());
    let r = http(port, "GET", "/healthz", None, None).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
}
