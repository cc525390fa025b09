//! The link: the real `sub-manager` binary against the test cloud (TLS,
//! WebSocket, the relay protocol) — hello with the machine's facts,
//! heartbeats and their availability rule, the certificate pin, a refused
//! or revoked token, reconnection, and garbage from the server.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use baton_relay_protocol::{PROTOCOL_VERSION, Thresholds, ToRelay, ToServer, Welcome, codes};
use common::cloud::{COMPANY, Cert, Cloud, Policy, TOKEN, welcome};
use common::relay::Relay;
use common::{as_result, job};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn meminfo_kib(key: &str) -> u64 {
    read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("a /proc/meminfo value")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_carries_the_machines_facts_and_heartbeats_follow() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;

    let headers = cloud.seen.headers.lock().unwrap()[0].clone();
    let h = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(h("authorization"), Some(format!("Bearer {TOKEN}")));
    assert_eq!(h("x-baton-company").as_deref(), Some(COMPANY));
    assert_eq!(h("x-baton-protocol").as_deref(), Some("1"));

    let hello = &conn.hello;
    assert_eq!(hello.protocol, PROTOCOL_VERSION);
    assert_eq!(hello.company_code, COMPANY);
    assert_eq!(hello.agent_version, env!("CARGO_PKG_VERSION"));
    assert!(hello.resumed.is_empty());
    let f = &hello.facts;
    assert_eq!(
        f.host_name.as_deref(),
        Some(read("/proc/sys/kernel/hostname").trim())
    );
    assert_eq!(
        f.system_version.as_deref(),
        Some(read("/proc/sys/kernel/osrelease").trim())
    );
    assert_eq!(f.os_arch.as_deref(), Some(std::env::consts::ARCH));
    let cpus = read("/proc/cpuinfo")
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count() as u32;
    assert_eq!(f.logical_processor_count, Some(cpus));
    let total = meminfo_kib("MemTotal:") * 1024;
    assert_eq!(f.memory_total, Some(total));
    assert!(f.memory_free.is_some_and(|m| m > 0 && m <= total));
    assert_eq!(f.host_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        f.user_dir.as_deref(),
        Some(relay.dir.to_str().unwrap()),
        "the relay's working directory"
    );
    let os = read("/etc/os-release");
    let name = f.os_name.clone().expect("os name");
    assert!(os.contains(&name), "{name} not in /etc/os-release");
    if std::env::consts::ARCH == "x86_64" {
        let info = read("/proc/cpuinfo");
        let first = |k: &str| {
            info.lines()
                .find(|l| l.split(':').next().is_some_and(|n| n.trim() == k))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        };
        assert_eq!(f.cpu_vendor, first("vendor_id"));
        assert_eq!(f.cpu_family, first("cpu family"));
        assert_eq!(f.cpu_model, first("model"));
        assert_eq!(f.cpu_stepping, first("stepping"));
        let id = f.cpu_identifier.clone().expect("cpu identifier");
        assert!(
            id.ends_with(&format!(
                "Family {} Model {} Stepping {}",
                first("cpu family").unwrap(),
                first("model").unwrap(),
                first("stepping").unwrap()
            )),
            "{id}"
        );
        let pid = f.processor_id.clone().expect("processor id");
        assert_eq!(pid.len(), 16, "{pid}");
        assert!(pid.starts_with('1') || pid.starts_with('0'), "{pid}");
    }

    // Heartbeats every 200 ms (the welcome's interval), real numbers.
    let mut beats = Vec::new();
    while beats.len() < 3 {
        if let ToServer::Heartbeat(hb) = conn.recv().await {
            beats.push(hb);
        }
    }
    for hb in &beats {
        assert!(hb.available && hb.reason.is_none(), "{hb:?}");
        assert_eq!(hb.mem_total, total);
        assert!(hb.mem_free > 0 && hb.mem_free <= total);
        assert!((0.0..=100.0).contains(&hb.cpu_pct), "{hb:?}");
        assert!(hb.load1 >= 0.0);
        assert_eq!((hb.running, hb.queued), (0, 0));
    }
    let gap = beats[2].at_ms - beats[1].at_ms;
    assert!((150..2000).contains(&gap), "heartbeats {gap} ms apart");
    let now = chrono::Utc::now().timestamp_millis();
    assert!((now - beats[2].at_ms).abs() < 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_make_the_relay_report_itself_not_available() {
    let thresholds = Thresholds {
        min_mem_free_bytes: Some(u64::MAX),
        max_load1: Some(1e9),
        ..Default::default()
    };
    let mut cloud = Cloud::start_with(
        0,
        Cert::new(),
        Policy {
            welcome: Some(welcome(200, thresholds)),
            ..Default::default()
        },
    )
    .await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    let hb = conn
        .until(|m| match m {
            ToServer::Heartbeat(hb) => Some(hb.clone()),
            _ => None,
        })
        .await;
    assert!(!hb.available);
    let why = hb.reason.expect("a reason");
    assert!(
        why.starts_with("free memory") && why.contains("is below"),
        "{why}"
    );
    assert!(!why.contains("load"), "load is within its limit: {why}");
    assert!(
        relay
            .wait_log(
                "not available for new work: free memory",
                Duration::from_secs(5)
            )
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_certificate_pin_never_connects() {
    let mut cloud = Cloud::start().await;
    let other = Cert::new().pin();
    let relay = Relay::start(cloud.port, &other, "");
    assert!(
        relay
            .wait_log("is not the pinned one", Duration::from_secs(10))
            .await,
        "{}",
        relay.log()
    );
    assert!(relay.log().contains(&other), "the log names the pin");
    assert!(
        relay.log().contains(&cloud.cert.pin()),
        "and what was presented"
    );
    // It keeps trying (backoff), and never gets past TLS.
    while cloud.seen.tcp.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(cloud.seen.tls.load(Ordering::SeqCst), 0);
    assert_eq!(cloud.seen.upgrades.load(Ordering::SeqCst), 0);
    assert!(
        cloud
            .accept_within(Duration::from_millis(100))
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_retried_only_slowly_and_works_once_re_enabled() {
    let mut cloud = Cloud::start_with(
        0,
        Cert::new(),
        Policy {
            token: "another-token".into(),
            ..Default::default()
        },
    )
    .await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "revoked_retry_secs = 5");
    assert!(relay.wait_log("REVOKED", Duration::from_secs(10)).await);
    let log = relay.log();
    assert!(log.contains("HTTP 401"), "{log}");
    assert!(log.contains("token revoked"), "the server's body: {log}");
    assert_eq!(cloud.seen.refused.load(Ordering::SeqCst), 1);
    // Backoff would have tried ~4 times in 3 s (250, 500, 1000, 2000 ms).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        cloud.seen.upgrades.load(Ordering::SeqCst),
        1,
        "no fast retry loop after a 401"
    );
    // The token is re-enabled: the next slow retry gets in.
    cloud.policy.lock().unwrap().token = TOKEN.into();
    let conn = cloud.accept_within(Duration::from_secs(10)).await;
    assert!(conn.is_some(), "reconnected after the slow retry");
    assert_eq!(cloud.seen.upgrades.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_stops_the_relay_until_the_slow_retry() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "revoked_retry_secs = 4");
    let mut conn = cloud.accept().await;
    conn.send(vec![ToRelay::Revoked {
        reason: "host disabled by admin".into(),
    }]);
    assert!(
        conn.closed_within(Duration::from_secs(5)).await,
        "the relay hangs up"
    );
    assert!(relay.wait_log("REVOKED", Duration::from_secs(5)).await);
    assert!(relay.log().contains("host disabled by admin"));
    assert!(
        cloud.accept_within(Duration::from_secs(2)).await.is_none(),
        "no reconnection right away"
    );
    assert_eq!(cloud.seen.upgrades.load(Ordering::SeqCst), 1);
    assert!(cloud.accept_within(Duration::from_secs(10)).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_reconnects_after_the_cloud_restarts() {
    let mut cloud = Cloud::start().await;
    let (port, cert) = (cloud.port, cloud.cert.clone());
    let relay = Relay::start(port, &cert.pin(), "");
    let mut conn = cloud.accept().await;
    conn.until(|m| matches!(m, ToServer::Heartbeat(_)).then_some(()))
        .await;
    cloud.stop();
    drop(cloud);
    assert!(conn.closed_within(Duration::from_secs(5)).await);
    assert!(
        relay
            .wait_log("reconnecting in", Duration::from_secs(5))
            .await
    );
    // Down for a while: a few failed attempts with backoff.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut cloud = Cloud::start_with(port, cert, Policy::default()).await;
    let mut conn = cloud
        .accept_within(Duration::from_secs(15))
        .await
        .expect("reconnected");
    assert!(conn.hello.resumed.is_empty());
    // And it works: a job runs over the new link.
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![job("after-restart", "noop", json!({}))],
    }]);
    let (id, _, outcome) = conn.until(as_result).await;
    assert_eq!(id, "after-restart");
    assert!(matches!(
        outcome,
        baton_relay_protocol::Outcome::Done { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_the_server_is_answered_with_errors_and_the_relay_lives_on() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    let send_text = |t: String| Message::text(t);
    conn.send_raw(send_text("this is not json".into()));
    conn.send_raw(send_text(r#"{"type":"ack","results":[]}"#.into()));
    conn.send_raw(send_text(r#"[{"type":"launchMissiles"}]"#.into()));
    conn.send_raw(send_text(r#"[{"type":"cancel"}]"#.into()));
    conn.send_raw(Message::Binary(vec![0u8, 159, 146, 150].into()));
    conn.send_raw(send_text(format!(
        "[{{\"type\":\"error\",\"code\":\"x\",\"message\":\"{}\"}}]",
        "y".repeat(9 << 20)
    )));
    let w = Welcome {
        protocol: 2,
        ..welcome(200, Thresholds::default())
    };
    conn.send_raw(send_text(
        serde_json::to_string(&[ToRelay::Welcome(w)]).unwrap(),
    ));
    let mut codes_seen = Vec::new();
    while codes_seen.len() < 7 {
        if let ToServer::Error { code, message } = conn.recv().await {
            assert!(!message.is_empty());
            codes_seen.push(code);
        }
    }
    assert_eq!(
        codes_seen,
        [
            codes::NOT_JSON,
            codes::NOT_A_BATCH,
            codes::UNKNOWN_TYPE,
            codes::INVALID_MESSAGE,
            codes::BINARY_FRAME,
            codes::FRAME_TOO_LARGE,
            codes::PROTOCOL_VERSION,
        ]
    );
    // A flood: every frame answered, the log rate-limited, the link up.
    for i in 0..2000 {
        conn.send_raw(send_text(format!("garbage {i}")));
    }
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![job(
            "still-alive",
            "local-command",
            json!({"command": "echo alive"}),
        )],
    }]);
    let mut errors = 0;
    let outcome = loop {
        match conn.recv().await {
            ToServer::Error { .. } => errors += 1,
            m => {
                if let Some((id, _, o)) = as_result(&m) {
                    assert_eq!(id, "still-alive");
                    break o;
                }
            }
        }
    };
    assert_eq!(errors, 2000, "one error per garbage frame");
    let baton_relay_protocol::Outcome::Done { outputs, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(outputs["stdout"], "alive\n");
    let warnings = relay
        .log()
        .matches("unreadable input from the server")
        .count();
    assert!(warnings <= 40, "{warnings} warning lines: not rate-limited");
    assert_eq!(
        cloud.seen.upgrades.load(Ordering::SeqCst),
        1,
        "never reconnected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_link_stays_up_and_a_silent_one_is_dropped() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let conn = cloud.accept().await;
    // Heartbeats every 200 ms, so the relay gives up after 1 s of silence;
    // the cloud's pongs keep an idle link up well past that.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        cloud.seen.upgrades.load(Ordering::SeqCst),
        1,
        "{}",
        relay.log()
    );
    assert!(!relay.log().contains("reconnecting"));
    // The cloud stops reading (no pongs, TCP still open): the relay notices.
    conn.pause();
    let mut again = cloud
        .accept_within(Duration::from_secs(10))
        .await
        .expect("a new link");
    assert!(
        relay.log().contains("nothing from the server for 1 s"),
        "{}",
        relay.log()
    );
    again
        .until(|m| matches!(m, ToServer::Heartbeat(_)).then_some(()))
        .await;
}
